use obs_runtime::track_tool;

#[track_tool(name = "search", labels(query = unbounded(words)))]
fn search(words: Vec<String>) -> usize {
    words.len()
}

fn main() {}
