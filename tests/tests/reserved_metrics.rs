//! obs's built-in metric names are reserved: a user metric under one of
//! them, of any type and registered before or after obs's own, is a clear
//! error (or, through the `metrics` crate's macros, records nowhere), and
//! the built-in families keep working whatever the order.
//!
//! Each test runs in its own process (nextest), so "before" really is before
//! obs touched the registry.

use obs_runtime::metrics::{self, FamilyError};
use obs_runtime::{testing, track_tool};

#[derive(Debug)]
struct ToolError;

#[track_tool(name = "reserved_lookup")]
fn lookup(q: &str) -> Result<usize, ToolError> {
    Ok(q.len())
}

fn tool_calls() -> Option<u64> {
    testing::snapshot()
        .counter("tool_calls_total", &[("agent", "none"), ("tool", "reserved_lookup"), ("status", "success")])
}

fn reserved(name: &str) -> Option<FamilyError> {
    Some(FamilyError::Reserved(name.into()))
}

/// Regression: a user gauge named `tool_calls_total` registered before obs's
/// counter made `testing::enable()` (and `init()`) panic in `Builtin::family`.
#[test]
fn a_user_metric_under_a_built_in_name_before_obs_is_an_error_and_obs_still_records() {
    assert_eq!(metrics::gauge("tool_calls_total", "mine", &[]).err(), reserved("tool_calls_total"));
    assert_eq!(metrics::counter("tool_calls_total", "mine", &[("x", "1")]).err(), reserved("tool_calls_total"));
    assert_eq!(
        metrics::histogram("llm_call_duration_seconds", "mine", &[]).err(),
        reserved("llm_call_duration_seconds")
    );
    assert_eq!(
        metrics::counter("obs_cardinality_overflow_total", "mine", &[]).err(),
        reserved("obs_cardinality_overflow_total")
    );
    assert_eq!(
        metrics::gauge("tool_calls_total", "mine", &[]).err().unwrap().to_string(),
        "`tool_calls_total` is reserved for obs's built-in metric of that name; name yours e.g. `myapp_tool_calls_total`"
    );
    testing::enable();
    lookup("abc").unwrap();
    assert_eq!(tool_calls(), Some(1));
    // The suggested name works.
    let mine = metrics::gauge("myapp_tool_calls_total", "mine", &[]).unwrap();
    mine.set(2.5);
    assert_eq!(testing::snapshot().gauge("myapp_tool_calls_total", &[]), Some(2.5));
}

#[test]
fn a_user_metric_under_a_built_in_name_after_obs_is_an_error_and_obs_still_records() {
    testing::enable();
    lookup("abcd").unwrap();
    assert_eq!(metrics::counter("tool_calls_total", "mine", &[]).err(), reserved("tool_calls_total"));
    assert_eq!(metrics::gauge("agent_executions_in_flight", "mine", &[]).err(), reserved("agent_executions_in_flight"));
    assert_eq!(metrics::histogram("tool_call_duration_seconds", "", &[]).err(), reserved("tool_call_duration_seconds"));
    lookup("abcd").unwrap();
    assert_eq!(tool_calls(), Some(2));
}

/// Through the `metrics` crate's macros (obs is the global recorder after
/// `init()`), a built-in name records nowhere: no panic, and obs's series
/// are untouched.
#[test]
fn the_metrics_facade_cannot_write_into_a_built_in_metric() {
    let _obs = obs_runtime::Builder::new().exporters(&[]).init().expect("init");
    lookup("ab").unwrap();
    ::metrics::counter!("tool_calls_total", "agent" => "none", "tool" => "reserved_lookup", "status" => "success")
        .increment(40);
    ::metrics::gauge!("tool_calls_total").set(7.0);
    ::metrics::histogram!("llm_calls_total").record(1.0);
    ::metrics::describe_counter!("tool_calls_total", "mine");
    assert_eq!(tool_calls(), Some(1));
    assert_eq!(
        testing::snapshot().names().iter().filter(|n| **n == "tool_calls_total").count(),
        1,
        "one family, obs's"
    );
    // A name of the user's own still records through the facade.
    ::metrics::counter!("myapp_jobs_total").increment(3);
    assert_eq!(testing::snapshot().counter("myapp_jobs_total", &[]), Some(3));
}

/// The self-metrics obs registers outside the hot path (redaction, log
/// drops, budgets, the HTTP layer) are reserved too: before, a user's
/// `http_requests_total` of the same type silently merged into the tower
/// layer's family, and one of another type silently switched obs's off.
#[test]
fn self_metric_names_are_reserved_too() {
    for name in [
        "redactions_total",
        "obs_log_lines_dropped_total",
        "budget_spent_usd",
        "budget_limit_usd",
        "http_requests_total",
        "http_request_duration_seconds",
    ] {
        assert_eq!(metrics::counter(name, "mine", &[]).err(), reserved(name));
        assert_eq!(metrics::gauge(name, "mine", &[]).err(), reserved(name));
        assert!(metrics::reserved_names().any(|n| n == name), "{name}");
    }
    // And obs's own still records.
    assert_eq!(obs_runtime::redact::scan("mail bob@example.com"), "mail [REDACTED:email]");
    assert_eq!(testing::snapshot().counter("redactions_total", &[("kind", "email")]), Some(1));
}
