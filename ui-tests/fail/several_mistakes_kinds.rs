use obs_runtime::traced;

#[traced(name = "", level = "loud", slow = "soon", metrics = "yes", agent = "planner", fields(step))]
fn plan() {}

fn main() {}
