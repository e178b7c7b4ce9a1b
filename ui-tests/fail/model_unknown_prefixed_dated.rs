use obs_runtime::track_llm_call;

#[track_llm_call(model = "anthropic/claude-sonet-4-5-20250929", usage = none)]
fn ask() {}

fn main() {}
