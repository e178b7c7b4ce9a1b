//! `genai` 0.7: `ChatResponse`, and `ChatStreamEvent` for streams
//! (`exec_chat_stream`; usage in the `End` event when the request set
//! `ChatOptions::with_capture_usage(true)`). genai normalises every provider so that
//! `prompt_tokens` includes cached tokens and `completion_tokens` includes
//! reasoning tokens (Gemini thoughts too): the GenAI semantics already.

use super::count;
use crate::usage::{LlmChunk, LlmUsage, TokenUsage};
use genai::chat::{ChatResponse, ChatStreamEvent, Usage};

fn usage(u: &Usage) -> Option<TokenUsage> {
    if u.prompt_tokens.is_none() && u.completion_tokens.is_none() {
        return None;
    }
    let prompt = u.prompt_tokens_details.as_ref();
    let creation = prompt.and_then(|d| d.cache_creation_tokens).and_then(count);
    let creation_1h =
        prompt.and_then(|d| d.cache_creation_details.as_ref()).and_then(|d| d.ephemeral_1h_tokens).and_then(count);
    Some(TokenUsage {
        input: u.prompt_tokens.and_then(count),
        output: u.completion_tokens.and_then(count),
        cache_read: prompt.and_then(|d| d.cached_tokens).and_then(count),
        cache_creation: creation,
        cache_creation_1h: creation_1h,
        reasoning: u.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens).and_then(count),
    })
}

impl LlmUsage for ChatResponse {
    fn usage(&self) -> Option<TokenUsage> {
        usage(&self.usage)
    }
    fn response_model(&self) -> Option<&str> {
        Some(&self.provider_model_iden.model_name)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        self.stop_reason.iter().map(|r| r.raw()).collect()
    }
    fn response_id(&self) -> Option<&str> {
        self.response_id.as_deref().filter(|id| !id.is_empty())
    }
}

/// Text, reasoning and tool-call chunks are content (the first sets the time
/// to first token); `End` carries the usage and stop reason genai captured.
impl LlmChunk for ChatStreamEvent {
    fn has_content(&self) -> bool {
        match self {
            ChatStreamEvent::Chunk(c) | ChatStreamEvent::ReasoningChunk(c) => !c.content.is_empty(),
            ChatStreamEvent::ToolCallChunk(_) => true,
            _ => false,
        }
    }
    fn usage(&self) -> Option<TokenUsage> {
        match self {
            ChatStreamEvent::End(end) => end.captured_usage.as_ref().and_then(usage),
            _ => None,
        }
    }
    fn finish_reason(&self) -> Option<&str> {
        match self {
            ChatStreamEvent::End(end) => end.captured_stop_reason.as_ref().map(|r| r.raw()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use genai::adapter::AdapterKind;
    use genai::chat::{CacheCreationDetails, CompletionTokensDetails, MessageContent, PromptTokensDetails, StopReason};
    use genai::ModelIden;

    #[test]
    fn chat_response_usage_is_read_with_cache_details() {
        let r = ChatResponse {
            content: MessageContent::from_text("hi"),
            reasoning_content: None,
            model_iden: ModelIden::new(AdapterKind::Anthropic, "claude-sonnet-4-5"),
            provider_model_iden: ModelIden::new(AdapterKind::Anthropic, "claude-sonnet-4-5-20250929"),
            stop_reason: Some(StopReason::Completed("end_turn".into())),
            usage: Usage {
                prompt_tokens: Some(26_000),
                prompt_tokens_details: Some(PromptTokensDetails {
                    cache_creation_tokens: Some(5_000),
                    cache_creation_details: Some(CacheCreationDetails {
                        ephemeral_5m_tokens: Some(3_000),
                        ephemeral_1h_tokens: Some(2_000),
                    }),
                    cached_tokens: Some(20_000),
                    audio_tokens: None,
                }),
                completion_tokens: Some(500),
                completion_tokens_details: Some(CompletionTokensDetails {
                    reasoning_tokens: Some(100),
                    ..Default::default()
                }),
                total_tokens: Some(26_500),
            },
            captured_raw_body: None,
            response_id: None,
        };
        let u = r.usage().unwrap();
        assert_eq!(
            (u.input, u.output, u.cache_read, u.cache_creation),
            (Some(26_000), Some(500), Some(20_000), Some(5_000))
        );
        assert_eq!((u.cache_creation_1h, u.reasoning), (Some(2_000), Some(100)));
        assert_eq!(r.response_model(), Some("claude-sonnet-4-5-20250929"));
        assert_eq!(r.finish_reasons(), vec!["end_turn"]);
        assert_eq!(ChatResponse { usage: Usage::default(), ..r }.usage(), None, "no counts: not reported, not zero");
    }

    #[test]
    fn stream_events_tell_content_usage_and_stop_reason() {
        use genai::chat::{StreamChunk, StreamEnd};
        let chunk = |t: &str| ChatStreamEvent::Chunk(StreamChunk { content: t.into() });
        assert!(chunk("Hel").has_content());
        assert!(!chunk("").has_content());
        assert!(!ChatStreamEvent::Start.has_content());
        assert!(ChatStreamEvent::ReasoningChunk(StreamChunk { content: "hmm".into() }).has_content());
        let end = |captured_usage| {
            ChatStreamEvent::End(StreamEnd {
                captured_usage,
                captured_stop_reason: Some(StopReason::Completed("stop".into())),
                captured_content: None,
                captured_reasoning_content: None,
                captured_response_id: None,
            })
        };
        let reported = Usage { prompt_tokens: Some(1_000), completion_tokens: Some(50), ..Default::default() };
        let e = end(Some(reported));
        assert!(!e.has_content());
        assert_eq!(LlmChunk::usage(&e), Some(TokenUsage::new(1_000, 50)));
        assert_eq!(e.finish_reason(), Some("stop"));
        assert_eq!(LlmChunk::usage(&end(None)), None, "usage not captured: not reported");
        assert_eq!(LlmChunk::usage(&chunk("x")), None);
    }
}
