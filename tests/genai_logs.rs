//! The scenario of the GenAI bridge's log tests (`genai_bridge_console.rs`,
//! `genai_bridge_json.rs`, `genai_bridge_quiet.rs`): a line inside a foreign
//! `invoke_agent` span, and one inside an obs agent run from that span. A
//! line's `agent` must be the same in every format and filter.

use obs_runtime::export::logs::{LogBuffer, LogFormat, LogOutput};
use std::time::{Duration, Instant};

#[obs_runtime::track_execution(agent = "obs_inner")]
fn inner() {
    tracing::warn!("inner line");
}

/// Starts the logs exporter in `format` with `filter`, then runs the
/// scenario; returns the buffer the lines go to.
pub fn run(format: LogFormat, filter: &str) -> LogBuffer {
    let buf = LogBuffer::new();
    let guard = obs_runtime::Builder::new()
        .exporters(&["logs"])
        .log_format(format)
        .log_filter(filter)
        .log_output(LogOutput::Buffer(buf.clone()))
        .init()
        .expect("init");
    std::mem::forget(guard);
    crate::genai_emitter::agent("em_outer", || {
        tracing::warn!("outer line");
        inner();
        crate::genai_emitter::chat(
            "gpt-4o-mini",
            "openai",
            &crate::genai_emitter::Chat { input: Some(10), output: Some(5), ..Default::default() },
        );
    });
    buf
}

/// The line containing `needle`, waiting for the writer thread.
pub fn line(buf: &LogBuffer, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(l) = buf.lines().into_iter().find(|l| l.contains(needle)) {
            return l;
        }
        assert!(Instant::now() < deadline, "no line with {needle}:\n{}", buf.contents());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The `agent=` value of a console line.
pub fn console_agent(line: &str) -> Option<&str> {
    line.split_whitespace().find_map(|w| w.strip_prefix("agent="))
}

/// The bridged model call was counted under the foreign agent.
pub fn assert_bridged() {
    let m = obs_runtime::testing::snapshot();
    assert_eq!(
        m.counter(
            "llm_calls_total",
            &[("agent", "em_outer"), ("model", "gpt-4o-mini"), ("provider", "openai"), ("status", "success")]
        ),
        Some(1)
    );
    assert_eq!(m.counter("agent_executions_total", &[("agent", "em_outer"), ("status", "success")]), Some(1));
    assert_eq!(m.counter("agent_executions_total", &[("agent", "obs_inner"), ("status", "success")]), Some(1));
}
