use obs_runtime::track_tool;

#[track_tool(name = "search", fields(query = q, query = q.len()))]
fn search(q: &str) -> usize {
    q.len()
}

fn main() {}
