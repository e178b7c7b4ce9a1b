//! In-process alert rules against a webhook receiver on 127.0.0.1: a rule
//! fires and resolves with Slack-compatible JSON, a cooldown holds back a
//! second firing, and a receiver that is down or too slow costs a counted,
//! logged failure, never the application's calls nor the other notifiers.
//!
//! No wall-clock threshold: waits are for conditions (with a deadline only
//! a broken evaluator reaches), a cooldown or a receiver's delay is an hour
//! when the test shows what happens within it, and what happens when a
//! cooldown ends is tested on the evaluator's injected clock (the unit
//! tests of `ops::alerts`).

use obs_runtime::ops::alerts::{AlertRule, Condition, Notification, Notifier, NotifyError, Severity, WebhookNotifier};
use obs_runtime::{track_llm_call, track_tool, LlmUsage, TokenUsage};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct E;

#[track_tool(name = "alert_tool")]
fn tool(ok: bool) -> Result<(), E> {
    if ok {
        Ok(())
    } else {
        Err(E)
    }
}

/// A webhook receiver: records each POST body, answers after `delay`.
/// (Records it before answering: a body is recorded even if its sender gave up.)
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<(Instant, Value)>>>,
}

fn receiver(delay: Duration) -> Receiver {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/T000/B000/secret", l.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let b = bodies.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            let b = b.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                b.lock().unwrap().push((Instant::now(), serde_json::from_slice(&body).unwrap()));
                std::thread::sleep(delay);
                let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            });
        }
    });
    Receiver { url, bodies }
}

/// Generous: only a broken evaluator or notifier makes a wait this long.
const WAIT: Duration = Duration::from_secs(60);

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < end, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn failures(reason: &str, notifier: &str) -> u64 {
    obs_runtime::metrics::snapshot()
        .counter("obs_alert_notifications_failed_total", &[("notifier", notifier), ("reason", reason)])
        .unwrap_or(0)
}

fn rule(cooldown: Duration) -> AlertRule {
    AlertRule::new("alert_tool failing", Severity::Critical, Condition::tool_error_ratio("alert_tool", 0.5))
        .unwrap()
        .description("alert_tool fails more than half of its calls")
        .cooldown(cooldown)
}

