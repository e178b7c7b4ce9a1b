//! Console log lines through the real exporter (the default format): one
//! readable line per event with the request and agent from the task's
//! context, and the spans of instrumented calls kept off (so they cost
//! nothing) unless asked for.

use obs_runtime::export::logs::{LogBuffer, LogOutput};
use obs_runtime::{track_execution, track_tool, RequestContext};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn logs() -> &'static LogBuffer {
    static BUF: OnceLock<LogBuffer> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = LogBuffer::new();
        let guard = obs_runtime::Builder::new()
            .exporters(&["logs"])
            .log_filter("info")
            .log_output(LogOutput::Buffer(buf.clone()))
            .init()
            .expect("init");
        std::mem::forget(guard);
        buf
    })
}

fn line(needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(l) = logs().lines().into_iter().find(|l| l.contains(needle)) {
            return l;
        }
        assert!(Instant::now() < deadline, "no line with {needle}:\n{}", logs().contents());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[track_tool(name = "lookup")]
fn lookup(q: &str) -> Option<obs_runtime::trace::TraceIds> {
    tracing::info!(query = q, "looked up");
    obs_runtime::trace::current()
}

#[track_execution(agent = "helper")]
fn helper(q: &str) -> Option<obs_runtime::trace::TraceIds> {
    lookup(q)
}

#[test]
fn a_console_line_has_time_level_target_message_fields_and_context() {
    logs();
    let ids = RequestContext::from_request_id("req-c1").with_user_id("u-7").in_scope(|| helper("needle one"));
    assert_eq!(ids, None, "by default the spans of instrumented calls are off in console mode");
    let l = line("looked up");
    // 2026-05-01T12:00:00.123456Z  INFO logs_console: looked up query="needle one" request_id=req-c1 user_id=u-7 agent=helper
    let (ts, rest) = l.split_once(' ').unwrap();
    assert_eq!(ts.len(), 27, "{l}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{l}");
    assert_eq!(
        rest, " INFO logs_console: looked up query=\"needle one\" request_id=req-c1 user_id=u-7 agent=helper",
        "{l}"
    );
    assert!(!l.contains('\x1b'), "no colour when the output is not a terminal");
}

#[test]
fn line_breaks_in_values_cannot_forge_lines() {
    logs();
    tracing::warn!(input = "a\nFAKE  INFO forged", "forge attempt\nERROR second");
    let l = line("forge attempt");
    assert!(l.contains("forge attempt\\nERROR second"), "{l}");
    assert!(l.contains(r#"input="a\nFAKE  INFO forged""#), "{l}");
    assert!(!logs().lines().iter().any(|l| l.starts_with("FAKE") || l.starts_with("ERROR second")));
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}

#[track_execution(agent = "researcher")]
fn research_step() -> Result<(), Refused> {
    Err(Refused)
}

#[track_execution(agent = "planner")]
fn plan() -> Result<(), Refused> {
    research_step()
}

#[test]
fn an_agents_own_failure_line_names_it_once() {
    logs();
    let _ = plan();
    // The failure line's own `agent` (the agent that failed), not also the
    // caller's from the context (`planner`, current when the line is written).
    let l = line("agent `researcher` failed");
    assert_eq!(l.matches("agent=").count(), 1, "{l}");
    assert!(l.contains(" agent=researcher "), "{l}");
    let l = line("agent `planner` failed");
    assert_eq!(l.matches("agent=").count(), 1, "{l}");
    assert!(l.contains(" agent=planner "), "{l}");
}
