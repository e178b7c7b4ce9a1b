use obs_runtime::track_llm_call;

#[track_llm_call(modle = "gpt-4o", provider = 5, operation = "chatt", server_port = 70000, provider = "x")]
fn ask() {}

fn main() {}
