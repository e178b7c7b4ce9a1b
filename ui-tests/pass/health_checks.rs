//! Every form of `#[health_check]` compiles, and `err = ..` on the other macros.
use obs_runtime::{health_check, track_execution, track_tool, traced};

#[health_check]
fn always() -> bool {
    true
}

#[health_check(critical, timeout = "2s", name = "database")]
async fn db() -> Result<u32, std::io::Error> {
    Ok(3)
}

#[health_check(critical = false, timeout = "250ms")]
fn unit_details() -> Result<(), String> {
    Ok(())
}

#[health_check(crate = obs_runtime)]
async fn with_crate() -> bool {
    true
}

#[derive(Debug)]
struct NoDisplay;

#[track_tool(err = false)]
fn quiet() -> Result<(), NoDisplay> {
    Err(NoDisplay)
}

#[track_execution(agent = "planner", err = "warn")]
async fn plan() -> Result<(), String> {
    Err("no plan".into())
}

#[traced(err = debug)]
fn step() -> Result<(), std::fmt::Error> {
    Ok(())
}

fn main() {
    let _ = (always(), unit_details(), quiet(), step(), plan(), db(), with_crate());
}
