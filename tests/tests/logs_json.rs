//! JSON log lines, through the real exporter (`init()` with `json` into an
//! in-memory output): exact field names and values on lines from inside
//! nested agent, model and tool calls, the W3C ids of the enclosing span,
//! the request context, user spans, and the event categories.

use obs_runtime::export::logs::{LogBuffer, LogOutput};
use obs_runtime::{events, track_execution, track_llm_call, track_tool, RequestContext};
use serde_json::{Map, Value};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One exporter for the whole process (`cargo test` runs these tests in one).
fn logs() -> &'static LogBuffer {
    static BUF: OnceLock<LogBuffer> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = LogBuffer::new();
        let guard = obs_runtime::Builder::new()
            .exporters(&["logs"])
            .log_format(obs_runtime::export::logs::LogFormat::Json)
            .log_filter("info")
            .log_output(LogOutput::Buffer(buf.clone()))
            .init()
            .expect("init");
        std::mem::forget(guard); // keep logging for the rest of the process
        buf
    })
}

/// A parsed line, with its keys in the order they were written.
struct Line {
    keys: Vec<String>,
    map: Map<String, Value>,
}

impl std::ops::Deref for Line {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Map<String, Value> {
        &self.map
    }
}

/// The top-level keys of a JSON object, in order (the lines are flat objects).
fn key_order(line: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let (mut depth, mut in_str, mut escaped, mut cur, mut last_str) = (0, false, false, String::new(), None);
    for c in line.chars() {
        if in_str {
            match c {
                _ if escaped => {
                    escaped = false;
                    cur.push(c);
                }
                '\\' => escaped = true,
                '"' => {
                    in_str = false;
                    last_str = Some(std::mem::take(&mut cur));
                }
                _ => cur.push(c),
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ':' if depth == 1 => keys.extend(last_str.take()),
            _ if !c.is_whitespace() => last_str = None,
            _ => {}
        }
    }
    keys
}

/// The line whose `marker` field is `marker`, parsed (waits for the writer thread).
fn line(marker: &str) -> Line {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        for l in logs().lines() {
            let v: Value = serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            if v.get("marker").and_then(Value::as_str) == Some(marker) {
                return Line { keys: key_order(&l), map: v.as_object().unwrap().clone() };
            }
        }
        assert!(Instant::now() < deadline, "no line with marker {marker}:\n{}", logs().contents());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn keys(l: &Line) -> Vec<&str> {
    l.keys.iter().map(String::as_str).collect()
}

fn s<'a>(l: &'a Map<String, Value>, k: &str) -> &'a str {
    l.get(k).and_then(Value::as_str).unwrap_or_else(|| panic!("no string `{k}` in {l:?}"))
}

fn ids() -> (String, String) {
    let ids = obs_runtime::trace::current().expect("the current span has trace ids");
    (ids.trace_id.to_string(), ids.span_id.to_string())
}

#[derive(Debug)]
struct E;

#[track_tool(name = "web_search")]
async fn search(q: &str, marker: &str) -> Result<(String, String), E> {
    tracing::info!(marker, query = q, hits = 3u64, "searched");
    Ok(ids())
}

#[track_llm_call(model = "gpt-4o", provider = "openai", usage = none)]
async fn ask(marker: &str) -> Result<(String, String), E> {
    tracing::warn!(marker, retry = false, "slow answer");
    Ok(ids())
}

type Ids = (String, String);

#[track_execution(agent = "researcher")]
async fn research(tag: &str) -> Result<(Ids, Ids, Ids), E> {
    tracing::info!(marker = format!("{tag}-agent"), "planning");
    let agent_ids = ids();
    let tool_ids = search("rust", &format!("{tag}-tool")).await?;
    let llm_ids = ask(&format!("{tag}-llm")).await?;
    Ok((agent_ids, tool_ids, llm_ids))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn assert_timestamp(ts: &str) {
    // 2026-05-01T12:00:00.123456Z
    let b = ts.as_bytes();
    assert_eq!(b.len(), 27, "{ts}");
    for (i, c) in b.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(*c, b'-', "{ts}"),
            10 => assert_eq!(*c, b'T', "{ts}"),
            13 | 16 => assert_eq!(*c, b':', "{ts}"),
            19 => assert_eq!(*c, b'.', "{ts}"),
            26 => assert_eq!(*c, b'Z', "{ts}"),
            _ => assert!(c.is_ascii_digit(), "{ts}"),
        }
    }
}

