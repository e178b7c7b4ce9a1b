//! Failures in the logs (issue 14, item 3), through the real JSON exporter:
//! a failing tool, model call and agent each write one line with exact
//! fields (agent, model or tool, `error.type`, the error's `Display`
//! through the secret detectors, duration, trace and request ids); a panic
//! writes one too; `err = false` and `err = "info"`; identical failures are
//! rate-limited; `OBS_ERROR_LOG_LEVEL` is checked like every variable.

use obs_runtime::export::logs::{LogBuffer, LogFormat, LogOutput};
use obs_runtime::{traced, track_execution, track_llm_call, track_tool, RequestContext};
use serde_json::{Map, Value};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn logs() -> &'static LogBuffer {
    static BUF: OnceLock<LogBuffer> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = LogBuffer::new();
        let guard = obs_runtime::Builder::new()
            .exporters(&["logs"])
            .log_format(LogFormat::Json)
            .log_filter("info")
            .log_output(LogOutput::Buffer(buf.clone()))
            .init()
            .expect("init");
        std::mem::forget(guard);
        buf
    })
}

/// Every failure line (target `errors`) whose `function` is `f`, parsed,
/// once `n` of them arrived (waits for the writer thread).
fn failures(f: &str, n: usize) -> Vec<Map<String, Value>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<Map<String, Value>> = logs()
            .lines()
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .filter(|v| v["target"] == "errors" && v["function"] == f)
            .map(|v| v.as_object().unwrap().clone())
            .collect();
        if found.len() >= n || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn keys(m: &Map<String, Value>) -> Vec<&str> {
    // serde_json's Map keeps insertion order only with `preserve_order`;
    // compare as a sorted set.
    let mut k: Vec<&str> = m.keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn sorted<'a>(k: &[&'a str]) -> Vec<&'a str> {
    let mut k = k.to_vec();
    k.sort_unstable();
    k
}

#[derive(Debug)]
struct ToolError(String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "search backend said: {}", self.0)
    }
}

/// No `Display`: the line has no `error.message`.
#[derive(Debug)]
struct Opaque;

#[track_tool(name = "web_search")]
async fn search(fail_with: &str) -> Result<u32, ToolError> {
    Err(ToolError(fail_with.to_string()))
}

#[track_llm_call(model = "gpt-4o", provider = "openai", usage = none)]
async fn ask() -> Result<String, Opaque> {
    Err(Opaque)
}

#[track_execution(agent = "researcher")]
async fn research(secret: &str) -> Result<u32, ToolError> {
    tracing::info!(marker = "inside", "start");
    let ids = obs_runtime::trace::current().expect("ids");
    IDS.with(|c| *c.borrow_mut() = Some((ids.trace_id.to_string(), ids.span_id.to_string())));
    let _ = ask().await;
    search(secret).await
}