fn states(r: &Receiver) -> Vec<String> {
    r.bodies
        .lock()
        .unwrap()
        .iter()
        .map(|(_, b)| b["attachments"][0]["fields"][1]["value"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn fires_resolves_and_holds_back_a_firing_within_the_cooldown() {
    // The evaluator says, at debug level, when it holds back a firing.
    let events = obs_tests::Events::default();
    tracing::subscriber::set_global_default(events.clone()).unwrap();
    let rx = receiver(Duration::ZERO);
    let cooldown = Duration::from_secs(3600);
    let _obs = obs_runtime::Builder::new()
        .exporters(&[])
        .alert(rule(cooldown))
        .alert_notifier(WebhookNotifier::new(&rx.url).unwrap())
        .alert_interval(Duration::from_millis(20))
        .alert_window(Duration::from_millis(200))
        .init()
        .unwrap();
    for _ in 0..3 {
        let _ = tool(false);
    }
    wait_until("the firing", WAIT, || rx.bodies.lock().unwrap().len() == 1);
    let fired = rx.bodies.lock().unwrap()[0].1.clone();
    assert_eq!(fired["text"], "[FIRING] alert_tool failing (critical): tool alert_tool error ratio 1 > 0.5");
    let a = &fired["attachments"][0];
    assert_eq!(a["color"], "#d50200");
    assert_eq!(a["title"], "alert_tool failing firing");
    assert_eq!(a["text"], "alert_tool fails more than half of its calls");
    assert_eq!(
        a["fields"],
        serde_json::json!([
            {"title": "severity", "value": "critical", "short": true},
            {"title": "state", "value": "firing", "short": true},
            {"title": "subject", "value": "tool alert_tool error ratio", "short": true},
            {"title": "value", "value": "1", "short": true},
            {"title": "threshold", "value": "0.5", "short": true},
        ])
    );

    // No call in the window: nothing fails any more, the alert resolves.
    wait_until("the resolution", WAIT, || rx.bodies.lock().unwrap().len() == 2);
    let resolved = rx.bodies.lock().unwrap()[1].1.clone();
    assert_eq!(resolved["text"], "[RESOLVED] alert_tool failing (critical): tool alert_tool error ratio n/a");
    assert_eq!(resolved["attachments"][0]["color"], "#2eb886");

    // Failing again within the cooldown: firing, but not notified (nor its
    // resolution, a window later).
    let _ = tool(false);
    let held_back =
        || events.all().iter().filter(|(t, m)| t == "obs_runtime::alerts" && m.contains("within its cooldown")).count();
    wait_until("the firing held back", WAIT, || held_back() == 1);
    std::thread::sleep(Duration::from_millis(500)); // room for a wrong notification to show
    assert_eq!(states(&rx), ["firing", "resolved"]);
    assert_eq!(failures("error", "webhook") + failures("timeout", "webhook") + failures("queue_full", "webhook"), 0);
}

/// A notifier that records what it gets, to show the others are not held up.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(Instant, String)>>>);

impl Notifier for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        self.0.lock().unwrap().push((Instant::now(), n.state.as_str().to_string()));
        Ok(())
    }
}

#[test]
fn a_receiver_that_is_down_is_retried_then_counted() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let rec = Recorder::default();
    let _obs = obs_runtime::Builder::new()
        .exporters(&[])
        .alert(rule(Duration::ZERO))
        .alert_notifier(
            WebhookNotifier::new(&format!("http://127.0.0.1:{port}/hook"))
                .unwrap()
                .retries(2)
                .backoff(Duration::from_millis(10)),
        )
        .alert_notifier(rec.clone())
        .alert_interval(Duration::from_millis(20))
        .init()
        .unwrap();
    // The call itself never waits for a notifier (a_stuck_notifier_.. below
    // shows it against one that never returns); the failure is counted
    // once, after three attempts.
    let _ = tool(false);
    wait_until("the failure count", WAIT, || failures("error", "webhook") == 1);
    assert_eq!(failures("timeout", "webhook"), 0);
    assert_eq!(rec.0.lock().unwrap().iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(), ["firing"]);
}

#[test]
fn a_slow_receiver_times_out_without_holding_up_other_notifiers() {
    // Answers after an hour: a counted timeout is a notifier that gave up.
    let rx = receiver(Duration::from_secs(3600));
    let rec = Recorder::default();
    let _obs = obs_runtime::Builder::new()
        .exporters(&[])
        .alert(rule(Duration::ZERO))
        .alert_notifier(WebhookNotifier::new(&rx.url).unwrap().timeout(Duration::from_millis(200)).retries(0))
        .alert_notifier(rec.clone())
        .alert_interval(Duration::from_millis(20))
        .alert_window(Duration::from_millis(200))
        .init()
        .unwrap();
    let _ = tool(false);
    wait_until("the timeout count", WAIT, || failures("timeout", "webhook") >= 1);
    // The request did reach the receiver; its answer came too late.
    wait_until("the firing at the receiver", WAIT, || !states(&rx).is_empty());
    assert_eq!(states(&rx)[0], "firing");
    // The other notifier got the firing and the resolution meanwhile, the
    // webhook's resolution timed out too.
    wait_until("the resolution", WAIT, || rec.0.lock().unwrap().len() == 2);
    wait_until("the second timeout", WAIT, || failures("timeout", "webhook") == 2);
    wait_until("the resolution at the receiver", WAIT, || states(&rx).len() == 2);
    assert_eq!(states(&rx), ["firing", "resolved"]);
    assert_eq!(failures("error", "webhook"), 0);
}

/// A notifier that never returns (until the test ends).
struct Stuck;

impl Notifier for Stuck {
    fn name(&self) -> &str {
        "stuck"
    }
    fn notify(&self, _: &Notification) -> Result<(), NotifyError> {
        std::thread::sleep(Duration::from_secs(3600));
        Ok(())
    }
}

