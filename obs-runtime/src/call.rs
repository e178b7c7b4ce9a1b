//! The call layer, the hot path behind every instrumented call: call sites,
//! the disabled check, the call guard, the runners of a generated body (`run`,
//! and `Instrumented` for `async fn`) and the `slow = ".."` warning. It
//! knows nothing of model calls: a kind of call that records more (the
//! model-call layer, `llm`) plugs in through [`Extension`], whose handles are
//! resolved and cached with the site's own.
//!
//! A call site resolves its metric series once (per agent) and caches them as
//! `&'static` handles, so a warm call is a clock read, a few relaxed atomic
//! adds and a histogram bucket search: no label hashing, no allocation, no
//! lock. Sites whose labels come from runtime values hash those values and
//! find their series in a per-site table read without a lock.
//!
//! Locks that remain, all off the warm path:
//! * the first call of a site for an agent, or a new set of runtime label
//!   values, resolves series in the metric registry (its family locks), and a
//!   new label set takes the site's insert lock (`DynamicCache::insert`);
//! * past `DYNAMIC_CACHE_LIMIT` label sets a site resolves new sets on every
//!   call (the registry's family locks, not the site's), which keeps its
//!   memory bounded;
//! * interning a new agent name (`Agent::intern`) takes the agent table's
//!   insert lock once per name.
//!
//! Before `init()` (or `testing::enable()`), a call records nothing.

use crate::context::{current_agent, Agent, AgentScope, InnermostCall};
use crate::descriptor::{FnInfo, FnKind};
use crate::metrics::cells::{shard, CounterCells, HistogramCells, UpDownCells};
use crate::metrics::names::{self, Builtin};
use crate::metrics::registry::Series;
use crate::slot::Slot;
use crate::span::SpanSite;
use crate::status::{Outcome, Status};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Poll;
use std::time::Duration;
use tracing::callsite::DefaultCallsite;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Set once obs has built its `tracing-opentelemetry` layer (`trace::layer`):
/// only then can a span keep an OpenTelemetry event.
#[cfg(feature = "logs")]
static SPAN_EVENTS: AtomicBool = AtomicBool::new(false);

/// Failed calls add the `exception` span event from now on.
#[cfg(feature = "logs")]
pub(crate) fn enable_span_events() {
    SPAN_EVENTS.store(true, Ordering::Relaxed);
}

/// The process's content-capture setting (`redact::set_capture`), kept
/// here so that a call decides once, when it starts, whether it captures.
static CAPTURE: AtomicBool = AtomicBool::new(false);

/// The process's content-capture setting.
#[inline]
pub(crate) fn capture_setting() -> bool {
    CAPTURE.load(Ordering::Relaxed)
}

/// Sets it (`redact::set_capture`, `init()`).
pub(crate) fn set_capture_setting(on: bool) {
    CAPTURE.store(on, Ordering::Relaxed);
}

/// Turns recording on (done by `init()` and `testing::enable()`).
pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Release);
}

/// Whether instrumented calls record metrics.
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// What a kind of call records beyond calls, duration and in-flight: its
/// handles are resolved with the site's (once per agent and label set) and
/// reached from the [`Call`]. Plain calls use `()`; the model-call layer
/// implements it for model calls. Implemented only inside this crate.
pub trait Extension: 'static {
    /// The extra handles of one resolved label set.
    type Series: Send + Sync + 'static;
    /// Resolves them from the call's labels.
    fn resolve(labels: &Labels<'_>) -> Self::Series;
}

