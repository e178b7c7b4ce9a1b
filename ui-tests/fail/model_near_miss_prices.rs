use obs_runtime::track_llm_call;

// A near miss: the candidate is named with its price (gpt-5.4-mini, not the
// dearer gpt-5.4), never offered as the same model without it.
#[track_llm_call(model = "gpt-5.4-mni", usage = none)]
fn ask() {}

fn main() {}
