//! Budgets: the warning at 80%, gauges, and a hard stop that concurrent
//! callers overshoot by at most the calls already in flight.

use obs_runtime::budget::{self, Budget, Period};
use obs_runtime::track_llm_call;
use obs_tests::Events;
use std::sync::OnceLock;
use std::time::Duration;

use obs_tests::budget_call::{CallError, Resp};

/// gpt-4o-mini, 1,000 in + 1,000 out: $0.00015 + $0.0006 = $0.00075 a call.
#[track_llm_call(model = "gpt-4o-mini", budget = "test-hard")]
async fn capped() -> Result<Resp, CallError> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(Resp)
}

/// gpt-4.1-nano, 1,000 in + 1,000 out: $0.0001 + $0.0004 = $0.0005 a call.
#[track_llm_call(model = "gpt-4.1-nano", budget = "test-soft")]
fn soft() -> Result<Resp, CallError> {
    Ok(Resp)
}

fn events() -> &'static Events {
    static E: OnceLock<Events> = OnceLock::new();
    E.get_or_init(|| {
        let e = Events::default();
        tracing::subscriber::set_global_default(e.clone()).expect("first subscriber of this test binary");
        e
    })
}

const CALL_PICO: u64 = 750_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hard_budget_stops_eight_concurrent_callers() {
    events();
    obs_runtime::testing::enable();
    budget::register(Budget::new("test-hard", 0.01, Period::Total).model("gpt-4o-mini").hard()).unwrap();
    let limit: u64 = 10_000_000_000;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        tasks.push(tokio::spawn(async {
            let mut ok = 0u64;
            loop {
                match capped().await {
                    Ok(_) => ok += 1,
                    Err(CallError::Budget(e)) => return (ok, e),
                }
            }
        }));
    }
    let mut ok_calls = 0;
    for t in tasks {
        let (ok, e) = t.await.unwrap();
        ok_calls += ok;
        assert_eq!(e.budget, "test-hard");
        assert_eq!(e.limit_usd, 0.01);
        assert!(e.to_string().starts_with("budget `test-hard` is spent: $0.01"), "{e}");
    }
    let spent = budget::spent_pico("test-hard").unwrap();
    assert_eq!(spent, ok_calls * CALL_PICO);
    assert!(spent >= limit, "calls stop only once the limit is reached: {spent}");
    assert!(spent < limit + 8 * CALL_PICO, "overshoot at most the 8 calls in flight: {spent}");
    // The refused calls are errors of the function, recorded as such.
    let m = obs_runtime::metrics::snapshot();
    let errors = m.counter(
        "llm_calls_total",
        &[("agent", "none"), ("model", "gpt-4o-mini"), ("provider", "openai"), ("status", "error")],
    );
    assert_eq!(errors, Some(8));
    assert_eq!(m.gauge("budget_spent_usd", &[("budget", "test-hard")]), Some(spent as f64 / 1e12));
    assert_eq!(m.gauge("budget_limit_usd", &[("budget", "test-hard")]), Some(0.01));
}

#[test]
fn soft_budget_warns_at_80_percent_once() {
    let ev = events();
    obs_runtime::testing::enable();
    // `Total`, not `Day`: a run across midnight (UTC) must not split the count.
    budget::register(Budget::new("test-soft", 0.002, Period::Total).model("gpt-4.1-nano")).unwrap();
    let warnings = || {
        ev.all().into_iter().filter(|(t, m)| t == "obs_runtime::budget" && m.contains("test-soft")).collect::<Vec<_>>()
    };
    for _ in 0..3 {
        soft().unwrap(); // $0.0015: 75%
    }
    assert!(warnings().is_empty(), "{:?}", warnings());
    soft().unwrap(); // $0.0020: 100% (crosses 80% and 100%)
    soft().unwrap(); // soft: still runs
    let w = warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(w[0].1, "budget `test-soft` reached 100% of its limit");
    assert_eq!(w[1].1, "budget `test-soft` is spent");
    assert_eq!(budget::spent_usd("test-soft"), Some(0.0025));
    // Registering the same name twice is refused.
    assert!(budget::register(Budget::new("test-soft", 1.0, Period::Day)).is_err());
}
