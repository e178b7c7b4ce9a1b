//! The process-wide setting of failure lines: `OBS_ERROR_LOG_LEVEL` is
//! checked like every variable, and `off` silences every function without
//! its own `err = ..` (one process per test under nextest).

use obs_runtime::export::logs::{LogBuffer, LogFormat, LogOutput};
use obs_runtime::{track_tool, Builder, InitError};
use std::time::Duration;

#[derive(Debug)]
struct E;

impl std::fmt::Display for E {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("down")
    }
}

#[track_tool(name = "plain")]
fn plain() -> Result<(), E> {
    Err(E)
}

#[track_tool(name = "own", err = "error")]
fn own() -> Result<(), E> {
    Err(E)
}

#[test]
fn a_bad_level_is_a_clear_error_and_off_silences_all_but_per_function_levels() {
    std::env::set_var("OBS_ERROR_LOG_LEVEL", "loud");
    let err = Builder::from_env().exporters(&[]).init().err();
    let Some(InitError::Invalid(errors)) = err else { panic!("expected InitError::Invalid, got {err:?}") };
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "OBS_ERROR_LOG_LEVEL=`loud` cannot be used: expected off, or a level: error, warn, info, debug, trace"
    );
    assert_eq!(errors[0].method, "error_log_level");

    std::env::set_var("OBS_ERROR_LOG_LEVEL", "off");
    let buf = LogBuffer::new();
    let _obs = Builder::from_env()
        .exporters(&["logs"])
        .log_format(LogFormat::Json)
        .log_filter("info")
        .log_output(LogOutput::Buffer(buf.clone()))
        .init()
        .expect("init");
    let _ = plain();
    let _ = own();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !buf.contents().contains("\"function\":\"own\"") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = buf.contents();
    assert!(text.contains("\"level\":\"ERROR\",\"target\":\"errors\",\"message\":\"tool `own` failed: E\""), "{text}");
    assert!(!text.contains("\"function\":\"plain\""), "{text}");
}
