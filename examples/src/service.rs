//! An HTTP agent service (axum) instrumented with obs: every request gets a
//! request id (taken from `X-Request-ID` or generated, and echoed), continues
//! the caller's W3C trace, is counted by route template, and every log line
//! inside it carries the request id, the agent, the model or tool, and the
//! trace ids.
//!
//! Routes:
//! - `POST /agents/{agent}/run` runs the agent on the request body (a
//!   question): `support` is the only agent (any other name is a 404); a
//!   question containing `fail` makes the simulated model fail (a 500); an
//!   `Authorization: Bearer invalid` header is refused (a 401, with an `audit`
//!   event that logs the token's hash, never the token).
//! - `GET /health` answers `ok`.
//! - Anything else is axum's 404, counted under `route="unmatched"`.
//!
//! Nothing touches the network: the tool and the model are simulated.

use crate::llm::{Completion, LlmError};
use axum::extract::{Extension, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use obs_runtime::{events, track_execution, track_llm_call, track_tool, RequestContext};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Agent runs allowed at once; more are refused with a 429 (and a `security` event).
pub const MAX_CONCURRENT_RUNS: u64 = 64;

/// The service's routes, behind obs's HTTP layer.
pub fn router() -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/agents/{agent}/run", post(run))
        .layer(obs_runtime::tower::ObsLayer::new())
}

/// Why the agent failed.
#[derive(Debug)]
pub enum AgentError {
    /// The model call failed.
    Llm(LlmError),
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::Llm(e) => write!(f, "model call failed: {e}"),
        }
    }
}

impl std::error::Error for AgentError {}

impl From<LlmError> for AgentError {
    fn from(e: LlmError) -> Self {
        AgentError::Llm(e)
    }
}

static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

struct InFlight;

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")
}

async fn run(
    Path(agent): Path<String>,
    Extension(request): Extension<RequestContext>,
    headers: HeaderMap,
    question: String,
) -> Result<String, (StatusCode, String)> {
    if agent != "support" {
        tracing::warn!(agent = %agent, "no such agent");
        return Err((StatusCode::NOT_FOUND, format!("no agent `{agent}`\n")));
    }
    if let Some(token) = bearer(&headers) {
        let ok = token != "invalid";
        events::auth_attempt(&agent, ok, token);
        if !ok {
            return Err((StatusCode::UNAUTHORIZED, "invalid token\n".into()));
        }
    }
    let _in_flight = InFlight;
    let running = IN_FLIGHT.fetch_add(1, Ordering::Relaxed) + 1;
    if events::rate_limit_check(&agent, "concurrent_runs", running, MAX_CONCURRENT_RUNS) {
        return Err((StatusCode::TOO_MANY_REQUESTS, "too many runs\n".into()));
    }
    match support(question).await {
        Ok(answer) => Ok(format!("{answer}\nrequest_id: {}\n", request.request_id())),
        Err(e) => {
            tracing::error!(error = %e, "agent run failed");
            Err((StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")))
        }
    }
}

/// The `support` agent: searches the knowledge base, then asks the model.
#[track_execution(agent = "support")]
pub async fn support(question: String) -> Result<String, AgentError> {
    tracing::info!(question_chars = question.chars().count() as u64, "answering");
    let docs = kb_search(&question).await;
    let reply = chat(&question, &docs).await?;
    tracing::info!(answer_chars = reply.text.chars().count() as u64, "answered");
    Ok(reply.text)
}

/// Searches the knowledge base (simulated).
#[track_tool(name = "kb_search")]
pub async fn kb_search(query: &str) -> Vec<String> {
    // A real search service would be called with these headers, so that its
    // logs and spans join this request's trace.
    let mut headers = HeaderMap::new();
    obs_runtime::tower::inject_headers(&mut headers);
    tracing::debug!(traceparent = ?headers.get("traceparent"), "calling the knowledge base");
    tokio::time::sleep(Duration::from_millis(3)).await;
    let hits = vec![format!("kb://faq/{}", query.len() % 7), "kb://guides/getting-started".to_string()];
    tracing::info!(hits = hits.len() as u64, "knowledge base searched");
    hits
}

/// Asks the model (simulated): fails when the question contains `fail`.
#[track_llm_call(model = "gpt-5.4-mini", provider = "openai")]
pub async fn chat(question: &str, docs: &[String]) -> Result<Completion, LlmError> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    if question.contains("fail") {
        tracing::warn!("the model is overloaded");
        return Err(LlmError::Overloaded { model: "gpt-5.4-mini" });
    }
    tracing::info!(documents = docs.len() as u64, "model answered");
    Ok(Completion {
        model: "gpt-5.4-mini",
        text: format!("Here is what {} documents say about {question:?}.", docs.len()),
        input_tokens: 200 + question.len() as u64,
        output_tokens: 40,
    })
}
