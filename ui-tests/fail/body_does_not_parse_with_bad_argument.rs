use obs_runtime::track_tool;

#[track_tool(nmae = "search")]
fn search(q: &str) -> usize {
    let n = q.len() *;
    n
}

fn main() {}
