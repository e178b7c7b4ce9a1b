use obs_runtime::track_llm_call;

#[track_llm_call(model = "gpt-4o")]
async fn ask(prompt: &str) -> Result<String, std::io::Error> {
    Ok(prompt.to_string())
}

fn main() {}
