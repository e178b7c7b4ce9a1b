use obs_runtime::track_llm_call;

#[track_llm_call(model = "gpt-4o", usage = none, budget = 5)]
fn ask() {}

fn main() {}
