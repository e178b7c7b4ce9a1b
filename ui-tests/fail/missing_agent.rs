use obs_runtime::track_execution;

#[track_execution]
fn research() {}

fn main() {}
