use obs_runtime::track_tool;

#[track_tool(name = "search")]
fn search(q: &str) -> usize {
    let n: u32 = q;
    n as usize
}

fn main() {}
