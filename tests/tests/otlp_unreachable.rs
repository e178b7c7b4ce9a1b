//! A broken backend never hurts the application: with the OTLP endpoint at a
//! closed port, at a server that accepts and never answers, and at one that
//! answers 503 and then recovers, instrumented calls stay about as fast as
//! with a healthy collector (Rotel), memory stays bounded, the self-metric
//! `obs_otlp_dropped_total` counts what was lost, the guard's shutdown is
//! bounded, errors are not logged per batch, and export resumes once the
//! backend answers again.
//!
//! Speeds are compared as ratios of the fastest batch of 1000 agent runs
//! (each a tool and a model call): the machine is shared, so a single batch
//! can be slow for reasons of its own, but the fastest one is the code's.

use obs_tests::backends::rotel::Value as RValue;
use obs_tests::backends::{free_port, run, Rotel, Run};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_otlp-agents");

/// Generous: the broken backends may cost a little (failed sends run on the
/// exporter's thread, on a 2-core machine), never a multiple.
const MAX_SLOWDOWN: f64 = 3.0;

/// Memory a broken backend may add over the healthy run's peak: the queues
/// are bounded (2048 spans, 2048 log records), so this is a wide margin.
const MAX_EXTRA_RSS_KIB: u64 = 64 * 1024;

fn load(endpoint: &str, service: &str, ms: u64) -> Run {
    let ms = ms.to_string();
    run(
        Path::new(EXE),
        "load",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_SERVICE_NAME", service),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
            ("OBS_TEST_LOAD_MS", ms.as_str()),
        ],
        Duration::from_secs(120),
    )
}

fn fastest(r: &Run) -> f64 {
    r.summary["ns_per_run"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).min().unwrap() as f64
}

fn peak(r: &Run) -> u64 {
    r.summary["peak_rss_kib_after_shutdown"].as_u64().expect("VmHWM")
}

/// Sum of `obs_otlp_dropped_total` over its series, from the run's registry.
fn dropped(r: &Run, signal: &str) -> u64 {
    r.summary["metrics"]["obs_otlp_dropped_total"]
        .as_array()
        .map(|s| {
            s.iter().filter(|x| x["labels"]["signal"] == signal).filter_map(|x| x["value"]["counter"].as_u64()).sum()
        })
        .unwrap_or(0)
}

/// A server that accepts connections and never answers (nor reads).
fn black_hole() -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let a = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            a.fetch_add(1, Ordering::Relaxed);
            held.push(s); // kept open, unanswered, until the test process ends
        }
    });
    (port, accepted)
}

/// Reads one HTTP/1.1 request (head and `Content-Length` body).
fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).ok().filter(|n| *n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, body))
}

/// A backend that answers 503 until `healthy` is set, then forwards each
/// request to `upstream` (Rotel) and relays its answer. Counts both.
fn flaky(upstream: u16, healthy: Arc<AtomicBool>) -> (u16, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (refused, forwarded) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (r, f) = (refused.clone(), forwarded.clone());
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let (healthy, r, f) = (healthy.clone(), r.clone(), f.clone());
            std::thread::spawn(move || {
                while let Some((head, body)) = read_request(&mut s) {
                    if !healthy.load(Ordering::SeqCst) {
                        r.fetch_add(1, Ordering::Relaxed);
                        let _ = s.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
                        continue;
                    }
                    f.fetch_add(1, Ordering::Relaxed);
                    // One request per upstream connection, closed after it.
                    let mut head: Vec<String> = head
                        .lines()
                        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
                        .map(str::to_string)
                        .collect();
                    head.push("connection: close".into());
                    let mut up = TcpStream::connect(("127.0.0.1", upstream)).expect("connect to Rotel");
                    up.write_all(format!("{}\r\n\r\n", head.join("\r\n")).as_bytes()).unwrap();
                    up.write_all(&body).unwrap();
                    let mut answer = Vec::new();
                    let _ = up.read_to_end(&mut answer);
                    // The relayed answer may say `close`: end this connection too.
                    let _ = s.write_all(&answer);
                    break;
                }
            });
        }
    });
    (port, refused, forwarded)
}

