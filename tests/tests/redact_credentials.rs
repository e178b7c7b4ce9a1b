//! Credentials in URLs and `Authorization` headers never leave the process:
//! each form is redacted in a `/ready` answer (a failing check's error and a
//! passing check's details), in a failure line (a JSON log line, through the
//! real exporter) and on a span (captured tool arguments and result), with
//! the scheme, user and host of a URL kept.

use obs_runtime::export::logs::{LogBuffer, LogFormat, LogOutput};
use obs_runtime::health::{self, Check};
use obs_runtime::testing::SpanCapture;
use obs_runtime::track_tool;
use serde_json::Value;
use std::time::{Duration, Instant};

/// (what the application wrote, what every sink shows, the secret).
const FORMS: &[(&str, &str, &str)] = &[
    ("postgres://app:hunter2-pass@db:5432", "postgres://app:[REDACTED:url_password]@db:5432", "hunter2-pass"),
    (
        "postgresql://app:Pg-s3cret@db.internal/shop?sslmode=require",
        "postgresql://app:[REDACTED:url_password]@db.internal/shop?sslmode=require",
        "Pg-s3cret",
    ),
    (
        "mysql://root:My-s3cret@127.0.0.1:3306/app",
        "mysql://root:[REDACTED:url_password]@127.0.0.1:3306/app",
        "My-s3cret",
    ),
    ("redis://:Redis-s3cret@cache:6379/0", "redis://:[REDACTED:url_password]@cache:6379/0", "Redis-s3cret"),
    (
        "rediss://default:Tls-s3cret@cache.example.com:6380",
        "rediss://default:[REDACTED:url_password]@cache.example.com:6380",
        "Tls-s3cret",
    ),
    ("amqp://guest:Amqp-s3cret@rabbit:5672/%2f", "amqp://guest:[REDACTED:url_password]@rabbit:5672/%2f", "Amqp-s3cret"),
    (
        "amqps://svc:Amqps-s3cret@mq.example.org/vhost",
        "amqps://svc:[REDACTED:url_password]@mq.example.org/vhost",
        "Amqps-s3cret",
    ),
    (
        "mongodb://u:Mongo-s3cret@h1:27017,h2:27017/db?replicaSet=rs0",
        "mongodb://u:[REDACTED:url_password]@h1:27017,h2:27017/db?replicaSet=rs0",
        "Mongo-s3cret",
    ),
    (
        "mongodb+srv://reader:Srv-s3cret@cluster0.ab12c.mongodb.net/db",
        "mongodb+srv://reader:[REDACTED:url_password]@cluster0.ab12c.mongodb.net/db",
        "Srv-s3cret",
    ),
    (
        "via https://proxyuser:Proxy-s3cret@proxy.corp:3128",
        "via https://proxyuser:[REDACTED:url_password]@proxy.corp:3128",
        "Proxy-s3cret",
    ),
    (
        "host=db port=5432 user=app password=Libpq-s3cret dbname=shop",
        "host=db port=5432 user=app password=[REDACTED:secret] dbname=shop",
        "Libpq-s3cret",
    ),
    (
        "Server=sql1;Database=shop;Uid=app;Pwd=Odbc-s3cret;",
        "Server=sql1;Database=shop;Uid=app;Pwd=[REDACTED:secret];",
        "Odbc-s3cret",
    ),
    ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED:basic_auth]", "dXNlcjpwYXNz"),
    ("Authorization: Bearer tok-abc", "Authorization: Bearer [REDACTED:bearer]", "tok-abc"),
    ("authorization=Bearer x", "authorization=Bearer [REDACTED:bearer]", "=Bearer x"),
    ("sent Basic YWRtaW46aHVudGVyMg== upstream", "sent Basic [REDACTED:basic_auth] upstream", "YWRtaW46aHVudGVyMg"),
];

#[derive(Debug)]
struct ConnectError(usize);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connect to {} failed", FORMS[self.0].0)
    }
}

#[track_tool(name = "connect")]
fn connect(form: usize) -> Result<(), ConnectError> {
    Err(ConnectError(form))
}

#[track_tool(name = "fetch", capture_content = true)]
fn fetch(target: &str) -> String {
    format!("fetched {target}")
}

fn ready(addr: std::net::SocketAddr) -> Value {
    let r = obs_tests::http_get(addr, "/ready").expect("/ready");
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.body))
}

#[test]
fn each_credential_form_is_redacted_in_ready_failure_lines_and_spans() {
    for (i, (input, _, _)) in FORMS.iter().enumerate() {
        health::register(Check::blocking(format!("cred_{i:02}"), move || -> Result<(), String> {
            Err(format!("connect to {input} failed"))
        }))
        .unwrap();
    }
    health::register(Check::blocking("cred_details", || -> Result<Value, String> {
        Ok(FORMS.iter().enumerate().map(|(i, (input, _, _))| (format!("form_{i:02}"), Value::from(*input))).collect())
    }))
    .unwrap();
    let buf = LogBuffer::new();
    let obs = obs_runtime::Builder::new()
        .exporters(&["prometheus", "logs"])
        .prometheus_addr("127.0.0.1:0")
        .log_format(LogFormat::Json)
        .log_filter("info")
        .log_output(LogOutput::Buffer(buf.clone()))
        .init()
        .expect("init");

    // `/ready`: the error of a failing check, the details of a passing one.
    let body = ready(obs.prometheus_addr().unwrap());
    for (i, (_, shown, _)) in FORMS.iter().enumerate() {
        let check = &body["checks"][format!("cred_{i:02}")];
        assert_eq!(check["error"], format!("connect to {shown} failed"), "{check}");
        assert_eq!(body["checks"]["cred_details"]["details"][format!("form_{i:02}")], *shown);
    }

    // Failure lines: one per form (each after the window of the one before,
    // on the failure-line clock the test moves).
    obs_runtime::testing::advance_failure_clock(Duration::ZERO);
    for i in 0..FORMS.len() {
        let _ = connect(i);
        obs_runtime::testing::advance_failure_clock(Duration::from_secs(10));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let lines: Vec<Value> = buf
            .lines()
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .filter(|v| v["event"] == "call_failed" && v["function"] == "connect")
            .collect();
        if lines.len() >= FORMS.len() || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let messages: Vec<&str> = lines.iter().map(|l| l["error.message"].as_str().unwrap()).collect();
    let want: Vec<String> = FORMS.iter().map(|(_, shown, _)| format!("connect to {shown} failed")).collect();
    assert_eq!(messages, want);

    // Spans: captured arguments and results.
    let cap = SpanCapture::new();
    {
        let _g = cap.set_default();
        for (input, _, _) in FORMS {
            fetch(input);
        }
    }
    let spans = cap.find_all("execute_tool fetch");
    assert_eq!(spans.len(), FORMS.len());
    for (span, (_, shown, _)) in spans.iter().zip(FORMS) {
        let args: Value = serde_json::from_str(span.field("gen_ai.tool.call.arguments").unwrap()).unwrap();
        let result: Value = serde_json::from_str(span.field("gen_ai.tool.call.result").unwrap()).unwrap();
        // One argument is captured as itself, not in an object.
        assert_eq!((args.as_str(), result.as_str()), (Some(*shown), Some(format!("fetched {shown}").as_str())));
    }

    // Nowhere a secret.
    let everything = format!("{body}\n{}\n{spans:?}", buf.contents());
    for (_, _, secret) in FORMS {
        assert!(!everything.contains(secret), "`{secret}` leaked");
    }
}
