//! The hot path behind every instrumented call: call sites, the call guard,
//! the status of a call, and the future wrapper for `async fn`.
//!
//! A call site resolves its metric series once (per agent) and caches them as
//! `&'static` cells, so a warm call is a clock read, a few relaxed atomic adds
//! and a histogram bucket search: no label hashing, no allocation, no lock.
//! Sites whose labels come from runtime values pay one cache lookup per call.
//! Before `init()` (or `testing::enable()`), a call records nothing.

use crate::context::{current_agent, Agent, AgentScope};
use crate::llm::{self, LlmEnd, LlmSeries, UsageState};
use crate::metrics::cells::{shard, CounterCells, HistogramCells, UpDownCells};
use crate::metrics::names::{self, Builtin};
use crate::metrics::registry::Series;
use crate::registry::{FnInfo, FnKind};
use crate::usage::LlmUsage;
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Poll;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns recording on (done by `init()` and `testing::enable()`).
pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Release);
}

/// Whether instrumented calls record metrics.
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// How a call ended. The order is the index into a site's per-status handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Returned normally (an `Ok`, or any non-`Result` value).
    Success = 0,
    /// Returned `Err(_)`.
    Error = 1,
    /// The future was dropped before it completed.
    Cancelled = 2,
    /// The function panicked (the panic keeps unwinding).
    Panic = 3,
}

impl Status {
    /// Every status, in index order.
    pub const ALL: [Status; 4] = [Status::Success, Status::Error, Status::Cancelled, Status::Panic];

    /// The `status` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Error => "error",
            Status::Cancelled => "cancelled",
            Status::Panic => "panic",
        }
    }
}

/// The outcome of a returned value: success, or an error with a
/// low-cardinality type name for `error.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not an error.
    Success,
    /// An `Err` whose error type is named.
    Error(&'static str),
}

/// The last path segment of a type's name, without generic arguments:
/// `my_crate::errors::ToolError<io::Error>` gives `ToolError`.
pub fn short_type_name(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Classifies a return value without specialization: the generated code calls
/// `(&Probe(&ret)).__obs_outcome()`, which resolves to [`ResultOutcome`] for a
/// `Result` and to [`PlainOutcome`] for anything else.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Outcome of a `Result`.
pub trait ResultOutcome {
    /// `Error` for `Err`.
    fn __obs_outcome(&self) -> Outcome;
}

impl<T, E> ResultOutcome for Probe<'_, Result<T, E>> {
    #[inline]
    fn __obs_outcome(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Error(short_type_name(std::any::type_name::<E>())),
        }
    }
}

/// Outcome of any value that is not a `Result`: success.
pub trait PlainOutcome {
    /// Always `Success`.
    fn __obs_outcome(&self) -> Outcome;
}

impl<T: ?Sized> PlainOutcome for &Probe<'_, T> {
    #[inline]
    fn __obs_outcome(&self) -> Outcome {
        Outcome::Success
    }
}

/// The handles of one resolved label set: one counter and one histogram per
/// status, and the in-flight gauge for agents.
struct SiteSeries {
    calls: [&'static CounterCells; 4],
    duration: [&'static HistogramCells; 4],
    in_flight: Option<&'static UpDownCells>,
    llm: Option<LlmSeries>,
}

/// Resolves label values by name for one call.
struct Labels<'a> {
    info: &'static FnInfo,
    agent: Agent,
    provider: &'a str,
    dynamic: &'a [Cow<'a, str>],
}

