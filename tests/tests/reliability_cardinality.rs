//! A cardinality attack (issue 13): 200,000 distinct runtime label values
//! through one tool. The metric stays at its limit plus one overflow series
//! per status, every call is counted, the overflow self-metric counts each
//! overflowing call exactly once, and memory stays flat once the limit is
//! reached. Prints the resident memory before and after.

use obs_runtime::track_tool;

#[track_tool(name = "attack_tool", labels(user = unbounded(user)))]
fn tool(user: u64) -> u64 {
    user
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn distinct_label_values_stay_bounded_and_counted() {
    let _g = obs_runtime::Builder::new().exporters(&[]).init().unwrap();
    let limit = obs_runtime::metrics::DEFAULT_CARDINALITY_LIMIT as u64;
    // Each label set makes 4 series (one per status): limit / 4 sets fit.
    let fit = limit / 4;
    for u in 0..fit {
        assert_eq!(tool(u), u);
    }
    let before = rss_kib();
    let calls = 200_000u64;
    for u in fit..fit + calls {
        assert_eq!(tool(u), u);
    }
    let after = rss_kib();
    let m = obs_runtime::metrics::snapshot();
    assert_eq!(m.series("tool_calls_total", &[("tool", "attack_tool")]).len() as u64, limit);
    let overflow =
        [("agent", "__overflow__"), ("tool", "__overflow__"), ("status", "success"), ("user", "__overflow__")];
    assert_eq!(m.counter("tool_calls_total", &overflow), Some(calls));
    assert_eq!(m.counter("obs_cardinality_overflow_total", &[("metric", "tool_calls_total")]), Some(calls));
    eprintln!("{calls} overflowing calls: resident memory {before} -> {after} KiB");
}
