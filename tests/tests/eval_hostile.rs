//! Evaluations, feedback tokens, conversations and their operations rules
//! never panic on hostile input: arbitrary names, labels, explanations,
//! evaluators, scores, ids, tokens and conversation ids reach every new
//! public function. Memory stays bounded (the registry's cardinality limit,
//! the conversation table's), no forged token records anything, and the
//! secrets in explanations and evaluators never reach a log line.

use obs_runtime::conversation;
use obs_runtime::eval::{EvalError, Evaluation, FeedbackToken, MAX_TOKEN_LEN};
use obs_runtime::export::logs::{LogBuffer, LogFormat, LogOutput};
use obs_runtime::ledger::{CallRecord, SpanRef};
use obs_runtime::ops::alerts::{AlertRule, Condition, Severity};
use obs_runtime::ops::{RuleOptions, Thresholds};
use obs_runtime::{testing, track_execution, track_llm_call, RequestContext, TokenUsage};
use proptest::prelude::*;
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

#[derive(Debug)]
struct Failed;

#[track_llm_call(model = "gpt-4o-mini", provider = "openai")]
fn chat() -> Result<TokenUsage, Failed> {
    Ok(TokenUsage::new(10, 5))
}

#[track_execution(agent = "hostile_agent")]
fn agent() -> Result<TokenUsage, Failed> {
    chat()
}

/// One process, one `init()`: JSON lines into a buffer, and a feedback key.
fn logs() -> &'static LogBuffer {
    static BUF: OnceLock<LogBuffer> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = LogBuffer::new();
        let guard = obs_runtime::Builder::new()
            .exporters(&["logs"])
            .log_format(LogFormat::Json)
            .log_filter("info")
            .log_output(LogOutput::Buffer(buf.clone()))
            .feedback_key(b"eval-hostile-test-key-0123456789")
            .init()
            .expect("init");
        std::mem::forget(guard);
        buf
    })
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        "\\PC*",
        "\\PC{1000,4000}",
        proptest::sample::select(&["", " ", "none", "__overflow__", "fail", "\u{0}", "é", "obs1.", "obs1.AQ"][..])
            .prop_map(String::from),
        "obs1\\.[A-Za-z0-9_-]{0,200}",
        "[0-9a-fA-F]{14,34}",
    ]
    .boxed()
}

/// A `&'static str`, as a label value must be: leaked, a few KiB per case.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn series(name: &str) -> usize {
    testing::snapshot().series(name, &[]).len()
}

const EMAIL: &str = "alice@example.com";
const CARD: &str = "4111 1111 1111 1111";

