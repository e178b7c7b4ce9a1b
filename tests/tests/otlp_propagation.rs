//! W3C trace context between two processes, as a message queue carries it:
//! `otlp-agents send` injects its context into a `HashMap<String, String>`,
//! `otlp-agents receive` extracts it and continues the trace. Both export to
//! one Rotel collector (over gRPC), where the two processes' spans form one
//! trace with the receiver's span under the sender's.

use obs_tests::backends::rotel::{Received, Span, Value as RValue};
use obs_tests::backends::{run, Rotel, Run};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_otlp-agents");

fn run_mode(rotel: &Rotel, mode: &str, service: &str, carrier: Option<&str>) -> Run {
    let endpoint = rotel.grpc_endpoint();
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_SERVICE_NAME", service),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ];
    if let Some(c) = carrier {
        env.push(("OBS_TEST_CARRIER", c));
    }
    run(Path::new(EXE), mode, &env, Duration::from_secs(120))
}

fn spans_of<'a>(got: &'a Received, service: &str) -> Vec<&'a Span> {
    got.spans.iter().filter(|s| s.resource.get("service.name").and_then(RValue::as_str) == Some(service)).collect()
}

fn named<'a>(spans: &[&'a Span], name: &str) -> &'a Span {
    match spans.iter().filter(|s| s.name == name).collect::<Vec<_>>().as_slice() {
        [one] => one,
        other => panic!("expected one span `{name}`, got {}: {spans:?}", other.len()),
    }
}

/// Sends, then receives with `to_receiver(sender's carrier)`; returns both
/// services' spans once Rotel has all of them.
fn round_trip(
    rotel: &Rotel,
    tag: &str,
    incoming: Option<&str>,
    to_receiver: impl Fn(&HashMap<String, String>) -> HashMap<String, String>,
) -> (Run, HashMap<String, String>, Vec<Span>, Vec<Span>) {
    let (a, b) = (format!("sender-{tag}"), format!("receiver-{tag}"));
    let sent = run_mode(rotel, "send", &a, incoming);
    let carrier: HashMap<String, String> = serde_json::from_value(sent.summary["carrier"].clone()).expect("carrier");
    let passed = serde_json::to_string(&to_receiver(&carrier)).unwrap();
    let received = run_mode(rotel, "receive", &b, Some(&passed));
    assert_eq!(received.summary["joined"], true, "continue_trace found the parent in {passed}");
    // sender: dispatch > invoke_agent dispatcher > execute_tool enqueue;
    // receiver: process tasks > invoke_agent worker > (execute_tool web_search, chat gpt-4o-mini).
    let got = rotel.wait_for(Duration::from_secs(120), |g| spans_of(g, &a).len() >= 3 && spans_of(g, &b).len() >= 4);
    let sa: Vec<Span> = spans_of(&got, &a).into_iter().cloned().collect();
    let sb: Vec<Span> = spans_of(&got, &b).into_iter().cloned().collect();
    assert_eq!((sa.len(), sb.len()), (3, 4), "sender {sa:?}\nreceiver {sb:?}");
    let trace = sa[0].trace_id.clone();
    assert!(sa.iter().chain(&sb).all(|s| s.trace_id == trace), "one trace across both processes: {sa:?} {sb:?}");
    assert_ne!(
        sa[0].resource.get("service.instance.id"),
        sb[0].resource.get("service.instance.id"),
        "two processes, two instances"
    );
    let ra: Vec<&Span> = sa.iter().collect();
    let rb: Vec<&Span> = sb.iter().collect();
    let enqueue = named(&ra, "execute_tool enqueue");
    let dispatcher = named(&ra, "invoke_agent dispatcher");
    let dispatch = named(&ra, "dispatch");
    assert_eq!(
        (enqueue.parent_id.as_str(), dispatcher.parent_id.as_str()),
        (dispatcher.span_id.as_str(), dispatch.span_id.as_str())
    );
    // The carrier names the span that sent the message.
    assert_eq!(carrier["traceparent"], format!("00-{trace}-{}-01", enqueue.span_id));
    let process = named(&rb, "process tasks");
    assert_eq!(process.parent_id, enqueue.span_id, "the receiver's span continues the sender's");
    assert_eq!(process.kind, "SPAN_KIND_CONSUMER");
    let worker = named(&rb, "invoke_agent worker");
    assert_eq!(worker.parent_id, process.span_id);
    for name in ["execute_tool web_search", "chat gpt-4o-mini"] {
        assert_eq!(named(&rb, name).parent_id, worker.span_id, "{name}");
    }
    (sent, carrier, sa, sb)
}

#[test]
fn traceparent_and_hashmap_carriers_join_one_trace() {
    let rotel = Rotel::start();

    // 1. Only the `traceparent` value crosses (a header, an env var).
    let (_, carrier, sa, _) = round_trip(&rotel, "traceparent", None, |c| {
        HashMap::from([("traceparent".to_string(), c["traceparent"].clone())])
    });
    // No state is invented. (The SDK's propagator writes an empty
    // `tracestate`, although trace::inject's doc says it writes one only
    // when not empty.)
    assert_eq!(
        carrier.get("tracestate").map(String::as_str).unwrap_or(""),
        "",
        "no tracestate without an incoming one"
    );
    let root = sa.iter().find(|s| s.name == "dispatch").unwrap();
    assert_eq!(root.parent_id, "", "the sender started the trace");

    // 2. The whole HashMap crosses, and the sender itself continued a caller
    //    (traceparent and tracestate from the test): three hops, one trace.
    let caller = HashMap::from([
        ("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string()),
        ("tracestate".to_string(), "obs-test=1,congo=t61rcWkgMzE".to_string()),
    ]);
    let caller_json = serde_json::to_string(&caller).unwrap();
    let (sent, carrier, sa, _) = round_trip(&rotel, "hashmap", Some(&caller_json), |c| c.clone());
    assert_eq!(sent.summary["joined"], true);
    assert_eq!(sa[0].trace_id, "4bf92f3577b34da6a3ce929d0e0e4736", "the caller's trace");
    assert_eq!(sa.iter().find(|s| s.name == "dispatch").unwrap().parent_id, "00f067aa0ba902b7");
    assert_eq!(
        carrier.get("tracestate").map(String::as_str),
        Some("obs-test=1,congo=t61rcWkgMzE"),
        "tracestate is passed on"
    );
}
