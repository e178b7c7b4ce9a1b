//! `#[track_execution]` options together, with warnings denied.
#![deny(warnings)]

use obs_runtime::track_execution;

#[track_execution(agent = "planner", labels(team = "search", tier = "pro"), fields(steps = steps), level = "debug", slow = "2s")]
pub fn all_options(steps: u32) -> u32 {
    steps
}

#[track_execution(agent = "writer", level = warn, slow = "250ms", crate = obs_runtime)]
pub async fn level_ident_slow_crate() -> Result<(), std::io::Error> {
    Ok(())
}

#[track_execution(agent = "reviewer", fields(a = 1, b = "two"), labels(team = "qa"))]
pub fn fields_before_labels() {}

fn main() {}