/// Every `record*` method with any name, label, explanation, evaluator,
/// score and ids; then, in the same process, no secret of any explanation or
/// evaluator is in a line.
#[test]
fn evaluations_take_any_input_and_redaction_holds() {
    let buf = logs();
    let config = ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() };
    let inputs = (text(), text(), text(), text(), any::<f64>(), text(), text(), text());
    proptest::test_runner::TestRunner::new(config)
        .run(&inputs, |(name, label, explanation, evaluator, score, trace, span, response)| {
            let (name, label) = (leak(name), leak(label));
            let ev = || {
                Evaluation::new(name)
                    .score(score)
                    .label(label)
                    .explanation(&format!("{explanation} {EMAIL} "))
                    .evaluator(&format!("{CARD}, by {evaluator}"))
            };
            let recorded = ev().record();
            match (name.is_empty(), score.is_finite()) {
                (true, _) => prop_assert_eq!(recorded, Err(EvalError::EmptyName)),
                (false, false) => prop_assert!(matches!(recorded, Err(EvalError::InvalidScore(_)))),
                (false, true) => prop_assert_eq!(recorded, Ok(())),
            }
            let _ = ev().failed(label).record();
            let _ = Evaluation::new(name).label(label).record();
            // Ids and response ids no call has, strings that are no token:
            // refused, and nothing recorded.
            let before = series("evaluations_total");
            let _ = ev().record_for_span(&trace, &span);
            prop_assert!(ev().record_for_response(&response).is_err());
            prop_assert!(ev().record_with_token(&response).is_err());
            prop_assert!(ev().record_with_token(&trace).is_err());
            prop_assert_eq!(series("evaluations_total"), before);
            let _ = SpanRef::parse(&trace, &span);
            prop_assert!(response.parse::<FeedbackToken>().is_err());
            Ok(())
        })
        .unwrap();
    Evaluation::new("redaction_probe")
        .score(1.0)
        .explanation(&format!("quoting the user: {EMAIL}, card {CARD}"))
        .evaluator(&format!("{CARD} judge"))
        .record()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !buf.contents().contains("redaction_probe") {
        assert!(std::time::Instant::now() < deadline, "the probe's line was not written");
        std::thread::sleep(Duration::from_millis(10));
    }
    let all = buf.contents();
    assert!(all.lines().count() > 256, "the cases' lines were written");
    assert!(!all.contains(EMAIL) && !all.contains(CARD), "a secret reached the log");
    assert!(all.contains("[REDACTED:email]") && all.contains("[REDACTED:card]"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tokens_of_any_call_round_trip_and_any_change_is_refused(
        agent in text(), model in text(), response in text(), flip in any::<prop::sample::Index>(),
        with_ids in any::<bool>(), byte in any::<u8>(),
    ) {
        logs();
        let span = SpanRef::parse("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7").filter(|_| with_ids);
        let r = CallRecord {
            timestamp_ms: 0,
            agent: leak(agent),
            model: leak(model),
            provider: "p",
            input_tokens: None,
            output_tokens: None,
            cache_read_tokens: None,
            cache_creation_tokens: None,
            reasoning_tokens: None,
            cost_usd: None,
            cost_pico: None,
            duration_seconds: 0.0,
            status: "success",
            usage_incomplete: false,
            response_id: Some(response.into_boxed_str()),
            span,
        };
        let token = FeedbackToken::for_call(&r);
        let text = token.to_string();
        prop_assert!(text.len() <= MAX_TOKEN_LEN, "{} bytes", text.len());
        prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'), "URL-safe: {}", text);
        prop_assert_eq!(text.parse::<FeedbackToken>(), Ok(token));
        // Any one byte changed: refused.
        let i = flip.index(text.len());
        let mut altered = text.clone().into_bytes();
        altered[i] = if byte.is_ascii_graphic() && byte != altered[i] { byte } else if altered[i] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        prop_assert!(altered.parse::<FeedbackToken>().is_err(), "{}", altered);
        let before = series("evaluations_total");
        prop_assert!(Evaluation::new("hostile_feedback").score(1.0).record_with_token(&altered).is_err());
        prop_assert_eq!(series("evaluations_total"), before);
    }

    #[test]
    fn conversations_take_any_id(ids in prop::collection::vec(text(), 1..6)) {
        logs();
        for id in &ids {
            let _ = RequestContext::new().with_conversation_id(id.clone()).in_scope(agent);
        }
        let s = conversation::summary();
        prop_assert!(s.conversations.len() <= conversation::MAX_SUMMARY);
        prop_assert!(s.active <= conversation::MAX_CONVERSATIONS);
        prop_assert!(s.conversations.iter().all(|c| c.id.len() <= obs_runtime::context::MAX_CONTEXT_ID_BYTES + 3));
    }

    #[test]
    fn operations_take_any_evaluation_or_agent_name(name in text(), agent in text(), x in any::<f64>()) {
        let opts = RuleOptions::new().evaluation(name.clone(), Thresholds::new().score_below(x).error_ratio(x)).conversation_cost(x);
        let _ = opts.prometheus_rules();
        let _ = opts.grafana_dashboard();
        for c in [
            Condition::evaluation_score_below(name.clone(), x),
            Condition::evaluation_failure_ratio(name.clone(), x).for_agent(agent.clone()),
            Condition::conversation_cost_mean(x).for_agent(agent.clone()),
            Condition::hourly_cost(x).for_agent(agent.clone()),
        ] {
            let _ = AlertRule::new(name.clone(), Severity::Info, c);
        }
        let _ = obs_runtime::Builder::new().feedback_key(name.as_bytes()).conversation_idle_timeout(Duration::from_secs_f64(x.abs().min(1e9)));
    }
}

/// Distinct evaluation names past the cardinality limit share the overflow
/// series: the family stays bounded.
#[test]
fn evaluation_series_stay_bounded() {
    logs();
    for i in 0..2_500 {
        let name = leak(format!("bounded_eval_{i}"));
        Evaluation::new(name).score(0.5).label(leak(format!("label_{i}"))).record().unwrap();
    }
    let limit = obs_runtime::metrics::DEFAULT_CARDINALITY_LIMIT;
    let n = series("evaluations_total");
    assert!(n <= limit + 16, "{n} series");
    assert!(series("evaluation_score") <= limit + 16);
    let overflow = testing::snapshot().counter("obs_cardinality_overflow_total", &[("metric", "evaluations_total")]);
    assert!(overflow.unwrap_or(0) > 0, "the names past the limit were counted as overflow");
}

/// More conversations at once than obs follows: the least recently active
/// end early; the table never grows past its bound.
#[test]
fn the_conversation_table_is_bounded() {
    logs();
    let t0 = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    testing::set_conversation_clock(Some(t0));
    for i in 0..conversation::MAX_CONVERSATIONS + 50 {
        let _ = RequestContext::new().with_conversation_id(format!("bounded-{i}")).in_scope(agent);
    }
    let s = conversation::summary();
    assert_eq!(s.active, conversation::MAX_CONVERSATIONS);
    assert!(s.ended >= 50, "{}", s.ended);
    assert_eq!(s.conversations.len(), conversation::MAX_SUMMARY);
    testing::set_conversation_clock(Some(t0 + Duration::from_secs(8 * 24 * 3600)));
    assert_eq!(conversation::summary().active, 0);
    testing::set_conversation_clock(None);
}

/// Evaluation names with every character the rules file must escape, through
/// `promtool check rules`.
#[test]
fn awkward_evaluation_names_make_valid_rules() {
    let mut opts = RuleOptions::new().namespace("");
    for name in ["a\"b", "x|y.*", "back\\slash", "it's", "ünï", "(paren) [br] $end ^start", "a b"] {
        opts = opts.evaluation(name, Thresholds::new().score_below(0.5));
    }
    let yaml = opts.prometheus_rules().unwrap();
    let dir = std::env::temp_dir().join(format!("obs-eval-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rules.yml"), &yaml).unwrap();
    let out = std::process::Command::new("promtool")
        .args(["check", "rules", "rules.yml"])
        .current_dir(&dir)
        .output()
        .expect("promtool (apt-get install -y --no-install-recommends prometheus)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}\n{yaml}");
    let _ = std::fs::remove_dir_all(&dir);
    for bad in ["", "new\nline", "{{ $labels.agent }}"] {
        let e = RuleOptions::new().evaluation(bad, Thresholds::new()).prometheus_rules().unwrap_err();
        assert!(e.to_string().contains("a name without control characters"), "{e}");
    }
}
