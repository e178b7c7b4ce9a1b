//! MCP across two processes, in Phoenix over OTLP: an agent (a plain rmcp
//! client, and a rig agent with rig's MCP tools) calls the tools of the
//! `mcp-server` process over stdio and over Streamable HTTP. Each run is ONE
//! trace holding the agent, its model calls, the client's `tools/call`
//! spans (or the tool spans covering them) and the server's SERVER spans
//! with their children, with exact parent ids; both processes' `/metrics`
//! count every method and tool exactly; `isError` and -32602 are recorded
//! as the conventions say on each side; the server's log line carries the
//! caller's request id. A client without obs (no `_meta`) gets one trace
//! per request on the server, never one per session.

use obs_tests::backends::expect::tree_paths;
use obs_tests::backends::phoenix::PhoenixSpan;
use obs_tests::backends::Phoenix;
use obs_tests::mcp::{counter, counts, operation_counts, run, run_tree, McpRun};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

const AGENT: &str = env!("CARGO_BIN_EXE_mcp-agent");
const SERVER: &str = env!("CARGO_BIN_EXE_mcp-server");

fn otlp<'a>(phoenix_endpoint: &'a str, attrs: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", phoenix_endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_RESOURCE_ATTRIBUTES", attrs),
        // Phoenix takes traces only.
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ]
}

/// Spans that are neither the run's nor MCP's: rmcp's session spans and
/// the HTTP requests of obs's tower layer on the server.
fn is_session_or_http(s: &PhoenixSpan) -> bool {
    matches!(s.name.as_str(), "serve_inner" | "streamable_http_session") || s.name.ends_with(" /mcp")
}