impl Extension for () {
    type Series = ();
    #[inline(always)]
    fn resolve(_: &Labels<'_>) {}
}

/// The handles of one resolved label set: one counter and one histogram per
/// status, the in-flight gauge for agents, and the extension's handles.
pub(crate) struct SiteSeries<X: Extension> {
    calls: [&'static CounterCells; 4],
    duration: [&'static HistogramCells; 4],
    in_flight: Option<&'static UpDownCells>,
    ext: X::Series,
}

/// The label values of one call, by name: what an [`Extension`] resolves its
/// series from.
pub struct Labels<'a> {
    info: &'static FnInfo,
    agent: Agent,
    provider: &'a str,
    dynamic: &'a [Cow<'a, str>],
}

impl Labels<'_> {
    /// The function's descriptor.
    pub(crate) fn info(&self) -> &'static FnInfo {
        self.info
    }

    /// The calling agent.
    pub(crate) fn agent(&self) -> Agent {
        self.agent
    }

    /// The `provider` label.
    pub(crate) fn provider(&self) -> &str {
        self.provider
    }

    /// The value of label `name` for this call (`""` when it has none).
    pub(crate) fn value(&self, name: &str) -> &str {
        match name {
            "agent" => self.agent.name,
            "model" => self.dynamic_or(name, self.info.model()),
            "provider" => self.provider,
            "tool" => self.dynamic_or(name, self.info.tool()),
            "function" => self.info.name(),
            "module" => self.info.module(),
            other => self
                .info
                .labels()
                .iter()
                .find(|(k, _)| *k == other)
                .map(|(_, v)| *v)
                .unwrap_or_else(|| self.dynamic_or(other, None)),
        }
    }

    fn dynamic_or<'s>(&'s self, name: &str, fixed: Option<&'static str>) -> &'s str {
        if let Some(v) = fixed {
            return v;
        }
        match self.info.dynamic().iter().position(|d| *d == name) {
            Some(i) => self.dynamic.get(i).map_or("", |c| c),
            None => "",
        }
    }

    /// Extra label names of the function (`labels(...)`), static then dynamic.
    pub(crate) fn extra(&self) -> impl Iterator<Item = &'static str> {
        let builtin = ["agent", "model", "provider", "tool"];
        self.info
            .labels()
            .iter()
            .map(|(k, _)| *k)
            .chain(self.info.dynamic().iter().copied().filter(move |d| !builtin.contains(d)))
    }

    fn series(&self, b: &'static Builtin, status: Option<Status>) -> Series {
        let mut buf: [(&str, &str); 16] = [("", ""); 16];
        let mut n = 0;
        for &name in b.labels.iter().chain(self.extra().collect::<ExtraNames>().iter()) {
            if n == buf.len() {
                break;
            }
            let v = if name == "status" { status.map_or("", Status::as_str) } else { self.value(name) };
            buf[n] = (name, v);
            n += 1;
        }
        b.family().series(&buf[..n])
    }

    fn resolve<X: Extension>(&self) -> SiteSeries<X> {
        let (calls, duration, in_flight) = match self.info.kind() {
            FnKind::Agent => (&names::AGENT_EXECUTIONS, &names::AGENT_DURATION, Some(&names::AGENT_IN_FLIGHT)),
            FnKind::LlmCall => (&names::LLM_CALLS, &names::LLM_DURATION, None),
            FnKind::Tool => (&names::TOOL_CALLS, &names::TOOL_DURATION, None),
            FnKind::Function => (&names::FUNCTION_CALLS, &names::FUNCTION_DURATION, None),
        };
        // One call past a cardinality limit counts once, not once per family
        // (and status) it records into.
        crate::metrics::registry::count_overflow_once(calls.name, || SiteSeries {
            calls: Status::ALL.map(|s| self.series(calls, Some(s)).counter()),
            duration: Status::ALL.map(|s| self.series(duration, Some(s)).histogram()),
            in_flight: in_flight.map(|b| self.series(b, None).updown()),
            ext: X::resolve(self),
        })
    }
}

/// Up to 16 extra label names, on the stack.
struct ExtraNames {
    names: [&'static str; 16],
    len: usize,
}

impl FromIterator<&'static str> for ExtraNames {
    fn from_iter<I: IntoIterator<Item = &'static str>>(iter: I) -> Self {
        let mut e = ExtraNames { names: [""; 16], len: 0 };
        for n in iter.into_iter().take(16) {
            e.names[e.len] = n;
            e.len += 1;
        }
        e
    }
}

impl ExtraNames {
    fn iter(&self) -> impl Iterator<Item = &&'static str> {
        self.names[..self.len].iter()
    }
}

/// Label sets of runtime values a site caches; past it, new sets are resolved
/// per call instead of cached (keeps memory bounded).
const DYNAMIC_CACHE_LIMIT: usize = 1024;

/// Slots of a site's table of runtime label sets: a power of two, twice the
/// limit, so probe sequences stay short (a table is 16 KiB, allocated on the
/// site's first call).
const DYNAMIC_SLOTS: usize = 2 * DYNAMIC_CACHE_LIMIT;

