use obs_runtime::track_tool;

#[track_tool(name = "search", crate = "obs_runtime")]
fn search() {}

fn main() {}
