//! Open `execute_tool` spans, for the MCP client: the span that already
//! covers a `tools/call` (a `#[track_tool]` or `track::tool` of the
//! application, a framework's tool span such as rig's) takes the MCP
//! attributes instead of a second, nested span (the MCP conventions' rule),
//! and is the parent the call's trace context names.
//!
//! A client's transport runs in rmcp's session task, away from the code
//! that made the call, so the call's own span and request context are not
//! current there. This layer notes every `execute_tool` span when it is
//! created (with the agent and request context current then: the caller's)
//! and once its tool name is known; the transport claims the oldest open,
//! unclaimed one of the same tool name for each `tools/call` it sends.
//! Concurrent calls of the same tool from different tasks are matched in the
//! order their spans were created, which is the order they start in.
//!
//! Bounded: at most [`MAX_OPEN`] spans are noted (the oldest is forgotten
//! first), names are cut to 128 bytes, and a closed span is removed.

use crate::context::{current_agent, Agent, RequestContext};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Open tool spans noted at once; past it the oldest is forgotten.
pub(crate) const MAX_OPEN: usize = 1024;

/// Longest tool name kept, in bytes (MCP tool names are 1 to 128 characters).
pub(crate) const NAME_MAX_BYTES: usize = 128;

/// One open `execute_tool` span.
struct Open {
    id: Id,
    /// Its tool name, once known.
    tool: Option<String>,
    agent: Agent,
    request: Option<RequestContext>,
    claimed: bool,
}

/// Every open tool span, oldest first, and the dispatcher they live in.
struct Table {
    open: std::collections::VecDeque<Open>,
    dispatch: Option<tracing::dispatcher::WeakDispatch>,
}

fn table() -> &'static Mutex<Table> {
    static T: OnceLock<Mutex<Table>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(Table { open: std::collections::VecDeque::new(), dispatch: None }))
}

fn lock() -> std::sync::MutexGuard<'static, Table> {
    table().lock().unwrap_or_else(|e| e.into_inner())
}

/// A tool span claimed by one `tools/call`: its OpenTelemetry context (the
/// span itself, started), the agent and request it was created under.
pub(crate) struct Claimed {
    pub(crate) cx: opentelemetry::Context,
    pub(crate) agent: Agent,
    pub(crate) request: Option<RequestContext>,
}

/// Claims the oldest open, unclaimed tool span named `tool`.
pub(crate) fn claim(tool: &str) -> Option<Claimed> {
    let (id, agent, request, dispatch) = {
        let mut t = lock();
        let dispatch = t.dispatch.as_ref()?.upgrade()?;
        let open = t.open.iter_mut().find(|o| !o.claimed && o.tool.as_deref() == Some(tool))?;
        open.claimed = true;
        (open.id.clone(), open.agent, open.request.clone(), dispatch)
    };
    // Outside the table's lock: this takes the span's extensions' lock.
    let cx = tracing_opentelemetry::get_otel_context(&id, &dispatch)?;
    use opentelemetry::trace::TraceContextExt as _;
    cx.span().span_context().is_valid().then_some(Claimed { cx, agent, request })
}

/// Whether a callsite is a tool span this layer notes: it declares
/// `gen_ai.tool.name` and `gen_ai.operation.name`, and is not an MCP span.
fn is_tool_span(meta: &Metadata<'_>) -> bool {
    let f = meta.fields();
    meta.is_span()
        && f.field(crate::semconv::GEN_AI_TOOL_NAME).is_some()
        && f.field(crate::semconv::GEN_AI_OPERATION_NAME).is_some()
        && f.field(super::MCP_METHOD_NAME).is_none()
}

/// The tool name and operation of a span's fields.
#[derive(Default)]
struct Fields {
    tool: Option<String>,
    execute_tool: bool,
}

