//! A tiny "library" that knows nothing of obs and only emits `tracing` spans
//! following the OpenTelemetry GenAI conventions, the way genai's `otel`
//! feature (fields declared at creation, `otel.status_code = "error"`,
//! `gen_ai.usage.reasoning.output_tokens`) and rig (operation and model
//! recorded after creation, `gen_ai.usage.reasoning_tokens`,
//! `gen_ai.tool.error.type`) do. The GenAI bridge tests drive it.

use tracing::field::Empty;
use tracing::Instrument;

/// What one model call reports on its span.
#[derive(Clone, Copy, Debug, Default)]
pub struct Chat<'a> {
    pub response_model: Option<&'a str>,
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub cache_read: Option<u64>,
    pub reasoning: Option<u64>,
    pub ttft_secs: Option<f64>,
    /// An error: `error.type` and `otel.status_code = "error"`.
    pub error: Option<&'a str>,
}

/// A model call as genai records it: a `chat` span with every field
/// declared at creation and filled before it closes.
pub fn chat(model: &str, provider: &str, c: &Chat<'_>) {
    let span = tracing::info_span!(
        target: "genai_emitter",
        "genai.chat",
        otel.name = format!("chat {model}"),
        otel.kind = "client",
        otel.status_code = Empty,
        error.type = Empty,
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        gen_ai.response.model = Empty,
        gen_ai.response.time_to_first_chunk = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.usage.cache_read.input_tokens = Empty,
        gen_ai.usage.reasoning.output_tokens = Empty,
    );
    let _e = span.enter();
    if let Some(m) = c.response_model {
        span.record("gen_ai.response.model", m);
    }
    for (f, v) in [
        ("gen_ai.usage.input_tokens", c.input),
        ("gen_ai.usage.output_tokens", c.output),
        ("gen_ai.usage.cache_read.input_tokens", c.cache_read),
        ("gen_ai.usage.reasoning.output_tokens", c.reasoning),
    ] {
        if let Some(v) = v {
            span.record(f, v as i64);
        }
    }
    if let Some(t) = c.ttft_secs {
        span.record("gen_ai.response.time_to_first_chunk", t);
    }
    if let Some(e) = c.error {
        span.record("otel.status_code", "error");
        span.record("error.type", e);
    }
}

/// A model call as rig records it: the span is created with its operation,
/// provider and model empty and they are recorded later, with usage under
/// rig's names.
pub fn chat_rig_style(model: &str, provider: &str, input: u64, output: u64, reasoning: u64) {
    let span = tracing::info_span!(
        target: "genai_emitter::agent_chat",
        "chat",
        gen_ai.operation.name = Empty,
        gen_ai.provider.name = Empty,
        gen_ai.request.model = Empty,
        gen_ai.response.model = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.usage.reasoning_tokens = Empty,
    );
    let _e = span.enter();
    span.record("gen_ai.operation.name", "chat");
    span.record("gen_ai.provider.name", provider);
    span.record("gen_ai.request.model", model);
    span.record("gen_ai.usage.input_tokens", input);
    span.record("gen_ai.usage.output_tokens", output);
    span.record("gen_ai.usage.reasoning_tokens", reasoning);
}

/// A tool run inside an `execute_tool` span; `error` as rig records it.
pub fn tool<R>(name: &str, error: Option<&str>, f: impl FnOnce() -> R) -> R {
    let span = tracing::info_span!(
        target: "genai_emitter",
        "execute_tool",
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = name,
        gen_ai.tool.error.type = Empty,
    );
    let r = span.in_scope(f);
    if let Some(e) = error {
        span.record("gen_ai.tool.error.type", e);
    }
    r
}

/// An agent run inside an `invoke_agent` root span, as rig creates it.
pub fn agent<R>(name: &str, f: impl FnOnce() -> R) -> R {
    agent_span(name).in_scope(f)
}

/// The same for async code.
pub async fn agent_async<F: std::future::Future>(name: &str, fut: F) -> F::Output {
    fut.instrument(agent_span(name)).await
}

fn agent_span(name: &str) -> tracing::Span {
    tracing::info_span!(
        target: "genai_emitter",
        parent: None,
        "invoke_agent",
        gen_ai.operation.name = "invoke_agent",
        gen_ai.agent.name = name,
        gen_ai.usage.input_tokens = Empty,
    )
}
