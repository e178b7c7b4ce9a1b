//! Failure lines when the process ends and when a call panics, in one
//! process whose `init()` guard the test drops: a group of failures that
//! went quiet inside its window writes its count when the guard is dropped,
//! and a panic's message (through the secret detectors) is in the failure
//! line of every call it unwinds through, sync or `async`, while the panic itself is what it
//! was: the same payload, and the hook in place before `init()` still runs.

use obs_runtime::export::logs::{LogBuffer, LogFormat, LogOutput};
use obs_runtime::{track_execution, track_tool};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static PREVIOUS_HOOK_RUNS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
struct Refused(u32);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request {} refused", self.0)
    }
}

#[track_tool(name = "backend")]
fn backend(n: u32) -> Result<(), Refused> {
    Err(Refused(n))
}

#[track_tool(name = "exploding")]
fn exploding() -> u32 {
    // A formatted message: a `String` payload (a literal one is a `&str`,
    // as in failure_logs.rs).
    let port = 5432;
    panic!("cannot reach postgres://app:hunter2-pass@db:{port}/shop")
}

/// An `async fn`: the runtime drops its future after catching the panic.
#[track_tool(name = "exploding_async")]
async fn exploding_async() -> u32 {
    tokio::task::yield_now().await;
    // Not a diverging body: the expansion of an `async fn` whose body always
    // panics warns `unreachable_code` (left to the macro rework).
    if std::hint::black_box(true) {
        panic!("async boom with Authorization: Basic dXNlcjpwYXNz");
    }
    0
}

#[track_execution(agent = "supervisor")]
fn supervisor() -> u32 {
    exploding()
}

/// (event, error.message, repeated, distinct_messages) of a line.
type Summary<'a> = (&'a str, Option<&'a str>, Option<u64>, Option<u64>);

fn failure_lines(buf: &LogBuffer, function: &str) -> Vec<Map<String, Value>> {
    buf.lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v| v["target"] == "errors" && v["function"] == function)
        .map(|v| v.as_object().unwrap().clone())
        .collect()
}

#[test]
fn quiet_groups_write_their_count_at_shutdown_and_panics_carry_their_message() {
    // The application's own hook, in place before init(): it still runs.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PREVIOUS_HOOK_RUNS.fetch_add(1, Ordering::SeqCst);
        default(info);
    }));
    let buf = LogBuffer::new();
    let guard = obs_runtime::Builder::new()
        .exporters(&["logs"])
        .log_format(LogFormat::Json)
        .log_filter("info")
        .log_output(LogOutput::Buffer(buf.clone()))
        .init()
        .expect("init");
    // The window never ends on its own here: only the guard's drop writes
    // the count.
    obs_runtime::testing::advance_failure_clock(Duration::ZERO);
    for n in 0..5 {
        let _ = backend(n);
    }
    let _ = backend(1);

    let payload = std::panic::catch_unwind(supervisor).expect_err("supervisor panics");
    // The panic is unchanged: its payload, and the previous hook ran once.
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("cannot reach postgres://app:hunter2-pass@db:5432/shop")
    );
    assert_eq!(PREVIOUS_HOOK_RUNS.load(Ordering::SeqCst), 1);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let joined = rt.block_on(async { tokio::spawn(exploding_async()).await });
    assert!(joined.expect_err("the task panics").is_panic());
    drop(rt);

    drop(guard);
    let backend_lines = failure_lines(&buf, "backend");
    let got: Vec<Summary> = backend_lines
        .iter()
        .map(|l| {
            (
                l["event"].as_str().unwrap(),
                l.get("error.message").and_then(Value::as_str),
                l.get("repeated").and_then(Value::as_u64),
                l.get("distinct_messages").and_then(Value::as_u64),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("call_failed", Some("request 0 refused"), None, None), ("call_failed_repeated", None, Some(5), Some(4)),]
    );
    assert_eq!(
        backend_lines[1]["message"],
        "tool `backend` failed 5 more times since its last line (4 distinct messages): Refused"
    );

    let lines = failure_lines(&buf, "exploding_async");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["error.message"], "async boom with Authorization: Basic [REDACTED:basic_auth]");

    // Both calls the panic unwound through say what it was, redacted.
    for (function, message) in
        [("exploding", "tool `exploding` panicked: panic"), ("supervisor", "agent `supervisor` panicked: panic")]
    {
        let lines = failure_lines(&buf, function);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!((lines[0]["status"].as_str(), lines[0]["message"].as_str()), (Some("panic"), Some(message)));
        assert_eq!(lines[0]["error.message"], "cannot reach postgres://app:[REDACTED:url_password]@db:5432/shop");
    }
    assert!(!buf.contents().contains("hunter2"), "{}", buf.contents());
}