#[test]
fn a_stuck_notifier_fills_its_bounded_queue_and_drops_the_rest() {
    let mut b = obs_runtime::Builder::new().exporters(&[]).alert_interval(Duration::from_millis(20));
    // 80 rules fire at the same evaluation: one notification is being
    // delivered (forever), 64 wait, the rest are dropped and counted.
    for i in 0..80 {
        b = b.alert(
            AlertRule::new(format!("rule {i}"), Severity::Info, Condition::tool_error_ratio("alert_tool", 0.5))
                .unwrap(),
        );
    }
    let obs = b.alert_notifier(Stuck).init().unwrap();
    let _ = tool(false);
    wait_until("the drops", WAIT, || failures("queue_full", "stuck") >= 15);
    std::thread::sleep(Duration::from_millis(100));
    let dropped = failures("queue_full", "stuck");
    // 15 when the notifier took the first one before the evaluator queued the rest, else 16.
    assert!(dropped == 15 || dropped == 16, "{dropped}");
    // Shutting down waits a bounded time (SHUTDOWN_WAIT, 5 s) for the stuck
    // notifier, then leaves it: far less than the hour it would take.
    let t = Instant::now();
    drop(obs);
    assert!(t.elapsed() < Duration::from_secs(600), "{:?}", t.elapsed());
}

#[test]
fn bad_webhook_urls_say_what_to_use() {
    let e = WebhookNotifier::new("https://hooks.slack.com/services/T/B/x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "webhook URL `https://hooks.slack.com/services/T/B/x`: expected http://host:port/path (https:// needs TLS, not in this build: post to a relay on http://)"
    );
    assert!(WebhookNotifier::new("not a url").is_err());
}

/// A notifier that always fails, to see the failure logged.
struct Refuses;

impl Notifier for Refuses {
    fn name(&self) -> &str {
        "refuses"
    }
    fn notify(&self, _: &Notification) -> Result<(), NotifyError> {
        Err(NotifyError::Failed("HTTP 403 from http://relay".into()))
    }
}

#[test]
fn the_log_notifier_writes_transitions_and_failures_are_logged() {
    let events = obs_tests::Events::default();
    tracing::subscriber::set_global_default(events.clone()).unwrap();
    let _obs = obs_runtime::Builder::new()
        .exporters(&[])
        .alert(rule(Duration::ZERO))
        .alert_notifier(obs_runtime::ops::alerts::LogNotifier)
        .alert_notifier(Refuses)
        .alert_interval(Duration::from_millis(20))
        .alert_window(Duration::from_millis(200))
        .init()
        .unwrap();
    let _ = tool(false);
    let alerts = || -> Vec<String> {
        events.all().into_iter().filter(|(t, _)| t == "obs_runtime::alerts").map(|(_, m)| m).collect()
    };
    wait_until("firing, resolved and two failure lines", WAIT, || alerts().len() == 4);
    assert_eq!(failures("error", "refuses"), 2);
    // Two notifier threads: their lines interleave in any order.
    let mut lines = alerts();
    lines.sort();
    assert_eq!(
        lines,
        [
            "alert firing: alert_tool failing",
            "alert notification not delivered: HTTP 403 from http://relay",
            "alert notification not delivered: HTTP 403 from http://relay",
            "alert resolved: alert_tool failing",
        ]
    );
}

#[test]
fn bad_alert_settings_fail_init_with_the_fix() {
    let e = obs_runtime::Builder::new()
        .exporters(&[])
        .alert_interval(Duration::from_millis(1))
        .alert_window(Duration::from_secs(100_000))
        .init()
        .err()
        .unwrap();
    let text = e.to_string();
    assert!(
        text.contains("Builder::alert_interval(`1ms`) cannot be used: expected a duration from 10ms to 60m, e.g. 15s"),
        "{text}"
    );
    assert!(
        text.contains(
            "Builder::alert_window(`100000s`) cannot be used: expected a duration from 10ms to 1440m (a day), e.g. 5m"
        ),
        "{text}"
    );
}

struct Reply;

impl LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(1000, 0))
    }
}

/// 1000 input tokens of gpt-4o: 0.0025 USD.
#[track_llm_call(model = "gpt-4o", provider = "openai")]
fn ask() -> Result<Reply, E> {
    Ok(Reply)
}

/// Takes 30 ms of the mock clock the test runs it on: its duration is
/// exact, not whatever a loaded machine makes of a sleep.
#[track_tool(name = "sleepy_tool")]
fn sleepy(clock: &quanta::Mock) -> Result<(), E> {
    clock.increment(Duration::from_millis(30));
    Ok(())
}

