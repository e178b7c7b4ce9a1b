use obs_runtime::track_llm_call;

#[track_llm_call(model = "my-finetune", provider = "openai", usage = none)]
fn ask() {}

fn main() {}
