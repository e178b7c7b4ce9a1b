//! Failures in the logs (issue 14, item 3), through the real JSON exporter:
//! a failing tool, model call and agent each write one line with exact
//! fields (agent, model or tool, `error.type`, the error's `Display`
//! through the secret detectors, duration, trace and request ids); a panic
//! writes one too, with its message; `err = false` and `err = "info"`;
//! identical failures (function, status and type) are grouped: one line,
//! then their count when the window ends; `OBS_ERROR_LOG_LEVEL` is checked
//! like every variable.

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
    Err(ToolError(format!("GET https://api.example.com/items/{n}: 503")))
}

#[test]
fn a_flood_of_one_failure_writes_one_line_then_its_count_when_the_window_ends() {
    logs();
    // The failure-line clock moves only when the test moves it: the window
    // ends when the test says, however slow the machine.
    obs_runtime::testing::advance_failure_clock(Duration::ZERO);
    // One tool, one error type, 1,000 distinct messages within the window.
    for n in 0..1000 {
        let _ = flaky(n);
    }
    // The group's count is not due yet: one line.
    let lines = failures("flaky", 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["event"], "call_failed");
    assert_eq!(lines[0]["error.message"], "search backend said: GET https://api.example.com/items/0: 503");
    assert!(lines[0].get("repeated").is_none());

    // The window ends: the log writer (it looks every second) writes the
    // group's count, without waiting for another failure.
    obs_runtime::testing::advance_failure_clock(Duration::from_secs(10));
    let lines = failures("flaky", 2);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let count = &lines[1];
    assert_eq!(
        keys(count),
        sorted(&[
            "timestamp",
            "level",
            "target",
            "message",
            "event",
            "function",
            "kind",
            "tool",
            "status",
            "error.type",
            "repeated",
            "distinct_messages",
        ])
    );
    assert_eq!(count["event"], "call_failed_repeated");
    assert_eq!(count["level"], "WARN");
    assert_eq!(
        count["message"],
        "tool `flaky` failed 999 more times since its last line (999 distinct messages): ToolError"
    );
    assert_eq!((count["repeated"].as_u64(), count["distinct_messages"].as_u64()), (Some(999), Some(999)));

    // The group starts over: its next failure writes a line with its message.
    let _ = flaky(1000);
    let lines = failures("flaky", 3);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[2]["error.message"], "search backend said: GET https://api.example.com/items/1000: 503");
    assert!(lines[2].get("repeated").is_none());
}

#[track_execution(agent = "inner_agent")]
fn inner_agent() -> Result<u32, ToolError> {
    Err(ToolError("no plan".into()))
}

#[track_execution(agent = "outer_agent")]
fn outer_agent() -> Result<u32, ToolError> {
    inner_agent()
}

#[test]
fn an_agents_own_failure_line_names_it_once() {
    logs();
    let _ = outer_agent();
    assert_eq!(failures("outer_agent", 1).len(), 1);
    // The raw line: a parsed object would hide a repeated key.
    let raw = logs().lines().into_iter().find(|l| l.contains("\"function\":\"inner_agent\"")).unwrap();
    assert_eq!(raw.matches("\"agent\":").count(), 1, "{raw}");
    assert!(raw.contains("\"agent\":\"inner_agent\""), "{raw}");
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
    // The panic's message, through the detectors (init() installed the hook).
    assert_eq!(boom[0]["error.message"], "boom with password=[REDACTED:secret]");
    assert!(failures("quiet", 0).is_empty(), "err = false writes nothing");
}
