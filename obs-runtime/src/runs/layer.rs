//! The layer that collects runs from obs's spans: part of
//! [`crate::layer()`], behind a per-layer filter that has no interest in any
//! callsite while collection is off.
//!
//! While on, it sees the spans of instrumented calls (they declare
//! `obs.status`) and the failure lines (target `errors`, which carry the
//! error's message), and nothing else. A span's fields, as the call path
//! records them for traces, go into the call's node, kept in the span's
//! extensions while it is open; when it closes the node is handed to its
//! run. A call belongs to the run of the nearest instrumented call it was
//! created inside (`tracing`'s parent, skipping other spans); one created
//! outside any run starts its own when it is an agent, model or tool call.

use super::{elapsed_ns, failures, next_run_id, open_run, Extra, Header, Kind, Node, RunCell};
use crate::context::{current_agent, Agent, RequestContext};
use crate::status::Status;
use std::sync::{Arc, OnceLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The run-store layer with its filter; `log_hint` is the log filter's
/// level hint (see [`RunsFilter::max_level_hint`]); `trace_ids`: whether the
/// subscriber gives spans OpenTelemetry ids (obs's layer does; the layer
/// alone, as `init()` installs it without logs, does not), so runs record
/// them.
pub(crate) fn layer<S>(log_hint: fn() -> Option<LevelFilter>, trace_ids: bool) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    RunsLayer { dispatch: OnceLock::new(), trace_ids }.with_filter(RunsFilter { log_hint })
}

/// Spans of instrumented calls, and failure lines.
fn wanted(meta: &Metadata<'_>) -> bool {
    if meta.is_span() {
        meta.fields().field(crate::semconv::OBS_STATUS).is_some()
    } else {
        meta.target() == "errors" && meta.fields().field("error.message").is_some()
    }
}

struct RunsFilter {
    log_hint: fn() -> Option<LevelFilter>,
}

impl<S> Filter<S> for RunsFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        super::collecting() && wanted(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if super::collecting() && wanted(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    /// The log filter's hint raised to `INFO` (the level of instrumented
    /// calls' spans), on or off, as the GenAI bridge's: `tracing` combines
    /// the per-layer hints so that a lower one (`OFF` while off) would
    /// disable the log lines, and a higher one would cost every disabled
    /// `debug!` a check. A `#[traced(level = "debug")]` call is then kept
    /// only when the log filter enables debug.
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some((self.log_hint)().map_or(LevelFilter::INFO, |h| h.max(LevelFilter::INFO)))
    }
}

/// Whether the subscriber in force here carries the run store's layer
/// (obs's layer, or the one `init()` installs for the view alone).
pub(crate) fn in_current_subscriber() -> bool {
    tracing::dispatcher::get_default(|d| d.is::<RunsLayer>())
}

struct RunsLayer {
    dispatch: OnceLock<tracing::dispatcher::WeakDispatch>,
    /// Without ids, `on_enter` has nothing to read: it returns at once
    /// rather than look up every root's ids on every poll.
    trace_ids: bool,
}

/// Where an open call belongs.
#[derive(Clone)]
enum Place {
    /// In a run: its index there.
    Run { run: Arc<RunCell>, index: u64 },
    /// In a run the store had no room for.
    Dropped,
    /// In no run (a `#[traced]` function outside any agent): calls inside
    /// it may start runs of their own.
    Outside,
}

/// An open call: kept in its span's extensions until it closes.
struct Open {
    place: Place,
    root: bool,
    start: quanta::Instant,
    /// Boxed from the start: it moves into its run as it is.
    node: Box<Node>,
}

/// The kind of a span, from its `gen_ai.operation.name` (a first pass over
/// its fields, so the second keeps only its own name field, unallocated
/// until then).
struct KindOf(Kind);

impl Visit for KindOf {
    fn record_str(&mut self, f: &Field, v: &str) {
        if f.name() == crate::semconv::GEN_AI_OPERATION_NAME {
            self.0 = Kind::of_operation(v);
        }
    }
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        if f.name() == crate::semconv::GEN_AI_OPERATION_NAME {
            self.0 = Kind::of_operation(&format!("{v:?}"));
        }
    }
}

