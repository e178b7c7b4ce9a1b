use obs_runtime::track_llm_call;

#[track_llm_call(model = "gpt-4o", usage = none, server_port = 0)]
fn ask() {}

fn main() {}
