use obs_runtime::track_tool;

#[track_tool(name = "search", labels(user = unbounded(first, last)))]
fn search(first: String, last: String) -> usize {
    first.len() + last.len()
}

fn main() {}
