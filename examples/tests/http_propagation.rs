//! Outgoing calls carry the request's trace and id: inside a request served
//! behind `ObsLayer`, `inject_headers` writes a `traceparent` in the caller's
//! trace (with the server span as parent) and the request's `X-Request-ID`.

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use obs_runtime::export::logs::{LogBuffer, LogOutput};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// What an outgoing call made by this handler would send.
async fn outgoing() -> String {
    let mut headers = HeaderMap::new();
    obs_runtime::tower::inject_headers(&mut headers);
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    format!("{} {} {}", get("traceparent"), get("tracestate"), get("x-request-id"))
}

fn get_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

#[test]
fn outgoing_headers_continue_the_incoming_trace_and_request() {
    let guard = obs_runtime::Builder::new()
        .exporters(&["logs"])
        .log_format(obs_runtime::export::logs::LogFormat::Json)
        .log_output(LogOutput::Buffer(LogBuffer::new()))
        .init()
        .expect("init");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/out", get(outgoing)).layer(obs_runtime::tower::ObsLayer::new());
    rt.spawn(async move { axum::serve(listener, app).await });

    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let body = get_with(
        addr,
        "/out",
        &[
            ("traceparent", &format!("00-{trace_id}-b7ad6b7169203331-01")),
            ("tracestate", "vendor=abc"),
            ("x-request-id", "req-out-1"),
        ],
    );
    let parts: Vec<&str> = body.split(' ').collect();
    let tp: Vec<&str> = parts[0].split('-').collect();
    assert_eq!(tp.len(), 4, "{body}");
    assert_eq!((tp[0], tp[1], tp[3]), ("00", trace_id, "01"), "same trace, sampled: {body}");
    assert_ne!(tp[2], "b7ad6b7169203331", "the parent of the outgoing call is the server span: {body}");
    assert_eq!(parts[1], "vendor=abc", "tracestate is passed on");
    assert_eq!(parts[2], "req-out-1");

    // Without incoming headers: a new trace and a generated request id.
    let body = get_with(addr, "/out", &[]);
    let parts: Vec<&str> = body.split(' ').collect();
    assert_eq!(parts[0].len(), 55, "{body}");
    assert!(!parts[0].contains(trace_id));
    assert_eq!(parts[2].len(), 36, "{body}");
    drop(guard);
}
