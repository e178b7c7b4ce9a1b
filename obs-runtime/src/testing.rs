//! A test kit: read the registry's current values and capture spans in
//! memory, to assert on what instrumented code recorded.
//!
//! ```
//! use obs_runtime::testing;
//!
//! #[obs_runtime::track_tool(name = "doc_lookup")]
//! fn lookup(q: &str) -> Result<usize, std::fmt::Error> { Ok(q.len()) }
//!
//! testing::enable();
//! let spans = testing::SpanCapture::new();
//! let _guard = spans.set_default();
//! lookup("abc").unwrap();
//! let m = testing::snapshot();
//! assert_eq!(m.counter("tool_calls_total", &[("agent", "none"), ("tool", "doc_lookup"), ("status", "success")]), Some(1));
//! let span = spans.find("execute_tool doc_lookup").unwrap();
//! assert_eq!(span.field("gen_ai.tool.name"), Some("doc_lookup"));
//! ```

pub use crate::metrics::{snapshot, Snapshot, Value};
#[cfg(feature = "logs")]
use std::collections::BTreeMap;
#[cfg(feature = "logs")]
use std::sync::{Arc, Mutex};
#[cfg(feature = "logs")]
use tracing::span::{Attributes, Id, Record};
#[cfg(feature = "logs")]
use tracing::Subscriber;
#[cfg(feature = "logs")]
use tracing_subscriber::layer::{Context, SubscriberExt};
#[cfg(feature = "logs")]
use tracing_subscriber::registry::LookupSpan;
#[cfg(feature = "logs")]
use tracing_subscriber::Layer;

/// Turns recording on without starting any exporter and creates every
/// registered function's series at zero. Idempotent; harmless after `init()`.
pub fn enable() {
    crate::catalog::materialize();
    crate::call::enable();
}

/// Takes over the clock of the failure lines' repeat window and moves it
/// forward by `by`: from the first call on, that clock moves only when this
/// function moves it, so a test sees a window end (a group's count line,
/// the next line carrying `repeated`) without waiting it out, and never
/// sees one end early on a slow machine. Only failure lines read this clock.
///
/// ```
/// obs_runtime::testing::advance_failure_clock(std::time::Duration::from_secs(10));
/// ```
pub fn advance_failure_clock(by: std::time::Duration) {
    crate::failure::advance_clock(by);
}

/// Turns the live view's collection of runs off or back on, for spans
/// created from then on: what a benchmark compares in one process (the
/// view's cost per call, on against off). `init()` turns it on with the view.
#[cfg(feature = "ui")]
#[doc(hidden)]
pub fn set_live_view_collecting(on: bool) {
    crate::runs::set_collecting(on);
}

/// Times conversations ([`crate::conversation`]) by a clock the test sets:
/// `Some(t)` stops it at `t` (move it by calling again), `None` goes back to
/// the system clock. Conversations idle at the new time end at once, so a
/// test of the idle timeout never waits.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
/// obs_runtime::testing::set_conversation_clock(Some(t0));
/// // ... model calls in conversations ...
/// obs_runtime::testing::set_conversation_clock(Some(t0 + Duration::from_secs(3600))); // they end
/// obs_runtime::testing::set_conversation_clock(None);
/// ```
pub fn set_conversation_clock(at: Option<std::time::SystemTime>) {
    let ms = at.map(|t| t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64));
    crate::conversation::set_clock(ms);
}

#[cfg(feature = "logs")]
/// A captured span.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanData {
    /// Span id (unique while the capture lives).
    pub id: u64,
    /// Span name.
    pub name: String,
    /// Target (the module that created it).
    pub target: String,
    /// Level.
    pub level: tracing::Level,
    /// The parent span's id.
    pub parent: Option<u64>,
    /// Field values as strings (strings raw, everything else formatted).
    pub fields: BTreeMap<String, String>,
    /// Whether the span has closed.
    pub closed: bool,
}

#[cfg(feature = "logs")]
impl SpanData {
    /// A field's value.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[cfg(feature = "logs")]
#[derive(Default)]
struct Store {
    spans: Vec<SpanData>,
}

#[cfg(feature = "logs")]
/// Captures spans in memory.
#[derive(Clone, Default)]
pub struct SpanCapture {
    store: Arc<Mutex<Store>>,
}

#[cfg(feature = "logs")]
struct FieldVisitor<'a>(&'a mut BTreeMap<String, String>);

#[cfg(feature = "logs")]
impl tracing::field::Visit for FieldVisitor<'_> {
    fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
        self.0.insert(f.name().into(), v.into());
    }
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        self.0.insert(f.name().into(), format!("{v:?}"));
    }
}

#[cfg(feature = "logs")]
struct CaptureLayer(Arc<Mutex<Store>>);

#[cfg(feature = "logs")]
impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldVisitor(&mut fields));
        let parent = if let Some(p) = attrs.parent() {
            Some(p.into_u64())
        } else if attrs.is_contextual() {
            ctx.current_span().id().map(Id::into_u64)
        } else {
            None
        };
        let meta = attrs.metadata();
        let data = SpanData {
            id: id.into_u64(),
            name: meta.name().into(),
            target: meta.target().into(),
            level: *meta.level(),
            parent,
            fields,
            closed: false,
        };
        self.0.lock().unwrap_or_else(|e| e.into_inner()).spans.push(data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut store = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = store.spans.iter_mut().rev().find(|s| s.id == id.into_u64() && !s.closed) {
            values.record(&mut FieldVisitor(&mut s.fields));
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let mut store = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = store.spans.iter_mut().rev().find(|s| s.id == id.into_u64() && !s.closed) {
            s.closed = true;
        }
    }
}

#[cfg(feature = "logs")]
impl SpanCapture {
    /// An empty capture.
    pub fn new() -> SpanCapture {
        SpanCapture::default()
    }

    /// A subscriber that records into this capture.
    pub fn dispatch(&self) -> tracing::Dispatch {
        tracing::Dispatch::new(tracing_subscriber::registry().with(CaptureLayer(self.store.clone())))
    }

    /// The capture as a layer, to stack with others (such as
    /// [`crate::layer()`]) on one subscriber.
    pub fn layer<S: Subscriber + for<'a> LookupSpan<'a>>(&self) -> impl Layer<S> {
        CaptureLayer(self.store.clone())
    }

    /// Captures spans of the current thread until the guard drops (use a
    /// current-thread runtime for async tests).
    pub fn set_default(&self) -> tracing::dispatcher::DefaultGuard {
        tracing::dispatcher::set_default(&self.dispatch())
    }

    /// Captures spans of every thread for the rest of the process; `false`
    /// if a global subscriber was already set.
    pub fn set_global(&self) -> bool {
        tracing::dispatcher::set_global_default(self.dispatch()).is_ok()
    }

    /// Every span captured so far, in creation order.
    pub fn spans(&self) -> Vec<SpanData> {
        self.store.lock().unwrap_or_else(|e| e.into_inner()).spans.clone()
    }

    /// The first span named `name`.
    pub fn find(&self, name: &str) -> Option<SpanData> {
        self.spans().into_iter().find(|s| s.name == name)
    }

    /// Every span named `name`.
    pub fn find_all(&self, name: &str) -> Vec<SpanData> {
        self.spans().into_iter().filter(|s| s.name == name).collect()
    }

    /// The parent of `span`.
    pub fn parent_of(&self, span: &SpanData) -> Option<SpanData> {
        let p = span.parent?;
        self.spans().into_iter().rev().find(|s| s.id == p)
    }
}