#[test]
fn latency_cost_and_budget_conditions_fire_past_their_thresholds_only() {
    use obs_runtime::budget::{self, Budget, Period};
    let names = Arc::new(Mutex::new(Vec::new()));
    struct Named(Arc<Mutex<Vec<String>>>);
    impl Notifier for Named {
        fn name(&self) -> &str {
            "named"
        }
        fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
            self.0.lock().unwrap().push(format!("{} {}", n.rule, n.state.as_str()));
            Ok(())
        }
    }
    let r = |name: &str, c: Condition| AlertRule::new(name, Severity::Warning, c).unwrap();
    let _obs = obs_runtime::Builder::new()
        .exporters(&[])
        .alert(r("sleepy p95", Condition::tool_p95("sleepy_tool", Duration::from_millis(10))))
        .alert(r("sleepy p95 lax", Condition::tool_p95("sleepy_tool", Duration::from_secs(1))))
        .alert(r("gpt-4o spend", Condition::model_hourly_cost("gpt-4o", 0.1)))
        .alert(r("gpt-4o spend lax", Condition::model_hourly_cost("gpt-4o", 1000.0)))
        .alert(r("budget half", Condition::budget_fraction("al_budget", 0.5)))
        .alert(r("budget all", Condition::budget_fraction("al_budget", 1.0)))
        .alert(r("db down", Condition::health_check_failing("al_db")))
        .alert_notifier(Named(names.clone()))
        .alert_interval(Duration::from_millis(20))
        .alert_window(Duration::from_secs(2))
        .init()
        .unwrap();
    // 0.0025 USD of 0.004: 62.5% used. Over a 2 s window, 0.0025 USD is 4.5
    // USD per hour (still above 0.1 if a loaded machine spreads it over 90 s).
    budget::register(Budget::new("al_budget", 0.004, Period::Total)).unwrap();
    let (clock, mock) = quanta::Clock::mock();
    quanta::with_clock(&clock, || sleepy(&mock)).unwrap();
    let _ = ask();
    wait_until("three firings", WAIT, || names.lock().unwrap().len() == 3);
    std::thread::sleep(Duration::from_millis(200));
    let mut got = names.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, ["budget half firing", "gpt-4o spend firing", "sleepy p95 firing"]);
}

#[test]
fn mcp_tool_conditions_count_errors_per_side() {
    use obs_runtime::ops::alerts::McpSide;
    use obs_tests::mcp::in_process;
    let names = Arc::new(Mutex::new(Vec::new()));
    struct Named(Arc<Mutex<Vec<String>>>);
    impl Notifier for Named {
        fn name(&self) -> &str {
            "named"
        }
        fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
            self.0.lock().unwrap().push(format!("{} {} {}", n.rule, n.state.as_str(), n.subject));
            Ok(())
        }
    }
    let r = |name: &str, c: Condition| AlertRule::new(name, Severity::Warning, c).unwrap();
    let _obs = obs_runtime::Builder::new()
        .exporters(&[])
        .alert(r("broken server", Condition::mcp_tool_error_ratio(McpSide::Server, "broken", 0.5)))
        .alert(r("echo client", Condition::mcp_tool_error_ratio(McpSide::Client, "echo", 0.1)))
        // An unknown tool (-32602): the client's error, not the server's.
        .alert(r("nope client", Condition::mcp_tool_error_ratio(McpSide::Client, "nope", 0.5)))
        .alert(r("nope server", Condition::mcp_tool_error_ratio(McpSide::Server, "nope", 0.5)))
        .alert(r("echo slow", Condition::mcp_tool_p95(McpSide::Server, "echo", Duration::from_secs(60))))
        .alert_notifier(Named(names.clone()))
        .alert_interval(Duration::from_millis(20))
        .alert_window(Duration::from_secs(2))
        .init()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let client = in_process::connect(true).await;
        in_process::echo(&client, "a").await;
        in_process::broken(&client).await;
        let nope = client.call_tool(rmcp::model::CallToolRequestParams::new("nope")).await;
        assert!(nope.is_err(), "{nope:?}");
        let _ = client.cancel().await;
    });
    wait_until("two firings", Duration::from_secs(5), || names.lock().unwrap().len() == 2);
    std::thread::sleep(Duration::from_millis(200));
    let mut got = names.lock().unwrap().clone();
    got.sort();
    assert_eq!(
        got,
        [
            "broken server firing MCP tool (server side) broken error ratio",
            "nope client firing MCP tool (client side) nope error ratio"
        ]
    );
}

