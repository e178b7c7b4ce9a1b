use obs_runtime::testing;
use obs_runtime::{traced, track_execution, track_llm_call, track_tool};

#[derive(Debug, PartialEq)]
struct ToolError;

#[track_tool(name = "sync_search")]
fn search(q: &str) -> Result<usize, ToolError> {
    if q.is_empty() {
        return Err(ToolError);
    }
    Ok(q.len())
}

#[track_llm_call(model = "gpt-4o-mini", usage = none)]
fn ask(prompt: &str) -> String {
    prompt.to_uppercase()
}

#[track_execution(agent = "sync_agent")]
fn agent(q: &str) -> Result<String, ToolError> {
    let n = search(q)?;
    Ok(format!("{} {}", ask(q), n))
}

#[traced(metrics)]
fn rank(v: &mut Vec<u32>) -> &mut Vec<u32> {
    v.sort();
    v
}

#[test]
fn sync_calls_record_exact_series() {
    testing::enable();
    let m = testing::snapshot();
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "sync_agent"), ("tool", "sync_search"), ("status", "success")]),
        Some(0)
    );
    assert_eq!(agent("abc"), Ok("ABC 3".to_string()));
    assert_eq!(agent(""), Err(ToolError));
    let mut v = vec![3, 1, 2];
    assert_eq!(rank(&mut v), &mut vec![1, 2, 3]);
    let m = testing::snapshot();
    assert_eq!(m.counter("agent_executions_total", &[("agent", "sync_agent"), ("status", "success")]), Some(1));
    assert_eq!(m.counter("agent_executions_total", &[("agent", "sync_agent"), ("status", "error")]), Some(1));
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "sync_agent"), ("tool", "sync_search"), ("status", "success")]),
        Some(1)
    );
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "sync_agent"), ("tool", "sync_search"), ("status", "error")]),
        Some(1)
    );
    assert_eq!(
        m.counter(
            "llm_calls_total",
            &[("agent", "sync_agent"), ("model", "gpt-4o-mini"), ("provider", "openai"), ("status", "success")]
        ),
        Some(1)
    );
    assert_eq!(
        m.histogram(
            "llm_call_duration_seconds",
            &[("model", "gpt-4o-mini"), ("provider", "openai"), ("status", "success")]
        )
        .unwrap()
        .count,
        1
    );
    assert_eq!(
        m.counter("function_calls_total", &[("function", "rank"), ("module", "macros_sync"), ("status", "success")]),
        Some(1)
    );
    assert_eq!(m.gauge("agent_executions_in_flight", &[("agent", "sync_agent")]), Some(0.0));
}

#[track_tool(name = "sync_panics")]
fn explode(x: u32) -> u32 {
    if x > 0 {
        panic!("boom {x}");
    }
    x
}

#[test]
fn sync_panic_is_recorded_and_keeps_unwinding() {
    testing::enable();
    let err = std::panic::catch_unwind(|| explode(7)).unwrap_err();
    assert_eq!(err.downcast_ref::<String>().map(String::as_str), Some("boom 7"));
    assert_eq!(explode(0), 0);
    let m = testing::snapshot();
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "none"), ("tool", "sync_panics"), ("status", "panic")]),
        Some(1)
    );
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "none"), ("tool", "sync_panics"), ("status", "success")]),
        Some(1)
    );
}