/// One cached label set: the values are kept to tell hash collisions apart.
struct DynamicEntry<X: Extension> {
    hash: u64,
    agent: u32,
    values: Box<[Box<str>]>,
    series: SiteSeries<X>,
}

impl<X: Extension> DynamicEntry<X> {
    fn is(&self, hash: u64, agent: u32, values: &[Cow<'_, str>]) -> bool {
        self.hash == hash
            && self.agent == agent
            && self.values.len() == values.len()
            && self.values.iter().zip(values).all(|(x, y)| **x == **y)
    }
}

/// A site's resolved runtime label sets: an insert-only open-addressing table
/// of published entries. A lookup is a few acquire loads and string compares,
/// with no lock and no write, so threads share it without contending; only
/// inserting a new label set takes the insert lock.
struct DynamicCache<X: Extension> {
    slots: Box<[Slot<DynamicEntry<X>>]>,
    /// Serialises inserts and counts the entries.
    insert: Mutex<usize>,
    /// Set once the table holds `DYNAMIC_CACHE_LIMIT` entries.
    full: AtomicBool,
}

impl<X: Extension> DynamicCache<X> {
    fn new() -> Self {
        DynamicCache {
            slots: (0..DYNAMIC_SLOTS).map(|_| Slot::new()).collect(),
            insert: Mutex::new(0),
            full: AtomicBool::new(false),
        }
    }

    /// The entry for these values, or the index of the empty slot ending
    /// their probe sequence (entries are never removed, so an empty slot
    /// means "absent"); `None` only if the table is full.
    #[inline]
    fn probe(&self, hash: u64, agent: u32, values: &[Cow<'_, str>]) -> Result<&'static SiteSeries<X>, Option<usize>> {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        for _ in 0..self.slots.len() {
            match self.slots[i].get() {
                Some(e) if e.is(hash, agent, values) => return Ok(&e.series),
                Some(_) => i = (i + 1) & mask,
                None => return Err(Some(i)),
            }
        }
        Err(None)
    }
}

fn hash_values(agent: u32, values: &[Cow<'_, str>]) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    static STATE: std::sync::LazyLock<std::collections::hash_map::RandomState> =
        std::sync::LazyLock::new(Default::default);
    let mut h = STATE.build_hasher();
    agent.hash(&mut h);
    for v in values {
        v.hash(&mut h);
    }
    h.finish()
}

/// The per-call-site state the macros generate as a `static`. `X` is what
/// the kind of call records beyond calls and duration (`()` for plain calls;
/// model calls use `LlmSite`).
pub struct Site<X: Extension = ()> {
    info: &'static FnInfo,
    /// The span's callsite, for sites the macros generate (`track`'s sites
    /// make their spans themselves).
    span: Option<SpanSite>,
    /// A literal agent name, interned once.
    agent: OnceLock<Agent>,
    by_agent: OnceLock<Box<[Slot<SiteSeries<X>>]>>,
    provider: OnceLock<&'static str>,
    dynamic: OnceLock<DynamicCache<X>>,
}

/// A call site of any kind, as the catalog keeps it.
pub trait AnySite: Sync {
    /// The function's descriptor.
    fn info(&self) -> &'static FnInfo;
    /// Materialises this site's series at zero for `agent` (done by `init()`).
    #[doc(hidden)]
    fn warm(&self, agent: Agent);
}

impl<X: Extension> AnySite for Site<X> {
    fn info(&self) -> &'static FnInfo {
        self.info
    }

    fn warm(&self, agent: Agent) {
        if self.info.dynamic().is_empty() {
            self.cached(agent);
        }
    }
}

impl<X: Extension> Site<X> {
    /// A site for the function described by `info`, whose calls are given
    /// their spans ([`Site::start`]).
    pub const fn new(info: &'static FnInfo) -> Self {
        Site {
            info,
            span: None,
            agent: OnceLock::new(),
            by_agent: OnceLock::new(),
            provider: OnceLock::new(),
            dynamic: OnceLock::new(),
        }
    }

    /// A site for the function described by `info` whose calls build their
    /// span from `callsite` (at `level`): what the macros generate. The
    /// callsite's fields are [`crate::span::kind_fields`] of the function's
    /// kind, then the user's `fields(..)`.
    pub const fn with_span(info: &'static FnInfo, callsite: &'static DefaultCallsite, level: tracing::Level) -> Self {
        let mut site = Site::new(info);
        site.span = Some(SpanSite { callsite, level });
        site
    }

    /// The function's descriptor.
    pub fn info(&self) -> &'static FnInfo {
        self.info
    }

    /// The disabled check every generated call makes first: `true` when this
    /// call would record nothing (obs not initialised, or the function has
    /// no series, no slow threshold and no failure line to write) and no
    /// subscriber may want its span. The caller then runs the bare body: no
    /// call guard, no span. Two relaxed loads before `init()`.
    #[inline(always)]
    pub fn quiet(&'static self) -> bool {
        if enabled() && self.records() {
            return false;
        }
        !matches!(self.span, Some(s) if s.possible())
    }

    /// Whether an enabled call of this site records something besides its span.
    #[inline(always)]
    fn records(&self) -> bool {
        self.info.metrics() || self.info.slow().is_some() || crate::failure::may_report(self.info)
    }

    /// Starts a call of a site whose labels are all literals and which has
    /// no `fields(..)`: `None` when the call is [`quiet`](Site::quiet).
    #[inline(always)]
    pub fn call(&'static self) -> Option<Call<X>> {
        if self.quiet() {
            None
        } else {
            self.begin(&[], &[])
        }
    }

    /// Starts a call that is not quiet: builds its span (when a subscriber
    /// wants it) from the runtime label values `labels` (in the order of
    /// `info.dynamic()`) and the values of the user's `fields(..)`, then
    /// starts the call as [`Site::start`] does. Always `Some`: the guard is
    /// written once, in the place the caller keeps it.
    #[inline(never)]
    pub fn begin(&'static self, labels: &[Cow<'_, str>], fields: &[&dyn tracing::Value]) -> Option<Call<X>> {
        let span = match self.span {
            Some(s) if s.possible() => {
                let provider = if self.info.kind() == FnKind::LlmCall { self.dynamic_provider(labels) } else { "" };
                crate::span::build(s, self.info, provider, labels, fields)
            }
            _ => tracing::Span::none(),
        };
        let mut call = if labels.is_empty() { self.start(span) } else { self.start_dynamic(span, labels) };
        // Content goes on the span only: none to capture into, none captured.
        call.capture = !call.span.is_disabled()
            && matches!(self.info.kind(), FnKind::Tool | FnKind::LlmCall)
            && self.info.capture().unwrap_or_else(capture_setting);
        Some(call)
    }

