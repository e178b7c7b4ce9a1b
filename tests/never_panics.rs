//! Instrumentation never panics on user input: arbitrary names, labels,
//! model names, paths and configuration values reach every public runtime
//! function that takes them, and each panic these tests once found has a
//! named regression test.

use obs_runtime::{testing, track_llm_call, TokenUsage};

#[derive(Debug)]
struct LlmError;

#[track_llm_call(model = unbounded(model))]
fn ask(model: &str) -> Result<TokenUsage, LlmError> {
    Ok(TokenUsage::new(3, 2))
}

/// Regression: `strip_date` sliced a model name at a byte that was not a
/// character boundary, so a non-ASCII model name panicked inside the
/// application's own call.
#[test]
fn a_non_ascii_model_name_is_recorded_not_a_panic() {
    assert!(obs_runtime::pricing::price("aé0123456789").is_none());
    testing::enable();
    assert_eq!(ask("aé0123456789").unwrap(), TokenUsage::new(3, 2));
    let m = testing::snapshot();
    assert_eq!(
        m.counter(
            "llm_calls_total",
            &[("agent", "none"), ("model", "aé0123456789"), ("provider", "unknown"), ("status", "success")]
        ),
        Some(1)
    );
}
