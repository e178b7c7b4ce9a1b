use obs_runtime::track_tool;

#[track_tool(name = "search", labels(user = user))]
fn search(user: &str) -> usize {
    user.len()
}

fn main() {}
