use obs_runtime::track_tool;

#[track_tool(name = "search", capture_content = "always")]
fn search() {}

fn main() {}
