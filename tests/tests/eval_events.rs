//! Evaluations end to end, in one process exporting to Rotel (a real OTLP
//! collector): an evaluation recorded inside an agent run, one recorded
//! after a model call by its response id, one by its span ids, and user
//! feedback with a feedback token. Each is asserted as the collector got it
//! (an OTLP log record of event name `gen_ai.evaluation.result` whose trace
//! and span ids are the judged span's, with the conventions' attributes; a
//! span event on the open agent span, a zero-length child span under the
//! ended model span), as its JSON log line, and as series.

use obs_runtime::eval::{EvalError, Evaluation, FeedbackToken, TokenError};
use obs_runtime::export::logs::{LogBuffer, LogFormat, LogOutput};
use obs_runtime::{track_execution, track_llm_call, LlmUsage, TokenUsage};
use obs_tests::backends::rotel::{LogRecord, Received, Span, Value as RValue};
use obs_tests::backends::Rotel;
use serde_json::Value;
use std::time::Duration;

#[derive(Debug)]
struct Reply {
    id: String,
    text: String,
}

impl LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(120, 30))
    }
    fn response_id(&self) -> Option<&str> {
        Some(&self.id)
    }
}

#[derive(Debug)]
struct Failed;

#[track_llm_call(model = "gpt-4o-mini", provider = "openai")]
async fn chat(question: &str) -> Result<Reply, Failed> {
    Ok(Reply { id: format!("chatcmpl-{}", question.len()), text: format!("answer to {question}") })
}

/// Answers, judges its own answer with a rule (inside the run), and hands
/// out a feedback token for the model's answer.
#[track_execution(agent = "support")]
async fn support(question: &str) -> Result<(Reply, String), Failed> {
    let reply = chat(question).await?;
    Evaluation::new("format").passed(!reply.text.is_empty()).evaluator("rule:non_empty").record().expect("inside");
    let token = FeedbackToken::for_response(&reply.id).expect("the ledger knows the call").to_string();
    Ok((reply, token))
}

const KEY: &[u8] = b"eval-events-test-key-0123456789";

fn str_attr<'a>(attrs: &'a obs_tests::backends::rotel::Attributes, k: &str) -> &'a str {
    attrs.get(k).and_then(RValue::as_str).unwrap_or_else(|| panic!("no string attribute {k} in {attrs:?}"))
}

fn eval_records<'a>(got: &'a Received, name: &str) -> Vec<&'a LogRecord> {
    got.logs
        .iter()
        .filter(|l| l.attributes.get("gen_ai.evaluation.name").and_then(RValue::as_str) == Some(name))
        .collect()
}

fn span<'a>(got: &'a Received, name: &str) -> &'a Span {
    got.spans.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no span {name}: {:#?}", got.spans))
}

