use obs_runtime::track_tool;

#[track_tool(name = "search", labels(page = page))]
fn search(page: u32) -> u32 {
    page
}

fn main() {}