    /// The provider label: given, or inferred from a literal model name.
    pub fn provider(&self) -> &'static str {
        self.provider.get_or_init(|| match (self.info.provider(), self.info.model()) {
            (Some(p), _) => p,
            (None, Some(m)) => crate::provider::infer_provider(m),
            (None, None) => "unknown",
        })
    }

    #[inline(always)]
    fn call_agent(&self, own: Option<Agent>) -> Agent {
        match self.info.kind() {
            FnKind::Agent => {
                own.unwrap_or_else(|| *self.agent.get_or_init(|| self.info.agent().map_or(Agent::NONE, Agent::intern)))
            }
            FnKind::LlmCall | FnKind::Tool => current_agent(),
            FnKind::Function => Agent::NONE,
        }
    }

    #[inline(always)]
    fn cached(&self, agent: Agent) -> &'static SiteSeries<X> {
        let table = self.by_agent.get_or_init(|| (0..=crate::context::MAX_AGENTS).map(|_| Slot::new()).collect());
        // Agent ids are at most MAX_AGENTS and the table has MAX_AGENTS + 1
        // slots; the `min` only keeps the indexing provably in bounds.
        let slot = &table[(agent.id as usize).min(table.len() - 1)];
        match slot.get() {
            Some(s) => s,
            None => self.resolve_slow(slot, agent),
        }
    }

    #[cold]
    #[inline(never)]
    fn resolve_slow(&self, slot: &Slot<SiteSeries<X>>, agent: Agent) -> &'static SiteSeries<X> {
        let labels = Labels { info: self.info, agent, provider: self.provider(), dynamic: &[] };
        // Two threads may race here; both resolve the same series, and the
        // loser's copy is dropped.
        slot.get_or_publish(labels.resolve())
    }

    /// Starts a call whose labels are all known at compile time.
    #[inline(always)]
    pub fn start(&'static self, span: tracing::Span) -> Call<X> {
        if !enabled() || !self.info.metrics() {
            return Call::disabled(self.info, span);
        }
        let agent = self.call_agent(None);
        Call::begin(self.info, SeriesRef::Static(self.cached(agent)), agent, self.sets_agent(), span)
    }

    /// Starts a call with runtime label values, in the order of `info.dynamic()`.
    pub fn start_dynamic(&'static self, span: tracing::Span, values: &[Cow<'_, str>]) -> Call<X> {
        let own = self.own_agent(values);
        if !enabled() || !self.info.metrics() {
            let mut c = Call::disabled(self.info, span);
            c.agent = own.unwrap_or(Agent::NONE);
            c.sets_agent = self.sets_agent();
            return c;
        }
        let agent = self.call_agent(own);
        let cache = self.dynamic.get_or_init(DynamicCache::new);
        let h = hash_values(agent.id, values);
        let series = match cache.probe(h, agent.id, values) {
            Ok(s) => SeriesRef::Static(s),
            Err(_) => self.insert_dynamic(cache, h, agent, values),
        };
        Call::begin(self.info, series, agent, self.sets_agent(), span)
    }

    /// A label set not in the table yet: resolved, and cached while the table
    /// is under its limit.
    #[cold]
    #[inline(never)]
    fn insert_dynamic(
        &self,
        cache: &DynamicCache<X>,
        hash: u64,
        agent: Agent,
        values: &[Cow<'_, str>],
    ) -> SeriesRef<X> {
        let labels = Labels { info: self.info, agent, provider: self.dynamic_provider(values), dynamic: values };
        if cache.full.load(Ordering::Relaxed) {
            // Nothing more is cached: skip the insert lock.
            return SeriesRef::Owned(Box::new(labels.resolve()));
        }
        let mut len = cache.insert.lock().unwrap_or_else(|e| e.into_inner());
        // Another thread may have inserted it since the lock-free probe.
        let empty = match cache.probe(hash, agent.id, values) {
            Ok(s) => return SeriesRef::Static(s),
            Err(empty) => empty,
        };
        match empty {
            Some(i) if *len < DYNAMIC_CACHE_LIMIT => {
                let values = values.iter().map(|v| Box::<str>::from(&**v)).collect();
                let entry = DynamicEntry { hash, agent: agent.id, values, series: labels.resolve() };
                *len += 1;
                if *len == DYNAMIC_CACHE_LIMIT {
                    cache.full.store(true, Ordering::Relaxed);
                }
                SeriesRef::Static(&cache.slots[i].publish(entry).series)
            }
            _ => SeriesRef::Owned(Box::new(labels.resolve())),
        }
    }

    fn own_agent(&self, values: &[Cow<'_, str>]) -> Option<Agent> {
        if self.info.kind() != FnKind::Agent {
            return None;
        }
        let i = self.info.dynamic().iter().position(|d| *d == "agent")?;
        values.get(i).map(|v| Agent::intern(v))
    }

    fn dynamic_provider<'a>(&self, values: &'a [Cow<'a, str>]) -> &'a str {
        let find = |name: &str| self.info.dynamic().iter().position(|d| *d == name).and_then(|i| values.get(i));
        if let Some(p) = find("provider") {
            return p;
        }
        if self.info.provider().is_none() {
            if let Some(m) = find("model") {
                return crate::provider::infer_provider(m);
            }
        }
        self.provider()
    }

    fn sets_agent(&self) -> bool {
        self.info.kind() == FnKind::Agent
    }
}

enum SeriesRef<X: Extension> {
    Static(&'static SiteSeries<X>),
    Owned(Box<SiteSeries<X>>),
    Disabled,
}

/// The guard of one instrumented call. Dropped without [`Call::finish`], it
/// records `panic` (when unwinding, or when a poll panicked) or `cancelled`.
pub struct Call<X: Extension = ()> {
    info: &'static FnInfo,
    series: SeriesRef<X>,
    start: Option<quanta::Instant>,
    agent: Agent,
    sets_agent: bool,
    panicked: AtomicBool,
    done: bool,
    /// Captures content (tools and model calls): decided when the call starts.
    capture: bool,
    span: tracing::Span,
}

impl<X: Extension> Call<X> {
    #[inline(always)]
    fn disabled(info: &'static FnInfo, span: tracing::Span) -> Self {
        // A function with a `slow` threshold is timed even without metrics.
        let start = if info.slow().is_some() && enabled() { Some(quanta::Instant::now()) } else { None };
        Call {
            info,
            series: SeriesRef::Disabled,
            start,
            agent: Agent::NONE,
            sets_agent: false,
            panicked: AtomicBool::new(false),
            done: false,
            capture: false,
            span,
        }
    }

    #[inline(always)]
    fn begin(info: &'static FnInfo, series: SeriesRef<X>, agent: Agent, sets_agent: bool, span: tracing::Span) -> Self {
        if let Some(g) = series.get().and_then(|s| s.in_flight) {
            g.add(shard(), 1);
        }
        Call {
            info,
            series,
            start: Some(quanta::Instant::now()),
            agent,
            sets_agent,
            panicked: AtomicBool::new(false),
            done: false,
            capture: false,
            span,
        }
    }

    /// The call's span.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Enters the span (and, for agents, makes the agent current) until the
    /// returned guard is dropped.
    #[inline(always)]
    pub fn enter(&self) -> Entered<'_> {
        Entered {
            _span: self.span.enter(),
            _agent: if self.sets_agent { Some(AgentScope::enter(self.agent)) } else { None },
            _innermost: InnermostCall::enter(innermost_kind(self.info.kind())),
        }
    }

    /// The function's descriptor.
    pub fn info(&self) -> &'static FnInfo {
        self.info
    }

    /// Records the call's outcome.
    #[inline(always)]
    pub fn finish(mut self, outcome: Outcome) {
        self.complete(outcome);
    }

    /// Records the call's outcome, in place (the generated code's end of a
    /// call: the guard stays where it is and drops as done). A second
    /// completion records nothing.
    #[inline(always)]
    pub fn complete(&mut self, outcome: Outcome) {
        if !self.done {
            let (status, error_type) = outcome.status();
            self.end(status, error_type);
        }
    }

    /// Moves the call out, leaving a finished one in its place (a streaming
    /// model call's guard moves into its stream).
    pub fn take(&mut self) -> Call<X> {
        let husk = Call {
            info: self.info,
            series: SeriesRef::Disabled,
            start: None,
            agent: Agent::NONE,
            sets_agent: false,
            panicked: AtomicBool::new(false),
            done: true,
            capture: false,
            span: tracing::Span::none(),
        };
        std::mem::replace(self, husk)
    }

    /// Ends the call with `status`: what an extension calls before recording
    /// its own part. Returns the duration in nanoseconds when the call was timed.
    #[inline(always)]
    pub(crate) fn end(&mut self, status: Status, error_type: Option<&'static str>) -> Option<u64> {
        self.done = true;
        self.record(status, error_type)
    }

    /// The extension's handles, when the call records metrics.
    #[inline(always)]
    pub(crate) fn ext(&self) -> Option<&X::Series> {
        self.series.get().map(|s| &s.ext)
    }

    /// Whether this call captures content (decided when it started).
    #[inline(always)]
    pub fn capturing(&self) -> bool {
        self.capture
    }

    /// Whether the call has ended.
    #[inline(always)]
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// The agent the call is counted under.
    pub(crate) fn agent(&self) -> Agent {
        self.agent
    }

    /// Moves the call's start back to `start` (the GenAI bridge times a
    /// foreign span from its creation).
    #[cfg(feature = "logs")]
    pub(crate) fn started_at(&mut self, start: quanta::Instant) {
        if self.start.is_some() {
            self.start = Some(start);
        }
    }

    /// When the call started, when it is timed.
    pub(crate) fn started(&self) -> Option<quanta::Instant> {
        self.start
    }

    /// Nanoseconds since the call started, when it is timed.
    pub(crate) fn elapsed_ns(&self) -> Option<u64> {
        self.start.map(elapsed_ns)
    }

    #[inline(always)]
    fn record(&self, status: Status, error_type: Option<&'static str>) -> Option<u64> {
        let elapsed = self.start.map(elapsed_ns);
        if let (Some(s), Some(ns)) = (self.series.get(), elapsed) {
            let shard = shard();
            s.calls[status as usize].add(shard, 1);
            s.duration[status as usize].record_int(shard, ns);
            if let Some(g) = s.in_flight {
                g.add(shard, -1);
            }
        }
        if let (Some(threshold), Some(ns)) = (self.info.slow(), elapsed) {
            if ns > u64::try_from(threshold.as_nanos()).unwrap_or(u64::MAX) {
                slow_call(self.info, Duration::from_nanos(ns), threshold);
            }
        }
        if matches!(status, Status::Error | Status::Panic) && enabled() {
            // Out of line and cold: the failure log line (`failure`).
            crate::failure::report(self.info, status, error_type, elapsed, self.agent, &self.span);
        }
        if status != Status::Success && !self.span.is_disabled() {
            let error_type = error_type.unwrap_or(status.as_str());
            self.span.record(crate::semconv::OTEL_STATUS_CODE, "ERROR");
            self.span.record(crate::semconv::ERROR_TYPE, error_type);
            // The conventions' "Recording Errors": an `exception` event too,
            // when an OpenTelemetry layer can hold it (its `Vec` and clock
            // read are wasted on any other subscriber).
            #[cfg(feature = "logs")]
            if SPAN_EVENTS.load(Ordering::Relaxed) {
                use tracing_opentelemetry::OpenTelemetrySpanExt as _;
                self.span.add_event("exception", vec![opentelemetry::KeyValue::new("exception.type", error_type)]);
            }
        }
        if !self.span.is_disabled() {
            self.span.record(crate::semconv::OBS_STATUS, status.as_str());
        }
        elapsed
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An instrumented call that exceeded its `slow = "..."` threshold, on target
/// `performance` at WARN: `function`, `module`, `kind` (the macro), `agent`,
/// `model`, `tool` (when the function has them), `duration_ms`, `threshold_ms`.
/// Called by the hot path only when the threshold is exceeded (and reachable
/// from generated code as `__private::slow_call`).
#[cold]
#[inline(never)]
pub fn slow_call(info: &'static FnInfo, elapsed: Duration, threshold: Duration) {
    let agent = match info.agent() {
        Some(a) => a,
        None => current_agent().name(),
    };
    tracing::warn!(
        target: "performance",
        event = "slow_call",
        function = info.name(),
        module = info.module(),
        kind = info.kind().macro_name(),
        agent,
        model = info.model(),
        tool = info.tool(),
        duration_ms = millis(elapsed),
        threshold_ms = millis(threshold),
        "slow call: {} took {:.1} ms (threshold {:.1} ms)",
        info.name(),
        millis(elapsed),
        millis(threshold)
    );
}

/// Nanoseconds since `start`, in u64 arithmetic (`Duration::as_nanos` goes through u128).
#[inline(always)]
fn elapsed_ns(start: quanta::Instant) -> u64 {
    let d = quanta::Instant::now().saturating_duration_since(start);
    d.as_secs().saturating_mul(1_000_000_000).saturating_add(u64::from(d.subsec_nanos()))
}

impl<X: Extension> SeriesRef<X> {
    #[inline(always)]
    fn get(&self) -> Option<&SiteSeries<X>> {
        match self {
            SeriesRef::Static(s) => Some(s),
            SeriesRef::Owned(s) => Some(s),
            SeriesRef::Disabled => None,
        }
    }
}

impl<X: Extension> Drop for Call<X> {
    #[inline(always)]
    fn drop(&mut self) {
        if !self.done {
            let status = if self.panicked.load(Ordering::Relaxed) || std::thread::panicking() {
                Status::Panic
            } else {
                Status::Cancelled
            };
            self.record(status, None);
        }
    }
}

/// Guard returned by [`Call::enter`].
pub struct Entered<'a> {
    _span: tracing::span::Entered<'a>,
    _agent: Option<AgentScope>,
    _innermost: InnermostCall,
}

/// The kind of call the GenAI bridge's no-double-counting rule tracks.
#[inline(always)]
fn innermost_kind(kind: FnKind) -> u8 {
    match kind {
        FnKind::Agent => crate::context::CALL_AGENT,
        FnKind::LlmCall => crate::context::CALL_MODEL,
        FnKind::Tool => crate::context::CALL_TOOL,
        _ => crate::context::CALL_NONE,
    }
}

struct PanicMark<'a>(&'a AtomicBool);

impl Drop for PanicMark<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Runs a sync function's body inside its call: the one generic piece of a
/// sync expansion. `call` is `None` when the call is quiet
/// ([`Site::quiet`]): then this is `body()`. Otherwise the body runs with
/// the call entered (its span, and an agent's name as the current agent);
/// the generated code then ends the call from the return value. The body is
/// a `FnOnce` closure of the declared return type `R`, so `?` and `return`
/// in it behave as in the original function, and it may return references
/// to `&mut self` data. A panic in the body unwinds through the caller,
/// whose call guard then records `panic`.
#[inline(always)]
pub fn run<R, X: Extension, B: FnOnce() -> R>(call: &mut Option<Call<X>>, body: B) -> R {
    match call {
        None => body(),
        Some(call) => {
            let _entered = call.enter();
            body()
        }
    }
}

pin_project_lite::pin_project! {
    /// Drives an `async fn` body inside its call, the async form of [`run`]:
    /// enters the call on every poll and marks a panicking poll. The call
    /// stays in the caller's future, which ends it from the output. A quiet
    /// call never builds one: the generated code awaits the body itself.
    pub struct Instrumented<'a, F, X: Extension> {
        call: &'a mut Call<X>,
        #[pin]
        fut: F,
    }
}

