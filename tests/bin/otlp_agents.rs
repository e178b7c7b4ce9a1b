//! `otlp-agents`: a multi-agent program for the OTLP end-to-end tests
//! (`tests/tests/otlp_*.rs`). Its only obs configuration is
//! `obs_runtime::init()` and the standard variables (`OTEL_EXPORTER_OTLP_*`,
//! `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OBS_CAPTURE_CONTENT`...),
//! as a user's program would have. No network: tools and models are
//! simulated, with fixed token counts.
//!
//! Modes (first argument):
//!
//! * `run`: a `planner` agent spawns three `researcher`s with
//!   `obs_runtime::spawn` and awaits them with `join_all`; each calls the
//!   `web_search` tool (the one on topic `broken-topic` fails) and a model
//!   (gpt-4o with cached input, gpt-4o-mini, claude-sonnet-4-5 with cache
//!   reads and writes). The planner then calls the `ask_expert` tool, which
//!   invokes the `fact_checker` sub-agent (a streamed gpt-4o-mini call), and
//!   summarises with gpt-4o. All inside a request context (request, user and
//!   conversation ids).
//! * `send`: agent `dispatcher` (continuing the W3C context in the
//!   `OBS_TEST_CARRIER` variable, a JSON object, when set) injects its context
//!   into a `HashMap<String, String>`, as a producer does into a message.
//! * `receive`: continues the context in `OBS_TEST_CARRIER` in a
//!   `process tasks` span, then runs agent `worker` (a tool and a model call).
//! * `load`: runs agent `loader` (a sync tool call and a sync model call) in
//!   batches of 1000 for at least `OBS_TEST_LOAD_MS` milliseconds (default
//!   2000) and reports the time per run of each batch and the peak memory
//!   (`VmHWM`), to compare a healthy backend with a broken one.
//!
//! Each mode prints one JSON line on stdout, after the `init()` guard is
//! dropped (so every export has been flushed): the ids of its spans as the
//! program saw them (`obs_runtime::trace::current()` inside each function),
//! every model call with the cost obs computed (from `obs_runtime::ledger`),
//! the log lines it emitted with their span, the carrier (`send`), and a
//! snapshot of obs's metric registry (the families `/metrics` serves).

use futures::StreamExt;
use obs_runtime::{track_execution, track_llm_call, track_tool, LlmChunk, LlmUsage, TokenUsage};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// Spans seen from inside the instrumented functions: (kind, name, span id).
static SEEN: Mutex<Vec<Value>> = Mutex::new(Vec::new());

/// Records the current span's ids under `kind`/`name` (and extra fields).
fn seen(kind: &str, name: &str, extra: Value) {
    let ids = obs_runtime::trace::current();
    let mut v = json!({
        "kind": kind,
        "name": name,
        "trace_id": ids.map(|i| i.trace_id.to_string()),
        "span_id": ids.map(|i| i.span_id.to_string()),
    });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    SEEN.lock().unwrap().push(v);
}

/// A tool or model failure.
#[derive(Debug)]
struct ToolError;

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("search backend unavailable")
    }
}

impl std::error::Error for ToolError {}

/// What a simulated model returns.
#[derive(Clone, Debug, Serialize)]
struct Reply {
    text: String,
    #[serde(skip)]
    usage: TokenUsage,
}

impl LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(self.usage)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        vec!["stop"]
    }
}

/// The topic whose search fails.
const BROKEN_TOPIC: &str = "broken-topic";

#[track_tool(name = "web_search")]
async fn web_search(query: String) -> Result<Vec<String>, ToolError> {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    seen("tool", "web_search", json!({ "query": query }));
    if query == BROKEN_TOPIC {
        tracing::warn!(query = %query, "search failed");
        log_seen("search failed");
        return Err(ToolError);
    }
    Ok(vec![format!("{query}: first hit"), format!("{query}: second hit")])
}