thread_local! {
    static IDS: std::cell::RefCell<Option<(String, String)>> = const { std::cell::RefCell::new(None) };
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_failing_tool_model_and_agent_each_write_one_line_with_their_context() {
    logs();
    let secret = "key sk-proj-Abc123Def456Ghi789Jkl012 rejected";
    let ctx = RequestContext::from_request_id("req-77");
    let r = rt().block_on(ctx.scope(research(secret)));
    assert!(r.is_err());
    let (trace_id, agent_span) = IDS.with(|c| c.borrow().clone()).unwrap();

    let tool = failures("search", 1);
    assert_eq!(tool.len(), 1, "{tool:?}");
    let tool = &tool[0];
    assert_eq!(
        keys(tool),
        sorted(&[
            "timestamp",
            "level",
            "target",
            "message",
            "request_id",
            "agent",
            "tool",
            "trace_id",
            "span_id",
            "event",
            "function",
            "kind",
            "status",
            "error.type",
            "error.message",
            "duration_ms",
        ])
    );
    assert_eq!(tool["level"], "WARN");
    assert_eq!(tool["message"], "tool `web_search` failed: ToolError");
    assert_eq!(tool["request_id"], "req-77");
    assert_eq!(tool["agent"], "researcher");
    assert_eq!(tool["tool"], "web_search");
    assert_eq!(tool["event"], "call_failed");
    assert_eq!(tool["kind"], "track_tool");
    assert_eq!(tool["status"], "error");
    assert_eq!(tool["error.type"], "ToolError");
    // The secret never reaches the line: the detectors replaced it.
    assert_eq!(tool["error.message"], "search backend said: key [REDACTED:openai_key] rejected");
    assert!(!logs().contents().contains("Abc123Def456"), "{}", logs().contents());
    assert_eq!(tool["trace_id"], trace_id.as_str());
    assert_ne!(tool["span_id"], agent_span.as_str(), "the tool's own span");
    assert!(tool["duration_ms"].as_f64().unwrap() >= 0.0);

    let llm = failures("ask", 1);
    assert_eq!(llm.len(), 1, "{llm:?}");
    let llm = &llm[0];
    assert_eq!(
        keys(llm),
        sorted(&[
            "timestamp",
            "level",
            "target",
            "message",
            "request_id",
            "agent",
            "model",
            "trace_id",
            "span_id",
            "event",
            "function",
            "kind",
            "status",
            "error.type",
            "duration_ms",
        ])
    );
    assert_eq!(llm["level"], "WARN");
    assert_eq!(llm["message"], "model call `gpt-4o` failed: Opaque");
    assert_eq!(
        (&llm["model"], &llm["agent"], &llm["error.type"]),
        (&"gpt-4o".into(), &"researcher".into(), &"Opaque".into())
    );
    assert_eq!(llm["trace_id"], trace_id.as_str());

    let agent = failures("research", 1);
    assert_eq!(agent.len(), 1, "{agent:?}");
    let agent = &agent[0];
    assert_eq!(
        keys(agent),
        sorted(&[
            "timestamp",
            "level",
            "target",
            "message",
            "request_id",
            "agent",
            "trace_id",
            "span_id",
            "event",
            "function",
            "kind",
            "status",
            "error.type",
            "error.message",
            "duration_ms",
        ])
    );
    assert_eq!(agent["level"], "ERROR");
    assert_eq!(agent["message"], "agent `researcher` failed: ToolError");
    assert_eq!(agent["kind"], "track_execution");
    assert_eq!(
        (agent["trace_id"].as_str(), agent["span_id"].as_str()),
        (Some(trace_id.as_str()), Some(agent_span.as_str()))
    );
    assert_eq!(agent["error.message"], "search backend said: key [REDACTED:openai_key] rejected");
    let tool_ms = tool["duration_ms"].as_f64().unwrap();
    assert!(agent["duration_ms"].as_f64().unwrap() >= tool_ms);
}

#[track_tool(name = "flaky")]
fn flaky(n: u32) -> Result<u32, ToolError> {
    Err(ToolError(format!("attempt {}", n % 2)))
}

#[test]
fn identical_failures_are_rate_limited_distinct_ones_are_not() {
    logs();
    // Two distinct messages, 10 calls each, well within the 10 s window.
    for n in 0..20 {
        let _ = flaky(n);
    }
    std::thread::sleep(Duration::from_millis(200));
    let lines = failures("flaky", 2);
    let messages: Vec<&str> = lines.iter().map(|l| l["error.message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["search backend said: attempt 0", "search backend said: attempt 1"]);
}

#[track_tool(name = "quiet", err = false)]
fn quiet() -> Result<(), ToolError> {
    Err(ToolError("never logged".into()))
}

#[traced(err = "info")]
fn chatty() -> Result<(), ToolError> {
    Err(ToolError("logged at info".into()))
}

#[traced]
fn step() -> Result<(), Opaque> {
    Err(Opaque)
}

#[track_tool(name = "boom")]
fn boom() -> u32 {
    panic!("boom with password=hunter2hunter2")
}

#[test]
fn per_function_settings_traced_functions_and_panics() {
    logs();
    let _ = quiet();
    let _ = chatty();
    let _ = step();
    let _ = std::panic::catch_unwind(boom);
    let chatty = failures("chatty", 1);
    assert_eq!((chatty.len(), chatty[0]["level"].as_str()), (1, Some("INFO")));
    assert_eq!(chatty[0]["kind"], "traced");
    assert_eq!(chatty[0]["message"], "`chatty` failed: ToolError");
    // `#[traced]` defaults to WARN, like a tool: a step that failed.
    let step = failures("step", 1);
    assert_eq!((step.len(), step[0]["level"].as_str()), (1, Some("WARN")));
    let boom = failures("boom", 1);
    assert_eq!(boom.len(), 1);
    assert_eq!(boom[0]["level"], "WARN");
    assert_eq!(boom[0]["status"], "panic");
    assert_eq!(boom[0]["error.type"], "panic");
    assert_eq!(boom[0]["message"], "tool `boom` panicked: panic");
    assert!(boom[0].get("error.message").is_none());
    assert!(failures("quiet", 0).is_empty(), "err = false writes nothing");
}