/// The field that names a call of each kind.
fn name_field(kind: Kind) -> &'static str {
    match kind {
        Kind::Agent => crate::semconv::GEN_AI_AGENT_NAME,
        Kind::Model => crate::semconv::GEN_AI_REQUEST_MODEL,
        Kind::Tool => crate::semconv::GEN_AI_TOOL_NAME,
        Kind::Function => crate::semconv::CODE_FUNCTION,
    }
}

/// Receives a span's or an event's fields into a node.
struct Fields<'a> {
    node: &'a mut Node,
    /// At creation: the field that names the call.
    name_field: Option<&'static str>,
}

impl Fields<'_> {
    fn str(&mut self, name: &str, v: &str) {
        use crate::semconv as c;
        if self.name_field == Some(name) {
            if !v.is_empty() {
                self.node.name = crate::metrics::registry::cut(v, super::MAX_NAME).into();
            }
            return;
        }
        let n = &mut *self.node;
        match name {
            c::OBS_STATUS => n.status = parse_status(v),
            c::OBS_USAGE => {
                n.usage = match v {
                    "missing" => Some("missing"),
                    "incomplete" => Some("incomplete"),
                    _ => None,
                }
            }
            c::ERROR_TYPE => n.set_extra(Extra::ErrorType, v),
            c::GEN_AI_PROVIDER_NAME => n.set_extra(Extra::Provider, v),
            c::GEN_AI_RESPONSE_MODEL => n.set_extra(Extra::ResponseModel, v),
            c::GEN_AI_RESPONSE_FINISH_REASONS => n.set_extra(Extra::FinishReasons, v),
            c::GEN_AI_INPUT_MESSAGES | c::GEN_AI_TOOL_CALL_ARGUMENTS => n.set_extra(Extra::Input, v),
            c::GEN_AI_OUTPUT_MESSAGES | c::GEN_AI_TOOL_CALL_RESULT => n.set_extra(Extra::Output, v),
            // A failure line's fields.
            "error.message" => n.set_extra(Extra::ErrorMessage, v),
            "function" => n.set_extra(Extra::Function, v),
            _ => {}
        }
    }

    fn u64(&mut self, name: &str, v: u64) {
        use crate::semconv as c;
        let i = match name {
            c::GEN_AI_USAGE_INPUT_TOKENS => 0,
            c::GEN_AI_USAGE_OUTPUT_TOKENS => 1,
            c::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS => 2,
            c::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS => 3,
            c::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS => 4,
            _ => return,
        };
        self.node.tokens.0[i] = Some(v);
    }

    fn f64(&mut self, name: &str, v: f64) {
        if !(v.is_finite() && v >= 0.0) {
            return;
        }
        match name {
            // Recorded as `pico / 1e12`: rounding gives the picodollars back
            // exactly below $9,000 a call.
            crate::semconv::OBS_COST_USD => self.node.cost_pico = Some((v * 1e12).round() as u64),
            crate::semconv::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK => self.node.ttft_ns = Some((v * 1e9).round() as u64),
            _ => {}
        }
    }
}

fn parse_status(v: &str) -> Option<Status> {
    Status::ALL.into_iter().find(|s| s.as_str() == v)
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, f: &Field, v: &str) {
        self.str(f.name(), v);
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.u64(f.name(), v);
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        if let Ok(v) = u64::try_from(v) {
            self.u64(f.name(), v);
        }
    }
    fn record_f64(&mut self, f: &Field, v: f64) {
        self.f64(f.name(), v);
    }
    fn record_bool(&mut self, _: &Field, _: bool) {}
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        // Names given as `format_args!` arrive here; the user's own
        // `fields(..)` too, which are not kept.
        let name = f.name();
        let ours = name.starts_with("gen_ai.")
            || name.starts_with("obs.")
            || matches!(name, "error.type" | "error.message" | "function" | "code.function");
        if ours {
            self.str(name, &format!("{v:?}"));
        }
    }
}

