use obs_runtime::track_tool;

pub trait Tool {
    #[track_tool(name = "search")]
    fn call(&self) -> u32;
}

fn main() {}
