use obs_runtime::track_llm_call;

const HOST: &str = "api.openai.com";

#[track_llm_call(model = "gpt-4o", usage = none, server_address = HOST)]
fn ask() {}

fn main() {}