impl RunsLayer {
    fn trace_id(&self, id: &Id) -> Option<Box<str>> {
        crate::trace::ids_of_id(&self.dispatch, id).map(|t| t.trace_id.to_string().into_boxed_str())
    }
}

impl<S> Layer<S> for RunsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let start = quanta::Instant::now();
        let meta = attrs.metadata();
        let mut kind = KindOf(Kind::Function);
        attrs.record(&mut kind);
        let mut node = Box::new(Node::new(kind.0, meta.name(), meta.target()));
        attrs.record(&mut Fields { node: &mut node, name_field: Some(name_field(kind.0)) });
        if node.name.is_empty() {
            node.name = meta.name().into();
        }
        // The nearest instrumented call this one runs inside (the filter
        // makes `parent` skip every other span).
        let parent = span.parent().and_then(|p| {
            p.extensions().get::<Open>().map(|o| match &o.place {
                Place::Run { run, index } => Place::Run { run: run.clone(), index: *index },
                other => other.clone(),
            })
        });
        let (place, root) = match parent {
            Some(Place::Run { run, index }) => {
                node.parent = Some(index as u32);
                let i = run.next_index();
                node.index = u32::try_from(i).unwrap_or(u32::MAX);
                (Place::Run { run, index: i }, false)
            }
            Some(Place::Dropped) => (Place::Dropped, false),
            Some(Place::Outside) | None if node.kind == Kind::Function => (Place::Outside, false),
            Some(Place::Outside) | None => {
                let agent = match node.kind {
                    Kind::Agent => Agent::intern(&node.name).name(),
                    _ => current_agent().name(),
                };
                let header = Header {
                    id: next_run_id(),
                    // Read when the root is entered (see `on_enter`).
                    trace_id: None,
                    agent,
                    kind: node.kind,
                    name: node.name.clone(),
                    start_ms: crate::ledger::wall_ms(Some(start)),
                    request: RequestContext::current(),
                };
                match open_run(header, start) {
                    Some(run) => {
                        let i = run.next_index();
                        node.index = u32::try_from(i).unwrap_or(u32::MAX);
                        (Place::Run { run, index: i }, true)
                    }
                    None => (Place::Dropped, true),
                }
            }
        };
        span.extensions_mut().insert(Open { place, root, start, node });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(open) = ext.get_mut::<Open>() {
            values.record(&mut Fields { node: &mut open.node, name_field: None });
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !self.trace_ids {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let run = match span.extensions().get::<Open>() {
            Some(Open { place: Place::Run { run, .. }, root: true, .. }) if !run.has_trace_id() => run.clone(),
            _ => return,
        };
        drop(span);
        // The OpenTelemetry layer (before this one) started the span as it
        // was entered: its ids are final.
        if let Some(t) = self.trace_id(id) {
            run.set_trace_id(t);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // Only failure lines pass the filter: their message and function go
        // to the call they were written for (their parent span).
        let Some(span) = ctx.event_span(event) else { return };
        let mut ext = span.extensions_mut();
        if let Some(open) = ext.get_mut::<Open>() {
            event.record(&mut Fields { node: &mut open.node, name_field: None });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(open) = span.extensions_mut().remove::<Open>() else { return };
        drop(span);
        let end = quanta::Instant::now();
        let Open { place, root, start, mut node } = open;
        node.duration_ns = elapsed_ns(start, end);
        // A span closed without a status (its call recorded none): by its
        // error type, as the span's own readers would.
        let status = node.status.unwrap_or(match node.extra(Extra::ErrorType) {
            Some(_) => Status::Error,
            None => Status::Success,
        });
        node.status = Some(status);
        let run = match &place {
            Place::Run { run, .. } => Some(run.header.id),
            _ => None,
        };
        if matches!(status, Status::Error | Status::Panic) {
            failures::record(&node, status, crate::ledger::wall_ms(Some(end)), run);
        }
        if let Place::Run { run, index } = place {
            node.start_ns = elapsed_ns(run.start, start);
            run.add(node, index);
            if root {
                run.finish(status, elapsed_ns(start, end));
            }
        }
    }
}
