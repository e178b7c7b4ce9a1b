//! Span attribute values are cut before they leave the process: a value a
//! user's `fields(..)` records (or any other span attribute) is at most
//! 16 KiB (what a log line keeps of a value) plus `…` in
//! what the OTLP exporter sends, decoded here from the real OTLP/HTTP
//! requests by a receiver on 127.0.0.1; captured content keeps its own
//! bound.

use obs_runtime::{traced, track_tool};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const MAX_VALUE_BYTES: usize = 16 * 1024;

/// Spans of every `/v1/traces` request; every request is answered 200.
fn receiver() -> (u16, Arc<Mutex<Vec<Span>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let spans = Arc::new(Mutex::new(Vec::new()));
    let got = spans.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let got = got.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut w = conn;
                loop {
                    let mut request_line = String::new();
                    if r.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut len = 0;
                    loop {
                        let mut h = String::new();
                        r.read_line(&mut h).unwrap();
                        if h.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                len = v.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    if request_line.contains("/v1/traces") {
                        let req = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf");
                        let mut got = got.lock().unwrap();
                        for rs in req.resource_spans {
                            for ss in rs.scope_spans {
                                got.extend(ss.spans);
                            }
                        }
                    }
                    w.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
                    )
                    .unwrap();
                }
            });
        }
    });
    (port, spans)
}

#[traced(fields(note = note))]
fn annotated(note: &str) -> usize {
    note.len()
}

#[track_tool(name = "echo", capture_content = true)]
fn echo(text: &str) -> usize {
    text.len()
}

fn text(span: &Span, key: &str) -> String {
    let kv = span.attributes.iter().find(|kv| kv.key == key).unwrap_or_else(|| panic!("no {key} on {span:?}"));
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        other => panic!("{key} is {other:?}"),
    }
}

#[test]
fn attribute_values_are_cut_in_what_otlp_sends() {
    let (port, spans) = receiver();
    // SAFETY: set before any other thread of this process reads the environment.
    unsafe { std::env::set_var("OTEL_LOGS_EXPORTER", "none") };
    let guard = obs_runtime::Builder::from_env()
        .exporters(&["otlp"])
        .otlp_endpoint(format!("http://127.0.0.1:{port}"))
        .capture_content(true)
        .capture_max_bytes(32 * 1024)
        .init()
        .expect("init");
    let long = "x".repeat(100_000);
    annotated(&long);
    annotated("short");
    // Captured content is bounded by OBS_CAPTURE_MAX_BYTES (32 KiB here), not cut again.
    echo(&"y".repeat(20_000));
    drop(guard);

    let spans = spans.lock().unwrap();
    let annotated: Vec<&Span> = spans.iter().filter(|s| s.name == "annotated").collect();
    assert_eq!(annotated.len(), 2, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    // `fields(..)` records `Debug`: the quoted string, cut.
    let cut = format!("\"{}…", &long[..MAX_VALUE_BYTES - 1]);
    let notes: Vec<String> = annotated.iter().map(|s| text(s, "note")).collect();
    assert!(notes.contains(&cut), "{:?}", notes.iter().map(String::len).collect::<Vec<_>>());
    assert!(notes.contains(&"\"short\"".to_string()));

    let echo = spans.iter().find(|s| s.name == "execute_tool echo").expect("the tool's span");
    assert_eq!(text(echo, "gen_ai.tool.call.arguments"), format!("\"{}\"", "y".repeat(20_000)));
}
