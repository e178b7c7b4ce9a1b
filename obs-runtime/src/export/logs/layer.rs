//! `obs_runtime::layer()`: what obs adds to an application's `tracing`
//! subscriber (W3C trace ids on spans, and log lines with the request, agent,
//! model, tool and trace ids of where they were emitted).
//!
//! The layer is a plain `tracing_subscriber::Layer` with per-layer filters, so
//! it composes with the application's own layers without changing what they
//! see: `registry().with(app_layers).with(obs_runtime::layer())`. Its settings
//! (format, filter, output) arrive when `init()` succeeds; before that it
//! assigns trace ids to the application's spans and writes no line.

use super::config::{LogFormat, LogSpans, MAX_VALUE_BYTES};
use super::writer::{write_timestamp, Msg};
use crate::context::{current_agent, Agent, RequestContext};
use crate::trace::TraceIds;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::OnceLock;
use std::time::SystemTime;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Where lines go and how they look, published once by a successful `init()`.
pub(crate) struct Sink {
    pub(crate) format: LogFormat,
    pub(crate) ansi: bool,
    pub(crate) tx: SyncSender<Msg>,
    pub(crate) queue_full: Option<crate::metrics::Counter>,
    pub(crate) filter: EnvFilter,
    /// Bytes of the lines in the queue (the writer subtracts what it wrote).
    pub(crate) queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// The queue's bound in bytes (`OBS_LOG_QUEUE_BYTES`).
    pub(crate) max_queued_bytes: usize,
}

/// Published at the end of a successful `init()` (which runs once per
/// process), so the hot path reads it with one load and no lock.
pub(crate) static SINK: OnceLock<Sink> = OnceLock::new();

/// `LogSpans` as a number, for the filters (`init()` may set it after the
/// layer was built).
static SPANS: AtomicU8 = AtomicU8::new(SPANS_NONE);
const SPANS_NONE: u8 = 0;
const SPANS_GENAI: u8 = 1;
const SPANS_ALL: u8 = 2;

pub(crate) fn set_spans(spans: LogSpans) {
    let v = match spans {
        LogSpans::None => SPANS_NONE,
        LogSpans::GenAi => SPANS_GENAI,
        LogSpans::All => SPANS_ALL,
    };
    SPANS.store(v, Ordering::Relaxed);
}

/// Whether a span was created by an obs macro (they all declare `obs.status`).
fn is_obs_span(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.fields().field(crate::semconv::OBS_STATUS).is_some()
}

/// Spans of instrumented calls are seen per `OBS_LOG_SPANS`; every other span
/// and every event is seen.
fn span_visible(meta: &Metadata<'_>) -> bool {
    if !is_obs_span(meta) {
        return true;
    }
    match SPANS.load(Ordering::Relaxed) {
        SPANS_NONE => false,
        SPANS_GENAI => meta.fields().field(crate::semconv::GEN_AI_OPERATION_NAME).is_some(),
        _ => true,
    }
}

/// The per-layer filter of obs's two parts. Before `init()`: spans only, at
/// `INFO` and above (the default filter), for trace ids. After: the
/// configured `RUST_LOG` directives. Interest is re-evaluated when `init()`
/// publishes the settings (`rebuild_interest_cache`).
pub(crate) struct ObsFilter {
    /// The trace-id part sees spans only.
    spans_only: bool,
}

impl ObsFilter {
    fn static_ok(&self, meta: &Metadata<'_>) -> bool {
        if self.spans_only {
            // Exported traces need every instrumented call's span; log
            // lines show them per `OBS_LOG_SPANS`.
            meta.is_span() && (crate::trace::exporting() || span_visible(meta))
        } else {
            span_visible(meta)
        }
    }

