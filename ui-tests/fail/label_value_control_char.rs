use obs_runtime::track_tool;

#[track_tool(name = "search", labels(team = "search\nteam"))]
fn search() {}

fn main() {}
