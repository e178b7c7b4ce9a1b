//! Every `#[track_llm_call]` usage option, and their combinations, compile
//! with warnings denied.
#![deny(warnings)]

use obs_runtime::budget::BudgetExceeded;
use obs_runtime::{track_execution, track_llm_call, BoxedStream, LlmChunk, TokenUsage};

#[derive(Debug)]
pub enum LlmError {
    Budget(BudgetExceeded),
    Http(u16),
}

impl From<BudgetExceeded> for LlmError {
    fn from(e: BudgetExceeded) -> Self {
        LlmError::Budget(e)
    }
}

pub struct Reply {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl obs_runtime::LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(self.prompt_tokens, self.completion_tokens))
    }
}

pub struct Raw {
    pub tokens: (u64, u64),
}

pub struct Chunk;

impl LlmChunk for Chunk {
    fn has_content(&self) -> bool {
        true
    }
}

#[track_llm_call(model = "gpt-4o", budget = "daily", batch)]
pub async fn budgeted(fail: bool) -> Result<Reply, LlmError> {
    if fail {
        return Err(LlmError::Http(500));
    }
    Ok(Reply { prompt_tokens: 1, completion_tokens: 2 })
}

#[track_llm_call(model = "claude-haiku-4-5", usage = |r: &Raw| TokenUsage::anthropic(r.tokens.0, r.tokens.1, None, None))]
pub fn explicit_usage_closure() -> Raw {
    Raw { tokens: (3, 4) }
}

fn raw_usage(r: &Result<Raw, LlmError>) -> Option<TokenUsage> {
    r.as_ref().ok().map(|r| TokenUsage::new(r.tokens.0, r.tokens.1))
}

#[track_llm_call(model = "gpt-4o-mini", usage = raw_usage)]
pub fn explicit_usage_fn() -> Result<Raw, LlmError> {
    Ok(Raw { tokens: (1, 1) })
}

#[track_llm_call(model = "local-model", custom_model, provider = "vllm", usage = none)]
pub fn no_usage() -> String {
    String::new()
}

#[track_llm_call(model = "gpt-4o", stream, budget = "daily")]
pub async fn streamed() -> Result<BoxedStream<'static, Result<Chunk, LlmError>>, LlmError> {
    Ok(Box::pin(futures::stream::iter(vec![Ok(Chunk)])))
}

#[track_execution(agent = "llm_options")]
pub async fn agent() -> Result<Reply, LlmError> {
    budgeted(false).await
}

fn main() {}
