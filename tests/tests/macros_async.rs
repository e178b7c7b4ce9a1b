//! Async instrumented functions: status of every outcome, agent propagation
//! across `.await` and threads, and `Send`-ness kept.

use obs_runtime::testing::{self, snapshot};
use obs_runtime::{track_execution, track_llm_call, track_tool};
use std::time::Duration;

#[derive(Debug, PartialEq)]
struct LlmError;

#[track_llm_call(model = "claude-sonnet-4-5", usage = none)]
async fn ask(prompt: &str) -> Result<String, LlmError> {
    tokio::task::yield_now().await;
    if prompt == "fail" {
        return Err(LlmError);
    }
    Ok(prompt.to_string())
}

#[track_tool(name = "async_fetch")]
async fn fetch(url: &str) -> Result<usize, LlmError> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    Ok(url.len())
}

#[track_tool(name = "async_slow")]
async fn slow() -> u32 {
    tokio::time::sleep(Duration::from_secs(60)).await;
    1
}

#[track_tool(name = "async_panics")]
async fn panics(x: u32) -> u32 {
    tokio::task::yield_now().await;
    if x > 0 {
        panic!("tool blew up");
    }
    x
}

#[track_execution(agent = "async_researcher")]
async fn researcher(topic: &str) -> Result<String, LlmError> {
    // Nested async calls, across awaits, on a multi-threaded runtime.
    let n = fetch(topic).await?;
    let handle = obs_runtime::spawn(async move { fetch("spawned").await });
    let m = handle.await.unwrap()?;
    ask(&format!("{topic}{n}{m}")).await
}

#[track_execution(agent = "async_planner")]
async fn planner() -> Vec<Result<String, LlmError>> {
    let a = researcher("a");
    let b = ask("fail");
    let (a, b) = tokio::join!(a, b);
    vec![a, b]
}

fn assert_send<T: Send>(_: &T) {}

fn labels<'a>(pairs: &'a [(&'a str, &'a str)]) -> &'a [(&'a str, &'a str)] {
    pairs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_label_follows_awaits_joins_and_spawns() {
    testing::enable();
    let fut = planner();
    assert_send(&fut);
    let out = fut.await;
    assert_eq!(out, vec![Ok("a17".to_string()), Err(LlmError)]);
    let m = snapshot();
    // researcher's calls carry researcher, even the one in a spawned task.
    assert_eq!(
        m.counter(
            "tool_calls_total",
            labels(&[("agent", "async_researcher"), ("tool", "async_fetch"), ("status", "success")])
        ),
        Some(2)
    );
    assert_eq!(
        m.counter(
            "llm_calls_total",
            labels(&[
                ("agent", "async_researcher"),
                ("model", "claude-sonnet-4-5"),
                ("provider", "anthropic"),
                ("status", "success")
            ])
        ),
        Some(1)
    );
    // planner's own model call (joined next to researcher) carries planner.
    assert_eq!(
        m.counter(
            "llm_calls_total",
            labels(&[
                ("agent", "async_planner"),
                ("model", "claude-sonnet-4-5"),
                ("provider", "anthropic"),
                ("status", "error")
            ])
        ),
        Some(1)
    );
    assert_eq!(
        m.counter("agent_executions_total", labels(&[("agent", "async_planner"), ("status", "success")])),
        Some(1)
    );
    assert_eq!(
        m.counter("agent_executions_total", labels(&[("agent", "async_researcher"), ("status", "success")])),
        Some(1)
    );
    let h =
        m.histogram("tool_call_duration_seconds", labels(&[("tool", "async_fetch"), ("status", "success")])).unwrap();
    assert_eq!(h.count, 2);
    assert!(h.sum >= 0.010, "two 5 ms sleeps, got {}", h.sum);
    // Outside any agent: none.
    fetch("x").await.unwrap();
    let m = snapshot();
    assert_eq!(
        m.counter("tool_calls_total", labels(&[("agent", "none"), ("tool", "async_fetch"), ("status", "success")])),
        Some(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_future_is_cancelled_and_panic_is_recorded_and_rethrown() {
    testing::enable();
    let r = tokio::time::timeout(Duration::from_millis(20), slow()).await;
    assert!(r.is_err());
    let joined = tokio::spawn(panics(1)).await;
    let err = joined.unwrap_err();
    assert!(err.is_panic());
    let msg = err.into_panic();
    assert_eq!(msg.downcast_ref::<&str>(), Some(&"tool blew up"));
    assert_eq!(panics(0).await, 0);
    let m = snapshot();
    assert_eq!(
        m.counter("tool_calls_total", labels(&[("agent", "none"), ("tool", "async_slow"), ("status", "cancelled")])),
        Some(1)
    );
    assert_eq!(
        m.counter("tool_calls_total", labels(&[("agent", "none"), ("tool", "async_slow"), ("status", "success")])),
        Some(0)
    );
    assert_eq!(
        m.counter("tool_calls_total", labels(&[("agent", "none"), ("tool", "async_panics"), ("status", "panic")])),
        Some(1)
    );
    assert_eq!(
        m.counter("tool_calls_total", labels(&[("agent", "none"), ("tool", "async_panics"), ("status", "success")])),
        Some(1)
    );
    assert_eq!(
        m.counter("tool_calls_total", labels(&[("agent", "none"), ("tool", "async_panics"), ("status", "cancelled")])),
        Some(0)
    );
}