impl Labels<'_> {
    fn value(&self, name: &str) -> &str {
        match name {
            "agent" => self.agent.name,
            "model" => self.dynamic_or(name, self.info.model),
            "provider" => self.provider,
            "tool" => self.dynamic_or(name, self.info.tool),
            "function" => self.info.name,
            "module" => self.info.module,
            other => self
                .info
                .labels
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
        match self.info.dynamic.iter().position(|d| *d == name) {
            Some(i) => self.dynamic.get(i).map_or("", |c| c),
            None => "",
        }
    }

    /// Extra label names of the function (`labels(...)`), static then dynamic.
    fn extra(&self) -> impl Iterator<Item = &'static str> {
        let builtin = ["agent", "model", "provider", "tool"];
        self.info
            .labels
            .iter()
            .map(|(k, _)| *k)
            .chain(self.info.dynamic.iter().copied().filter(move |d| !builtin.contains(d)))
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

    fn resolve(&self) -> SiteSeries {
        let (calls, duration, in_flight) = match self.info.kind {
            FnKind::Agent => (&names::AGENT_EXECUTIONS, &names::AGENT_DURATION, Some(&names::AGENT_IN_FLIGHT)),
            FnKind::LlmCall => (&names::LLM_CALLS, &names::LLM_DURATION, None),
            FnKind::Tool => (&names::TOOL_CALLS, &names::TOOL_DURATION, None),
            FnKind::Function => (&names::FUNCTION_CALLS, &names::FUNCTION_DURATION, None),
        };
        let llm = (self.info.kind == FnKind::LlmCall).then(|| {
            let extra: Vec<(&str, &str)> = self.extra().map(|n| (n, self.value(n))).collect();
            LlmSeries::resolve(
                self.value("model"),
                self.provider,
                self.info.operation.unwrap_or("chat"),
                self.info.batch,
                self.agent,
                &extra,
            )
        });
        SiteSeries {
            calls: Status::ALL.map(|s| self.series(calls, Some(s)).counter()),
            duration: Status::ALL.map(|s| self.series(duration, Some(s)).histogram()),
            in_flight: in_flight.map(|b| self.series(b, None).updown()),
            llm,
        }
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

/// Entries in a site's cache of runtime label values, before new values are
/// resolved per call instead of cached (keeps memory bounded).
const DYNAMIC_CACHE_LIMIT: usize = 1024;

/// Resolved label sets by hash of (agent, values); the values are kept to
/// tell hash collisions apart. A hit allocates nothing.
/// (agent id, runtime label values, their series).
type DynamicEntry = (u32, Box<[Box<str>]>, &'static SiteSeries);

#[derive(Default)]
struct DynamicCache {
    by_hash: HashMap<u64, Vec<DynamicEntry>>,
    len: usize,
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

/// The per-call-site state the macros generate as a `static`.
pub struct Site {
    info: &'static FnInfo,
    /// A literal agent name, interned once (interning takes a shared lock).
    agent: OnceLock<Agent>,
    by_agent: OnceLock<Box<[AtomicPtr<SiteSeries>]>>,
    provider: OnceLock<&'static str>,
    dynamic: OnceLock<Mutex<DynamicCache>>,
}

impl Site {
    /// A site for the function described by `info`.
    pub const fn new(info: &'static FnInfo) -> Site {
        Site {
            info,
            agent: OnceLock::new(),
            by_agent: OnceLock::new(),
            provider: OnceLock::new(),
            dynamic: OnceLock::new(),
        }
    }

    /// The function's descriptor.
    pub fn info(&self) -> &'static FnInfo {
        self.info
    }

    /// The provider label: given, or inferred from a literal model name.
    pub fn provider(&self) -> &'static str {
        self.provider.get_or_init(|| match (self.info.provider, self.info.model) {
            (Some(p), _) => p,
            (None, Some(m)) => crate::registry::infer_provider(m),
            (None, None) => "unknown",
        })
    }

    #[inline(always)]
    fn call_agent(&self, own: Option<Agent>) -> Agent {
        match self.info.kind {
            FnKind::Agent => {
                own.unwrap_or_else(|| *self.agent.get_or_init(|| self.info.agent.map_or(Agent::NONE, Agent::intern)))
            }
            FnKind::LlmCall | FnKind::Tool => current_agent(),
            FnKind::Function => Agent::NONE,
        }
    }

    #[inline(always)]
    fn cached(&self, agent: Agent) -> &'static SiteSeries {
        let table = self
            .by_agent
            .get_or_init(|| (0..=crate::context::MAX_AGENTS).map(|_| AtomicPtr::new(std::ptr::null_mut())).collect());
        // Agent ids are at most MAX_AGENTS and the table has MAX_AGENTS + 1 slots.
        let slot = &table[agent.id as usize];
        let p = slot.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: non-null pointers in the table come from `Box::leak` below
            // and are never freed.
            return unsafe { &*p };
        }
        self.resolve_slow(slot, agent)
    }

    #[cold]
    #[inline(never)]
    fn resolve_slow(&self, slot: &AtomicPtr<SiteSeries>, agent: Agent) -> &'static SiteSeries {
        let labels = Labels { info: self.info, agent, provider: self.provider(), dynamic: &[] };
        let fresh: &'static SiteSeries = Box::leak(Box::new(labels.resolve()));
        match slot.compare_exchange(
            std::ptr::null_mut(),
            fresh as *const _ as *mut _,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            // Another thread won the race; both resolved to the same series,
            // so the loser's small struct is simply left unused.
            // SAFETY: as above.
            Err(winner) => unsafe { &*winner },
        }
    }

    /// Materialises this site's series at zero for `agent` (done by `init()`).
    pub(crate) fn warm(&self, agent: Agent) {
        if self.info.dynamic.is_empty() {
            self.cached(agent);
        }
    }

    /// Starts a call whose labels are all known at compile time.
    #[inline(always)]
    pub fn start(&'static self, span: tracing::Span) -> Call {
        if !enabled() || !self.info.metrics {
            return Call::disabled(self.info, span);
        }
        let agent = self.call_agent(None);
        Call::begin(self.info, SeriesRef::Static(self.cached(agent)), agent, self.sets_agent(), span)
    }

    /// Starts a call with runtime label values, in the order of `info.dynamic`.
    pub fn start_dynamic(&'static self, span: tracing::Span, values: &[Cow<'_, str>]) -> Call {
        let own = self.own_agent(values);
        if !enabled() || !self.info.metrics {
            let mut c = Call::disabled(self.info, span);
            c.agent = own.unwrap_or(Agent::NONE);
            c.sets_agent = self.sets_agent();
            return c;
        }
        let agent = self.call_agent(own);
        let cache = self.dynamic.get_or_init(Default::default);
        let h = hash_values(agent.id, values);
        let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
        let hit = map.by_hash.get(&h).and_then(|bucket| {
            bucket
                .iter()
                .find(|(a, vs, _)| {
                    *a == agent.id && vs.len() == values.len() && vs.iter().zip(values).all(|(x, y)| **x == **y)
                })
                .map(|(_, _, s)| *s)
        });
        let series = match hit {
            Some(s) => SeriesRef::Static(s),
            None => {
                let labels =
                    Labels { info: self.info, agent, provider: self.dynamic_provider(values), dynamic: values };
                let resolved = labels.resolve();
                if map.len < DYNAMIC_CACHE_LIMIT {
                    let leaked: &'static SiteSeries = Box::leak(Box::new(resolved));
                    let key: Box<[Box<str>]> = values.iter().map(|v| Box::<str>::from(&**v)).collect();
                    map.by_hash.entry(h).or_default().push((agent.id, key, leaked));
                    map.len += 1;
                    SeriesRef::Static(leaked)
                } else {
                    SeriesRef::Owned(Box::new(resolved))
                }
            }
        };
        drop(map);
        Call::begin(self.info, series, agent, self.sets_agent(), span)
    }

    fn own_agent(&self, values: &[Cow<'_, str>]) -> Option<Agent> {
        if self.info.kind != FnKind::Agent {
            return None;
        }
        let i = self.info.dynamic.iter().position(|d| *d == "agent")?;
        values.get(i).map(|v| Agent::intern(v))
    }

    fn dynamic_provider<'a>(&self, values: &'a [Cow<'a, str>]) -> &'a str {
        let find = |name: &str| self.info.dynamic.iter().position(|d| *d == name).and_then(|i| values.get(i));
        if let Some(p) = find("provider") {
            return p;
        }
        if self.info.provider.is_none() {
            if let Some(m) = find("model") {
                return crate::registry::infer_provider(m);
            }
        }
        self.provider()
    }

    fn sets_agent(&self) -> bool {
        self.info.kind == FnKind::Agent
    }
}

enum SeriesRef {
    Static(&'static SiteSeries),
    Owned(Box<SiteSeries>),
    Disabled,
}

/// The guard of one instrumented call. Dropped without [`Call::finish`], it
/// records `panic` (when unwinding, or when a poll panicked) or `cancelled`.
pub struct Call {
    info: &'static FnInfo,
    series: SeriesRef,
    start: Option<quanta::Instant>,
    agent: Agent,
    sets_agent: bool,
    panicked: AtomicBool,
    done: bool,
    span: tracing::Span,
}

impl Call {
    #[inline(always)]
    fn disabled(info: &'static FnInfo, span: tracing::Span) -> Call {
        // A function with a `slow` threshold is timed even without metrics.
        let start = if info.slow.is_some() && enabled() { Some(quanta::Instant::now()) } else { None };
        Call {
            info,
            series: SeriesRef::Disabled,
            start,
            agent: Agent::NONE,
            sets_agent: false,
            panicked: AtomicBool::new(false),
            done: false,
            span,
        }
    }

    #[inline(always)]
    fn begin(info: &'static FnInfo, series: SeriesRef, agent: Agent, sets_agent: bool, span: tracing::Span) -> Call {
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
        }
    }

    /// Records the call's outcome.
    #[inline(always)]
    pub fn finish(mut self, outcome: Outcome) {
        self.done = true;
        match outcome {
            Outcome::Success => self.record(Status::Success, None),
            Outcome::Error(ty) => self.record(Status::Error, Some(ty)),
        };
    }

    /// Records a model call's outcome and what its return value reports
    /// (tokens, cost, response model, finish reasons).
    #[inline]
    pub fn finish_llm(mut self, outcome: Outcome, ret: &dyn LlmUsage) {
        self.done = true;
        let (status, error_type) = match outcome {
            Outcome::Success => (Status::Success, None),
            Outcome::Error(ty) => (Status::Error, Some(ty)),
        };
        let elapsed = self.record(status, error_type);
        let usage = match (status, ret.usage()) {
            (_, Some(u)) if u.is_reported() => UsageState::Reported(u),
            (Status::Success, _) => UsageState::Missing,
            _ => UsageState::NotApplicable,
        };
        self.end_llm(LlmEnd {
            status,
            error_type,
            elapsed_ns: elapsed.unwrap_or(0),
            usage,
            response_model: ret.response_model(),
            finish_reasons: &|| ret.finish_reasons().into_iter().map(str::to_string).collect(),
        });
    }

    /// Records a model call that reports no usage (`usage = none`, or an
    /// `Err` before a stream started).
    #[inline]
    pub fn finish_llm_unreported(mut self, outcome: Outcome) {
        self.done = true;
        let (status, error_type) = match outcome {
            Outcome::Success => (Status::Success, None),
            Outcome::Error(ty) => (Status::Error, Some(ty)),
        };
        let elapsed = self.record(status, error_type);
        self.end_llm(LlmEnd {
            status,
            error_type,
            elapsed_ns: elapsed.unwrap_or(0),
            usage: UsageState::NotApplicable,
            response_model: None,
            finish_reasons: &Vec::new,
        });
    }

    pub(crate) fn finish_stream(
        mut self,
        status: Status,
        usage: UsageState,
        response_model: Option<&str>,
        finish_reasons: &dyn Fn() -> Vec<String>,
    ) {
        self.done = true;
        let elapsed = self.record(status, None);
        self.end_llm(LlmEnd {
            status,
            error_type: None,
            elapsed_ns: elapsed.unwrap_or(0),
            usage,
            response_model,
            finish_reasons,
        });
    }

    fn end_llm(&self, end: LlmEnd<'_>) {
        if let Some(l) = self.series.get().and_then(|s| s.llm.as_ref()) {
            llm::record_end(l, self.agent, &self.span, end);
        }
    }

    /// Marks the first content chunk of a streamed call.
    pub(crate) fn record_first_token(&self) {
        if let (Some(l), Some(start)) = (self.series.get().and_then(|s| s.llm.as_ref()), self.start) {
            l.record_ttft(elapsed_ns(start));
        }
        if !self.span.is_disabled() {
            if let Some(start) = self.start {
                self.span.record("gen_ai.response.time_to_first_chunk", elapsed_ns(start) as f64 * 1e-9);
            }
        }
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
        if let (Some(threshold), Some(ns)) = (self.info.slow, elapsed) {
            if ns > u64::try_from(threshold.as_nanos()).unwrap_or(u64::MAX) {
                crate::events::slow_call(self.info, std::time::Duration::from_nanos(ns), threshold);
            }
        }
        if status != Status::Success && !self.span.is_disabled() {
            self.span.record("otel.status_code", "ERROR");
            self.span.record("error.type", error_type.unwrap_or(status.as_str()));
        }
        if !self.span.is_disabled() {
            self.span.record("obs.status", status.as_str());
        }
        elapsed
    }
}

/// Nanoseconds since `start`, in u64 arithmetic (`Duration::as_nanos` goes through u128).
#[inline(always)]
fn elapsed_ns(start: quanta::Instant) -> u64 {
    let d = quanta::Instant::now().saturating_duration_since(start);
    d.as_secs().saturating_mul(1_000_000_000).saturating_add(u64::from(d.subsec_nanos()))
}

impl SeriesRef {
    #[inline(always)]
    fn get(&self) -> Option<&SiteSeries> {
        match self {
            SeriesRef::Static(s) => Some(s),
            SeriesRef::Owned(s) => Some(s),
            SeriesRef::Disabled => None,
        }
    }
}

impl Drop for Call {
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
}

pin_project_lite::pin_project! {
    /// Drives an `async fn` body inside its call: enters the span and agent on
    /// every poll, marks a panicking poll, and hands the call back on completion
    /// so the caller classifies the output where its type is concrete.
    pub struct Tracked<F> {
        call: Option<Call>,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Tracked<F> {
    /// Wraps `fut`.
    pub fn new(call: Call, fut: F) -> Self {
        Tracked { call: Some(call), fut }
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

impl<F: Future> Future for Tracked<F> {
    type Output = (F::Output, Call);

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = {
            let call = this.call.as_ref().expect("`async fn` resumed after completion");
            let _entered = call.enter();
            let _mark = PanicMark(&call.panicked);
            this.fut.poll(cx)
        };
        match out {
            Poll::Ready(v) => match this.call.take() {
                Some(call) => Poll::Ready((v, call)),
                None => unreachable!("checked above"),
            },
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Forces a closure to be `FnOnce`, so the body of a sync function can return
/// references to `&mut self` data and use `?` with the declared return type.
#[inline(always)]
pub fn once<R, F: FnOnce() -> R>(f: F) -> R {
    f()
}

/// Pins an async body's output type to the function's declared return type,
/// so `?` inside the body infers its error conversion as in the original.
#[inline(always)]
pub fn typed<R, F: Future<Output = R>>(f: F) -> F {
    f
}
