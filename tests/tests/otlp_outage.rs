//! The OTLP exporter under a backend outage: a closed port, a server that
//! accepts and never answers, one answering 503, then recovery.
//!
//! One process, one `init()`, one receiver on 127.0.0.1 whose behaviour the
//! test switches between phases, so every phase is measured against the
//! healthy one in the same run. What must hold: instrumented calls cost the
//! same in every phase (a generous ratio of the fastest batches, not a
//! timing budget), memory stays bounded, every span is either received or
//! counted in `obs_otlp_dropped_total`, export resumes by itself, and
//! dropping the guard with the backend unreachable returns within the
//! exporter's shutdown bound.

use obs_runtime::track_tool;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OK: u8 = 0;
const CLOSED: u8 = 1;
const BLACK_HOLE: u8 = 2;
const UNAVAILABLE: u8 = 3;

#[derive(Default)]
struct Received {
    spans: AtomicU64,
    metric_requests: AtomicU64,
}

/// An OTLP/HTTP receiver whose behaviour is switched by `mode`.
struct Receiver {
    port: u16,
    mode: Arc<AtomicU8>,
    got: Arc<Received>,
}

fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).ok()? == 0 {
            return None;
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1)?.to_string();
    let len = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some((path, body))
}

fn serve(mut s: TcpStream, mode: Arc<AtomicU8>, got: Arc<Received>) {
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    loop {
        let m = mode.load(Ordering::SeqCst);
        if m == CLOSED {
            return;
        }
        let Some((path, body)) = read_request(&mut s) else {
            if mode.load(Ordering::SeqCst) == CLOSED {
                return;
            }
            // A read timeout between requests: keep the connection.
            continue;
        };
        match mode.load(Ordering::SeqCst) {
            OK => {
                if path == "/v1/traces" {
                    let req = ExportTraceServiceRequest::decode(body.as_slice()).expect("protobuf");
                    let n: usize = req.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum();
                    got.spans.fetch_add(n as u64, Ordering::SeqCst);
                } else if path == "/v1/metrics" {
                    got.metric_requests.fetch_add(1, Ordering::SeqCst);
                }
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n");
            }
            UNAVAILABLE => {
                let _ = s.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
            }
            _ => {
                // A black hole: the request was read, no answer ever comes.
                while mode.load(Ordering::SeqCst) == BLACK_HOLE {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
        }
    }
}

impl Receiver {
    fn start() -> Receiver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(OK));
        let got = Arc::new(Received::default());
        let (m, g) = (mode.clone(), got.clone());
        std::thread::spawn(move || loop {
            // Closed: no listener at all, so connections are refused.
            while m.load(Ordering::SeqCst) == CLOSED {
                std::thread::sleep(Duration::from_millis(10));
            }
            let listener = TcpListener::bind(("127.0.0.1", port)).expect("rebind the receiver's port");
            listener.set_nonblocking(true).unwrap();
            while m.load(Ordering::SeqCst) != CLOSED {
                match listener.accept() {
                    Ok((s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        let (m2, g2) = (m.clone(), g.clone());
                        std::thread::spawn(move || serve(s, m2, g2));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Receiver { port, mode, got }
    }
    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

#[track_tool(name = "outage_probe")]
fn probe(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(3))
}

/// The fastest of 10 batches of 200 calls, per call: robust to a busy machine.
fn per_call() -> Duration {
    (0..10)
        .map(|_| {
            let t = Instant::now();
            for i in 0..200 {
                probe(i);
            }
            t.elapsed() / 200
        })
        .min()
        .unwrap()
}

fn dropped(reason: &str) -> u64 {
    obs_runtime::metrics::snapshot()
        .counter("obs_otlp_dropped_total", &[("signal", "traces"), ("reason", reason)])
        .unwrap_or(0)
}

fn metrics_failed() -> u64 {
    obs_runtime::metrics::snapshot()
        .counter("obs_otlp_dropped_total", &[("signal", "metrics"), ("reason", "export_failed")])
        .unwrap_or(0)
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

/// Generous: only a broken exporter makes a wait this long.
const WAIT: Duration = Duration::from_secs(60);

fn wait_for(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn outages_cost_calls_nothing_lose_nothing_uncounted_and_export_resumes() {
    let rx = Receiver::start();
    for (k, v) in [
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "512"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "300"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ] {
        // SAFETY: set before any other thread of this process reads the environment.
        unsafe { std::env::set_var(k, v) };
    }
    let mut guard = obs_runtime::Builder::from_env()
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .otlp_endpoint(format!("http://127.0.0.1:{}", rx.port))
        .init()
        .expect("init");
    let mut made = 0u64;
    let measure = |made: &mut u64| {
        let d = per_call();
        *made += 2000;
        d
    };

    let healthy = measure(&mut made);
    guard.flush();
    assert!(rx.got.spans.load(Ordering::SeqCst) > 0, "the healthy backend received spans");
    let rss_before = rss_kib();

    let mut phases = Vec::new();
    for (name, mode) in [("closed port", CLOSED), ("black hole", BLACK_HOLE), ("503", UNAVAILABLE)] {
        rx.set(mode);
        let failed_before = dropped("export_failed") + dropped("queue_full");
        let mut fastest = Duration::MAX;
        // Several rounds, so sends fail and the queue fills while calls go
        // on; a call that waited on the backend would slow every round.
        for _ in 0..5 {
            fastest = fastest.min(measure(&mut made));
            std::thread::sleep(Duration::from_millis(100));
        }
        wait_for(&format!("drops counted during the {name} phase"), WAIT, || {
            dropped("export_failed") + dropped("queue_full") > failed_before
        });
        phases.push((name, fastest));
    }
    let rss_after = rss_kib();
    assert!(metrics_failed() > 0, "failed metric sends are counted");

    // Recovery: export resumes without anything done by the application.
    rx.set(OK);
    std::thread::sleep(Duration::from_millis(700));
    let before = rx.got.spans.load(Ordering::SeqCst);
    measure(&mut made);
    guard.flush();
    wait_for("spans after recovery", WAIT, || rx.got.spans.load(Ordering::SeqCst) > before);
    let metric_requests = rx.got.metric_requests.load(Ordering::SeqCst);
    wait_for("metrics after recovery", WAIT, || rx.got.metric_requests.load(Ordering::SeqCst) > metric_requests);

    // Every span is accounted for: received, or dropped and counted (once
    // the exporter has dealt with the last ones: a span neither received
    // nor counted ends the wait at its deadline instead).
    let accounted = || rx.got.spans.load(Ordering::SeqCst) + dropped("queue_full") + dropped("export_failed");
    wait_for("every span received or counted", WAIT, || accounted() >= made);
    let received = rx.got.spans.load(Ordering::SeqCst);
    let (full, failed) = (dropped("queue_full"), dropped("export_failed"));
    assert_eq!(received + full + failed, made, "received {received} + queue_full {full} + export_failed {failed}");

    for (name, per_call) in &phases {
        let ratio = per_call.as_secs_f64() / healthy.as_secs_f64();
        eprintln!("{name}: {per_call:?} per call vs {healthy:?} healthy ({ratio:.2}x)");
        assert!(ratio < 3.0, "calls during the {name} phase cost {ratio:.2}x the healthy ones");
    }
    eprintln!("resident memory: {rss_before} KiB before the outage, {rss_after} KiB after");
    assert!(rss_after < rss_before + 32 * 1024, "memory grew by {} KiB", rss_after - rss_before);

    // Bounded shutdown with a backend that never answers.
    rx.set(BLACK_HOLE);
    measure(&mut made);
    let t = Instant::now();
    drop(guard);
    let took = t.elapsed();
    eprintln!("shutdown against a black hole: {took:?}");
    // The black hole never answers: an unbounded shutdown would never
    // return; the slack is for a loaded machine, not for the exporter.
    assert!(took < obs_runtime::export::otlp::SHUTDOWN_TIMEOUT + WAIT, "shutdown took {took:?}");
}
