//! MCP over OTLP into Rotel, a collector that prints what it receives: the
//! span kinds the conventions give (CLIENT on the agent, SERVER on the
//! server, the covering `#[track_tool]` span INTERNAL), tool arguments and
//! results captured and redacted when capture is on, and the four MCP
//! metrics under their OpenTelemetry names, in seconds, with the
//! conventions' buckets and attributes, from both processes.

use obs_tests::backends::rotel::{Received, Span, Value as RValue};
use obs_tests::backends::Rotel;
use obs_tests::mcp::run;
use std::path::Path;
use std::time::Duration;

const AGENT: &str = env!("CARGO_BIN_EXE_mcp-agent");
const SERVER: &str = env!("CARGO_BIN_EXE_mcp-server");

const MCP_BUCKETS: [f64; 14] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

fn service(s: &Span) -> &str {
    s.resource.get("service.name").and_then(RValue::as_str).unwrap_or_default()
}

fn attr<'a>(s: &'a Span, key: &str) -> Option<&'a str> {
    s.attributes.get(key).and_then(RValue::as_str)
}

/// The last export of metric `name` from `svc`: (attributes, count) of each point.
fn points(got: &Received, svc: &str, name: &str) -> Vec<(Vec<(String, String)>, u64)> {
    let m = got
        .metrics
        .iter()
        .rev()
        .find(|m| m.name == name && m.resource.get("service.name").and_then(RValue::as_str) == Some(svc))
        .unwrap_or_else(|| panic!("{svc} exported no `{name}`; metrics: {:?}", got.metric_names()));
    assert_eq!((m.unit.as_str(), m.data_type.as_str()), ("s", "Histogram"), "{svc} {name}");
    let mut out: Vec<(Vec<(String, String)>, u64)> = m
        .points
        .iter()
        .map(|p| {
            assert_eq!(p.bounds, MCP_BUCKETS, "{svc} {name}: the conventions' buckets");
            let mut a: Vec<(String, String)> = p
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| format!("{v:?}"))))
                .collect();
            a.sort();
            (a, p.count.unwrap_or(0))
        })
        .collect();
    out.sort();
    out
}

fn count_of(points: &[(Vec<(String, String)>, u64)], want: &[(&str, &str)]) -> u64 {
    points
        .iter()
        .filter(|(a, _)| want.iter().all(|(k, v)| a.iter().any(|(ak, av)| ak == k && av == v)))
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn mcp_spans_kinds_content_and_metrics_over_otlp() {
    let rotel = Rotel::start();
    let endpoint = rotel.http_endpoint();
    let otlp = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
        ("OBS_CAPTURE_CONTENT", "true"),
    ];
    let r = run(Path::new(AGENT), Path::new(SERVER), "plain", "stdio", &otlp);
    let trace = r.trace_id();
    // Both processes flush at exit: the server's session histogram is in its last export.
    let got = rotel.wait_for(Duration::from_secs(60), |g| {
        g.trace(&trace).len() >= 19
            && g.metrics.iter().any(|m| {
                m.name == "mcp.server.session.duration"
                    && m.resource.get("service.name").and_then(RValue::as_str) == Some("mcp-server")
                    && !m.points.is_empty()
            })
    });

    // Kinds.
    let mcp: Vec<&Span> = got.trace(&trace).into_iter().filter(|s| attr(s, "mcp.method.name").is_some()).collect();
    assert_eq!(mcp.len(), 13, "{:?}", mcp.iter().map(|s| &s.name).collect::<Vec<_>>());
    for s in &mcp {
        let want = match (service(s), s.name.starts_with("execute_tool")) {
            ("mcp-agent", true) => "SPAN_KIND_INTERNAL",
            ("mcp-agent", false) => "SPAN_KIND_CLIENT",
            _ => "SPAN_KIND_SERVER",
        };
        assert_eq!(s.kind, want, "{} of {}", s.name, service(s));
    }

    // Captured content, redacted, on both sides of the Paris call.
    let paris: Vec<&&Span> =
        mcp.iter().filter(|s| attr(s, "gen_ai.tool.call.arguments").is_some_and(|a| a.contains("contact"))).collect();
    assert_eq!(paris.len(), 2, "the client's and the server's span of the Paris call");
    for s in paris {
        let args = attr(s, "gen_ai.tool.call.arguments").unwrap();
        assert_eq!(args, r#"{"city":"Paris","contact":"[REDACTED:email]"}"#, "{}", service(s));
        let result = attr(s, "gen_ai.tool.call.result").expect("the result");
        assert!(result.contains("Paris: sunny, 21 °C") && result.contains(r#""isError":false"#), "{result}");
    }
    let output = rotel.output();
    assert!(!output.contains("bob@example.com"), "the address reached the collector");

    // The four metrics, under their OTel names and attribute keys.
    let client = points(&got, "mcp-agent", "mcp.client.operation.duration");
    let server = points(&got, "mcp-server", "mcp.server.operation.duration");
    for (side, p) in [("client", &client), ("server", &server)] {
        let call = |tool: &str| count_of(p, &[("mcp.method.name", "tools/call"), ("gen_ai.tool.name", tool)]);
        assert_eq!(call("get_weather"), 2, "{side}: {p:?}");
        assert_eq!(count_of(p, &[("gen_ai.tool.name", "flaky"), ("error.type", "tool_error")]), 1, "{side}");
        assert_eq!(
            count_of(
                p,
                &[
                    ("gen_ai.tool.name", "get_forecast"),
                    ("error.type", "-32602"),
                    ("rpc.response.status_code", "-32602")
                ]
            ),
            1,
            "{side}"
        );
        assert_eq!(count_of(p, &[("mcp.method.name", "tools/list"), ("network.transport", "pipe")]), 1, "{side}");
        assert_eq!(count_of(p, &[("gen_ai.operation.name", "execute_tool")]), 4, "{side}");
        assert!(
            p.iter().all(|(a, _)| a.iter().all(|(k, _)| k != "mcp.session.id" && k != "jsonrpc.request.id")),
            "{side}"
        );
    }
    for (svc, name) in [("mcp-agent", "mcp.client.session.duration"), ("mcp-server", "mcp.server.session.duration")] {
        let p = points(&got, svc, name);
        assert_eq!(
            count_of(&p, &[("network.transport", "pipe"), ("mcp.protocol.version", "2025-11-25")]),
            1,
            "{name}: {p:?}"
        );
    }
}
