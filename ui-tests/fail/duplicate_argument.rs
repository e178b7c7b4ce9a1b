use obs_runtime::track_tool;

#[track_tool(name = "search", name = "lookup")]
fn search() {}

fn main() {}
