use obs_runtime::track_tool;

#[track_tool(name = "search", labels(a = "1", b = "2", c = "3", d = "4", e = "5", f = "6", g = "7", h = "8", i = "9"))]
fn search() {}

fn main() {}
