use obs_runtime::track_execution;

#[track_execution(agnet = "researcher")]
fn research() {}

fn main() {}
