use obs_runtime::track_tool;

#[track_tool(name = "search")]
enum Search {
    Web,
}

fn main() {}
