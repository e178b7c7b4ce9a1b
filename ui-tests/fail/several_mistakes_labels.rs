use obs_runtime::track_execution;

#[track_execution(agent = "planner", labels(le = "x", team = "a", team = "b", tier = 3))]
fn plan() {}

fn main() {}
