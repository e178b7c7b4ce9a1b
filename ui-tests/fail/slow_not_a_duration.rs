use obs_runtime::traced;

#[traced(slow = "500")]
fn rank() {}

fn main() {}
