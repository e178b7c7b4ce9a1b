use obs_runtime::track_tool;

#[track_tool(name = "search", metrics)]
fn search() {}

fn main() {}
