//! Evaluations: a score and/or a label for a call, from an LLM judge, a
//! rule, a test set or a user, recorded when the verdict is known: inside the
//! call, after it, or days later in another process.
//!
//! Each evaluation is the OpenTelemetry GenAI event `gen_ai.evaluation.result`
//! (attributes `gen_ai.evaluation.name`, `gen_ai.evaluation.score.value`,
//! `gen_ai.evaluation.score.label`, `gen_ai.evaluation.explanation`,
//! `gen_ai.response.id`, `error.type` when the evaluation itself failed, and
//! obs's `obs.evaluation.evaluator`), written:
//!
//! * as a log line on target `obs_runtime::eval` at INFO (JSON or console,
//!   per `OBS_LOG_FORMAT`) with the judged call's `trace_id` and `span_id`,
//!   and, with the OTLP exporter, as an OTLP log record of event name
//!   `gen_ai.evaluation.result` whose trace and span ids are the judged
//!   span's: the conventions' form (events are log records);
//! * for trace-only backends (Phoenix, MLflow, Jaeger), on the trace too: as
//!   a span event of the judged span while it is still open (an evaluation
//!   recorded inside the call), else as a zero-length child span of it named
//!   `gen_ai.evaluation.result` with the same attributes (as genai 0.7 does);
//! * as series, obs's own (the conventions define no evaluation metric):
//!   `evaluation_score{evaluation, agent, model}` (a histogram of the
//!   scores) and `evaluations_total{evaluation, agent, model, label}` (`label`
//!   is `none` without one, `error` for a failed evaluation). The label
//!   `fail` is what the generated rules and dashboard count as a failure.
//!
//! Names and labels are metric labels, so they are bounded like any other:
//! [`crate::LabelValue`]s (`&'static str`, your enums), under the registry's
//! cardinality limit. The explanation is redacted and cut like captured
//! content (the free-text detectors, then `OBS_CAPTURE_MAX_BYTES`).
//!
//! Which call an evaluation judges, and its `agent` and `model` labels:
//!
//! | method | judged call | `agent`, `model` |
//! |---|---|---|
//! | [`Evaluation::record`] | the current span (an agent run, a tool...) | the current agent, `none` |
//! | [`Evaluation::record_for_response`] | the model call with that response id, from the ledger | the call's |
//! | [`Evaluation::record_for_span`] | the model call with those trace and span ids, from the ledger | the call's |
//! | [`Evaluation::record_with_token`] | the call a [`FeedbackToken`] names, in any process | the token's |
//!
//! ```
//! use obs_runtime::eval::Evaluation;
//! obs_runtime::testing::enable();
//! // An LLM judge's verdict on the current agent run.
//! Evaluation::new("relevance")
//!     .score(0.8)
//!     .label("pass")
//!     .explanation("answers the question; cites the FAQ")
//!     .evaluator("gpt-4o-mini-judge")
//!     .record()
//!     .unwrap();
//! let m = obs_runtime::testing::snapshot();
//! let labels = [("evaluation", "relevance"), ("agent", "none"), ("model", "none"), ("label", "pass")];
//! assert_eq!(m.counter("evaluations_total", &labels), Some(1));
//! ```
//!
//! Before `init()` (or `testing::enable()`) an evaluation records nothing,
//! as instrumented calls do, and returns `Ok`.

#[cfg(feature = "redact-hash")]
mod token;

#[cfg(feature = "redact-hash")]
pub(crate) use token::check_key as check_feedback_key;
#[cfg(feature = "redact-hash")]
pub use token::{set_feedback_key, FeedbackKeyError, FeedbackToken, TokenError, MAX_TOKEN_LEN};

use crate::context::current_agent;
use crate::labels::LabelValue;
use crate::ledger::{CallRecord, SpanRef};
use crate::metrics::cells::shard;
use crate::metrics::names;
use std::borrow::Cow;
use std::fmt;

/// The `model` label of an evaluation that judges no model call.
pub const NO_MODEL: &str = "none";

/// Longest evaluator name kept, in bytes (longer ones are cut).
pub const MAX_EVALUATOR_BYTES: usize = 256;

/// The OpenTelemetry event name.
pub const EVENT_NAME: &str = "gen_ai.evaluation.result";