/// One model call of 1000 input tokens of gpt-4o (0.0025 USD) in a conversation.
#[obs_runtime::track_execution(agent = "al_support")]
fn support_turn() -> Result<(), E> {
    ask().map(|_| ())
}

#[test]
fn evaluation_and_conversation_conditions_fire_past_their_thresholds_only() {
    use obs_runtime::eval::Evaluation;
    let names = Arc::new(Mutex::new(Vec::new()));
    struct Named(Arc<Mutex<Vec<String>>>);
    impl Notifier for Named {
        fn name(&self) -> &str {
            "named"
        }
        fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
            // Firings only: on a loaded machine one may resolve (its window
            // passed) before the last fires.
            if n.state == obs_runtime::ops::alerts::AlertState::Firing {
                self.0.lock().unwrap().push(format!("{} | {}", n.rule, n.text()));
            }
            Ok(())
        }
    }
    let r = |name: &str, c: Condition| AlertRule::new(name, Severity::Warning, c).unwrap();
    // An agent filter on a condition that names its own subject is refused.
    let e = AlertRule::new("x", Severity::Info, Condition::tool_p95("t", Duration::from_secs(1)).for_agent("a"))
        .unwrap_err();
    assert!(e.to_string().contains("for_agent applies to evaluation and conversation conditions"), "{e}");
    let e = AlertRule::new("x", Severity::Info, Condition::evaluation_failure_ratio("r", 0.0)).unwrap_err();
    assert_eq!(e.to_string(), "alert rule `x`: evaluation failure ratio: a fraction, 0 < fraction <= 1, got 0");
    let _obs = obs_runtime::Builder::new()
        .exporters(&[])
        .alert(r("relevance low", Condition::evaluation_score_below("al_relevance", 0.5)))
        .alert(r("relevance low lax", Condition::evaluation_score_below("al_relevance", 0.1)))
        .alert(r("relevance low elsewhere", Condition::evaluation_score_below("al_relevance", 0.5).for_agent("other")))
        .alert(r("feedback failing", Condition::evaluation_failure_ratio("al_feedback", 0.5)))
        .alert(r("feedback failing lax", Condition::evaluation_failure_ratio("al_feedback", 0.9)))
        .alert(r("conversations pricey", Condition::conversation_cost_mean(0.001).for_agent("al_support")))
        .alert(r("conversations pricey lax", Condition::conversation_cost_mean(1.0)))
        .alert_notifier(Named(names.clone()))
        .alert_interval(Duration::from_millis(20))
        .alert_window(Duration::from_secs(2))
        .init()
        .unwrap();
    // Mean score 0.3; two of three results fail; one conversation of 0.0025 USD.
    Evaluation::new("al_relevance").score(0.2).record().unwrap();
    Evaluation::new("al_relevance").score(0.4).record().unwrap();
    for pass in [true, false, false] {
        Evaluation::new("al_feedback").passed(pass).record().unwrap();
    }
    let t0 = std::time::SystemTime::now();
    obs_runtime::testing::set_conversation_clock(Some(t0));
    obs_runtime::RequestContext::new().with_conversation_id("al-conv").in_scope(support_turn).unwrap();
    obs_runtime::testing::set_conversation_clock(Some(t0 + Duration::from_secs(3600)));
    obs_runtime::testing::set_conversation_clock(None);
    wait_until("three firings", Duration::from_secs(5), || names.lock().unwrap().len() == 3);
    std::thread::sleep(Duration::from_millis(200));
    let mut got = names.lock().unwrap().clone();
    got.sort();
    assert_eq!(
        got,
        [
            "conversations pricey | [FIRING] conversations pricey (warning): conversation of agent al_support mean cost (USD) 0.0025 > 0.001",
            "feedback failing | [FIRING] feedback failing (warning): evaluation al_feedback failure ratio 0.6667 > 0.5",
            "relevance low | [FIRING] relevance low (warning): evaluation al_relevance mean score 0.3 < 0.5",
        ]
    );
}