#[test]
fn broken_backends_cost_nothing_and_export_resumes() {
    let rotel = Rotel::start();

    let healthy = load(&rotel.http_endpoint(), "load-healthy", 2000);
    let base = fastest(&healthy);
    eprintln!(
        "healthy: fastest batch {base} ns/run, peak RSS {} KiB, shutdown {} ms",
        peak(&healthy),
        healthy.summary["shutdown_ms"]
    );

    let closed = load(&format!("http://127.0.0.1:{}", free_port()), "load-closed", 2000);
    let (hole_port, accepted) = black_hole();
    let hole = load(&format!("http://127.0.0.1:{hole_port}"), "load-black-hole", 2000);
    assert!(accepted.load(Ordering::Relaxed) > 0, "the exporter never connected to the black hole");

    for (what, r) in [("closed port", &closed), ("black hole", &hole)] {
        let t = fastest(r);
        eprintln!(
            "{what}: fastest batch {t} ns/run ({:.2}x), peak RSS {} KiB, shutdown {} ms, dropped spans {}",
            t / base,
            peak(r),
            r.summary["shutdown_ms"],
            dropped(r, "traces")
        );
        assert!(t <= base * MAX_SLOWDOWN, "{what}: {t} ns per run vs {base} with a healthy backend");
        assert!(
            peak(r) <= peak(&healthy) + MAX_EXTRA_RSS_KIB,
            "{what}: peak RSS {} KiB vs {} KiB",
            peak(r),
            peak(&healthy)
        );
        assert!(
            dropped(r, "traces") > 0,
            "{what}: obs_otlp_dropped_total{{signal=\"traces\"}} counted nothing: {}",
            r.summary["metrics"]["obs_otlp_dropped_total"]
        );
        // Bounded shutdown: dropping the guard waits at most SHUTDOWN_TIMEOUT
        // (plus slack for a loaded machine), whatever the backend does; the
        // black hole never answers, so an unbounded one would not return.
        let shutdown = r.summary["shutdown_ms"].as_u64().unwrap();
        let bound = obs_runtime::export::otlp::SHUTDOWN_TIMEOUT.as_millis() as u64 + 30_000;
        assert!(shutdown <= bound, "{what}: the guard took {shutdown} ms to drop (bound {bound} ms)");
        // Export errors are logged, once per signal per minute, not once per
        // failed batch (a 2 s run at a 200 ms batch delay fails dozens).
        // (A model past its deprecation date warns too, depending on the day.)
        let errors: Vec<&str> = r
            .log_lines_at("WARN")
            .into_iter()
            .chain(r.log_lines_at("ERROR"))
            .filter(|l| !l.contains("was deprecated on"))
            .collect();
        for signal in ["traces", "metrics", "logs"] {
            let n = errors.iter().filter(|l| l.contains(&format!("OTLP {signal} export failed"))).count();
            assert!(n <= 1, "{what}: {n} warnings about {signal}:\n{}", errors.join("\n"));
        }
        assert!(
            errors.iter().all(|l| l.contains("export failed") && l.contains("obs_otlp_dropped_total")),
            "{what}: other warnings:\n{}",
            errors.join("\n")
        );
        assert!(
            errors.iter().any(|l| l.contains("OTLP traces export failed")),
            "{what}: the failing span export was never reported; stderr:\n{}",
            r.stderr
        );
    }

    // 503 until the exporter has been refused, then the requests reach
    // Rotel (on a condition, not a time: a slow start still meets a 503).
    let up = Arc::new(AtomicBool::new(false));
    let (flaky_port, refused, forwarded) = flaky(rotel.http_port, up.clone());
    let (u, r) = (up.clone(), refused.clone());
    let switch = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while r.load(Ordering::Relaxed) == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        u.store(true, Ordering::SeqCst);
    });
    let recovered = load(&format!("http://127.0.0.1:{flaky_port}"), "load-recovers", 4000);
    switch.join().unwrap();
    let t = fastest(&recovered);
    eprintln!(
        "503 then recovery: {} refused, {} forwarded; fastest batch {t} ns/run ({:.2}x); dropped spans {}",
        refused.load(Ordering::Relaxed),
        forwarded.load(Ordering::Relaxed),
        t / base,
        dropped(&recovered, "traces")
    );
    assert!(refused.load(Ordering::Relaxed) > 0, "nothing was sent during the 503 phase");
    assert!(forwarded.load(Ordering::Relaxed) > 0, "export did not resume after the 503 phase");
    assert!(t <= base * MAX_SLOWDOWN, "503: {t} ns per run vs {base}");
    let got = rotel.wait_for(Duration::from_secs(120), |g| {
        g.spans.iter().any(|s| s.resource.get("service.name").and_then(RValue::as_str) == Some("load-recovers"))
    });
    let resumed = got
        .spans
        .iter()
        .filter(|s| s.resource.get("service.name").and_then(RValue::as_str) == Some("load-recovers"))
        .count();
    assert!(resumed > 0);
    eprintln!("503 then recovery: Rotel received {resumed} spans after recovery");
}
