//! A shared budget store that becomes slow (SIGSTOP) and then dies (killed
//! and restarted empty on the same port): calls never wait for it, fail-open
//! budgets keep counting and their spend reaches the store exactly once,
//! fail-closed budgets refuse, and the self-metrics, `/ready` and
//! `/summary` say what happened.
//!
//! No wall-clock threshold: the store's timeout is far above any round trip
//! to a local Redis on a loaded machine (so only the frozen server times
//! out), waits are for conditions, and that calls never wait for the store
//! is shown with a timeout of an hour, against which a waiting call would
//! not come back at all.

mod budget_redis_server;

use budget_redis_server::{wait_until, RedisServer};
use obs_runtime::budget::{self, Budget, BudgetExceeded, Period};
use obs_runtime::track_llm_call;
use obs_tests::{http_get, Events};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use obs_tests::budget_call::{CallError, Resp};

static OPEN_BODIES: AtomicU64 = AtomicU64::new(0);
static CLOSED_BODIES: AtomicU64 = AtomicU64::new(0);

/// gpt-4o-mini: $0.00075 a call.
#[track_llm_call(model = "gpt-4o-mini", budget = "open")]
fn open_call() -> Result<Resp, CallError> {
    OPEN_BODIES.fetch_add(1, Ordering::SeqCst);
    Ok(Resp)
}

/// gpt-4.1-nano: $0.0005 a call.
#[track_llm_call(model = "gpt-4.1-nano", budget = "closed")]
fn closed_call() -> Result<Resp, CallError> {
    CLOSED_BODIES.fetch_add(1, Ordering::SeqCst);
    Ok(Resp)
}

const OPEN_PICO: u64 = 750_000_000;
const CLOSED_PICO: u64 = 500_000_000;
/// Only a frozen or dead server reaches it, never a slow machine.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Generous: the frozen store is found degraded after one TIMEOUT.
const WAIT: Duration = Duration::from_secs(60);

fn metric(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    obs_runtime::testing::snapshot().value(name, labels)
}

fn raw(name: &str, labels: &[(&str, &str)]) -> u64 {
    obs_runtime::testing::snapshot().raw(name, labels).unwrap_or_else(|| panic!("{name}{labels:?}"))
}

