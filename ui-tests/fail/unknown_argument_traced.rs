use obs_runtime::traced;

#[traced(nmae = "rank")]
fn rank() {}

fn main() {}
