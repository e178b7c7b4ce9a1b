//! Health checks on `/ready` (issue 14, item 1), against the real endpoint:
//! 200 `healthy`, 207 `degraded` (a non-critical check failed), 503
//! `critical` (a critical check timed out), the exact JSON report with the
//! error text through the secret detectors, concurrent probes sharing one
//! run of each check, the `health_check_*` gauges on `/metrics`, `/health`
//! unaffected and the bearer token still required on `/ready`.

use obs_runtime::health::{self, Check, HealthError};
use obs_runtime::health_check;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

const TOKEN: &str = "health-test-token-0123456789";

static DISK_RUNS: AtomicUsize = AtomicUsize::new(0);
static DB_RUNS: AtomicUsize = AtomicUsize::new(0);
static CACHE_RUNS: AtomicUsize = AtomicUsize::new(0);
static DB_HANGS: AtomicBool = AtomicBool::new(false);
static CACHE_OK: AtomicBool = AtomicBool::new(true);

#[derive(serde::Serialize)]
struct Disk {
    free_mb: u32,
}

/// Sync, from the macro: its details are shown.
#[health_check(name = "disk")]
fn disk_space() -> Result<Disk, std::io::Error> {
    DISK_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(Disk { free_mb: 42 })
}

/// Async and critical, with a short timeout.
#[health_check(critical, timeout = "300ms")]
async fn database() -> bool {
    DB_RUNS.fetch_add(1, Ordering::SeqCst);
    if DB_HANGS.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    true
}

fn get(addr: std::net::SocketAddr, path: &str, auth: bool) -> (u16, String) {
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let mut req = client.get(format!("http://{addr}{path}"));
    if auth {
        req = req.bearer_auth(TOKEN);
    }
    let r = req.send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn ready(addr: std::net::SocketAddr) -> (u16, Value) {
    let (status, body) = get(addr, "/ready", true);
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}")))
}

fn runs() -> [usize; 3] {
    [DISK_RUNS.load(Ordering::SeqCst), DB_RUNS.load(Ordering::SeqCst), CACHE_RUNS.load(Ordering::SeqCst)]
}

#[test]
fn ready_runs_the_checks_healthy_degraded_critical_coalesced_and_exported() {
    // Registered at run time: blocking, slow enough for probes to overlap.
    health::register(Check::blocking("cache", || -> Result<(), String> {
        CACHE_RUNS.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
        if CACHE_OK.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err("AUTH failed for key sk-proj-Abc123Def456Ghi789Jkl012".into())
        }
    }))
    .unwrap();
    let again = health::register(Check::blocking("cache", || true));
    assert_eq!(again, Err(HealthError::Duplicate("cache".into())));
    assert_eq!(
        again.unwrap_err().to_string(),
        "a health check named `cache` is already registered; give this one another name"
    );
    let listed: Vec<(String, bool)> =
        health::checks().iter().map(|c| (c.name().to_string(), c.is_critical())).collect();
    assert_eq!(listed, [("cache".into(), false), ("database".into(), true), ("disk".into(), false)]);

    let obs = obs_runtime::Builder::new()
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .prometheus_token(TOKEN)
        // Every probe of the concurrent burst below reuses the one report,
        // however late a loaded machine lets it arrive.
        .health_cache_ttl(Duration::from_secs(3600))
        .init()
        .expect("init");
    let addr = obs.prometheus_addr().unwrap();

    // The token is still required; /health stays open and cheap.
    assert_eq!(get(addr, "/ready", false).0, 401);
    assert_eq!(get(addr, "/health", false), (200, "{\"status\":\"ok\"}\n".to_string()));
    assert_eq!(runs(), [0, 0, 0], "a refused probe runs nothing, nor does /health");

    // Healthy, probed by 16 clients at once: each check runs once.
    let barrier = Arc::new(Barrier::new(16));
    let answers: Vec<(u16, Value)> = (0..16)
        .map(|_| {
            let b = barrier.clone();
            std::thread::spawn(move || {
                b.wait();
                ready(addr)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(runs(), [1, 1, 1], "16 concurrent probes, one run of each check");
    let (status, body) = &answers[0];
    assert!(answers.iter().all(|a| a == &answers[0]), "every probe got the shared report");
    assert_eq!(*status, 200);
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["summary"], json!({"total": 3, "passed": 3, "failed": 0, "critical_failed": 0}));
    assert_eq!(body["checks"]["disk"]["status"], "pass");
    assert_eq!(body["checks"]["disk"]["critical"], false);
    assert_eq!(body["checks"]["disk"]["details"], json!({"free_mb": 42}));
    assert_eq!(body["checks"]["database"]["critical"], true);
    assert!(body["checks"]["database"].get("details").is_none(), "a bool check has no details");
    let cache_s = body["checks"]["cache"]["duration_seconds"].as_f64().unwrap();
    assert!(cache_s >= 0.2, "{cache_s}");

    // Degraded: the non-critical check fails; its error is redacted. A
    // report older than the cache period is not reused (a sleep can only
    // be longer than asked, so the report is past the period).
    health::set_cache_ttl(Duration::from_millis(100));
    std::thread::sleep(Duration::from_millis(150));
    CACHE_OK.store(false, Ordering::SeqCst);
    let (status, body) = ready(addr);
    assert_eq!(status, 207);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["summary"], json!({"total": 3, "passed": 2, "failed": 1, "critical_failed": 0}));
    assert_eq!(
        body["checks"]["cache"],
        json!({"status": "fail", "critical": false, "duration_seconds": body["checks"]["cache"]["duration_seconds"],
               "error": "AUTH failed for key [REDACTED:openai_key]"})
    );
    assert_eq!(runs(), [2, 2, 2]);

    // Critical: the critical check hangs past its 300 ms timeout.
    std::thread::sleep(Duration::from_millis(150));
    DB_HANGS.store(true, Ordering::SeqCst);
    let (status, body) = ready(addr);
    assert_eq!(status, 503);
    assert_eq!(body["status"], "critical");
    assert_eq!(body["summary"], json!({"total": 3, "passed": 1, "failed": 2, "critical_failed": 1}));
    assert_eq!(
        body["checks"]["database"],
        json!({"status": "fail", "critical": true, "duration_seconds": 0.3, "error": "timed out after 300ms"})
    );

    // The gauges, in the registry and so on /metrics.
    let (_, metrics) = get(addr, "/metrics", true);
    for line in [
        "health_check_status{check=\"database\"} 0",
        "health_check_status{check=\"cache\"} 0",
        "health_check_status{check=\"disk\"} 1",
        "health_check_duration_seconds{check=\"database\"} 0.3",
    ] {
        assert!(metrics.lines().any(|l| l == line), "no `{line}` in:\n{metrics}");
    }
    let snap = obs_runtime::testing::snapshot();
    assert_eq!(snap.gauge("health_check_status", &[("check", "disk")]), Some(1.0));
    assert_eq!(snap.gauge("health_check_duration_seconds", &[("check", "database")]), Some(0.3));
}
