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
//!   event that logs the token's hash, never the token). The answer ends with
//!   a `feedback_token:` line: the client keeps it beside the answer.
//! - `POST /feedback/{rating}` takes a user's rating (1 to 5) of a past
//!   answer, with its feedback token as the body, at any time later and in
//!   any replica sharing `OBS_FEEDBACK_KEY`: it becomes the evaluation
//!   `user_rating` of that model call (score = rating, label `pass` for 4
//!   and 5, `fail` for 1 and 2, `neutral` for 3), on the call's series and
//!   trace. A bad rating or token is a 400 that says why.
//! - `GET /health` answers `ok`.
//! - Anything else is axum's 404, counted under `route="unmatched"`.
//!
//! Nothing touches the network: the tool and the model are simulated.

use crate::llm::{Completion, LlmError};
use axum::extract::{Extension, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use obs_runtime::eval::{Evaluation, FeedbackToken};
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
        .route("/feedback/{rating}", post(feedback))
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
        Ok(answer) => Ok(format!(
            "{}\nrequest_id: {}\nfeedback_token: {}\n",
            answer.text,
            request.request_id(),
            answer.feedback_token
        )),
        Err(e) => {
            tracing::error!(error = %e, "agent run failed");
            Err((StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")))
        }
    }
}

/// The agent's answer, and the token its feedback will come back with.
pub struct Answer {
    /// What the model said.
    pub text: String,
    /// Names the model call (agent, model, trace), signed: kept by the client.
    pub feedback_token: String,
}

/// The `support` agent: searches the knowledge base, then asks the model.
#[track_execution(agent = "support")]
pub async fn support(question: String) -> Result<Answer, AgentError> {
    tracing::info!(question_chars = question.chars().count() as u64, "answering");
    let docs = kb_search(&question).await;
    let reply = chat(&question, &docs).await?;
    tracing::info!(answer_chars = reply.text.chars().count() as u64, "answered");
    // The model call, from the ledger by its response id (without obs
    // running the ledger is empty: the token then names this agent run).
    let token = reply.id.as_deref().and_then(|id| FeedbackToken::for_response(id).ok());
    let feedback_token = token.unwrap_or_else(FeedbackToken::current).to_string();
    Ok(Answer { text: reply.text, feedback_token })
}

/// A user's rating (1 to 5) of a past answer, its feedback token as the body.
async fn feedback(Path(rating): Path<u8>, token: String) -> Result<&'static str, (StatusCode, String)> {
    let label = match rating {
        1 | 2 => "fail",
        3 => "neutral",
        4 | 5 => "pass",
        _ => return Err((StatusCode::BAD_REQUEST, format!("rating {rating}: rate from 1 to 5\n"))),
    };
    Evaluation::new("user_rating")
        .score(f64::from(rating))
        .label(label)
        .evaluator("user")
        .record_with_token(token.trim())
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("{e}\n")))?;
    Ok("thanks\n")
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
        id: Some(format!("chatcmpl-{}", obs_runtime::context::new_request_id())),
    })
}