#[test]
fn slow_then_dead_store_fail_open_reconciles_once_fail_closed_refuses() {
    let events = Events::default();
    tracing::subscriber::set_global_default(events.clone()).expect("first subscriber");
    let mut redis = RedisServer::start();
    let prefix = format!("obs-test-outage-{}", std::process::id());
    let mut obs = obs_runtime::Builder::new()
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .budget_redis_url(redis.url())
        .budget_redis_timeout(TIMEOUT)
        .budget_redis_refresh(Duration::from_millis(20))
        .budget_redis_prefix(prefix.clone())
        .init()
        .expect("obs");
    let addr = obs.prometheus_addr().expect("the endpoint");
    budget::register(Budget::new("open", 100.0, Period::Total).model("gpt-4o-mini").hard()).unwrap();
    budget::register(Budget::new("closed", 100.0, Period::Total).model("gpt-4.1-nano").hard().fail_closed()).unwrap();
    let open_key = format!("{prefix}:open:total");
    let closed_key = format!("{prefix}:closed:total");
    let status = budget::store_status();
    assert_eq!((status.kind, status.degraded), ("redis", false));
    assert_eq!(status.url.as_deref(), Some(redis.url().as_str()));

    // /summary says which store; /ready is ready.
    let summary: serde_json::Value = serde_json::from_str(&http_get(addr, "/summary").unwrap().body).unwrap();
    let store = &summary["budget_store"];
    assert_eq!(store["kind"], "redis");
    assert_eq!(store["url"], redis.url());
    assert_eq!(store["prefix"], prefix.as_str());
    assert_eq!(store["replica"], status.replica.as_deref().unwrap());
    assert_eq!(store["degraded"], false);
    assert_eq!(http_get(addr, "/ready").unwrap().body, "{\"status\":\"ready\"}\n");

    // Healthy: 5 calls each reach the store.
    for _ in 0..5 {
        open_call().unwrap();
        closed_call().unwrap();
    }
    obs.flush();
    assert_eq!(redis.get_u64(&open_key), Some(5 * OPEN_PICO));
    assert_eq!(redis.get_u64(&closed_key), Some(5 * CLOSED_PICO));

    // Slow: the server is frozen, round trips time out.
    redis.pause();
    wait_until(WAIT, "the store is degraded", || budget::store_status().degraded);
    assert_eq!(metric("budget_store_up", &[]), Some(0.0));
    assert!(raw("budget_store_errors_total", &[("reason", "timeout")]) >= 1);
    let ready = http_get(addr, "/ready").unwrap();
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body, "{\"status\":\"degraded\",\"budget_store\":\"redis\",\"error\":\"no answer within 5s\"}\n");
    for _ in 0..6 {
        open_call().unwrap();
    }
    for _ in 0..4 {
        match closed_call() {
            Err(CallError::Budget(e)) => {
                assert!(e.store_unreachable);
                assert_eq!(
                    e.to_string(),
                    "budget `closed` fails closed: its shared spend store is unreachable (last known $0.0025 of $100.0000 this total); the model was not called"
                );
            }
            Ok(_) => panic!("a fail-closed budget admitted a call while its store was unreachable"),
        }
    }
    assert_eq!(CLOSED_BODIES.load(Ordering::SeqCst), 5, "refused calls never ran their body");
    redis.resume();
    wait_until(WAIT, "the store answers again", || !budget::store_status().degraded);
    obs.flush();
    // The 6 calls made while it was frozen are in the store once, although
    // the batches sent meanwhile ran when it thawed.
    assert_eq!(redis.get_u64(&open_key), Some(11 * OPEN_PICO));
    assert_eq!(redis.get_u64(&closed_key), Some(5 * CLOSED_PICO));
    assert_eq!(raw("budget_store_reconciled_usd_total", &[("budget", "open")]), 6 * OPEN_PICO);
    assert_eq!(raw("budget_store_reconciled_usd_total", &[("budget", "closed")]), 0);
    assert_eq!(metric("budget_store_up", &[]), Some(1.0));
    assert_eq!(http_get(addr, "/ready").unwrap().body, "{\"status\":\"ready\"}\n");

    // Dead: killed, so its data is gone when it comes back.
    redis.kill();
    wait_until(WAIT, "the store is degraded", || budget::store_status().degraded);
    assert!(raw("budget_store_errors_total", &[("reason", "error")]) >= 1);
    for _ in 0..3 {
        open_call().unwrap();
    }
    for _ in 0..2 {
        assert!(matches!(closed_call(), Err(CallError::Budget(BudgetExceeded { store_unreachable: true, .. }))));
    }
    redis.restart();
    wait_until(WAIT, "the store answers again", || !budget::store_status().degraded);
    obs.flush();
    // Each replica adds back its whole spend in the period: the key is again
    // exactly this process's ledger.
    assert_eq!(redis.get_u64(&open_key), Some(14 * OPEN_PICO));
    assert_eq!(redis.get_u64(&closed_key), Some(5 * CLOSED_PICO));
    let ledger = obs_runtime::ledger::stats();
    assert_eq!(ledger.by_model["gpt-4o-mini"].cost_pico(), u128::from(14 * OPEN_PICO));
    assert_eq!(ledger.by_model["gpt-4.1-nano"].cost_pico(), u128::from(5 * CLOSED_PICO));
    // Later syncs add nothing more.
    std::thread::sleep(Duration::from_millis(200));
    obs.flush();
    assert_eq!(redis.get_u64(&open_key), Some(14 * OPEN_PICO));
    assert_eq!(redis.get_u64(&closed_key), Some(5 * CLOSED_PICO));

    // What the self-metrics counted over both outages.
    let degraded = |b: &str, p: &str| raw("budget_store_degraded_calls_total", &[("budget", b), ("policy", p)]);
    assert_eq!(degraded("open", "fail_open"), 9);
    assert_eq!(degraded("closed", "fail_closed"), 6);
    assert_eq!(degraded("open", "fail_closed"), 0);
    assert_eq!(degraded("closed", "fail_open"), 0);
    assert_eq!(raw("budget_store_reconciled_usd_total", &[("budget", "open")]), (6 + 14) * OPEN_PICO);
    assert_eq!(raw("budget_store_reconciled_usd_total", &[("budget", "closed")]), 5 * CLOSED_PICO);
    assert_eq!(metric("budget_spent_usd", &[("budget", "open")]), Some(0.0105));
    assert_eq!(metric("budget_spent_local_usd", &[("budget", "open")]), Some(0.0105));
    assert_eq!(budget::spent_pico("open"), Some(14 * OPEN_PICO));

    // One warning per outage, naming each budget's policy.
    let lines: Vec<String> =
        events.all().into_iter().filter(|(t, _)| t == "obs_runtime::budget").map(|(_, m)| m).collect();
    let unreachable: Vec<&String> = lines.iter().filter(|m| m.contains("is unreachable")).collect();
    assert_eq!(unreachable.len(), 2, "{lines:#?}");
    assert_eq!(
        unreachable[0].as_str(),
        "the shared budget store is unreachable (no answer within 5s): fail-open budgets [open] count this process's spend and add it when the store returns; fail-closed budgets [closed] refuse their calls"
    );
    assert_eq!(lines.iter().filter(|m| m.contains("answers again")).count(), 2, "{lines:#?}");
    assert_eq!(lines.iter().filter(|m| m.contains("lost this replica's spend")).count(), 2, "{lines:#?}");
}