/// Polls the project until `done` holds, then once more a second later (a
/// late span would show); panics with what arrived after 90 s (a failure,
/// not a measurement: the processes flushed before they exited).
fn wait_for(phoenix: &Phoenix, project: &str, done: impl Fn(&[PhoenixSpan]) -> bool) -> Vec<PhoenixSpan> {
    let start = std::time::Instant::now();
    loop {
        let spans = phoenix.spans(project);
        if done(&spans) {
            std::thread::sleep(Duration::from_secs(1));
            return phoenix.spans(project);
        }
        if start.elapsed() > Duration::from_secs(90) {
            let spans: Vec<String> = spans
                .iter()
                .map(|s| format!("{} (trace {}, span {}, parent {:?})", s.name, s.trace_id, s.span_id, s.parent_id))
                .collect();
            panic!("project {project} after 90 s:\n{}", spans.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn check_run(phoenix: &Phoenix, project: &str, mode: &str, transport: &str, r: &McpRun) {
    let ctx = format!("{mode} over {transport}");
    let tree = run_tree(mode);
    let trace = r.trace_id();
    // The run's spans, and the server's own traces (session, HTTP, the
    // initialized notification) once everything arrived.
    let spans = wait_for(phoenix, project, |spans| {
        spans.iter().filter(|s| s.trace_id == trace).count() >= tree.len()
            && spans.iter().any(|s| s.name == "notifications/initialized" && s.parent_id.is_none())
    });
    let (inside, outside): (Vec<&PhoenixSpan>, Vec<&PhoenixSpan>) = spans.iter().partition(|s| s.trace_id == trace);
    let nodes: Vec<_> = inside.iter().map(|s| (s.span_id.as_str(), s.parent_id.as_deref(), s.name.as_str())).collect();
    assert_eq!(tree_paths(&nodes), tree, "{ctx}: the run's trace");

    // Outside the run: the server's `notifications/initialized` (rmcp reads
    // it without its `_meta`) as a root of its own, and rmcp's session and
    // HTTP spans, childless: no per-session trace holds any handler's span.
    let ids: BTreeSet<&str> = outside.iter().map(|s| s.span_id.as_str()).collect();
    for s in &outside {
        let sctx = format!("{ctx}: span `{}` outside the run", s.name);
        assert!(s.name == "notifications/initialized" || is_session_or_http(s), "{sctx}");
        assert_eq!(s.parent_id, None, "{sctx}: a root");
        assert!(!outside.iter().any(|c| c.parent_id.as_deref() == Some(s.span_id.as_str())), "{sctx}: childless");
    }
    assert_eq!(outside.iter().filter(|s| s.name == "notifications/initialized").count(), 1, "{ctx}");
    assert!(ids.len() == outside.len(), "{ctx}");

    let net = if transport == "stdio" { "pipe" } else { "tcp" };
    let by = |name: &str| inside.iter().copied().filter(|s| s.name == name).collect::<Vec<_>>();
    let parent = |s: &PhoenixSpan| inside.iter().copied().find(|p| Some(p.span_id.as_str()) == s.parent_id.as_deref());
    // Server spans: the tool calls, their conventions' attributes and the
    // caller's request context from `baggage`.
    for name in ["tools/call get_weather", "tools/call flaky", "tools/call get_forecast"] {
        let server: Vec<&PhoenixSpan> = by(name).into_iter().filter(|s| s.str("obs.status").is_some()).collect();
        let servers: Vec<&PhoenixSpan> = server
            .iter()
            .copied()
            .filter(|s| {
                parent(s).is_some_and(|p| p.name != "invoke_agent planner" && p.name != "invoke_agent researcher")
            })
            .collect();
        assert!(!servers.is_empty(), "{ctx}: no server span {name}");
        for s in servers {
            let sctx = format!("{ctx}: server span {name} {}", s.span_id);
            let tool = name.rsplit(' ').next().unwrap();
            assert_eq!(s.str("mcp.method.name"), Some("tools/call"), "{sctx}");
            assert_eq!(s.str("gen_ai.tool.name"), Some(tool), "{sctx}");
            assert_eq!(s.str("gen_ai.operation.name"), Some("execute_tool"), "{sctx}");
            assert_eq!(s.span_kind, "TOOL", "{sctx}: Phoenix's kind from gen_ai.operation.name");
            assert_eq!(s.str("network.transport"), Some(net), "{sctx}");
            assert_eq!(s.str("mcp.protocol.version"), Some("2025-11-25"), "{sctx}");
            assert!(s.str("jsonrpc.request.id").is_some_and(|i| i.parse::<u64>().is_ok()), "{sctx}");
            assert_eq!(s.str("obs.request_id"), Some("req-mcp-1"), "{sctx}: the caller's request, from baggage");
            assert_eq!(s.str("user.id"), Some("user-42"), "{sctx}");
            assert_eq!(s.str("gen_ai.conversation.id"), Some("conv-7"), "{sctx}");
            if transport == "http" {
                assert!(s.str("mcp.session.id").is_some_and(|v| !v.is_empty()), "{sctx}: Mcp-Session-Id");
            }
            match tool {
                "flaky" => {
                    assert_eq!((s.str("error.type"), s.status_code.as_str()), (Some("tool_error"), "ERROR"), "{sctx}");
                }
                // The caller's mistake: not this server's error.
                "get_forecast" => {
                    assert_eq!(s.str("error.type"), Some("-32602"), "{sctx}");
                    assert_eq!(s.str("rpc.response.status_code"), Some("-32602"), "{sctx}");
                    assert_ne!(s.status_code, "ERROR", "{sctx}");
                }
                _ => {
                    assert_eq!((s.str("error.type"), s.status_code.as_str()), (None, "UNSET"), "{sctx}");
                }
            }
        }
    }
    // The client's side of each call: a CLIENT span (plain agent, calls in
    // its body) or the tool span that covers it, with the MCP attributes.
    let client_spans: Vec<&PhoenixSpan> = inside
        .iter()
        .copied()
        .filter(|s| parent(s).is_some_and(|p| p.name.starts_with("invoke_agent")))
        .filter(|s| s.str("mcp.method.name") == Some("tools/call"))
        .collect();
    assert_eq!(client_spans.len(), if mode == "plain" { 4 } else { 3 }, "{ctx}: client-side tool calls");
    for s in &client_spans {
        let sctx = format!("{ctx}: client span {} {}", s.name, s.span_id);
        assert_eq!(s.str("network.transport"), Some(net), "{sctx}");
        assert!(s.str("jsonrpc.request.id").is_some(), "{sctx}");
        let tool = s.str("gen_ai.tool.name").expect("tool name").to_string();
        match tool.as_str() {
            "flaky" => assert_eq!(s.str("error.type"), Some("tool_error"), "{sctx}"),
            "get_forecast" => {
                assert_eq!(s.str("rpc.response.status_code"), Some("-32602"), "{sctx}");
                assert_eq!(s.str("error.type"), Some("-32602"), "{sctx}");
                assert_eq!(s.status_code, "ERROR", "{sctx}: an error for the caller");
            }
            _ => assert_eq!(s.str("error.type"), None, "{sctx}"),
        }
    }
    // No double span: the `#[track_tool]` (plain) and rig's tool spans carry
    // the MCP attributes and have the server's span as their direct child.
    let covering: Vec<&&PhoenixSpan> = client_spans.iter().filter(|s| s.name.starts_with("execute_tool")).collect();
    assert_eq!(covering.len(), if mode == "plain" { 1 } else { 3 }, "{ctx}: covering tool spans");
    for c in covering {
        let kids: Vec<&str> = inside
            .iter()
            .filter(|s| s.parent_id.as_deref() == Some(c.span_id.as_str()))
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(kids.len(), 1, "{ctx}: one child, the server's span: {kids:?}");
        assert!(kids[0].starts_with("tools/call "), "{ctx}: {kids:?}");
    }

    // Metrics, exactly, on both sides.
    let want_client = operation_counts(mode, transport, "client");
    assert_eq!(
        counts(r.agent_metrics(), "mcp_client_operation_duration_seconds"),
        want_client,
        "{ctx}: agent /metrics"
    );
    assert_eq!(
        counts(&r.server_metrics, "mcp_server_operation_duration_seconds"),
        operation_counts(mode, transport, "server"),
        "{ctx}: server /metrics"
    );
    let agent = if mode == "plain" { "planner" } else { "researcher" };
    let weather = if mode == "plain" { 2 } else { 1 };
    let tools = |agent: &str| -> BTreeMap<String, u64> {
        [
            (format!("agent=\"{agent}\",status=\"success\",tool=\"get_weather\""), weather),
            (format!("agent=\"{agent}\",status=\"error\",tool=\"flaky\""), 1),
            (format!("agent=\"{agent}\",status=\"error\",tool=\"get_forecast\""), 1),
        ]
        .into_iter()
        .collect()
    };
    assert_eq!(counter(r.agent_metrics(), "tool_calls_total"), tools(agent), "{ctx}: the agent's tool calls");
    assert_eq!(counter(&r.server_metrics, "tool_calls_total"), tools("mcp:weather"), "{ctx}: the server's tool calls");
    let sessions = counts(r.agent_metrics(), "mcp_client_session_duration_seconds");
    assert_eq!(sessions.values().sum::<u64>(), 1, "{ctx}: one client session: {sessions:?}");
    if transport == "http" {
        // (Over stdio the server's session ends with its process.)
        let s = counts(&r.server_metrics, "mcp_server_session_duration_seconds");
        assert_eq!(s.values().sum::<u64>(), 1, "{ctx}: one server session: {s:?}");
    }

    // The server's log lines of the tool carry the caller's request id.
    let lines = r.server_lines("looking up the weather");
    assert_eq!(lines.len(), weather as usize, "{ctx}: {}", r.server_log);
    for l in &lines {
        assert_eq!(l["request_id"], "req-mcp-1", "{ctx}: {l}");
        assert_eq!(l["trace_id"].as_str(), Some(trace.as_str()), "{ctx}: {l}");
        assert_eq!(l["agent"], "mcp:weather", "{ctx}: {l}");
    }
}

/// A client without obs: each request is a trace of its own on the server.
fn check_bare(phoenix: &Phoenix, project: &str, transport: &str, r: &McpRun) {
    let ctx = format!("bare client over {transport}");
    let spans = wait_for(phoenix, project, |spans| {
        spans.iter().filter(|s| s.name == "tools/call get_weather" || s.name == "forecast").count() >= 4
    });
    let calls: Vec<&PhoenixSpan> = spans.iter().filter(|s| s.name == "tools/call get_weather").collect();
    assert_eq!(calls.len(), 2, "{ctx}");
    let traces: BTreeSet<&str> = calls.iter().map(|s| s.trace_id.as_str()).collect();
    assert_eq!(traces.len(), 2, "{ctx}: one trace per request");
    for s in &calls {
        assert_eq!(s.parent_id, None, "{ctx}: a root, not a child of the session's span");
        let children: Vec<&str> = spans
            .iter()
            .filter(|c| c.parent_id.as_deref() == Some(s.span_id.as_str()))
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(children, ["forecast"], "{ctx}");
    }
    for s in spans.iter().filter(|s| is_session_or_http(s)) {
        assert!(
            !spans.iter().any(|c| c.parent_id.as_deref() == Some(s.span_id.as_str())),
            "{ctx}: the session span `{}` has no children",
            s.name
        );
    }
    // Without baggage, each request has a request id of its own.
    let lines = r.server_lines("looking up the weather");
    let req: BTreeSet<&str> = lines.iter().filter_map(|l| l["request_id"].as_str()).collect();
    assert_eq!((lines.len(), req.len()), (2, 2), "{ctx}: {lines:?}");
}

#[test]
fn mcp_runs_are_one_trace_across_processes_in_phoenix() {
    let phoenix = Phoenix::start();
    let endpoint = phoenix.http_endpoint();
    for (mode, transport) in [("plain", "stdio"), ("plain", "http"), ("rig", "stdio"), ("rig", "http")] {
        let project = format!("mcp-{mode}-{transport}");
        let attrs = format!("openinference.project.name={project}");
        let r = run(Path::new(AGENT), Path::new(SERVER), mode, transport, &otlp(&endpoint, &attrs));
        check_run(&phoenix, &project, mode, transport, &r);
    }
    for transport in ["stdio", "http"] {
        let project = format!("mcp-bare-{transport}");
        let attrs = format!("openinference.project.name={project}");
        let r = run(Path::new(AGENT), Path::new(SERVER), "bare", transport, &otlp(&endpoint, &attrs));
        check_bare(&phoenix, &project, transport, &r);
    }
    let guard = phoenix.guard_lines();
    assert!(!guard.iter().any(|l| l.contains("refused")), "Phoenix tried to reach the network: {guard:?}");
}
