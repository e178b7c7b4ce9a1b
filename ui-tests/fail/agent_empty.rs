use obs_runtime::track_execution;

#[track_execution(agent = "")]
fn research() {}

fn main() {}