/// A call never waits for the store: with the server frozen and a store
/// timeout of an hour, the store's thread hangs in a round trip for that
/// hour, and calls of both policies still come back (one that waited for
/// the store would not, and the test would fail at its deadline instead).
#[test]
fn calls_never_wait_for_a_frozen_store() {
    let redis = RedisServer::start();
    let prefix = format!("obs-test-frozen-{}", std::process::id());
    let mut obs = obs_runtime::Builder::new()
        .exporters(&[])
        .budget_redis_url(redis.url())
        .budget_redis_timeout(Duration::from_secs(3600))
        .budget_redis_refresh(Duration::from_millis(20))
        .budget_redis_prefix(prefix.clone())
        .init()
        .expect("obs");
    budget::register(Budget::new("open", 100.0, Period::Total).model("gpt-4o-mini").hard()).unwrap();
    budget::register(Budget::new("closed", 100.0, Period::Total).model("gpt-4.1-nano").hard().fail_closed()).unwrap();
    open_call().unwrap();
    closed_call().unwrap();
    obs.flush();

    redis.pause();
    // The thread syncs at least every refresh interval (20 ms), so it is
    // soon stuck in a round trip; nothing outside shows when, and a longer
    // pause here only makes the test stronger, never flaky.
    std::thread::sleep(Duration::from_millis(200));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..5 {
            let _ = tx.send((open_call().is_ok(), closed_call().is_ok()));
        }
    });
    for i in 0..5 {
        let got = rx.recv_timeout(WAIT).unwrap_or_else(|_| panic!("call {i} waited for the frozen store"));
        assert_eq!(got, (true, true), "call {i}: admitted, the store has not timed out yet");
    }
    assert!(!budget::store_status().degraded, "an hour's timeout has not passed");

    // Thawed before the guard's last sync, which would wait for it. The
    // spend made while it was frozen arrives, once.
    redis.resume();
    obs.flush();
    assert_eq!(redis.get_u64(&format!("{prefix}:open:total")), Some(6 * OPEN_PICO));
    assert_eq!(redis.get_u64(&format!("{prefix}:closed:total")), Some(6 * CLOSED_PICO));
    drop(obs);
}

#[test]
fn a_bad_store_setting_is_an_init_error_naming_it() {
    let err = obs_runtime::Builder::new()
        .exporters(&[])
        .budget_redis_url("http://user:secret@127.0.0.1:6379")
        .budget_redis_timeout(Duration::ZERO)
        .budget_redis_prefix("has space")
        .init()
        .err()
        .expect("an error");
    let text = err.to_string();
    assert!(!text.contains("secret"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("Builder::budget_redis_url(`http://***@127.0.0.1:6379`) cannot be used: expected a Redis URL such as redis://127.0.0.1:6379/0 or redis://:password@host:6379 ("),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "Builder::budget_redis_timeout(`0ns`) cannot be used: expected a duration above zero such as 100ms or 2s (units ms, s, m)"
    );
    assert_eq!(
        lines[2],
        "Builder::budget_redis_prefix(`has space`) cannot be used: expected a key prefix without spaces, e.g. obs:budget"
    );
    assert_eq!(budget::store_status().kind, "in-process");
}