#[test]
fn lines_inside_nested_calls_carry_agent_model_tool_and_the_span_ids() {
    logs();
    let (agent_ids, tool_ids, llm_ids) = rt().block_on(research("nested")).unwrap();

    let agent = line("nested-agent");
    assert_eq!(keys(&agent), ["timestamp", "level", "target", "message", "agent", "trace_id", "span_id", "marker"]);
    assert_timestamp(s(&agent, "timestamp"));
    assert_eq!(s(&agent, "level"), "INFO");
    assert_eq!(s(&agent, "target"), "logs_json");
    assert_eq!(s(&agent, "message"), "planning");
    assert_eq!(s(&agent, "agent"), "researcher");
    assert_eq!((s(&agent, "trace_id"), s(&agent, "span_id")), (agent_ids.0.as_str(), agent_ids.1.as_str()));

    let tool = line("nested-tool");
    assert_eq!(
        keys(&tool),
        ["timestamp", "level", "target", "message", "agent", "tool", "trace_id", "span_id", "marker", "query", "hits"]
    );
    assert_eq!(s(&tool, "message"), "searched");
    assert_eq!(s(&tool, "agent"), "researcher");
    assert_eq!(s(&tool, "tool"), "web_search");
    assert_eq!(s(&tool, "query"), "rust");
    assert_eq!(tool["hits"], Value::from(3));
    assert_eq!((s(&tool, "trace_id"), s(&tool, "span_id")), (tool_ids.0.as_str(), tool_ids.1.as_str()));

    let llm = line("nested-llm");
    assert_eq!(
        keys(&llm),
        ["timestamp", "level", "target", "message", "agent", "model", "trace_id", "span_id", "marker", "retry"]
    );
    assert_eq!(s(&llm, "level"), "WARN");
    assert_eq!(s(&llm, "model"), "gpt-4o");
    assert_eq!(llm["retry"], Value::Bool(false));
    assert_eq!((s(&llm, "trace_id"), s(&llm, "span_id")), (llm_ids.0.as_str(), llm_ids.1.as_str()));

    // One trace, three spans; W3C sizes.
    assert_eq!(agent_ids.0, tool_ids.0);
    assert_eq!(agent_ids.0, llm_ids.0);
    assert_ne!(agent_ids.1, tool_ids.1);
    assert_ne!(tool_ids.1, llm_ids.1);
    assert_eq!(agent_ids.0.len(), 32);
    assert_eq!(agent_ids.1.len(), 16);
}

#[test]
fn request_context_is_on_every_line_inside_it_and_in_spawned_tasks() {
    logs();
    let ctx =
        RequestContext::from_request_id("req-42").with_user_id("u-1").with_tenant_id("t-9").with_conversation_id("c-3");
    rt().block_on(ctx.scope(async {
        research("req").await.unwrap();
        obs_runtime::spawn(async { tracing::info!(marker = "req-spawned", "in a spawned task") }).await.unwrap();
        // A plain tokio::spawn does not carry it.
        tokio::spawn(async { tracing::info!(marker = "req-plain-spawn", "in a plain task") }).await.unwrap();
    }));
    for marker in ["req-agent", "req-tool", "req-llm", "req-spawned"] {
        let l = line(marker);
        assert_eq!(&keys(&l)[4..8], ["request_id", "user_id", "tenant_id", "conversation_id"], "{marker}");
        assert_eq!(
            (s(&l, "request_id"), s(&l, "user_id"), s(&l, "tenant_id"), s(&l, "conversation_id")),
            ("req-42", "u-1", "t-9", "c-3"),
            "{marker}"
        );
    }
    assert!(!line("req-plain-spawn").contains_key("request_id"));
    // Outside the scope: nothing.
    tracing::info!(marker = "req-after", "after");
    assert!(!line("req-after").contains_key("request_id"));
}

#[test]
fn user_span_fields_are_flattened_and_event_fields_win() {
    logs();
    let job = tracing::info_span!("job", job_id = 7u64, queue = "default", agent = "from-span");
    let _g = job.enter();
    let ids = obs_runtime::trace::ids_of(&job).unwrap();
    tracing::info!(marker = "user-span", queue = "urgent", "picked");
    let l = line("user-span");
    assert_eq!(l["job_id"], Value::from(7));
    assert_eq!(s(&l, "queue"), "urgent", "the event's own field wins");
    assert_eq!(s(&l, "agent"), "from-span");
    assert_eq!(s(&l, "span_id"), ids.span_id.to_string());
}

