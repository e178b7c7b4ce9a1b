use obs_runtime::track_execution;

#[track_execution(agent = 5)]
fn research() {}

fn main() {}
