use obs_runtime::{track_tool, traced};

#[track_tool(err = "warning!")]
fn search() -> Result<(), String> {
    Ok(())
}

#[traced(err = true)]
fn rank() -> Result<(), String> {
    Ok(())
}

#[traced(err = 3)]
fn score() -> Result<(), String> {
    Ok(())
}

fn main() {}
