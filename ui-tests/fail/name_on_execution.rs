use obs_runtime::track_execution;

#[track_execution(agent = "researcher", name = "research")]
fn research() {}

fn main() {}
