use obs_runtime::track_tool;

#[track_tool(name = "search", labels(équipe = "search"))]
fn search() {}

fn main() {}
