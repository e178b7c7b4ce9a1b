use obs_runtime::track_llm_call;

#[track_llm_call(model = "gpt-4o-mnii", usage = none)]
fn ask() {}

fn main() {}
