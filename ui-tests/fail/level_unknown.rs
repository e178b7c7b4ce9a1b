use obs_runtime::traced;

#[traced(level = "warning")]
fn rank() {}

fn main() {}
