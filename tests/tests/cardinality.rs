//! Runtime label values are bounded: past the limit, new label sets share
//! one overflow series and a self-metric counts them.

use obs_runtime::{track_tool, LabelValue};

#[derive(Clone, Copy)]
enum Tier {
    Free,
    Pro,
}

impl LabelValue for Tier {
    fn label_value(&self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Pro => "pro",
        }
    }
}

#[track_tool(name = "card_tool", labels(tier = tier, user = unbounded(user_id)))]
fn tool(tier: Tier, user_id: u32) -> u32 {
    user_id
}

#[track_tool(name = unbounded(name))]
fn named(name: &str) -> usize {
    name.len()
}

#[test]
fn overflow_series_caps_memory() {
    let _g = obs_runtime::Builder::new().exporters(&[]).cardinality_limit(8).init().unwrap();
    assert_eq!(tool(Tier::Pro, 1), 1);
    assert_eq!(tool(Tier::Free, 2), 2);
    let m = obs_runtime::metrics::snapshot();
    assert_eq!(
        m.counter(
            "tool_calls_total",
            &[("agent", "none"), ("tool", "card_tool"), ("status", "success"), ("tier", "pro"), ("user", "1")]
        ),
        Some(1)
    );
    // Each call above created 4 series (one per status) in tool_calls_total: 8, the limit.
    for u in 3..200 {
        assert_eq!(tool(Tier::Pro, u), u);
    }
    let m = obs_runtime::metrics::snapshot();
    let all = m.series("tool_calls_total", &[]);
    assert_eq!(all.len(), 12, "8 series and one overflow series per status");
    let overflow = |status| {
        [
            ("agent", "__overflow__"),
            ("tool", "__overflow__"),
            ("status", status),
            ("tier", "__overflow__"),
            ("user", "__overflow__"),
        ]
    };
    // The status survives the overflow (issue 13): successes and errors past
    // the limit stay apart.
    assert_eq!(m.counter("tool_calls_total", &overflow("success")), Some(197));
    assert_eq!(m.counter("tool_calls_total", &overflow("error")), Some(0));
    // One count per overflowing call, not one per family and status (was 4+).
    assert_eq!(m.counter("obs_cardinality_overflow_total", &[("metric", "tool_calls_total")]), Some(197));
    // The dynamic tool name goes on the span and into the same overflow.
    assert_eq!(named("abc"), 3);
}