impl<'a, F: Future, X: Extension> Instrumented<'a, F, X> {
    /// Wraps `fut`, the body of `call`.
    #[inline(always)]
    pub fn new(call: &'a mut Call<X>, fut: F) -> Self {
        Instrumented { call, fut }
    }
}

impl<F: Future, X: Extension> Future for Instrumented<'_, F, X> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let call: &Call<X> = this.call;
        let _entered = call.enter();
        let _mark = PanicMark(&call.panicked);
        this.fut.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::fn_info;

    static INFO: FnInfo =
        fn_info(FnKind::Tool, "dyn_tool", "call_tests", "call.rs", 1).tool("dyn_tool").dynamic(&["tier"]).build();
    static SITE: Site = Site::new(&INFO);

    fn calls(tier: &str) -> u64 {
        crate::metrics::snapshot()
            .counter(
                "tool_calls_total",
                &[("agent", "none"), ("tool", "dyn_tool"), ("status", "success"), ("tier", tier)],
            )
            .unwrap_or(0)
    }

    #[test]
    fn runtime_label_sets_are_shared_by_threads_and_bounded() {
        enable();
        // Two threads share the table; each label set is cached once.
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for i in 0..2000u32 {
                        let v = [Cow::Owned(format!("t{}", i % 50))];
                        SITE.start_dynamic(tracing::Span::none(), &v).finish(Outcome::Success);
                    }
                });
            }
        });
        assert_eq!(calls("t7"), 80);
        let cache = SITE.dynamic.get().expect("the table exists");
        assert_eq!(*cache.insert.lock().unwrap(), 50);
        // Past the limit, new sets are still counted, just not cached.
        for i in 0..DYNAMIC_CACHE_LIMIT + 10 {
            let v = [Cow::Owned(format!("u{i}"))];
            SITE.start_dynamic(tracing::Span::none(), &v).finish(Outcome::Success);
        }
        assert!(cache.full.load(Ordering::Relaxed));
        assert_eq!(*cache.insert.lock().unwrap(), DYNAMIC_CACHE_LIMIT);
        let last = format!("u{}", DYNAMIC_CACHE_LIMIT + 9);
        SITE.start_dynamic(tracing::Span::none(), &[Cow::Borrowed(last.as_str())]).finish(Outcome::Success);
        // (Those sets are past the registry's cardinality limit too: summed
        // over every series, the overflow one included.)
        let total: u64 = crate::metrics::snapshot()
            .series("tool_calls_total", &[])
            .into_iter()
            .map(|(_, v)| match v {
                crate::metrics::Value::Counter(n) => *n,
                _ => 0,
            })
            .sum();
        assert_eq!(total, 4000 + DYNAMIC_CACHE_LIMIT as u64 + 11);
    }
}
