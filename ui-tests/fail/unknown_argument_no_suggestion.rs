use obs_runtime::track_tool;

#[track_tool(name = "search", color = "red")]
fn search() {}

fn main() {}
