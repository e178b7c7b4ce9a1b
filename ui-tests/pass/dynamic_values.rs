//! Runtime values of each accepted kind, in each place that takes one.
#![deny(warnings)]

use obs_runtime::{track_execution, track_llm_call, track_tool, LabelValue};

#[derive(Clone, Copy)]
pub enum Tier {
    Free,
    Pro,
}

impl LabelValue for Tier {
    fn label_value(&self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Pro => "pro",
        }
    }
}

pub struct Job {
    pub agent: &'static str,
    pub tier: Tier,
}

impl Job {
    #[track_execution(agent = self.agent, labels(tier = self.tier, premium = matches!(self.tier, Tier::Pro)))]
    pub fn run(&self) {}
}

#[track_tool(name = kind, labels(tier = tier, cached = cached, by_ref = &tier))]
pub fn bounded(kind: &'static str, tier: Tier, cached: bool) {}

#[track_tool(
    name = unbounded(name),
    labels(user = unbounded(user), page = unbounded(page), initial = unbounded(initial), slice = unbounded(slice))
)]
pub fn unbounded(name: String, user: &str, page: u32, initial: char, slice: &str) {}

#[track_llm_call(model = unbounded(format!("{base}-mini")), provider = "openai", usage = none)]
pub fn computed_model(base: &str) {}

fn main() {}
