//! `async-openai`: chat completions (plain and streamed) and the Responses API.
//! OpenAI counts cached tokens inside `prompt_tokens` and reasoning tokens
//! inside `completion_tokens`, as the GenAI conventions do.

use super::count;
use crate::usage::{LlmChunk, LlmUsage, TokenUsage};
use async_openai::types::chat::{
    CompletionUsage, CreateChatCompletionResponse, CreateChatCompletionStreamResponse, FinishReason,
};
use async_openai::types::responses::{Response, ResponseUsage};

fn chat_usage(u: &CompletionUsage) -> TokenUsage {
    let prompt = u.prompt_tokens_details.as_ref();
    let completion = u.completion_tokens_details.as_ref();
    let reasoning = completion.and_then(|d| d.reasoning_tokens).unwrap_or(0);
    // xAI's OpenAI-compatible API reports reasoning tokens beside
    // `completion_tokens` (and counts them in `total_tokens`); OpenAI's are
    // inside. `total_tokens` tells which, so both bill their reasoning.
    let beside = reasoning > 0
        && u64::from(u.total_tokens)
            == u64::from(u.prompt_tokens) + u64::from(u.completion_tokens) + u64::from(reasoning);
    let output = if beside { u.completion_tokens.saturating_add(reasoning) } else { u.completion_tokens };
    TokenUsage {
        input: count(u.prompt_tokens),
        output: count(output),
        cache_read: prompt.and_then(|d| d.cached_tokens).and_then(count),
        // OpenAI-compatible gateways for Anthropic report cache writes here.
        cache_creation: prompt.and_then(|d| d.cache_write_tokens).and_then(count),
        cache_creation_1h: None,
        reasoning: completion.and_then(|d| d.reasoning_tokens).and_then(count),
    }
}

fn finish(r: &FinishReason) -> &'static str {
    match r {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::FunctionCall => "function_call",
    }
}

impl LlmUsage for CreateChatCompletionResponse {
    fn usage(&self) -> Option<TokenUsage> {
        self.usage.as_ref().map(chat_usage)
    }
    fn response_model(&self) -> Option<&str> {
        Some(&self.model)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        self.choices.iter().filter_map(|c| c.finish_reason.as_ref()).map(finish).collect()
    }
    fn response_id(&self) -> Option<&str> {
        Some(self.id.as_str()).filter(|id| !id.is_empty())
    }
}

impl LlmChunk for CreateChatCompletionStreamResponse {
    fn has_content(&self) -> bool {
        self.choices.iter().any(|c| {
            c.delta.content.as_deref().is_some_and(|s| !s.is_empty())
                || c.delta.tool_calls.as_ref().is_some_and(|t| !t.is_empty())
        })
    }
    fn usage(&self) -> Option<TokenUsage> {
        self.usage.as_ref().map(chat_usage)
    }
    fn response_model(&self) -> Option<&str> {
        Some(&self.model)
    }
    fn finish_reason(&self) -> Option<&str> {
        self.choices.iter().find_map(|c| c.finish_reason.as_ref()).map(finish)
    }
    fn response_id(&self) -> Option<&str> {
        Some(self.id.as_str()).filter(|id| !id.is_empty())
    }
}

fn response_usage(u: &ResponseUsage) -> TokenUsage {
    TokenUsage {
        input: count(u.input_tokens),
        output: count(u.output_tokens),
        cache_read: count(u.input_tokens_details.cached_tokens),
        cache_creation: u.input_tokens_details.cache_write_tokens.and_then(count),
        cache_creation_1h: None,
        reasoning: count(u.output_tokens_details.reasoning_tokens),
    }
}

impl LlmUsage for Response {
    fn usage(&self) -> Option<TokenUsage> {
        self.usage.as_ref().map(response_usage)
    }
    fn response_model(&self) -> Option<&str> {
        Some(&self.model)
    }
    fn response_id(&self) -> Option<&str> {
        Some(self.id.as_str()).filter(|id| !id.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_usage_keeps_openai_semantics() {
        let body = r#"{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",
            "choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop","logprobs":null}],
            "usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,
              "prompt_tokens_details":{"cached_tokens":1000,"audio_tokens":0},
              "completion_tokens_details":{"reasoning_tokens":100,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#;
        let r: CreateChatCompletionResponse = serde_json::from_str(body).unwrap();
        assert_eq!(r.usage(), Some(TokenUsage::openai(1200, 300, Some(1000), Some(100))));
        // xAI: the same shape, reasoning beside completion_tokens (total = all three).
        let xai = body.replace(r#""total_tokens":1500"#, r#""total_tokens":1600"#);
        assert_eq!(r.response_model(), Some("gpt-4o-2024-08-06"));
        assert_eq!(r.finish_reasons(), vec!["stop"]);
        assert_eq!(r.response_id(), Some("c"));
        let r: CreateChatCompletionResponse = serde_json::from_str(&xai).expect("parses");
        assert_eq!(r.usage(), Some(TokenUsage::xai(1200, 300, Some(1000), Some(100))));
    }
}
