//! `#[track_llm_call]` options together (beyond `llm_options.rs`), with
//! warnings denied.
#![deny(warnings)]

use obs_runtime::budget::BudgetExceeded;
use obs_runtime::{track_llm_call, BoxedStream, LlmChunk, TokenUsage};

#[derive(Debug)]
pub struct E;

impl From<BudgetExceeded> for E {
    fn from(_: BudgetExceeded) -> Self {
        E
    }
}

pub struct Reply(u64, u64);

pub struct Chunk;

impl LlmChunk for Chunk {
    fn has_content(&self) -> bool {
        true
    }
}

#[track_llm_call(
    model = "gpt-4o-mini",
    provider = "openai",
    operation = "chat",
    server_address = "api.openai.com",
    server_port = 443,
    usage = |r: &Result<Reply, E>| r.as_ref().ok().map(|r| TokenUsage::new(r.0, r.1)),
    budget = "daily",
    batch,
    capture_content,
    labels(team = "search"),
    fields(attempt = attempt),
    level = "debug",
    slow = "30s"
)]
pub async fn every_option(attempt: u32) -> Result<Reply, E> {
    Ok(Reply(u64::from(attempt), 1))
}

#[track_llm_call(model = "claude-sonnet-4-5", stream, capture_content = false, labels(tier = "pro"), slow = "5s")]
pub async fn stream_with_labels() -> Result<BoxedStream<'static, Result<Chunk, E>>, E> {
    Ok(Box::pin(futures::stream::iter(vec![Ok(Chunk)])))
}

#[track_llm_call(model = "text-embedding-3-small", operation = "embeddings", usage = none, batch = false)]
pub fn embeddings(text: &str) -> Vec<f32> {
    vec![text.len() as f32]
}

#[track_llm_call(model = "openai/gpt-4o", usage = none)]
pub fn provider_prefixed_model() {}

#[track_llm_call(model = "gpt-4o-2024-08-06", usage = none)]
pub fn dated_model() {}

#[track_llm_call(model = "claude-sonnet-4-5-20250929", usage = none)]
pub fn compact_dated_model() {}

#[track_llm_call(model = model, provider = provider, usage = none)]
pub fn dynamic_model_and_provider(model: &'static str, provider: &'static str) {
    let _ = (model, provider);
}

#[track_llm_call(model = unbounded(model), usage = none)]
pub fn unbounded_model(model: String) -> String {
    model
}

fn main() {}