    /// Before `init()` publishes a filter: the trace-id part sees spans at
    /// INFO and above (the default filter), the log part nothing.
    fn before_init(&self, meta: &Metadata<'_>) -> bool {
        self.spans_only && *meta.level() <= tracing::Level::INFO
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Filter<S> for ObsFilter {
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if !self.static_ok(meta) {
            return false;
        }
        match SINK.get() {
            Some(sink) => Filter::<S>::enabled(&sink.filter, meta, cx),
            None => self.before_init(meta),
        }
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if !self.static_ok(meta) {
            return Interest::never();
        }
        match SINK.get() {
            Some(sink) => Filter::<S>::callsite_enabled(&sink.filter, meta),
            None if self.before_init(meta) => Interest::always(),
            None => Interest::never(),
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        match SINK.get() {
            Some(sink) => Filter::<S>::max_level_hint(&sink.filter),
            // The log part enables nothing before `init()`, but its hint must
            // not be lower than the span part's: the two filters' hints
            // combine to OFF in `and_then`, which would turn every span off
            // (the case of `OBS_EXPORTERS=otlp` alone, where no log sink is
            // ever published).
            None => Some(LevelFilter::INFO),
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, cx: Context<'_, S>) {
        if let Some(sink) = SINK.get() {
            Filter::<S>::on_new_span(&sink.filter, attrs, id, cx);
        }
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, cx: Context<'_, S>) {
        if let Some(sink) = SINK.get() {
            Filter::<S>::on_record(&sink.filter, id, values, cx);
        }
    }
    fn on_enter(&self, id: &Id, cx: Context<'_, S>) {
        if let Some(sink) = SINK.get() {
            Filter::<S>::on_enter(&sink.filter, id, cx);
        }
    }
    fn on_exit(&self, id: &Id, cx: Context<'_, S>) {
        if let Some(sink) = SINK.get() {
            Filter::<S>::on_exit(&sink.filter, id, cx);
        }
    }
    fn on_close(&self, id: Id, cx: Context<'_, S>) {
        if let Some(sink) = SINK.get() {
            Filter::<S>::on_close(&sink.filter, id, cx);
        }
    }
}

/// The `tracing` layer that carries what obs adds to spans and events: W3C
/// trace ids on spans (through `tracing-opentelemetry`) and obs's log lines
/// (JSON or console, with request, agent, model, tool and trace ids).
///
/// Add it to the application's own subscriber; `init()` (before or after)
/// then sends obs's lines through it instead of installing a subscriber of its
/// own. Both parts filter per layer, so the application's other layers see
/// exactly what they saw without it.
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
///
/// tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer()) // the application's own layers
///     .with(obs_runtime::layer())
///     .init();
/// let _obs = obs_runtime::init().expect("obs");
/// ```
pub fn layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // Calls mark themselves for the bridge from now on.
    crate::context::start_marking();
    let layer = crate::trace::layer()
        .with_filter(ObsFilter { spans_only: true })
        .and_then(LogLayer { dispatch: OnceLock::new() }.with_filter(ObsFilter { spans_only: false }))
        // GenAI spans of other libraries become obs calls, whatever the
        // filters above show (see `genai_bridge`).
        .and_then(crate::genai_bridge::layer(log_level_hint));
    // Open tool spans, for MCP clients (see `mcp::covering`).
    #[cfg(any(feature = "rmcp-3", feature = "rmcp-2"))]
    let layer = layer.and_then(crate::mcp::covering::layer());
    // The live view's runs, from obs's own spans while it is on (see `runs`).
    #[cfg(feature = "ui")]
    let layer = layer.and_then(crate::runs::layer(log_level_hint, true));
    layer
}

/// The level hint of obs's log filter (the configured `RUST_LOG` once
/// `init()` ran, `INFO` before).
fn log_level_hint() -> Option<LevelFilter> {
    match SINK.get() {
        Some(sink) => Filter::<tracing_subscriber::Registry>::max_level_hint(&sink.filter),
        None => Some(LevelFilter::INFO),
    }
}

/// Whether the subscriber in force here already carries obs's layer.
pub(crate) fn in_current_subscriber() -> bool {
    tracing::dispatcher::get_default(|d| d.is::<LogLayer>())
}

/// A field value, kept from a span or an event.
#[derive(Clone, Debug)]
enum Val {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

#[cfg(feature = "otlp")]
impl Val {
    fn to_otel(&self) -> opentelemetry::logs::AnyValue {
        use opentelemetry::logs::AnyValue;
        match self {
            Val::Str(s) => AnyValue::String(s.clone().into()),
            Val::I64(n) => AnyValue::Int(*n),
            Val::U64(n) => i64::try_from(*n).map_or_else(|_| AnyValue::Double(*n as f64), AnyValue::Int),
            Val::F64(n) => AnyValue::Double(*n),
            Val::Bool(b) => AnyValue::Boolean(*b),
        }
    }
}

// Log lines and exported spans keep the same length of a value.
const _: () = assert!(MAX_VALUE_BYTES == crate::trace::MAX_ATTRIBUTE_BYTES);

fn truncated(s: &str) -> String {
    if s.len() <= MAX_VALUE_BYTES {
        return s.to_string();
    }
    let mut end = MAX_VALUE_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut t = s[..end].to_string();
    t.push('…');
    t
}

/// The name a span field has in log lines; `None` hides it. Instrumented
/// spans show their agent, model, tool (and function) under stable names and
/// the user's `fields(...)`; their other attributes are for traces, not logs.
fn span_key(name: &'static str, obs: bool) -> Option<&'static str> {
    match name {
        crate::semconv::GEN_AI_AGENT_NAME => Some("agent"),
        crate::semconv::GEN_AI_REQUEST_MODEL => Some("model"),
        crate::semconv::GEN_AI_TOOL_NAME => Some("tool"),
        crate::semconv::CODE_FUNCTION if obs => Some("function"),
        n if n.starts_with("otel.") => None,
        n if obs
            && (n.starts_with("gen_ai.")
                || n.starts_with("code.")
                || n.starts_with("obs.")
                || n.starts_with("server.")
                || n == crate::semconv::ERROR_TYPE) =>
        {
            None
        }
        n => Some(n),
    }
}

/// What a span contributes to the lines inside it.
struct SpanFields {
    obs: bool,
    fields: Vec<(&'static str, Val)>,
    request: Option<RequestContext>,
}

impl SpanFields {
    fn set(&mut self, field: &Field, v: Val) {
        let Some(key) = span_key(field.name(), self.obs) else { return };
        if matches!(&v, Val::Str(s) if s.is_empty()) && matches!(key, "agent" | "model" | "tool") {
            return;
        }
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = v,
            None => self.fields.push((key, v)),
        }
    }
}

/// An event's message and fields.
#[derive(Default)]
struct EventFields {
    message: String,
    fields: Vec<(&'static str, Val)>,
}

impl EventFields {
    /// The ids of the span an event is about, when it names one with
    /// `trace_id` and `span_id` fields (an evaluation of a past call): they
    /// leave the fields and become the line's and the record's ids.
    fn take_about(&mut self) -> Option<TraceIds> {
        let hex = |key: &str| {
            self.fields.iter().find_map(|(k, v)| match v {
                Val::Str(s) if *k == key => Some(s.clone()),
                _ => None,
            })
        };
        let trace_id = opentelemetry::trace::TraceId::from_hex(&hex("trace_id")?).ok()?;
        let span_id = opentelemetry::trace::SpanId::from_hex(&hex("span_id")?).ok()?;
        if trace_id == opentelemetry::trace::TraceId::INVALID || span_id == opentelemetry::trace::SpanId::INVALID {
            return None;
        }
        self.fields.retain(|(k, _)| *k != "trace_id" && *k != "span_id");
        Some(TraceIds { trace_id, span_id, sampled: true })
    }

    fn set(&mut self, f: &Field, v: Val) {
        if f.name() == "message" {
            self.message = match v {
                Val::Str(s) => s,
                other => {
                    let mut s = String::new();
                    write_console_value(&mut s, &other);
                    s
                }
            };
        } else if !f.name().starts_with("log.") {
            self.fields.push((f.name(), v));
        }
    }
}

/// Span and event fields turn every `tracing` value into a `Val` the same
/// way; only where they keep it (`set`) differs.
macro_rules! visit_into_val {
    ($($t:ty),*) => {$(
        impl Visit for $t {
            fn record_str(&mut self, f: &Field, v: &str) {
                self.set(f, Val::Str(truncated(v)));
            }
            fn record_i64(&mut self, f: &Field, v: i64) {
                self.set(f, Val::I64(v));
            }
            fn record_u64(&mut self, f: &Field, v: u64) {
                self.set(f, Val::U64(v));
            }
            fn record_f64(&mut self, f: &Field, v: f64) {
                self.set(f, Val::F64(v));
            }
            fn record_bool(&mut self, f: &Field, v: bool) {
                self.set(f, Val::Bool(v));
            }
            fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
                self.set(f, Val::Str(truncated(&format!("{v:?}"))));
            }
        }
    )*};
}

visit_into_val!(SpanFields, EventFields);

/// Formats events and hands the lines to the writer thread of the sink
/// `init()` published; writes nothing before that.
pub(crate) struct LogLayer {
    dispatch: OnceLock<tracing::dispatcher::WeakDispatch>,
}

/// The keys of the context part of a line, in order.
const CONTEXT_KEYS: [&str; 8] =
    ["request_id", "user_id", "tenant_id", "conversation_id", "agent", "model", "tool", "function"];

impl LogLayer {
    fn send(sink: &Sink, line: String) {
        // Bounded in bytes as well as in lines: long lines into a stalled
        // output must not hold more than the byte budget.
        let n = line.len();
        let before = sink.queued.fetch_add(n, Ordering::Relaxed);
        let sent = before + n <= sink.max_queued_bytes && sink.tx.try_send(Msg::Line(line.into_bytes())).is_ok();
        if !sent {
            sink.queued.fetch_sub(n, Ordering::Relaxed);
            if let Some(c) = &sink.queue_full {
                c.increment(1);
            }
        }
    }

    fn ids_of(&self, id: &Id) -> Option<TraceIds> {
        crate::trace::ids_of_id(&self.dispatch, id)
    }
}

impl<S> Layer<S> for LogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields =
            SpanFields { obs: is_obs_span(attrs.metadata()), fields: Vec::new(), request: RequestContext::current() };
        attrs.record(&mut fields);
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(fields) = ext.get_mut::<SpanFields>() {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(sink) = SINK.get() else { return };
        let now = SystemTime::now();
        let mut ev = EventFields::default();
        event.record(&mut ev);

        // Span fields, innermost first; the first occurrence of a name wins.
        let mut span_fields: Vec<(&'static str, Val)> = Vec::new();
        let mut request = RequestContext::current();
        let mut ids: Option<TraceIds> = None;
        #[cfg(feature = "otlp")]
        let otlp = crate::export::otlp::logs::active();
        #[cfg(not(feature = "otlp"))]
        let otlp = false;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                if ids.is_none() && (sink.format == LogFormat::Json || otlp) {
                    ids = self.ids_of(&span.id());
                }
                let ext = span.extensions();
                if let Some(f) = ext.get::<SpanFields>() {
                    if request.is_none() {
                        request.clone_from(&f.request);
                    }
                    for (k, v) in &f.fields {
                        if !span_fields.iter().any(|(k2, _)| k2 == k) {
                            span_fields.push((k, v.clone()));
                        }
                    }
                }
            }
        }
        // Only a named event (`name: ".."`, an obs event such as an
        // evaluation) can name the span it is about; a plain event's
        // `trace_id` field stays a field.
        if !event.metadata().name().starts_with("event ") {
            if let Some(about) = ev.take_about() {
                ids = Some(about);
            }
        }
        // The current agent first: it is the same whichever spans this
        // format shows (console hides obs's agent spans, so a foreign agent
        // span around them would otherwise name the line in console only).
        let agent = current_agent();
        if agent != Agent::NONE {
            match span_fields.iter_mut().find(|(k, _)| *k == "agent") {
                Some(slot) => slot.1 = Val::Str(agent.name().to_string()),
                None => span_fields.push(("agent", Val::Str(agent.name().to_string()))),
            }
        }

        // The context part: request ids, then the stable span names.
        let mut context: Vec<(&'static str, Val)> = Vec::new();
        if let Some(rc) = &request {
            for (k, v) in rc.fields() {
                context.push((k, Val::Str(truncated(v))));
            }
        }
        for key in &CONTEXT_KEYS[4..] {
            if let Some((_, v)) = span_fields.iter().find(|(k, _)| k == key) {
                context.push((key, v.clone()));
            }
        }
        if let Some(ids) = ids {
            context.push(("trace_id", Val::Str(ids.trace_id.to_string())));
            context.push(("span_id", Val::Str(ids.span_id.to_string())));
        }
        let rest = span_fields.iter().filter(|(k, _)| !CONTEXT_KEYS.contains(k));

        let meta = event.metadata();
        // An event's field wins over the context's of the same name (a
        // failure line's own `agent`, not the caller's), in every format.
        let event_keys: Vec<&str> = ev.fields.iter().map(|(k, _)| *k).collect();
        #[cfg(feature = "otlp")]
        if otlp {
            let attributes = context
                .iter()
                .filter(|(k, _)| !event_keys.contains(k) && *k != "trace_id" && *k != "span_id")
                .chain(ev.fields.iter())
                .chain(rest.clone().filter(|(k, _)| !event_keys.contains(k)))
                .map(|(k, v)| (*k, v.to_otel()));
            // An event given a name (`name: "gen_ai.evaluation.result"`)
            // keeps it as the record's event name; `tracing` names the
            // others `event file:line`.
            let event_name = Some(meta.name()).filter(|n| !n.starts_with("event "));
            crate::export::otlp::logs::emit(meta.level(), meta.target(), &ev.message, now, attributes, ids, event_name);
        }
        let mut line = String::with_capacity(256);
        match sink.format {
            LogFormat::Json => {
                let mut seen: Vec<&str> = vec!["timestamp", "level", "target", "message"];
                line.push_str("{\"timestamp\":\"");
                write_timestamp(&mut line, now);
                line.push_str("\",\"level\":\"");
                line.push_str(meta.level().as_str());
                line.push_str("\",\"target\":");
                write_json_str(&mut line, meta.target());
                line.push_str(",\"message\":");
                write_json_str(&mut line, &ev.message);
                for (k, v) in context.iter().filter(|(k, _)| !event_keys.contains(k)) {
                    write_json_pair(&mut line, &mut seen, k, v);
                }
                for (k, v) in &ev.fields {
                    write_json_pair(&mut line, &mut seen, k, v);
                }
                for (k, v) in rest {
                    write_json_pair(&mut line, &mut seen, k, v);
                }
                line.push_str("}\n");
            }
            LogFormat::Console => {
                let (dim, reset) = if sink.ansi { ("\x1b[2m", "\x1b[0m") } else { ("", "") };
                line.push_str(dim);
                write_timestamp(&mut line, now);
                line.push_str(reset);
                let (color, level) = match *meta.level() {
                    tracing::Level::ERROR => ("\x1b[31m", "ERROR"),
                    tracing::Level::WARN => ("\x1b[33m", " WARN"),
                    tracing::Level::INFO => ("\x1b[32m", " INFO"),
                    tracing::Level::DEBUG => ("\x1b[34m", "DEBUG"),
                    tracing::Level::TRACE => ("\x1b[35m", "TRACE"),
                };
                line.push(' ');
                if sink.ansi {
                    line.push_str(color);
                }
                line.push_str(level);
                line.push_str(reset);
                line.push(' ');
                line.push_str(dim);
                line.push_str(meta.target());
                line.push(':');
                line.push_str(reset);
                if !ev.message.is_empty() {
                    line.push(' ');
                    push_console_text(&mut line, &ev.message);
                }
                for (k, v) in &ev.fields {
                    let _ = write!(line, " {k}=");
                    write_console_value(&mut line, v);
                }
                let mut ctx_iter = context
                    .iter()
                    .filter(|(k, _)| *k != "trace_id" && *k != "span_id")
                    .chain(rest)
                    .filter(|(k, _)| !event_keys.contains(k));
                if let Some((k, v)) = ctx_iter.next() {
                    let _ = write!(line, " {dim}{k}=");
                    write_console_value(&mut line, v);
                    for (k, v) in ctx_iter {
                        let _ = write!(line, " {k}=");
                        write_console_value(&mut line, v);
                    }
                    line.push_str(reset);
                }
                line.push('\n');
            }
        }
        LogLayer::send(sink, line);
    }
}

fn write_json_pair(out: &mut String, seen: &mut Vec<&'static str>, k: &'static str, v: &Val) {
    if seen.contains(&k) {
        return;
    }
    seen.push(k);
    out.push(',');
    write_json_str(out, k);
    out.push(':');
    match v {
        Val::Str(s) => write_json_str(out, s),
        Val::I64(n) => {
            let _ = write!(out, "{n}");
        }
        Val::U64(n) => {
            let _ = write!(out, "{n}");
        }
        Val::F64(f) if f.is_finite() => {
            let _ = write!(out, "{f}");
        }
        Val::F64(f) => write_json_str(out, &f.to_string()),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

fn write_json_str(out: &mut String, s: &str) {
    crate::json::write_str(out, s)
}

/// Characters a terminal must not receive raw: C0 and C1 controls (escape
/// sequences, line breaks), and the invisible format characters that reorder
/// or hide text (bidi overrides and isolates such as U+202E, marks, zero
/// widths, the BOM), with which a value could make a line read as another.
pub(crate) fn unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Console text: control and bidi characters escaped (`\u{202e}`), so a
/// value can neither forge a line nor display as other text.
fn push_console_text(out: &mut String, s: &str) {
    for c in s.chars() {
        if unsafe_for_terminal(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
}

fn write_console_value(out: &mut String, v: &Val) {
    match v {
        Val::Str(s)
            if !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c == '"' || unsafe_for_terminal(c)) =>
        {
            out.push_str(s)
        }
        Val::Str(s) => {
            // Quoted, with `"`, `\` and every character unsafe for a terminal
            // escaped (`Debug` alone lets some format characters through).
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' | '\\' => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if unsafe_for_terminal(c) => {
                        let _ = write!(out, "{}", c.escape_default());
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Val::I64(n) => {
            let _ = write!(out, "{n}");
        }
        Val::U64(n) => {
            let _ = write!(out, "{n}");
        }
        Val::F64(f) => {
            let _ = write!(out, "{f}");
        }
        Val::Bool(b) => {
            let _ = write!(out, "{b}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        write_json_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
    }

    /// The run store's layer, collecting or not, never lowers the level
    /// hint of obs's layer: a lower one (it once said `OFF` while off)
    /// made `tracing` drop obs's own log lines.
    #[cfg(feature = "ui")]
    #[test]
    fn the_run_store_never_lowers_the_level_hint() {
        use tracing::Subscriber as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        for on in [false, true] {
            crate::runs::set_collecting(on);
            let sub = tracing_subscriber::registry().with(layer());
            assert_eq!(sub.max_level_hint(), Some(LevelFilter::INFO), "collecting: {on}");
        }
    }

    #[test]
    fn long_values_are_cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_VALUE_BYTES);
        let t = truncated(&long);
        assert!(t.len() <= MAX_VALUE_BYTES + '…'.len_utf8());
        assert!(t.ends_with('…'));
    }
}
