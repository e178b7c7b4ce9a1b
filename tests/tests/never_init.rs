//! Without `init()`, instrumented functions behave as before and record
//! nothing.

use obs_runtime::{track_execution, track_tool};

#[track_tool(name = "ni_tool")]
fn tool(x: u32) -> Result<u32, String> {
    if x == 0 {
        Err("zero".into())
    } else {
        Ok(x * 2)
    }
}

#[track_execution(agent = "ni_agent")]
fn agent(x: u32) -> Result<u32, String> {
    tool(x)
}

#[test]
fn nothing_is_recorded_without_init() {
    assert_eq!(agent(2), Ok(4));
    assert_eq!(agent(0), Err("zero".to_string()));
    assert!(!obs_runtime::enabled());
    let m = obs_runtime::metrics::snapshot();
    assert!(m.series("tool_calls_total", &[]).is_empty());
    assert!(m.series("agent_executions_total", &[]).is_empty());
}