#[test]
fn event_categories_and_the_token_is_never_logged() {
    logs();
    let token = "sk-live-very-secret-token";
    RequestContext::from_request_id("req-audit").in_scope(|| {
        let _m = tracing::info_span!("m", marker = "audit-ok").entered();
        events::auth_attempt("agent-123", true, token);
    });
    {
        let _m = tracing::info_span!("m", marker = "audit-failed").entered();
        events::auth_attempt("agent-123", false, token);
    }
    {
        let _m = tracing::info_span!("m", marker = "rate").entered();
        assert!(events::rate_limit_check("agent-123", "requests_per_minute", 61, 60));
    }
    {
        let _m = tracing::info_span!("m", marker = "slow-op").entered();
        events::slow_operation("vector_search", Duration::from_millis(750), Duration::from_millis(500));
    }

    let ok = line("audit-ok");
    assert_eq!((s(&ok, "target"), s(&ok, "level"), s(&ok, "event")), ("audit", "INFO", "auth_attempt"));
    assert_eq!(s(&ok, "agent_id"), "agent-123");
    assert_eq!(ok["success"], Value::Bool(true));
    assert_eq!(s(&ok, "token_sha256"), events::sha256_hex(token.as_bytes()));
    assert_eq!(s(&ok, "request_id"), "req-audit");
    let failed = line("audit-failed");
    assert_eq!((s(&failed, "level"), failed["success"].clone()), ("WARN", Value::Bool(false)));

    let rate = line("rate");
    assert_eq!((s(&rate, "target"), s(&rate, "level"), s(&rate, "event")), ("security", "WARN", "rate_limit"));
    assert_eq!(s(&rate, "identifier"), "agent-123");
    assert_eq!(s(&rate, "limit_type"), "requests_per_minute");
    assert_eq!((rate["current"].clone(), rate["limit"].clone()), (Value::from(61), Value::from(60)));
    assert_eq!(rate["exceeded"], Value::Bool(true));

    let slow = line("slow-op");
    assert_eq!((s(&slow, "target"), s(&slow, "level"), s(&slow, "event")), ("performance", "WARN", "slow_operation"));
    assert_eq!(s(&slow, "operation"), "vector_search");
    assert_eq!((slow["duration_ms"].as_f64(), slow["threshold_ms"].as_f64()), (Some(750.0), Some(500.0)));

    assert!(!logs().contents().contains(token), "the token reached the logs");
}

#[test]
fn slow_call_names_the_function_and_its_labels() {
    logs();
    let info = obs_runtime::catalog().into_iter().find(|f| f.name() == "ask" && f.module() == "logs_json").unwrap();
    {
        let _m = tracing::info_span!("m", marker = "slow-call").entered();
        obs_runtime::__private::slow_call(info, Duration::from_millis(1200), Duration::from_millis(500));
    }
    let l = line("slow-call");
    assert_eq!((s(&l, "target"), s(&l, "level"), s(&l, "event")), ("performance", "WARN", "slow_call"));
    assert_eq!((s(&l, "function"), s(&l, "module"), s(&l, "kind")), ("ask", "logs_json", "track_llm_call"));
    assert_eq!((s(&l, "agent"), s(&l, "model")), ("none", "gpt-4o"));
    assert!(!l.contains_key("tool"));
    assert_eq!((l["duration_ms"].as_f64(), l["threshold_ms"].as_f64()), (Some(1200.0), Some(500.0)));
    assert_eq!(s(&l, "message"), "slow call: ask took 1200.0 ms (threshold 500.0 ms)");
}

#[derive(obs_runtime::Redact)]
struct Credentials {
    user: String,
    #[redact]
    api_key: String,
}

#[track_tool(name = "login", fields(creds = creds))]
fn login(creds: &Credentials) -> usize {
    tracing::info!(marker = "redacted", request = ?creds, "logging in");
    creds.api_key.len() // code that needs the secret reads the field
}

#[test]
fn fields_of_a_redact_type_are_redacted_in_the_line() {
    logs();
    let creds = Credentials { user: "alice".into(), api_key: "sk-live-9f8e7d6c5b4a".into() };
    assert_eq!(login(&creds), 20);
    let l = line("redacted");
    let shown = r#"Credentials { user: "alice", api_key: [REDACTED] }"#;
    assert_eq!(s(&l, "request"), shown, "the event's field");
    assert_eq!(s(&l, "creds"), shown, "the instrumented span's `fields(...)`");
    assert!(!logs().contents().contains("sk-live-9f8e7d6c5b4a"), "the key reached the logs");
}
