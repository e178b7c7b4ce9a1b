//! `slow = ".."`: a call over its threshold logs one `performance` warning,
//! also for `#[traced]` functions that record no metrics.

use obs_runtime::{traced, track_tool};
use std::time::Duration;

#[traced(slow = "5ms")]
fn sleepy(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
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
    assert_eq!(sleepy(20), 20);
    assert_eq!(sleepy(0), 0);
    assert_eq!(quick(), 1);
    let perf: Vec<String> = ev.all().into_iter().filter(|(t, _)| t == "performance").map(|(_, m)| m).collect();
    assert_eq!(perf.len(), 1, "{perf:?}");
    assert!(perf[0].starts_with("slow call: sleepy took 2"), "{}", perf[0]);
    assert!(perf[0].ends_with("ms (threshold 5.0 ms)"), "{}", perf[0]);
}
