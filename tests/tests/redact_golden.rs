//! The golden test of redaction: values carrying known secrets go through
//! every sink (Debug, Display, serde_json, a span attribute, the `/metrics`
//! page, a JSON log line from the log exporter); no secret substring appears
//! anywhere, and the redacted forms are exactly the documented ones.

// Masked fields exist to be redacted; the test never reads some directly.
#![allow(dead_code)]

use obs_runtime::redact::{keyed_hash, set_hash_key};
use obs_runtime::{traced, track_tool, Redact};
use obs_tests::http_get;
use std::process::Command;

const KEY: &[u8] = b"golden-test redaction key, 32 b.";
const CHILD: &str = "OBS_REDACT_GOLDEN_CHILD";

/// Every secret below; none may appear in any sink.
const SECRETS: &[&str] = &[
    "sk-proj-Gold3nKeyAbcdefGHIJ0123WXYZ",
    "Gold3nKeyAbcdefGHIJ0123",
    "hunter2-correct-horse",
    "4111111111111111",
    "4111 1111 1111 1111",
    "alice@example.com",
    "AKIAIOSFODNN7EXAMPLE",
    "9731",
];

#[derive(Redact)]
#[redact(display)]
struct ApiKey(#[redact(partial(last = 4))] String);

#[derive(Redact)]
struct Login {
    user: String,
    password: String,
    key: ApiKey,
    #[redact(partial(last = 4))]
    card: String,
    #[redact(hash)]
    email: String,
    #[redact(fixed)]
    pin: String,
    #[redact(scan)]
    prompt: String,
}

fn login() -> Login {
    Login {
        user: "alice".into(),
        password: "hunter2-correct-horse".into(),
        key: ApiKey("sk-proj-Gold3nKeyAbcdefGHIJ0123WXYZ".into()),
        card: "4111111111111111".into(),
        email: "alice@example.com".into(),
        pin: "9731".into(),
        prompt: "card 4111 1111 1111 1111, mail alice@example.com, aws AKIAIOSFODNN7EXAMPLE".into(),
    }
}

/// The documented redacted form of `login()` (the hash depends on the key).
fn expected_debug() -> String {
    format!(
        "Login {{ user: \"alice\", password: [REDACTED], key: ApiKey(****WXYZ), card: ****1111, email: {}, pin: ********, \
         prompt: \"card [REDACTED:card], mail [REDACTED:email], aws [REDACTED:aws_key]\" }}",
        keyed_hash("alice@example.com")
    )
}

fn expected_json() -> String {
    format!(
        r#"{{"user":"alice","password":"[REDACTED]","key":"****WXYZ","card":"****1111","email":"{}","pin":"********","prompt":"card [REDACTED:card], mail [REDACTED:email], aws [REDACTED:aws_key]"}}"#,
        keyed_hash("alice@example.com")
    )
}

fn assert_clean(sink: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s:?} reached {sink}:\n{text}");
    }
}

#[traced(fields(login = login))]
fn handle(login: &Login) -> usize {
    // With `OBS_LOG_SPANS=true`, this line carries the span's `login` field.
    tracing::info!("handled");
    login.user.len()
}

#[track_tool(name = "golden_lookup", labels(key = unbounded(key)))]
fn lookup(key: &ApiKey) -> Result<usize, std::fmt::Error> {
    Ok(key.0.len())
}

#[test]
fn every_sink_sees_only_the_redacted_form() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    set_hash_key(KEY).unwrap();
    let l = login();

    // Debug, pretty Debug, Display, serde_json.
    let debug = format!("{l:?}");
    assert_eq!(debug, expected_debug());
    assert_clean("Debug", &debug);
    assert_clean("pretty Debug", &format!("{l:#?}"));
    assert_eq!(format!("{}", l.key), "****WXYZ");
    assert_eq!(serde_json::to_string(&l).unwrap(), expected_json());
    assert_clean("serde_json (pretty)", &serde_json::to_string_pretty(&l).unwrap());

    // Span attributes: `fields(login = ..)` of an instrumented function and
    // `?value` / `%value` on a plain span.
    let guard = obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("127.0.0.1:0").init().unwrap();
    let spans = obs_runtime::testing::SpanCapture::new();
    {
        let _g = spans.set_default();
        handle(&l);
        let _s = tracing::info_span!("manual", login = ?l, key = %l.key).entered();
        lookup(&l.key).unwrap();
    }
    let traced_span = spans.find("handle").expect("the #[traced] span");
    assert_eq!(traced_span.field("login"), Some(expected_debug().as_str()));
    let manual = spans.find("manual").unwrap();
    assert_eq!(manual.field("login"), Some(expected_debug().as_str()));
    assert_eq!(manual.field("key"), Some("****WXYZ"));
    for s in spans.spans() {
        assert_clean(&format!("span {}", s.name), &format!("{:?}", s.fields));
    }

    // The /metrics page: a label from `unbounded(key)` and a user metric
    // labelled with a redacted value.
    let user_metric =
        obs_runtime::metrics::counter("golden_logins_total", "Logins.", &[("key", &l.key.to_string())]).unwrap();
    user_metric.increment(1);
    let page = http_get(guard.prometheus_addr().unwrap(), "/metrics").unwrap().body;
    assert_clean("/metrics", &page);
    assert!(page.contains(r#"golden_logins_total{key="****WXYZ"} 1"#), "{page}");
    assert!(
        page.lines().any(|l| l.starts_with("tool_calls_total{") && l.contains(r#"key="****WXYZ""#)),
        "no tool_calls_total series with the redacted key label:\n{page}"
    );
    assert!(page.contains(r#"redactions_total{kind="aws_key"}"#), "{page}");
}

/// The child half of the log test: logs through the JSON log exporter.
#[test]
fn log_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    set_hash_key(KEY).unwrap();
    let _obs = obs_runtime::init().expect("init in the child");
    let l = login();
    tracing::info!(login = ?l, key = %l.key, "signing in");
    tracing::warn!("payload {:?}", l);
    handle(&l);
}

/// A JSON log line from the log exporter, in a child process (the log
/// exporter installs the global subscriber once per process).
#[test]
fn json_log_lines_carry_only_the_redacted_form() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    set_hash_key(KEY).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "log_child", "--nocapture"])
        .env(CHILD, "1")
        .env("OBS_LOG_FORMAT", "json")
        .env("OBS_EXPORTERS", "logs")
        .env("OBS_LOG_SPANS", "true")
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stderr}");
    assert_clean("JSON log lines", &stderr);
    assert_clean("child stdout", &String::from_utf8_lossy(&out.stdout));
    let lines: Vec<serde_json::Value> = stderr.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let signing = lines
        .iter()
        .find(|v| v.to_string().contains("signing in"))
        .unwrap_or_else(|| panic!("no JSON line with the event in:\n{stderr}"));
    let mut strings = Vec::new();
    collect_strings(signing, &mut strings);
    assert!(strings.iter().any(|s| *s == expected_debug()), "{signing}");
    assert!(strings.contains(&"****WXYZ"), "{signing}");
    let payload = lines.iter().find(|v| v.to_string().contains("payload")).expect("the payload line");
    let handled = lines.iter().find(|v| v.to_string().contains("handled")).expect("the line inside the span");
    let mut strings = Vec::new();
    collect_strings(handled, &mut strings);
    assert!(strings.iter().any(|s| *s == expected_debug()), "the span field is not in {handled}");
    assert!(payload.to_string().contains("[REDACTED:aws_key]"), "{payload}");
}

fn collect_strings<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match v {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
