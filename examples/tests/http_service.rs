//! The `http-service` example driven with real HTTP requests on 127.0.0.1:
//! request ids generated, echoed and kept, a caller's `traceparent`
//! continued, HTTP metrics labelled by route template (a 404 and a 500
//! counted), and the JSON log lines of a request carrying its ids.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Service {
    child: Child,
    http: SocketAddr,
    metrics: SocketAddr,
    log: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = self.log.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn start() -> Service {
    start_with(&[])
}

/// The service with extra environment variables.
fn start_with(env: &[(&str, &str)]) -> Service {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("obs-http-service-{}-{n}", std::process::id()));
    let log = dir.join("service.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_http-service"))
        .args(["--addr", "127.0.0.1:0"])
        .env("OBS_PROMETHEUS_ADDR", "127.0.0.1:0")
        .env("OBS_LOG_FORMAT", "json")
        .env("OBS_LOG_OUTPUT", &log)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start http-service");
    let stdout = child.stdout.take().unwrap();
    let (mut http, mut metrics) = (None, None);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("metrics: http://") {
            metrics = Some(a.trim_end_matches("/metrics").parse().unwrap());
        }
        if let Some(a) = line.strip_prefix("listening on http://") {
            http = Some(a.parse().unwrap());
            break;
        }
    }
    Service { child, http: http.expect("listening line"), metrics: metrics.expect("metrics line"), log }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a fresh connection.
fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    Response { status, headers, body: body.to_string() }
}

/// The value of the series of `name` with exactly `labels` on the `/metrics` page.
fn metric(page: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    page.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let (n, rest) = series.split_once('{').unwrap_or((series, "}"));
        if n != name {
            return None;
        }
        let body = rest.strip_suffix('}')?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for p in body.split("\",").filter(|p| !p.is_empty()) {
            let (k, v) = p.split_once("=\"")?;
            pairs.push((k.to_string(), v.trim_end_matches('"').to_string()));
        }
        let matches =
            pairs.len() == labels.len() && labels.iter().all(|(k, v)| pairs.iter().any(|(k2, v2)| k2 == k && v2 == v));
        matches.then(|| value.parse().ok()).flatten()
    })
}

/// The JSON log lines whose `request_id` is `id` (waits for the writer thread).
fn lines_of(svc: &Service, id: &str, at_least: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&svc.log).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .filter(|v| v["request_id"] == id)
            .collect();
        if lines.len() >= at_least || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const ROUTE: &str = "/agents/{agent}/run";

#[test]
fn the_service_propagates_ids_and_counts_requests_by_route_template() {
    let svc = start();

    // 1. No X-Request-ID: one is generated (a UUID v7) and echoed.
    let r = request(svc.http, "POST", "/agents/support/run", &[], "how do I reset my key?");
    assert_eq!(r.status, 200, "{r:?}");
    let generated = r.header("x-request-id").expect("echoed request id").to_string();
    assert_eq!(generated.len(), 36, "{generated}");
    assert_eq!(generated.as_bytes()[14], b'7', "UUID v7: {generated}");
    assert!(r.body.contains(&format!("request_id: {generated}")), "the handler saw the same id: {}", r.body);

    // 2. A given X-Request-ID and traceparent are kept and continued.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let r = request(
        svc.http,
        "POST",
        "/agents/support/run",
        &[("X-Request-ID", "req-given-1"), ("traceparent", &format!("00-{trace_id}-00f067aa0ba902b7-01"))],
        "what is the refund policy?",
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-request-id"), Some("req-given-1"));

    // An unusable request id (a space) is replaced, not echoed.
    let r = request(svc.http, "GET", "/health", &[("X-Request-ID", "bad id")], "");
    assert_eq!(r.status, 200);
    assert_ne!(r.header("x-request-id"), Some("bad id"));

    // 3. Errors: a 500 from the agent, a 404 from the handler, a 404 from no route.
    let r = request(svc.http, "POST", "/agents/support/run", &[("X-Request-ID", "req-fail")], "please fail");
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(r.header("x-request-id"), Some("req-fail"));
    let r = request(svc.http, "POST", "/agents/nobody/run", &[], "hi");
    assert_eq!(r.status, 404, "{r:?}");
    let r = request(svc.http, "GET", "/no/such/path/12345", &[("X-Request-ID", "req-404")], "");
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.header("x-request-id"), Some("req-404"));

    // 4. Metrics by route template, never by raw path.
    let page = obs_tests::http_get(svc.metrics, "/metrics").unwrap().body;
    let count = |method, route, status| {
        metric(&page, "http_requests_total", &[("method", method), ("route", route), ("status", status)])
    };
    assert_eq!(count("POST", ROUTE, "200"), Some(2.0), "{page}");
    assert_eq!(count("POST", ROUTE, "500"), Some(1.0));
    assert_eq!(count("POST", ROUTE, "404"), Some(1.0));
    assert_eq!(count("GET", "unmatched", "404"), Some(1.0));
    assert_eq!(count("GET", "/health", "200"), Some(1.0));
    assert!(!page.contains("/agents/support/run") && !page.contains("/no/such/path"), "raw paths in labels:\n{page}");
    assert_eq!(
        metric(&page, "http_request_duration_seconds_count", &[("method", "POST"), ("route", ROUTE)]),
        Some(4.0)
    );
    // The agent's own series, next to the HTTP ones.
    assert_eq!(metric(&page, "agent_executions_total", &[("agent", "support"), ("status", "success")]), Some(2.0));
    assert_eq!(metric(&page, "agent_executions_total", &[("agent", "support"), ("status", "error")]), Some(1.0));

    // 5. The log lines of the traced request: every one has its request id,
    // the caller's trace id, and the agent; the model and tool lines say so.
    let lines = lines_of(&svc, "req-given-1", 4);
    assert!(lines.len() >= 4, "{lines:?}");
    for l in &lines {
        assert_eq!(l["trace_id"], trace_id, "{l}");
        assert_eq!(l["span_id"].as_str().map(str::len), Some(16), "{l}");
    }
    let by_message =
        |m: &str| lines.iter().find(|l| l["message"] == m).unwrap_or_else(|| panic!("no `{m}` in {lines:?}"));
    let tool = by_message("knowledge base searched");
    assert_eq!((tool["agent"].as_str(), tool["tool"].as_str()), (Some("support"), Some("kb_search")));
    assert_eq!(tool["http.route"], ROUTE);
    let llm = by_message("model answered");
    assert_eq!((llm["agent"].as_str(), llm["model"].as_str()), (Some("support"), Some("gpt-5.4-mini")));
    assert_ne!(tool["span_id"], llm["span_id"]);
    // The failed request logged its error with its own id.
    let failed = lines_of(&svc, "req-fail", 1);
    let err = failed.iter().find(|l| l["message"] == "agent run failed").expect("error line");
    assert_eq!(err["level"], "ERROR");
    assert_ne!(err["trace_id"], trace_id, "a request without traceparent starts its own trace");
}

