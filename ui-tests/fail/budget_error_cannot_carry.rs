use obs_runtime::{track_llm_call, TokenUsage};

pub struct Reply;

impl obs_runtime::LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        None
    }
}

#[derive(Debug)]
pub struct MyError;

#[track_llm_call(model = "gpt-4o", budget = "daily")]
fn ask() -> Result<Reply, MyError> {
    Ok(Reply)
}

fn main() {}
