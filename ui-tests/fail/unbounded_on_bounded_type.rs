use obs_runtime::{track_tool, LabelValue};

#[derive(Clone, Copy)]
pub enum Tier {
    Free,
}

impl LabelValue for Tier {
    fn label_value(&self) -> &'static str {
        "free"
    }
}

#[track_tool(name = "search", labels(tier = unbounded(tier)))]
fn search(tier: Tier) {
    let _ = tier;
}

fn main() {}