#[track_llm_call(model = "gpt-4o", provider = "openai")]
async fn ask_gpt4o(prompt: String) -> Result<Reply, ToolError> {
    seen("llm", "gpt-4o", json!({ "prompt": prompt }));
    // OpenAI semantics: the 1000 cached tokens are inside the 1200 prompt tokens.
    Ok(Reply { text: format!("gpt-4o on {prompt}"), usage: TokenUsage::openai(1200, 300, Some(1000), None) })
}

#[track_llm_call(model = "gpt-4o-mini", provider = "openai")]
async fn ask_gpt4o_mini(prompt: String) -> Result<Reply, ToolError> {
    seen("llm", "gpt-4o-mini", json!({ "prompt": prompt }));
    Ok(Reply { text: format!("gpt-4o-mini on {prompt}"), usage: TokenUsage::openai(800, 150, None, None) })
}

#[track_llm_call(model = "claude-sonnet-4-5", provider = "anthropic")]
async fn ask_claude(prompt: String) -> Result<Reply, ToolError> {
    seen("llm", "claude-sonnet-4-5", json!({ "prompt": prompt }));
    // Anthropic semantics: 100 uncached + 2000 cache reads + 300 cache writes = 2400 input.
    Ok(Reply { text: format!("claude on {prompt}"), usage: TokenUsage::anthropic(100, 50, Some(2000), Some(300)) })
}

/// The planner's closing call: gpt-4o again, with other counts (so every
/// model call is told apart by its tokens).
#[track_llm_call(model = "gpt-4o", provider = "openai")]
async fn summarise(prompt: String) -> Result<Reply, ToolError> {
    seen("llm", "gpt-4o", json!({ "prompt": prompt }));
    Ok(Reply { text: format!("summary of {prompt}"), usage: TokenUsage::openai(2500, 400, None, None) })
}

/// A streamed chunk.
#[derive(Clone, Debug)]
struct Chunk {
    text: &'static str,
    usage: Option<TokenUsage>,
}

impl LlmChunk for Chunk {
    fn has_content(&self) -> bool {
        !self.text.is_empty()
    }
    fn usage(&self) -> Option<TokenUsage> {
        self.usage
    }
    fn finish_reason(&self) -> Option<&str> {
        (self.text == "checked.").then_some("stop")
    }
}

#[track_llm_call(model = "gpt-4o-mini", provider = "openai", stream)]
fn check_stream(claim: String) -> impl futures::Stream<Item = Chunk> {
    seen("llm", "gpt-4o-mini", json!({ "prompt": claim, "stream": true }));
    let chunks = vec![
        Chunk { text: "", usage: None },
        Chunk { text: "facts ", usage: None },
        Chunk { text: "checked.", usage: None },
        Chunk { text: "", usage: Some(TokenUsage::openai(640, 32, None, None)) },
    ];
    futures::stream::iter(chunks).then(|c| async move {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        c
    })
}

#[track_execution(agent = "fact_checker")]
async fn fact_checker(claim: String) -> Result<String, ToolError> {
    seen("agent", "fact_checker", json!({}));
    let text: String = check_stream(claim).map(|c| c.text).collect::<Vec<_>>().await.concat();
    Ok(text)
}

/// A tool that delegates to a sub-agent: the agent's span nests under it.
#[track_tool(name = "ask_expert")]
async fn ask_expert(claim: String) -> Result<String, ToolError> {
    seen("tool", "ask_expert", json!({}));
    fact_checker(claim).await
}

#[track_execution(agent = "researcher")]
async fn researcher(topic: &'static str, i: usize) -> Result<String, ToolError> {
    seen("agent", "researcher", json!({ "topic": topic }));
    tracing::info!(topic, "researching");
    log_seen("researching");
    // A failed search is survived: the researcher asks the model anyway, so
    // only the tool's span is an error.
    let hits = web_search(topic.to_string()).await.unwrap_or_default();
    let prompt = format!("Summarise {topic} from {} hits", hits.len());
    let reply = match i {
        0 => ask_gpt4o(prompt).await?,
        1 => ask_gpt4o_mini(prompt).await?,
        _ => ask_claude(prompt).await?,
    };
    Ok(reply.text)
}

const TOPICS: [&str; 3] = ["rust-async", "otel-genai", BROKEN_TOPIC];