#[test]
fn an_invalid_token_is_refused_and_only_its_hash_is_logged() {
    let svc = start();
    let r = request(
        svc.http,
        "POST",
        "/agents/support/run",
        &[("Authorization", "Bearer invalid"), ("X-Request-ID", "req-auth")],
        "hello",
    );
    assert_eq!(r.status, 401, "{r:?}");
    let lines = lines_of(&svc, "req-auth", 1);
    let audit = lines.iter().find(|l| l["target"] == "audit").expect("audit line");
    assert_eq!(audit["event"], "auth_attempt");
    assert_eq!(audit["success"], false);
    assert_eq!(audit["agent_id"], "support");
    assert_eq!(audit["token_sha256"].as_str().map(str::len), Some(64));
    let all = std::fs::read_to_string(&svc.log).unwrap();
    assert!(!all.contains("Bearer invalid") && !all.contains("\"invalid\""), "the token reached the log");
}

/// The feedback token line of an answer.
fn feedback_token(body: &str) -> String {
    body.lines().find_map(|l| l.strip_prefix("feedback_token: ")).expect("a feedback_token line").to_string()
}

/// The feedback endpoint, across two processes: replica A answers and hands
/// out a token; replica B, sharing only the feedback key, takes a rating for
/// that answer. The rating lands on B's series under A's agent and model, in
/// B's JSON log line, and in the collector (Rotel) as a
/// `gen_ai.evaluation.result` record and span parented to A's model span.
#[test]
fn feedback_for_a_past_call_lands_on_its_series_and_trace_from_another_replica() {
    use obs_tests::backends::rotel::Value as RValue;
    let rotel = obs_tests::backends::Rotel::start();
    let endpoint = rotel.http_endpoint();
    let key = "example-feedback-key-0123456789abcdef";
    let replica = |name| {
        start_with(&[
            ("OBS_FEEDBACK_KEY", key),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", name),
            ("OTEL_METRICS_EXPORTER", "none"),
            // Spans and log records go out within 100 ms: the replicas are
            // killed, not shut down, so nothing waits for their last flush.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "100"),
        ])
    };
    let a = replica("replica-a");
    let r = request(a.http, "POST", "/agents/support/run", &[("X-Request-ID", "req-rated")], "how do I rotate my key?");
    assert_eq!(r.status, 200, "{r:?}");
    let token = feedback_token(&r.body);
    assert!(token.starts_with("obs1.") && token.len() < 200, "{token}");
    rotel.wait_for(Duration::from_secs(30), |g| g.spans.iter().any(|s| s.name == "chat gpt-5.4-mini"));
    drop(a); // A is gone: nothing of the call is left but the token.

    let b = replica("replica-b");
    let rating = |rating: &str, body: &str| request(b.http, "POST", &format!("/feedback/{rating}"), &[], body);
    let before = obs_tests::http_get(b.metrics, "/metrics").unwrap().body;
    let series = r#"evaluation="user_rating",agent="support",model="gpt-5.4-mini""#;
    assert!(!before.contains("evaluations_total{"), "{before}");
    let r = rating("1", &token);
    assert_eq!((r.status, r.body.as_str()), (200, "thanks\n"), "{r:?}");
    // Bad ratings and tokens are refused with the reason, and count nowhere.
    let r = rating("9", &token);
    assert_eq!((r.status, r.body.as_str()), (400, "rating 9: rate from 1 to 5\n"));
    // Another first byte (the version's, always `A` in base64): a token altered by hand.
    let forged = token.replacen("obs1.A", "obs1.B", 1);
    assert_ne!(forged, token);
    let r = rating("5", &forged);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("feedback token"), "{}", r.body);
    let r = rating("5", "hello");
    assert_eq!((r.status, r.body.as_str()), (400, "not an obs feedback token: it does not start with `obs1.`\n"));

    let page = obs_tests::http_get(b.metrics, "/metrics").unwrap().body;
    let labelled = |label| {
        metric(
            &page,
            "evaluations_total",
            &[("evaluation", "user_rating"), ("agent", "support"), ("model", "gpt-5.4-mini"), ("label", label)],
        )
    };
    assert_eq!(labelled("fail"), Some(1.0), "{page}");
    assert_eq!(labelled("pass"), None);
    let score = |suffix: &str| {
        page.lines()
            .find_map(|l| l.strip_prefix(&format!("evaluation_score_{suffix}{{{series}}} ")))
            .map(str::to_string)
    };
    assert_eq!((score("count").as_deref(), score("sum").as_deref()), (Some("1"), Some("1")), "{page}");
    assert_eq!(
        page.lines().filter(|l| l.starts_with("evaluations_total{")).count(),
        1,
        "the refused ratings made no series: {page}"
    );

    // B's JSON line.
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let text = std::fs::read_to_string(&b.log).unwrap_or_default();
        let found = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["target"] == "obs_runtime::eval");
        match found {
            Some(v) => break v,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            None => panic!("no evaluation line in {text}"),
        }
    };
    assert_eq!(line["message"], "evaluation user_rating: score 1, label fail");
    assert_eq!((line["agent"].as_str(), line["model"].as_str()), (Some("support"), Some("gpt-5.4-mini")));
    assert_eq!(line["gen_ai.evaluation.score.label"], "fail");
    let got = rotel.wait_for(Duration::from_secs(30), |g| {
        g.logs.iter().any(|l| l.event_name == "gen_ai.evaluation.result")
            && g.spans.iter().any(|s| s.name == "gen_ai.evaluation.result")
            && g.spans.iter().any(|s| s.name == "chat gpt-5.4-mini")
    });
    let service =
        |s: &obs_tests::backends::rotel::Attributes| s.get("service.name").and_then(RValue::as_str).map(str::to_string);
    let chat = got.spans.iter().find(|s| s.name == "chat gpt-5.4-mini").unwrap();
    assert_eq!(service(&chat.resource).as_deref(), Some("replica-a"));
    let record = got.logs.iter().find(|l| l.event_name == "gen_ai.evaluation.result").unwrap();
    assert_eq!(service(&record.resource).as_deref(), Some("replica-b"));
    assert_eq!((record.trace_id.as_str(), record.span_id.as_str()), (chat.trace_id.as_str(), chat.span_id.as_str()));
    let attr = |k: &str| record.attributes.get(k).cloned();
    assert_eq!(attr("gen_ai.evaluation.name"), Some(RValue::Str("user_rating".into())));
    assert_eq!(attr("gen_ai.evaluation.score.value"), Some(RValue::Double(1.0)));
    assert_eq!(attr("gen_ai.evaluation.score.label"), Some(RValue::Str("fail".into())));
    assert_eq!(attr("obs.evaluation.evaluator"), Some(RValue::Str("user".into())));
    assert_eq!(attr("gen_ai.response.id"), chat.attributes.get("gen_ai.response.id").cloned());
    assert_eq!(
        (line["trace_id"].as_str(), line["span_id"].as_str()),
        (Some(chat.trace_id.as_str()), Some(chat.span_id.as_str()))
    );
    let child = got.spans.iter().find(|s| s.name == "gen_ai.evaluation.result").unwrap();
    assert_eq!(service(&child.resource).as_deref(), Some("replica-b"));
    drop(b);
    assert_eq!((child.trace_id.as_str(), child.parent_id.as_str()), (chat.trace_id.as_str(), chat.span_id.as_str()));
}
