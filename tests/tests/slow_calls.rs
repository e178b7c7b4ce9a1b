//! `slow = ".."`: a call over its threshold logs one `performance` warning,
//! also for `#[traced]` functions that record no metrics.
//!
//! Calls are timed on `quanta`'s clock, so the test runs them on a mock
//! clock that only moves when a body says so: the durations are exact, and
//! a loaded machine cannot make the fast call slow.

use obs_runtime::{traced, track_tool};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

static MOCK: OnceLock<Arc<quanta::Mock>> = OnceLock::new();

/// Takes `ms` milliseconds of the mock clock.
#[traced(slow = "5ms")]
fn sleepy(ms: u64) -> u64 {
    MOCK.get().expect("the mock clock").increment(Duration::from_millis(ms));
    ms
}

#[track_tool(name = "slow_tool", slow = "1.5s")]
fn quick() -> u8 {
    1
}

#[test]
fn calls_over_their_threshold_warn_once_each() {
    let ev = obs_tests::Events::default();
    tracing::subscriber::set_global_default(ev.clone()).unwrap();
    obs_runtime::testing::enable();
    let (clock, mock) = quanta::Clock::mock();
    MOCK.set(mock).unwrap();
    quanta::with_clock(&clock, || {
        assert_eq!(sleepy(20), 20);
        assert_eq!(sleepy(5), 5); // at the threshold, not over it
        assert_eq!(sleepy(0), 0);
        assert_eq!(quick(), 1);
    });
    let perf: Vec<String> = ev.all().into_iter().filter(|(t, _)| t == "performance").map(|(_, m)| m).collect();
    assert_eq!(perf, ["slow call: sleepy took 20.0 ms (threshold 5.0 ms)"]);
}
