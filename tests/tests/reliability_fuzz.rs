//! Fuzz targets (issue 13), as property tests: the pricing parsers (obs's
//! format and LiteLLM's), the redaction detectors, the W3C `traceparent` /
//! `tracestate` parsers and the endpoint's HTTP request handling get
//! arbitrary input and mutations of the seed corpus in
//! `tests/tests/data/fuzz/<target>/`. None may panic, and each keeps its
//! invariants.
//!
//! The test command runs a bounded number of cases per target (256); a
//! longer run: `OBS_FUZZ_CASES=100000 cargo nextest run -p obs-tests --test reliability_fuzz`.
//! A failing input found that way belongs in the corpus, next to the seeds.

use obs_runtime::redact::detectors;
use proptest::prelude::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

fn cases(divisor: u32) -> ProptestConfig {
    let n: u32 = std::env::var("OBS_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig { cases: (n / divisor).max(1), failure_persistence: None, ..ProptestConfig::default() }
}

/// The seed files of one target.
fn seeds(target: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let seeds: Vec<String> = files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// Arbitrary text, or a seed of `target` with a slice replaced by arbitrary
/// text (insertions, deletions and substitutions, on character boundaries).
fn input(target: &'static str) -> impl Strategy<Value = String> {
    let seeds = seeds(target);
    let n = seeds.len();
    let mutated = (0..n, any::<usize>(), 0..16usize, ".{0,24}").prop_map(move |(i, at, len, with)| {
        let s = &seeds[i];
        let chars: Vec<char> = s.chars().collect();
        let at = at % (chars.len() + 1);
        let end = (at + len).min(chars.len());
        chars[..at].iter().chain(with.chars().collect::<Vec<_>>().iter()).chain(&chars[end..]).collect()
    });
    prop_oneof![3 => mutated, 1 => ".{0,256}"]
}

#[test]
fn seeds_parse_as_their_names_say() {
    for s in seeds("pricing_obs").iter().chain(&seeds("pricing_litellm")) {
        let _ = obs_runtime::pricing::load_str(s, "seed");
    }
    assert_eq!(obs_runtime::pricing::load_str(&seeds("pricing_obs")[0], "seed").ok(), None); // bad.json
    assert!(obs_runtime::pricing::load_str(&seeds("pricing_litellm")[2], "seed").is_ok()); // tiers.json
    for s in seeds("redact") {
        assert!(!detectors::find(&s).is_empty(), "{s}");
    }
}

fn check_pricing(s: &str) -> Result<(), TestCaseError> {
    if let Err(e) = obs_runtime::pricing::load_str(s, "fuzz.json") {
        // An error is bounded whatever the input.
        prop_assert!(e.to_string().len() < 2048, "{} bytes", e.to_string().len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(1))]

    #[test]
    fn pricing_obs_format(s in input("pricing_obs")) {
        check_pricing(&s)?;
    }

    #[test]
    fn pricing_litellm_format(s in input("pricing_litellm")) {
        check_pricing(&s)?;
    }

    #[test]
    fn redaction_detectors(s in input("redact")) {
        let found = detectors::find(&s);
        let mut last = 0;
        for f in &found {
            prop_assert!(f.start >= last && f.start < f.end && f.end <= s.len());
            prop_assert!(s.is_char_boundary(f.start) && s.is_char_boundary(f.end));
            last = f.end;
        }
        let scanned = obs_runtime::redact::scan(&s);
        prop_assert_eq!(found.is_empty(), scanned == s);
    }

    #[test]
    fn w3c_trace_context(parent in input("w3c"), state in ".{0,64}", id in ".{0,200}") {
        let carrier: HashMap<String, String> =
            [("traceparent".to_string(), parent.clone()), ("tracestate".to_string(), state)].into();
        let _ = obs_runtime::trace::extract(&carrier);
        let _ = obs_runtime::trace::continue_trace(&tracing::Span::none(), &carrier);
        let cx = obs_runtime::RequestContext::from_request_id(&id);
        prop_assert!(obs_runtime::context::is_valid_request_id(cx.request_id()));
    }
}

fn endpoint() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let g = obs_runtime::Builder::new()
            .exporters(&["prometheus"])
            .prometheus_addr("127.0.0.1:0")
            .prometheus_timeout_secs(1)
            .init()
            .unwrap();
        let addr = g.prometheus_addr().unwrap();
        std::mem::forget(g);
        addr
    })
}

/// Sends `bytes` and reads what comes back (bounded) until the server
/// closes (after `Connection: close`, an error, or its 1 s header timeout).
/// The write side stays open: hyper drops a connection whose client
/// half-closes, as Prometheus never does.
fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    // Far above the header timeout: only an endpoint that never closes reaches it.
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.take(1 << 20).read_to_end(&mut out);
    out
}

proptest! {
    // Each case may wait for the 1 s header timeout: fewer cases.
    #![proptest_config(cases(16))]

    #[test]
    fn http_request_handling(req in input("http")) {
        let addr = endpoint();
        let reply = exchange(addr, req.as_bytes());
        // Whatever came back is HTTP (or nothing: the connection was closed).
        prop_assert!(reply.is_empty() || reply.starts_with(b"HTTP/1."), "{:?}", String::from_utf8_lossy(&reply));
        // And the endpoint still serves.
        let health = exchange(addr, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        prop_assert!(health.starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&health));
    }
}