fn json_lines(buf: &LogBuffer) -> Vec<Value> {
    buf.lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v| v["target"] == "obs_runtime::eval")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluations_reach_the_collector_the_log_and_the_series() {
    let rotel = Rotel::start();
    let buf = LogBuffer::new();
    let guard = obs_runtime::Builder::new()
        .service_name("eval-events")
        .exporters(&["logs"])
        .otlp_endpoint(rotel.http_endpoint())
        .log_format(LogFormat::Json)
        .log_filter("info")
        .log_output(LogOutput::Buffer(buf.clone()))
        .feedback_key(KEY)
        .init()
        .expect("init");

    // 1. Inside the run (a span event on the open agent span), then after
    // it by response id and by span ids (child spans of the ended model span).
    let (reply, token) = support("how do I reset my key?").await.expect("run");
    Evaluation::new("relevance")
        .score(0.75)
        .label("pass")
        .explanation("cites the FAQ; ask bob@example.com for more")
        .evaluator("gpt-4o-mini-judge")
        .record_for_response(&reply.id)
        .expect("by response id");
    let call = obs_runtime::ledger::find_response(&reply.id).expect("in the ledger");
    let ids = call.span.expect("the model call's span has ids (spans are exported)");
    Evaluation::new("toxicity")
        .score(0.0)
        .record_for_span(&ids.trace_id_hex(), &ids.span_id_hex())
        .expect("by span ids");

    // 2. User feedback with the token: a thumbs down.
    assert!(token.starts_with("obs1.") && token.len() < 160, "{token}");
    Evaluation::new("user_feedback").score(0.0).passed(false).evaluator("user").record_with_token(&token).unwrap();

    // Bad input is a clear error and records nothing.
    let forged = FeedbackToken::for_response(&reply.id).unwrap().to_string().replace('A', "B");
    let e = Evaluation::new("user_feedback").score(1.0).record_with_token(&forged).unwrap_err();
    assert!(matches!(e, EvalError::Token(TokenError::BadSignature | TokenError::Malformed(_))), "{e:?}");
    assert_eq!(
        Evaluation::new("user_feedback").score(1.0).record_with_token("not a token").unwrap_err(),
        EvalError::Token(TokenError::Malformed("it does not start with `obs1.`"))
    );
    assert_eq!(
        Evaluation::new("relevance").score(1.0).record_for_response("chatcmpl-nope").unwrap_err(),
        EvalError::UnknownResponse("chatcmpl-nope".into())
    );
    assert_eq!(
        Evaluation::new("relevance").score(f64::NAN).record().unwrap_err().to_string(),
        "evaluation score NaN is not a finite number"
    );
    assert_eq!(Evaluation::new("relevance").score(1.0).record_for_span("zz", "00").unwrap_err(), EvalError::InvalidIds);

    // 3. The series: exact.
    let m = obs_runtime::testing::snapshot();
    let count = |evaluation, model, label| {
        m.counter(
            "evaluations_total",
            &[("evaluation", evaluation), ("agent", "support"), ("model", model), ("label", label)],
        )
    };
    assert_eq!(count("format", "none", "pass"), Some(1));
    assert_eq!(count("relevance", "gpt-4o-mini", "pass"), Some(1));
    assert_eq!(count("toxicity", "gpt-4o-mini", "none"), Some(1));
    assert_eq!(count("user_feedback", "gpt-4o-mini", "fail"), Some(1));
    let total: u64 = m
        .series("evaluations_total", &[])
        .iter()
        .map(|(_, v)| match v {
            obs_runtime::testing::Value::Counter(n) => *n,
            _ => 0,
        })
        .sum();
    assert_eq!(total, 4, "the refused evaluations recorded nothing");
    let h = m
        .histogram("evaluation_score", &[("evaluation", "relevance"), ("agent", "support"), ("model", "gpt-4o-mini")])
        .expect("score histogram");
    assert_eq!((h.count, h.sum), (1, 0.75));
    assert!(m
        .histogram("evaluation_score", &[("evaluation", "format"), ("agent", "support"), ("model", "none")])
        .is_none());

    // 4. The JSON lines.
    drop(guard); // flushes the log writer and the OTLP exporter
    let lines = json_lines(&buf);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let line = |name: &str| lines.iter().find(|l| l["gen_ai.evaluation.name"] == name).unwrap().clone();
    let rel = line("relevance");
    assert_eq!(rel["message"], "evaluation relevance: score 0.75, label pass");
    assert_eq!(rel["level"], "INFO");
    assert_eq!(rel["gen_ai.evaluation.score.value"], 0.75);
    assert_eq!(rel["gen_ai.evaluation.score.label"], "pass");
    assert_eq!(rel["gen_ai.evaluation.explanation"], "cites the FAQ; ask [REDACTED:email] for more");
    assert_eq!(rel["gen_ai.response.id"], reply.id.as_str());
    assert_eq!(rel["obs.evaluation.evaluator"], "gpt-4o-mini-judge");
    assert_eq!((rel["agent"].as_str(), rel["model"].as_str()), (Some("support"), Some("gpt-4o-mini")));
    assert_eq!(rel["trace_id"], ids.trace_id_hex());
    assert_eq!(rel["span_id"], ids.span_id_hex());
    let fb = line("user_feedback");
    assert_eq!((fb["trace_id"].as_str(), fb["span_id"].as_str()), (rel["trace_id"].as_str(), rel["span_id"].as_str()));
    assert_eq!(fb["gen_ai.evaluation.score.label"], "fail");
    assert!(!buf.contents().contains("bob@example.com"), "redaction holds in every line");

    // 5. What the collector got.
    let got = rotel.wait_for(Duration::from_secs(30), |g| {
        eval_records(g, "user_feedback").len() == 1
            && g.spans.iter().filter(|s| s.name == "gen_ai.evaluation.result").count() == 3
            && g.spans.iter().any(|s| s.name == "invoke_agent support")
    });
    let chat_span = span(&got, "chat gpt-4o-mini");
    let agent_span = span(&got, "invoke_agent support");
    assert_eq!(
        (chat_span.trace_id.as_str(), chat_span.span_id.as_str()),
        (ids.trace_id_hex().as_str(), ids.span_id_hex().as_str())
    );
    assert_eq!(str_attr(&chat_span.attributes, "gen_ai.response.id"), reply.id);

    // Log records: the conventions' event, parented to the judged span.
    let rel = eval_records(&got, "relevance");
    let [rel] = rel.as_slice() else { panic!("one relevance record: {rel:#?}") };
    assert_eq!(rel.event_name, "gen_ai.evaluation.result");
    assert_eq!(
        (rel.trace_id.as_str(), rel.span_id.as_str()),
        (chat_span.trace_id.as_str(), chat_span.span_id.as_str())
    );
    assert_eq!(rel.attributes["gen_ai.evaluation.score.value"], RValue::Double(0.75));
    assert_eq!(str_attr(&rel.attributes, "gen_ai.evaluation.score.label"), "pass");
    assert_eq!(
        str_attr(&rel.attributes, "gen_ai.evaluation.explanation"),
        "cites the FAQ; ask [REDACTED:email] for more"
    );
    assert_eq!(str_attr(&rel.attributes, "gen_ai.response.id"), reply.id);
    assert_eq!(str_attr(&rel.attributes, "obs.evaluation.evaluator"), "gpt-4o-mini-judge");
    assert!(
        !rel.attributes.contains_key("trace_id") && !rel.attributes.contains_key("span_id"),
        "{:?}",
        rel.attributes
    );
    let fmt = eval_records(&got, "format");
    let [fmt] = fmt.as_slice() else { panic!("one format record: {fmt:#?}") };
    assert_eq!(
        (fmt.trace_id.as_str(), fmt.span_id.as_str()),
        (agent_span.trace_id.as_str(), agent_span.span_id.as_str())
    );
    let fb = eval_records(&got, "user_feedback");
    assert_eq!(
        (fb[0].trace_id.as_str(), fb[0].span_id.as_str()),
        (chat_span.trace_id.as_str(), chat_span.span_id.as_str())
    );

    // Trace-only backends: a span event on the open agent span...
    let ev = agent_span.events.iter().find(|e| e.name == "gen_ai.evaluation.result").expect("span event");
    assert_eq!(str_attr(&ev.attributes, "gen_ai.evaluation.name"), "format");
    assert_eq!(str_attr(&ev.attributes, "gen_ai.evaluation.score.label"), "pass");
    // ... and zero-length child spans of the ended model span.
    let children: Vec<&Span> = got.spans.iter().filter(|s| s.name == "gen_ai.evaluation.result").collect();
    for c in &children {
        assert_eq!(
            (c.trace_id.as_str(), c.parent_id.as_str()),
            (chat_span.trace_id.as_str(), chat_span.span_id.as_str())
        );
        assert_eq!(c.kind, "SPAN_KIND_INTERNAL");
    }
    let mut names: Vec<&str> = children.iter().map(|c| str_attr(&c.attributes, "gen_ai.evaluation.name")).collect();
    names.sort_unstable();
    assert_eq!(names, ["relevance", "toxicity", "user_feedback"]);
}