#[track_execution(agent = "planner")]
async fn planner() -> Result<String, ToolError> {
    seen("agent", "planner", json!({}));
    let handles: Vec<_> =
        TOPICS.iter().enumerate().map(|(i, topic)| obs_runtime::spawn(researcher(topic, i))).collect();
    let results = futures::future::join_all(handles).await;
    let notes: Vec<String> = results.into_iter().map(|r| r.expect("researcher task").expect("researcher")).collect();
    let checked = ask_expert(notes.join("; ")).await?;
    Ok(summarise(format!("{} notes, {checked}", notes.len())).await?.text)
}

/// Records the span a log line was emitted in.
fn log_seen(message: &str) {
    let ids = obs_runtime::trace::current();
    LOGS.lock().unwrap().push(json!({
        "message": message,
        "trace_id": ids.map(|i| i.trace_id.to_string()),
        "span_id": ids.map(|i| i.span_id.to_string()),
    }));
}

static LOGS: Mutex<Vec<Value>> = Mutex::new(Vec::new());

// --- propagation ---

#[track_tool(name = "enqueue")]
async fn enqueue(task: String) -> Result<HashMap<String, String>, ToolError> {
    seen("tool", "enqueue", json!({ "task": task }));
    // What a producer does: the message carries the W3C context of the
    // span that sends it.
    let mut carrier = HashMap::new();
    obs_runtime::trace::inject(&mut carrier);
    Ok(carrier)
}

#[track_execution(agent = "dispatcher")]
async fn dispatcher() -> Result<HashMap<String, String>, ToolError> {
    seen("agent", "dispatcher", json!({}));
    enqueue("verify sources".to_string()).await
}

#[track_execution(agent = "worker")]
async fn worker(task: String) -> Result<String, ToolError> {
    seen("agent", "worker", json!({}));
    let hits = web_search(task.clone()).await?;
    Ok(ask_gpt4o_mini(hits.join(", ")).await?.text)
}

/// The carrier in `OBS_TEST_CARRIER` (a JSON object of strings), if set.
fn carrier_from_env() -> Option<HashMap<String, String>> {
    let raw = std::env::var("OBS_TEST_CARRIER").ok()?;
    Some(serde_json::from_str(&raw).unwrap_or_else(|e| panic!("OBS_TEST_CARRIER is not a JSON object of strings: {e}")))
}

/// Runs `fut` in a span that continues the caller's trace from `carrier`
/// (the consumer side of a message queue), or as a new trace without one.
async fn continued<F: std::future::Future>(
    name: &'static str,
    carrier: Option<&HashMap<String, String>>,
    fut: F,
) -> (F::Output, bool) {
    use tracing::Instrument;
    let span = tracing::info_span!("process", otel.name = name, otel.kind = "consumer");
    let joined = carrier.is_some_and(|c| obs_runtime::trace::continue_trace(&span, c));
    let out = async {
        seen("span", name, json!({}));
        fut.await
    }
    .instrument(span)
    .await;
    (out, joined)
}

// --- load ---

#[track_tool(name = "lookup")]
fn lookup(i: u64) -> Result<u64, ToolError> {
    Ok(i.wrapping_mul(31) % 1000)
}

#[track_llm_call(model = "gpt-4o-mini", provider = "openai")]
fn quick_model(i: u64) -> Result<TokenUsage, ToolError> {
    Ok(TokenUsage::new(10 + i % 7, 5))
}

#[track_execution(agent = "loader")]
fn load_run(i: u64) -> Result<u64, ToolError> {
    let a = lookup(i)?;
    quick_model(a)?;
    Ok(a)
}

/// `VmHWM` (peak resident memory) of this process, in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Batches of 1000 agent runs for at least `min`: nanoseconds per run of each batch.
fn load(min: std::time::Duration) -> Vec<u64> {
    let start = std::time::Instant::now();
    let mut per_run = Vec::new();
    let mut i = 0u64;
    while start.elapsed() < min || per_run.len() < 3 {
        let t = std::time::Instant::now();
        for _ in 0..1000 {
            i += 1;
            std::hint::black_box(load_run(i).expect("load run"));
        }
        per_run.push(t.elapsed().as_nanos() as u64 / 1000);
    }
    per_run
}