impl Fields {
    fn set(&mut self, name: &str, v: &str) {
        match name {
            crate::semconv::GEN_AI_TOOL_NAME if !v.is_empty() => {
                self.tool = Some(crate::metrics::registry::cut(v, NAME_MAX_BYTES).into_owned())
            }
            crate::semconv::GEN_AI_OPERATION_NAME => self.execute_tool = v == "execute_tool",
            _ => {}
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, f: &Field, v: &str) {
        self.set(f.name(), v);
    }
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        if matches!(f.name(), crate::semconv::GEN_AI_TOOL_NAME | crate::semconv::GEN_AI_OPERATION_NAME) {
            let s = format!("{v:?}");
            self.set(f.name(), s.trim_matches('"'));
        }
    }
}

/// The layer (part of [`crate::layer()`] with an `rmcp-*` feature).
pub(crate) struct ToolSpans;

/// Sees tool spans only, whatever the other filters say.
pub(crate) struct ToolSpanFilter;

/// Set once an MCP client transport exists: before, a tool span costs this
/// layer one relaxed load (no lock, nothing noted).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// An MCP client transport exists: tool spans are noted from now on.
pub(crate) fn activate() {
    if !ACTIVE.swap(true, Ordering::AcqRel) {
        // Tool callsites registered before were told `never`.
        tracing::callsite::rebuild_interest_cache();
    }
}

impl<S> Filter<S> for ToolSpanFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        ACTIVE.load(Ordering::Acquire) && is_tool_span(meta)
    }
    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        // `always` once an MCP client exists, `never` before: not
        // `sometimes`, which makes `tracing` ask every filter per span and
        // leaves the span enabled (and built) even when every one of them
        // says no (the live view off, the log filter at `warn`).
        if ACTIVE.load(Ordering::Acquire) && is_tool_span(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for ToolSpans {
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        lock().dispatch = Some(subscriber.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        // A span of another operation is not a tool call; rig names its
        // tool after creation (`on_record`).
        if !f.execute_tool {
            return;
        }
        let mut t = lock();
        if t.open.len() >= MAX_OPEN {
            t.open.pop_front();
        }
        t.open.push_back(Open {
            id: id.clone(),
            tool: f.tool,
            agent: current_agent(),
            request: RequestContext::current(),
            claimed: false,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        values.record(&mut f);
        if let Some(tool) = f.tool {
            let mut t = lock();
            if let Some(o) = t.open.iter_mut().rev().find(|o| o.id == *id) {
                o.tool = Some(tool);
            }
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let mut t = lock();
        if let Some(i) = t.open.iter().rposition(|o| o.id == id) {
            t.open.remove(i);
        }
    }
}

/// The layer with its filter, as [`crate::layer()`] adds it.
pub(crate) fn layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    ToolSpans.with_filter(ToolSpanFilter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt as _;

    #[test]
    fn a_tool_span_is_claimed_once_by_its_tool_name() {
        crate::call::enable();
        activate();
        // The OpenTelemetry layer (ids) and this one, as `crate::layer()` has them.
        let subscriber = tracing_subscriber::registry().with(crate::trace::layer()).with(layer());
        let _g = tracing::subscriber::set_default(subscriber);
        // A framework's tool span (rig's shape: named after creation).
        let span = tracing::info_span!(
            "execute_tool",
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = tracing::field::Empty
        );
        assert!(claim("cover_me").is_none(), "no name yet");
        span.record("gen_ai.tool.name", "cover_me");
        assert!(claim("other").is_none());
        let claimed = claim("cover_me").expect("the open tool span");
        use opentelemetry::trace::TraceContextExt as _;
        let ids = crate::trace::ids_of(&span).expect("ids");
        assert_eq!(claimed.cx.span().span_context().span_id(), ids.span_id);
        assert!(claim("cover_me").is_none(), "claimed once");
        drop(span);
        assert!(lock().open.iter().all(|o| o.tool.as_deref() != Some("cover_me")), "closed spans are forgotten");
    }
}
