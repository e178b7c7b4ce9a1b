//! `rig` 0.44 (`rig-core` and `rig-agent` 0.44.0): a model's
//! `CompletionResponse`, the agent's `PromptResponse` and `CompletionCall`,
//! rig's `Usage`, and the stream items of a model (`Item<StreamEvent>`) and of
//! an agent (`MultiTurnStreamItem`).
//!
//! rig normalises every provider to the GenAI rule already: `input_tokens`
//! includes cache reads and writes, `output_tokens` includes reasoning.
//! rig's own `Usage::cost` is ignored: obs prices from its catalogue, with
//! tiers and batch rates rig leaves out.
//!
//! A `PromptResponse` carries the **run's aggregate** usage (every model call
//! of a multi-turn run summed): right for a `#[track_llm_call]` around a
//! one-turn prompt, not per call (a tiered model would be priced on the sum).
//!
//! Per-call figures need no code at all: rig opens a GenAI `chat` span per
//! model call, and the span bridge in `obs_runtime::layer()` makes each one
//! an obs model call (tokens, cost, duration without the turn's tool time,
//! failures as `error`). rig 0.44 reports no time to first token.

use crate::usage::{LlmChunk, LlmUsage, TokenUsage};
use rig_agent::agent::{CompletionCall, MultiTurnStreamItem, PromptResponse};
use rig_core::completion::{CompletionResponse, FinishReason, Usage};
use rig_core::streaming::{Item, PartKind, StreamEvent};

/// rig's `Usage` as obs's, `None` when rig reports no counter at all
/// ("not reported" is never zero tokens).
pub(crate) fn usage(u: &Usage) -> Option<TokenUsage> {
    if u.input_tokens.is_none() && u.output_tokens.is_none() {
        return None;
    }
    Some(TokenUsage {
        input: u.input_tokens,
        output: u.output_tokens,
        cache_read: u.cached_input_tokens,
        cache_creation: u.cache_creation_input_tokens,
        cache_creation_1h: None,
        reasoning: u.reasoning_tokens,
    })
}

/// The GenAI spelling of a normalised reason. A provider-specific reason
/// (`FinishReason::Other`) is owned by a temporary rig hands out, so it
/// cannot be lent: it is left out rather than renamed.
fn finish(r: &FinishReason) -> Option<&'static str> {
    match r {
        FinishReason::Stop => Some("stop"),
        FinishReason::Length => Some("length"),
        FinishReason::ToolCalls => Some("tool_calls"),
        FinishReason::ContentFilter => Some("content_filter"),
        _ => None,
    }
}

impl LlmUsage for Usage {
    fn usage(&self) -> Option<TokenUsage> {
        usage(self)
    }
}

impl LlmUsage for CompletionResponse {
    fn usage(&self) -> Option<TokenUsage> {
        usage(&self.usage)
    }
    fn response_model(&self) -> Option<&str> {
        self.model()
    }
    fn finish_reasons(&self) -> Vec<&str> {
        self.finish_reason().as_ref().and_then(finish).into_iter().collect()
    }
}

impl LlmUsage for CompletionCall {
    fn usage(&self) -> Option<TokenUsage> {
        usage(&self.usage)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        self.finish_reason.as_ref().and_then(finish).into_iter().collect()
    }
}

impl LlmUsage for PromptResponse {
    fn usage(&self) -> Option<TokenUsage> {
        usage(&self.usage)
    }
}

/// Whether a model stream event is generated content: text, reasoning, a
/// tool call's arguments, or a part that opens one of those (the first such
/// event sets the time to first token).
fn is_content(event: &StreamEvent) -> bool {
    match event {
        StreamEvent::Text { text, .. } | StreamEvent::Reasoning { text, .. } => !text.is_empty(),
        StreamEvent::Arguments { json, .. } => !json.is_empty(),
        StreamEvent::Start { kind, .. } => matches!(kind, PartKind::ToolCall | PartKind::Image),
        StreamEvent::End { .. } => false,
    }
}

/// A model's stream (`Model::stream`, `CompletionStream`): content only; rig
/// delivers this stream's usage through `Streamed::finish`, not in an item,
/// so a stream tracked as is ends with `usage="incomplete"`.
impl LlmChunk for Item<StreamEvent> {
    fn has_content(&self) -> bool {
        matches!(self, Item::Event(e) if is_content(e))
    }
}

/// An agent's stream (`stream_prompt`): content from the assistant items,
/// usage from the final response (the run's aggregate, see the module doc).
impl LlmChunk for MultiTurnStreamItem {
    fn has_content(&self) -> bool {
        matches!(self, MultiTurnStreamItem::StreamAssistantItem(Item::Event(e)) if is_content(e))
    }
    fn usage(&self) -> Option<TokenUsage> {
        match self {
            MultiTurnStreamItem::FinalResponse(r) => usage(&r.usage),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rig_usage(input: u64, output: u64, cached: Option<u64>, reasoning: Option<u64>) -> Usage {
        let mut u = Usage::new();
        u.input_tokens = Some(input);
        u.output_tokens = Some(output);
        u.total_tokens = Some(input + output);
        u.cached_input_tokens = cached;
        u.reasoning_tokens = reasoning;
        u
    }

    #[test]
    fn usage_keeps_rigs_genai_semantics() {
        let u = rig_usage(2_000, 300, Some(1_500), Some(120));
        assert_eq!(LlmUsage::usage(&u), Some(TokenUsage::openai(2_000, 300, Some(1_500), Some(120))));
        assert_eq!(LlmUsage::usage(&Usage::new()), None, "no counter: not reported, not zero");
        let call = CompletionCall::new(0, u, serde_json::Value::Null);
        assert_eq!(call.usage(), Some(TokenUsage::openai(2_000, 300, Some(1_500), Some(120))));
    }

    #[test]
    fn stream_items_tell_content_and_final_usage() {
        // rig builds parts itself (`Part::new` is private): read events back.
        let event = |json: serde_json::Value| Item::Event(serde_json::from_value::<StreamEvent>(json).unwrap());
        let text = |t: &str| event(serde_json::json!({"event": "text", "part": 0, "text": t}));
        assert!(text("Hel").has_content());
        assert!(!text("").has_content());
        assert!(!event(serde_json::json!({"event": "start", "part": 0, "kind": "text"})).has_content());
        assert!(
            event(serde_json::json!({"event": "start", "part": 1, "kind": "tool_call", "name": "add"})).has_content()
        );
        let agent = MultiTurnStreamItem::StreamAssistantItem(text("Hel"));
        assert!(agent.has_content());
        assert_eq!(agent.usage(), None);
        let done = MultiTurnStreamItem::final_response(Vec::new(), rig_usage(10, 2, None, None));
        assert!(!done.has_content());
        assert_eq!(done.usage(), Some(TokenUsage::openai(10, 2, None, None)));
    }
}