/// One evaluation, built then recorded with one of the `record*` methods.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "an evaluation is recorded by one of its `record*` methods"]
pub struct Evaluation {
    name: &'static str,
    score: Option<f64>,
    label: Option<&'static str>,
    explanation: Option<String>,
    evaluator: Option<String>,
    error_type: Option<&'static str>,
}

/// Why an evaluation was not recorded.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EvalError {
    /// The evaluation's name is empty.
    EmptyName,
    /// Neither a score, a label nor an error was given.
    Empty {
        /// The evaluation's name.
        name: String,
    },
    /// The score is NaN or infinite.
    InvalidScore(f64),
    /// No model call with this response id is in the ledger (it never
    /// reported one, or it is older than the ledger's capacity).
    UnknownResponse(String),
    /// The trace or span id is not 32 or 16 hex digits (or is all zeros).
    InvalidIds,
    /// No model call with these ids is in the ledger.
    UnknownSpan,
    /// The feedback token cannot be used.
    #[cfg(feature = "redact-hash")]
    Token(TokenError),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values come from outside: shown cut and through the detectors.
        let shown = |s: &str| crate::redact::scan(&crate::metrics::registry::cut(s, 80)).into_owned();
        match self {
            EvalError::EmptyName => f.write_str("an evaluation needs a name, e.g. Evaluation::new(\"relevance\")"),
            EvalError::Empty { name } => write!(
                f,
                "evaluation `{}` has no score, label or error: add .score(x), .label(\"pass\") or .failed(\"timeout\")",
                shown(name)
            ),
            EvalError::InvalidScore(v) => write!(f, "evaluation score {v} is not a finite number"),
            EvalError::UnknownResponse(id) => write!(
                f,
                "no model call with response id `{}` in the ledger (it keeps the last OBS_LEDGER_CAPACITY calls of this process); for feedback later or elsewhere, hand out a FeedbackToken at the time of the call",
                shown(id)
            ),
            EvalError::InvalidIds => {
                f.write_str("a trace id is 32 hex digits and a span id 16, not all zeros (as in a W3C traceparent)")
            }
            EvalError::UnknownSpan => f.write_str(
                "no model call with this trace and span id in the ledger (it keeps the last OBS_LEDGER_CAPACITY calls of this process); for feedback later or elsewhere, hand out a FeedbackToken at the time of the call",
            ),
            #[cfg(feature = "redact-hash")]
            EvalError::Token(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for EvalError {}

/// The call an evaluation judges.
struct Judged {
    agent: Cow<'static, str>,
    model: Cow<'static, str>,
    response_id: Option<String>,
    span: Option<SpanRef>,
    /// The span itself, when it is still open (an evaluation inside the call).
    #[cfg_attr(not(feature = "logs"), allow(dead_code))]
    open: Option<tracing::Span>,
}

impl Judged {
    fn of_record(r: &CallRecord) -> Judged {
        Judged {
            agent: Cow::Borrowed(r.agent),
            model: Cow::Borrowed(r.model),
            response_id: r.response_id.as_deref().map(str::to_string),
            span: r.span,
            open: None,
        }
    }
}

impl Evaluation {
    /// An evaluation named `name` (`gen_ai.evaluation.name`, the
    /// `evaluation` label): `relevance`, `faithfulness`, `user_feedback`.
    pub fn new(name: impl LabelValue) -> Evaluation {
        Evaluation {
            name: name.label_value(),
            score: None,
            label: None,
            explanation: None,
            evaluator: None,
            error_type: None,
        }
    }

    /// The score (`gen_ai.evaluation.score.value`), any finite number: 0 to 1
    /// for a judge's probability, 1 to 5 for a rating.
    pub fn score(mut self, value: f64) -> Evaluation {
        self.score = Some(value);
        self
    }

    /// The label (`gen_ai.evaluation.score.label`, the `label` label): a
    /// small fixed set such as `pass` / `fail` or `relevant` / `irrelevant`.
    /// `fail` counts as a failure in the generated rules and dashboard.
    pub fn label(mut self, label: impl LabelValue) -> Evaluation {
        self.label = Some(label.label_value());
        self
    }

    /// The label `pass` or `fail`.
    pub fn passed(self, pass: bool) -> Evaluation {
        self.label(if pass { "pass" } else { "fail" })
    }

    /// Why (`gen_ai.evaluation.explanation`): redacted by the free-text
    /// detectors and cut to `OBS_CAPTURE_MAX_BYTES`, as captured content is.
    pub fn explanation(mut self, text: &str) -> Evaluation {
        self.explanation = Some(crate::redact::prepare_content(text, crate::redact::capture_max_bytes()));
        self
    }

    /// Who or what evaluated (`obs.evaluation.evaluator`: a judge model, a
    /// rule, `user`); redacted and cut to [`MAX_EVALUATOR_BYTES`].
    pub fn evaluator(mut self, who: &str) -> Evaluation {
        let cut = crate::metrics::registry::cut(who, MAX_EVALUATOR_BYTES);
        self.evaluator = Some(crate::redact::scan(&cut).into_owned());
        self
    }

    /// The evaluation itself failed (`error.type`: the judge timed out, its
    /// answer did not parse): counted with `label="error"`, without a score.
    pub fn failed(mut self, error_type: impl LabelValue) -> Evaluation {
        self.error_type = Some(error_type.label_value());
        self
    }

    /// Records it for the current call: the current span (an open span gets
    /// the event), the current agent, and `model="none"` (an agent's run may
    /// use several models; judge one model's answer with
    /// [`Evaluation::record_for_response`]).
    pub fn record(self) -> Result<(), EvalError> {
        let span = tracing::Span::current();
        #[cfg(feature = "logs")]
        let ids = SpanRef::of(&span);
        #[cfg(not(feature = "logs"))]
        let ids = None;
        let judged = Judged {
            agent: Cow::Borrowed(current_agent().name()),
            model: Cow::Borrowed(NO_MODEL),
            response_id: None,
            span: ids,
            open: Some(span),
        };
        self.emit(judged)
    }

    /// Records it for the model call that returned the response `id` (its
    /// [`crate::usage::LlmUsage::response_id`]), found in the ledger of
    /// recent calls: its agent, model and span.
    pub fn record_for_response(self, id: &str) -> Result<(), EvalError> {
        self.check()?;
        let r = crate::ledger::find_response(id).ok_or_else(|| EvalError::UnknownResponse(id.to_string()))?;
        self.emit(Judged::of_record(&r))
    }

    /// Records it for the model call whose span has these W3C ids (32 and 16
    /// hex digits), found in the ledger of recent calls.
    pub fn record_for_span(self, trace_id: &str, span_id: &str) -> Result<(), EvalError> {
        self.check()?;
        let ids = SpanRef::parse(trace_id, span_id).ok_or(EvalError::InvalidIds)?;
        let r = crate::ledger::find_span(ids.trace_id, ids.span_id).ok_or(EvalError::UnknownSpan)?;
        self.emit(Judged::of_record(&r))
    }

    /// Records it for the call a feedback token names (one
    /// [`FeedbackToken::to_string`] gave, in this process or another with the
    /// same feedback key): its agent, model and trace. Nothing else is
    /// looked up, so it works days later, after a restart, elsewhere.
    #[cfg(feature = "redact-hash")]
    pub fn record_with_token(self, token: &str) -> Result<(), EvalError> {
        self.check()?;
        let t: FeedbackToken = token.parse().map_err(EvalError::Token)?;
        let (agent, model, response_id, span) = t.into_parts();
        self.emit(Judged { agent: Cow::Owned(agent), model: Cow::Owned(model), response_id, span, open: None })
    }

    fn check(&self) -> Result<(), EvalError> {
        if self.name.is_empty() {
            return Err(EvalError::EmptyName);
        }
        if let Some(v) = self.score.filter(|v| !v.is_finite()) {
            return Err(EvalError::InvalidScore(v));
        }
        if self.score.is_none() && self.label.is_none() && self.error_type.is_none() {
            return Err(EvalError::Empty { name: self.name.to_string() });
        }
        Ok(())
    }

    fn emit(self, judged: Judged) -> Result<(), EvalError> {
        self.check()?;
        if !crate::call::enabled() {
            return Ok(());
        }
        let label = match (self.error_type, self.label) {
            (Some(_), _) => "error",
            (None, Some(l)) => l,
            (None, None) => "none",
        };
        let (agent, model) = (&*judged.agent, &*judged.model);
        let s = shard();
        let labels = [("evaluation", self.name), ("agent", agent), ("model", model)];
        names::EVALUATIONS.family().series(&[labels[0], labels[1], labels[2], ("label", label)]).counter().add(s, 1);
        if let (Some(v), None) = (self.score, self.error_type) {
            names::EVAL_SCORE.family().series(&labels).histogram().record_f64(s, v);
        }
        self.log(&judged);
        #[cfg(feature = "logs")]
        self.trace(&judged);
        Ok(())
    }

    /// The log line (and OTLP log record) of the event.
    fn log(&self, j: &Judged) {
        let trace_id = j.span.map(|s| s.trace_id_hex());
        let span_id = j.span.map(|s| s.span_id_hex());
        let mut message = format!("evaluation {}", self.name);
        if let Some(v) = self.score {
            message.push_str(&format!(": score {v}"));
        }
        if let Some(l) = self.label {
            message.push_str(&format!(", label {l}"));
        }
        if let Some(e) = self.error_type {
            message.push_str(&format!(": failed ({e})"));
        }
        tracing::event!(
            name: "gen_ai.evaluation.result",
            target: "obs_runtime::eval",
            tracing::Level::INFO,
            gen_ai.evaluation.name = self.name,
            gen_ai.evaluation.score.value = self.score,
            gen_ai.evaluation.score.label = self.label,
            gen_ai.evaluation.explanation = self.explanation.as_deref(),
            gen_ai.response.id = j.response_id.as_deref(),
            error.type = self.error_type,
            obs.evaluation.evaluator = self.evaluator.as_deref(),
            agent = &*j.agent,
            model = &*j.model,
            trace_id = trace_id.as_deref(),
            span_id = span_id.as_deref(),
            "{message}"
        );
    }

    /// The event on the trace: on the judged span while it is open, else on
    /// a zero-length child of it. Only when spans are exported.
    #[cfg(feature = "logs")]
    fn trace(&self, j: &Judged) {
        use opentelemetry::KeyValue;
        if !crate::trace::exporting() {
            return;
        }
        let mut attrs = vec![KeyValue::new("gen_ai.evaluation.name", self.name)];
        if let Some(v) = self.score {
            attrs.push(KeyValue::new("gen_ai.evaluation.score.value", v));
        }
        if let Some(l) = self.label {
            attrs.push(KeyValue::new("gen_ai.evaluation.score.label", l));
        }
        if let Some(e) = &self.explanation {
            attrs.push(KeyValue::new("gen_ai.evaluation.explanation", e.clone()));
        }
        if let Some(r) = &j.response_id {
            attrs.push(KeyValue::new("gen_ai.response.id", r.clone()));
        }
        if let Some(e) = self.error_type {
            attrs.push(KeyValue::new("error.type", e));
        }
        if let Some(e) = &self.evaluator {
            attrs.push(KeyValue::new("obs.evaluation.evaluator", e.clone()));
        }
        match (&j.open, j.span) {
            (Some(open), Some(_)) => {
                use tracing_opentelemetry::OpenTelemetrySpanExt as _;
                open.add_event(EVENT_NAME, attrs);
            }
            (None, Some(parent)) => child_span(parent, attrs),
            _ => {}
        }
    }
}

/// A zero-length span `gen_ai.evaluation.result` under the (ended) span
/// `parent`, sampled as its trace was.
#[cfg(feature = "logs")]
fn child_span(parent: SpanRef, attrs: Vec<opentelemetry::KeyValue>) {
    use opentelemetry::trace::{
        Span as _, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState, Tracer as _,
        TracerProvider as _,
    };
    let flags = if parent.sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
    let sc = SpanContext::new(
        TraceId::from_bytes(parent.trace_id),
        SpanId::from_bytes(parent.span_id),
        flags,
        true,
        TraceState::default(),
    );
    let cx = opentelemetry::Context::new().with_remote_span_context(sc);
    let tracer = crate::trace::provider().tracer("obs");
    let mut span = tracer
        .span_builder(EVENT_NAME)
        .with_kind(SpanKind::Internal)
        .with_attributes(attrs)
        .start_with_context(&tracer, &cx);
    span.end();
}
