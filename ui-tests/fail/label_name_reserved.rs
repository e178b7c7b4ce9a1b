use obs_runtime::track_tool;

#[track_tool(name = "search", labels(le = "x", status = "y", __meta = "z", team = "t"))]
fn search() {}

fn main() {}
