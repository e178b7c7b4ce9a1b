use obs_runtime::track_llm_call;

// A near miss of several models billed differently: each is named with its
// price, never offered as the same model.
#[track_llm_call(model = "gpt-5.4-mni", usage = none)]
fn ask() {}

fn main() {}
