//! The Prometheus endpoint under hostile clients (issue 13): bearer-token
//! access control, idle and slow-header connections closed, `/ready` never
//! waiting behind other clients, and a 1 MiB label value cut.
//!
//! No wall-clock threshold: connections are shown closed by the header
//! timeout within a deadline only an endpoint that never closes them
//! reaches, and `/ready` is shown not to wait behind other clients with a
//! timeout of an hour, which a waiting `/ready` would not come back from.

use obs_runtime::track_tool;
use obs_tests::promtool_check;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const TOKEN: &str = "s3cr3t-t0ken-0123456789abcdef";

#[track_tool(name = "ep_tool", labels(user = unbounded(user)))]
fn tool(user: &str) -> usize {
    user.len()
}

/// Status line, headers and body of `GET path` with extra header lines.
fn get(addr: SocketAddr, path: &str, headers: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

/// Resident and peak resident memory of this process, KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn auth() -> String {
    format!("Authorization: Bearer {TOKEN}\r\n")
}

/// Whether the server has closed `s` (EOF or reset), without waiting.
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 or similar before the close
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// 100 idle connections and 50 that send a request's first header lines.
fn idle_and_slow(addr: SocketAddr) -> (Vec<TcpStream>, Vec<TcpStream>) {
    let idle: Vec<TcpStream> = (0..100).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let slow: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    (idle, slow)
}

#[test]
fn hostile_clients_cannot_take_the_endpoint_down() {
    let guard = obs_runtime::Builder::new()
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .prometheus_token(TOKEN)
        .prometheus_timeout_secs(1)
        .prometheus_max_connections(256)
        .init()
        .unwrap();
    let addr = guard.prometheus_addr().unwrap();

    // ---- access control: /health open, the rest needs the token.
    assert_eq!(get(addr, "/health", "").0, 200);
    for path in ["/metrics", "/summary", "/ready"] {
        for bad in ["", "Authorization: Bearer wrong\r\n", "Authorization: s3cr3t-t0ken-0123456789abcdef\r\n"] {
            let (status, head, body) = get(addr, path, bad);
            assert_eq!((status, body.as_str()), (401, "unauthorized\n"), "{path} with {bad:?}");
            assert!(head.contains("www-authenticate: Bearer"), "{head}");
            assert!(!head.contains(TOKEN) && !body.contains(TOKEN));
        }
        assert_eq!(get(addr, path, &auth()).0, 200, "{path} with the token");
    }
    assert_eq!(get(addr, "/nope", "").0, 404);

    // ---- a 1 MiB label value is cut to the limit, with a marker.
    let rss_before = rss_kib();
    let huge = "x".repeat(1 << 20);
    assert_eq!(tool(&huge), 1 << 20);
    let t = Instant::now();
    let (status, _, page) = get(addr, "/metrics", &auth());
    let took = t.elapsed();
    assert_eq!(status, 200);
    let cut = format!("user=\"{}…\"", "x".repeat(obs_runtime::metrics::registry::DEFAULT_LABEL_VALUE_MAX_BYTES));
    assert!(page.contains(&format!("tool_calls_total{{agent=\"none\",tool=\"ep_tool\",status=\"success\",{cut}}} 1\n")));
    assert!(!page.contains(&"x".repeat(2000)));
    assert!(page.len() < 200 * 1024, "{} bytes", page.len());
    let (code, msg) = promtool_check(&page);
    assert_eq!(code, 0, "{msg}");
    eprintln!(
        "/metrics with a 1 MiB label value: {} bytes in {took:?}; resident memory {} -> {} KiB (peak {} KiB)",
        page.len(),
        rss_before.0,
        rss_kib().0,
        rss_kib().1
    );

    // ---- idle and slow-header connections are closed by the 1 s header
    // timeout. The slow ones keep sending a byte every 100 ms: the timeout
    // runs from the connection's start, not from its last byte, or they
    // would stay open.
    let (mut idle, mut slow) = idle_and_slow(addr);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        for s in &mut slow {
            let _ = s.write_all(b"X");
        }
        let open_idle = idle.iter_mut().map(closed_by_server).filter(|closed| !closed).count();
        let open_slow = slow.iter_mut().map(closed_by_server).filter(|closed| !closed).count();
        if (open_idle, open_slow) == (0, 0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open_idle} idle and {open_slow} slow-header connections still open 60 s after the 1 s timeout"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(addr, "/health", "").0, 200);
}

/// `/ready` answers while 154 other clients hold connections: idle ones,
/// slow-header ones and ones that never read their `/metrics` answer. With
/// a header timeout of an hour they hold them for that hour, so a `/ready`
/// that waited behind them would not answer at all.
#[test]
fn ready_never_waits_behind_other_clients() {
    let guard = obs_runtime::Builder::new()
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .prometheus_token(TOKEN)
        .prometheus_timeout_secs(3600)
        .prometheus_max_connections(256)
        .init()
        .unwrap();
    let addr = guard.prometheus_addr().unwrap();
    let (idle, slow) = idle_and_slow(addr);
    let stuck: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n{}\r\n", auth()).unwrap();
            s
        })
        .collect();
    let t = Instant::now();
    let (status, _, body) = get(addr, "/ready", &auth());
    assert_eq!((status, body.as_str()), (200, "{\"status\":\"ready\"}\n"));
    eprintln!("/ready with 100 idle, 50 slow-header and 4 stuck clients: {:?}", t.elapsed());
    drop((idle, slow, stuck));
}
