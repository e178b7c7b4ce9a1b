use obs_runtime::traced;

#[traced]
const LIMIT: u32 = 5;

fn main() {}
