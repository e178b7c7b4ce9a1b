use obs_runtime::track_tool;

#[track_tool(name = "search", model = "gpt-4o")]
fn search() {}

fn main() {}
