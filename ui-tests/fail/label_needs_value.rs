use obs_runtime::track_tool;

#[track_tool(name = "search", labels(team))]
fn search() {}

fn main() {}