// --- summary ---

fn metrics_json() -> Value {
    use obs_runtime::metrics::Value as V;
    let snap = obs_runtime::metrics::snapshot();
    let mut families = serde_json::Map::new();
    for name in snap.names() {
        let series: Vec<Value> = snap
            .series(name, &[])
            .into_iter()
            .map(|(labels, v)| {
                let labels: serde_json::Map<String, Value> =
                    labels.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
                let value = match v {
                    V::Counter(n) => json!({ "counter": n }),
                    V::Scaled { raw, scale } => json!({ "scaled": raw, "scale": scale, "value": *raw as f64 * scale }),
                    V::Gauge(g) => json!({ "gauge": g }),
                    V::Histogram(h) => json!({ "histogram": {
                        "bounds": h.bounds, "buckets": h.buckets, "count": h.count, "sum": h.sum,
                    }}),
                };
                json!({ "labels": labels, "value": value })
            })
            .collect();
        families.insert(name.to_string(), Value::Array(series));
    }
    Value::Object(families)
}

/// Every model call of the ledger, with obs's cost.
fn model_calls_json() -> Value {
    obs_runtime::ledger::recent()
        .into_iter()
        .map(|r| {
            json!({
                "agent": r.agent, "model": r.model, "provider": r.provider, "status": r.status,
                "input_tokens": r.input_tokens, "output_tokens": r.output_tokens,
                "cache_read_tokens": r.cache_read_tokens, "cache_creation_tokens": r.cache_creation_tokens,
                "cost_usd": r.cost_usd,
            })
        })
        .collect()
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "run".to_string());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let guard = obs_runtime::init().unwrap_or_else(|e| panic!("obs_runtime::init(): {e}"));
    let describe = guard.describe();
    let request = obs_runtime::RequestContext::from_request_id("req-otlp-1")
        .with_user_id("user-42")
        .with_conversation_id("conv-7");
    let mut out = json!({ "mode": mode, "exporters": describe, "pid": std::process::id() });
    match mode.as_str() {
        "run" => {
            let result = rt.block_on(request.scope(planner()));
            out["result"] = json!(result.map_err(|e| e.to_string()));
        }
        "send" => {
            let incoming = carrier_from_env();
            let (carrier, joined) = rt.block_on(request.scope(continued("dispatch", incoming.as_ref(), dispatcher())));
            out["joined"] = json!(joined);
            out["carrier"] = json!(carrier.expect("dispatcher"));
        }
        "receive" => {
            let incoming = carrier_from_env();
            let (result, joined) =
                rt.block_on(request.scope(continued("process tasks", incoming.as_ref(), worker("queue-task".into()))));
            out["joined"] = json!(joined);
            out["result"] = json!(result.map_err(|e| e.to_string()));
        }
        "load" => {
            let ms = std::env::var("OBS_TEST_LOAD_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
            let per_run = rt.block_on(async { load(std::time::Duration::from_millis(ms)) });
            let mut sorted = per_run.clone();
            sorted.sort_unstable();
            out["ns_per_run"] = json!(per_run);
            out["median_ns_per_run"] = json!(sorted[sorted.len() / 2]);
            out["peak_rss_kib"] = json!(peak_rss_kib());
        }
        other => panic!("unknown mode `{other}`: use run, send, receive or load"),
    }
    // Read before the guard goes: the registry as the last export sees it.
    out["metrics"] = metrics_json();
    out["model_calls"] = model_calls_json();
    let flush = std::time::Instant::now();
    drop(guard);
    out["shutdown_ms"] = json!(flush.elapsed().as_millis() as u64);
    out["peak_rss_kib_after_shutdown"] = json!(peak_rss_kib());
    drop(rt);
    out["spans"] = Value::Array(SEEN.lock().unwrap().clone());
    out["logs"] = Value::Array(LOGS.lock().unwrap().clone());
    println!("{out}");
}
