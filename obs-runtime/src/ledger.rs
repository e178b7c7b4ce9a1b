//! A bounded, in-memory record of recent model calls, with statistics:
//! totals, per model, per agent and per hour; averages; success and failure
//! counts. Exported as JSON and JSON Lines, and served at `/summary`.
//!
//! A model call appends a compact 80-byte entry (ids and raw integers; a
//! [`CallRecord`] is built from it when read) to the ring of the calling
//! thread's metric shard, each ring on its own cache lines: the entries a
//! thread writes in turn stay few cache lines, where the records they
//! stand for are twice as large. a model call locks a mutex that no other
//! thread holds unless more threads than shards record at once. Even then it
//! does not wait: a ring that is busy is skipped for the next free one (the
//! capacity is per ring, and readers merge and sort all rings), and only when
//! every ring is busy does it wait for its own. Readers ([`recent`],
//! [`stats`], the JSON exports) lock each ring briefly in turn. Each ring is
//! allocated once at its share of the capacity, so memory is bounded.

use crate::pricing::PICO_PER_USD;
use crate::status::Status;
use crate::usage::TokenUsage;
use serde::Serialize;
use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Model calls kept by default.
pub const DEFAULT_CAPACITY: usize = 10_000;

static CAPACITY: AtomicUsize = AtomicUsize::new(DEFAULT_CAPACITY);

/// A ring, alone on its cache lines: two threads appending to neighbouring
/// rings do not write to one line (a mutex and its deque are 40 bytes).
#[repr(align(128))]
struct Ring(Mutex<VecDeque<Entry>>);

impl std::ops::Deref for Ring {
    type Target = Mutex<VecDeque<Entry>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// One ring per metric shard: a thread appends to its own shard's ring, so
/// concurrent model calls do not contend on one lock. Readers merge by time.
fn rings() -> &'static [Ring] {
    static RINGS: OnceLock<Box<[Ring]>> = OnceLock::new();
    RINGS.get_or_init(|| (0..crate::metrics::cells::shards()).map(|_| Ring(Mutex::new(VecDeque::new()))).collect())
}

/// Records kept per shard: the capacity split evenly, at least 1.
fn per_ring() -> usize {
    CAPACITY.load(Ordering::Relaxed).div_ceil(rings().len()).max(1)
}

/// The most calls the ledger keeps: each shard's ring reserves its share up
/// front (so a warm model call never allocates), which must stay bounded.
pub const MAX_CAPACITY: usize = 1_000_000;

/// Keeps the `n` most recent calls, from 1 to [`MAX_CAPACITY`] (a value
/// outside is clamped into it).
pub fn set_capacity(n: usize) {
    CAPACITY.store(n.clamp(1, MAX_CAPACITY), Ordering::Relaxed);
    let per = per_ring();
    for ring in rings() {
        let mut r = ring.lock().unwrap_or_else(|e| e.into_inner());
        while r.len() > per {
            r.pop_front();
        }
        r.shrink_to(per);
    }
}

/// A model and its provider, interned once per pair: what a ledger entry
/// points to.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Names {
    model: &'static str,
    provider: &'static str,
}

/// The interned `Names` of a model and provider (a call site's, resolved
/// with its series: not on a call's path).
pub(crate) fn names(model: &'static str, provider: &'static str) -> &'static Names {
    static ALL: Mutex<Option<std::collections::HashSet<&'static Names>>> = Mutex::new(None);
    let mut all = ALL.lock().unwrap_or_else(|e| e.into_inner());
    let all = all.get_or_insert_with(Default::default);
    let key = Names { model, provider };
    if let Some(n) = all.get(&key) {
        return n;
    }
    let leaked: &'static Names = Box::leak(Box::new(key));
    all.insert(leaked);
    leaked
}

/// One model call as a ring keeps it: ten words, the span's ids and the
/// response id (allocated only when the call reported one).
#[derive(Clone)]
struct Entry {
    timestamp_ms: u64,
    duration_ns: u64,
    cost_pico: u64,
    /// Input, output, cache read, cache creation, reasoning.
    tokens: [u64; 5],
    names: &'static Names,
    agent: u32,
    /// Bits 0..2 the status, 2..7 which tokens were reported, 7 the cost is
    /// known, 8 the usage is incomplete.
    flags: u32,
    span: Option<SpanRef>,
    response_id: Option<Box<str>>,
}

const COST_KNOWN: u32 = 1 << 7;
const INCOMPLETE: u32 = 1 << 8;

impl Entry {
    fn record(&self) -> CallRecord {
        let token = |i: usize| (self.flags & (1 << (2 + i)) != 0).then_some(self.tokens[i]);
        let status = Status::ALL[(self.flags & 3) as usize];
        let cost_pico = (self.flags & COST_KNOWN != 0).then_some(self.cost_pico);
        CallRecord {
            timestamp_ms: self.timestamp_ms,
            agent: crate::context::Agent::from_id(self.agent).name(),
            model: self.names.model,
            provider: self.names.provider,
            input_tokens: token(0),
            output_tokens: token(1),
            cache_read_tokens: token(2),
            cache_creation_tokens: token(3),
            reasoning_tokens: token(4),
            cost_usd: cost_pico.map(|p| p as f64 / PICO_PER_USD as f64),
            cost_pico,
            duration_seconds: self.duration_ns as f64 * 1e-9,
            status: status.as_str(),
            usage_incomplete: self.flags & INCOMPLETE != 0,
            response_id: self.response_id.clone(),
            span: self.span,
        }
    }
}

/// One model call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallRecord {
    /// Milliseconds since the Unix epoch, at the end of the call.
    pub timestamp_ms: u64,
    /// The calling agent (`none` outside any).
    pub agent: &'static str,
    /// The requested model.
    pub model: &'static str,
    /// The provider.
    pub provider: &'static str,
    /// Input tokens (cached included), when reported.
    pub input_tokens: Option<u64>,
    /// Output tokens (reasoning included), when reported.
    pub output_tokens: Option<u64>,
    /// Cache-read input tokens.
    pub cache_read_tokens: Option<u64>,
    /// Cache-creation input tokens.
    pub cache_creation_tokens: Option<u64>,
    /// Reasoning output tokens.
    pub reasoning_tokens: Option<u64>,
    /// Cost in USD; `None` when the model has no price or no usage was reported.
    pub cost_usd: Option<f64>,
    /// Exact cost in picodollars.
    #[serde(skip)]
    pub cost_pico: Option<u64>,
    /// Duration in seconds.
    pub duration_seconds: f64,
    /// `success`, `error`, `cancelled` or `panic`.
    pub status: &'static str,
    /// A stream that ended before its usage chunk.
    pub usage_incomplete: bool,
    /// The provider's response id (`gen_ai.response.id`), when the return
    /// value reported one ([`crate::usage::LlmUsage::response_id`]) of at
    /// most [`MAX_RESPONSE_ID_BYTES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_id: Option<Box<str>>,
    /// The W3C ids of the call's span, when it had them (spans exported or
    /// logged): `trace_id` and `span_id` in JSON.
    #[serde(flatten)]
    pub span: Option<SpanRef>,
}

/// Longest response id the ledger keeps, in bytes: a longer one is not kept
/// (a cut id would name no response).
pub const MAX_RESPONSE_ID_BYTES: usize = 256;

/// The W3C trace and span ids of a span: where an evaluation of the call
/// lands in a trace backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpanRef {
    /// 16 bytes, not all zero.
    pub trace_id: [u8; 16],
    /// 8 bytes, not all zero.
    pub span_id: [u8; 8],
    /// The trace's sampled flag.
    pub sampled: bool,
}

impl SpanRef {
    /// Ids from their hex form (32 and 16 lowercase or uppercase hex digits,
    /// not all zero, as W3C `traceparent` writes them); `None` otherwise.
    ///
    /// ```
    /// use obs_runtime::ledger::SpanRef;
    /// let s = SpanRef::parse("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7").unwrap();
    /// assert_eq!(s.span_id_hex(), "00f067aa0ba902b7");
    /// assert_eq!(SpanRef::parse("4bf92f3577b34da6a3ce929d0e0e4736", "00000000000000000"), None);
    /// ```
    pub fn parse(trace_id: &str, span_id: &str) -> Option<SpanRef> {
        let mut t = [0u8; 16];
        let mut s = [0u8; 8];
        (unhex(trace_id, &mut t) && unhex(span_id, &mut s) && t != [0; 16] && s != [0; 8]).then_some(SpanRef {
            trace_id: t,
            span_id: s,
            sampled: true,
        })
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The span id as 16 lowercase hex digits.
    pub fn span_id_hex(&self) -> String {
        hex(&self.span_id)
    }

    /// The ids of `span` when it has valid ones (it is enabled and obs's
    /// layer gave it OpenTelemetry ids). Reads nothing of a disabled span,
    /// which is what instrumented calls' spans are unless spans are
    /// exported or logged.
    #[cfg(feature = "logs")]
    pub(crate) fn of(span: &tracing::Span) -> Option<SpanRef> {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        if span.is_disabled() {
            return None;
        }
        let cx = span.context();
        let otel = cx.span();
        let sc = otel.span_context();
        sc.is_valid().then(|| SpanRef {
            trace_id: sc.trace_id().to_bytes(),
            span_id: sc.span_id().to_bytes(),
            sampled: sc.is_sampled(),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0xf)] as char);
    }
    s
}

/// Fills `out` from exactly `2 * out.len()` hex digits.
fn unhex(text: &str, out: &mut [u8]) -> bool {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    if text.len() != out.len() * 2 {
        return false;
    }
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        match (digit(pair[0]), digit(pair[1])) {
            (Some(h), Some(l)) => out[i] = h << 4 | l,
            _ => return false,
        }
    }
    true
}

impl Serialize for SpanRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("trace_id", &self.trace_id_hex())?;
        m.serialize_entry("span_id", &self.span_id_hex())?;
        m.end()
    }
}

impl CallRecord {
    #[cfg(test)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        timestamp_ms: u64,
        agent: &'static str,
        model: &'static str,
        provider: &'static str,
        usage: Option<TokenUsage>,
        cost_pico: Option<u64>,
        duration_ns: u64,
        status: Status,
        usage_incomplete: bool,
    ) -> Self {
        let u = usage.unwrap_or_default();
        CallRecord {
            timestamp_ms,
            agent,
            model,
            provider,
            input_tokens: u.input,
            output_tokens: u.output,
            cache_read_tokens: u.cache_read,
            cache_creation_tokens: u.cache_creation,
            reasoning_tokens: u.reasoning,
            cost_usd: cost_pico.map(|p| p as f64 / PICO_PER_USD as f64),
            cost_pico,
            duration_seconds: duration_ns as f64 * 1e-9,
            status: status.as_str(),
            usage_incomplete,
            response_id: None,
            span: None,
        }
    }
}

/// Milliseconds since the Unix epoch at `at`, a `quanta` instant the call
/// path already read (the end of the call), so a model call reads no clock
/// for its timestamp. Each thread anchors `quanta` to the system clock and
/// re-anchors once its anchor is a second old: at most one
/// `SystemTime::now()` per thread per second, and the clocks' drift over a
/// second is far below the millisecond kept. `None` (an untimed call) reads
/// the system clock.
pub(crate) fn wall_ms(at: Option<quanta::Instant>) -> u64 {
    fn system_ms() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }
    thread_local! {
        static ANCHOR: Cell<Option<(quanta::Instant, u64)>> = const { Cell::new(None) };
    }
    let Some(at) = at else { return system_ms() };
    ANCHOR
        .try_with(|anchor| {
            let (base, base_ms) = match anchor.get() {
                Some((base, ms)) if at >= base && at.duration_since(base) < Duration::from_secs(1) => (base, ms),
                _ => {
                    let fresh = (quanta::Instant::now(), system_ms());
                    anchor.set(Some(fresh));
                    fresh
                }
            };
            match at.checked_duration_since(base) {
                Some(d) => base_ms.saturating_add(d.as_millis() as u64),
                None => base_ms.saturating_sub(base.saturating_duration_since(at).as_millis() as u64),
            }
        })
        .unwrap_or_else(|_| system_ms())
}

/// One model call, as the model-call layer reports it when the call ends.
pub(crate) struct Call<'a> {
    /// When it ended (its own `quanta` clock read), when timed.
    pub(crate) ended: Option<quanta::Instant>,
    pub(crate) agent: crate::context::Agent,
    pub(crate) names: &'static Names,
    pub(crate) usage: Option<TokenUsage>,
    pub(crate) cost_pico: Option<u64>,
    pub(crate) duration_ns: u64,
    pub(crate) status: Status,
    pub(crate) usage_incomplete: bool,
    /// Kept when at most [`MAX_RESPONSE_ID_BYTES`].
    pub(crate) response_id: Option<&'a str>,
    pub(crate) span: Option<SpanRef>,
}

pub(crate) fn record(c: Call<'_>) {
    let u = c.usage.unwrap_or_default();
    let present = [u.input, u.output, u.cache_read, u.cache_creation, u.reasoning];
    let mut flags = c.status as u32;
    let mut tokens = [0u64; 5];
    for (i, t) in present.iter().enumerate() {
        if let Some(n) = t {
            tokens[i] = *n;
            flags |= 1 << (2 + i);
        }
    }
    if c.cost_pico.is_some() {
        flags |= COST_KNOWN;
    }
    if c.usage_incomplete {
        flags |= INCOMPLETE;
    }
    push(Entry {
        timestamp_ms: wall_ms(c.ended),
        duration_ns: c.duration_ns,
        cost_pico: c.cost_pico.unwrap_or(0),
        tokens,
        names: c.names,
        agent: c.agent.id,
        flags,
        span: c.span,
        response_id: c.response_id.filter(|id| !id.is_empty() && id.len() <= MAX_RESPONSE_ID_BYTES).map(Box::from),
    });
}

fn push(e: Entry) {
    let cap = per_ring();
    let rings = rings();
    // One ring per shard, so the shard is in range; `min` (not a division)
    // only keeps the indexing provably in bounds.
    let own = crate::metrics::cells::shard().min(rings.len() - 1);
    let mut ring = match rings[own].try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => lock_other(rings, own),
    };
    if ring.capacity() < cap {
        let len = ring.len();
        ring.reserve_exact(cap - len);
    }
    while ring.len() >= cap {
        ring.pop_front();
    }
    ring.push_back(e);
}

/// The own ring is busy (more threads than shards): the next free ring, or,
/// when every ring is busy, the own one once it is free.
#[cold]
#[inline(never)]
fn lock_other(rings: &[Ring], own: usize) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
    (1..rings.len())
        .find_map(|i| match rings[(own + i) % rings.len()].try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        })
        .unwrap_or_else(|| rings[own].lock().unwrap_or_else(|e| e.into_inner()))
}

/// The recorded calls, oldest first (the capacity is kept per shard, so
/// under uneven load slightly fewer than the capacity may be kept).
pub fn recent() -> Vec<CallRecord> {
    let mut all: Vec<CallRecord> = Vec::new();
    for ring in rings() {
        all.extend(ring.lock().unwrap_or_else(|e| e.into_inner()).iter().map(Entry::record));
    }
    // Stable: calls of one thread keep their order within a millisecond (unless
    // a busy ring sent one of them to another ring).
    all.sort_by_key(|r| r.timestamp_ms);
    all
}

/// The most recent recorded call for which `pred` holds.
fn find(pred: impl Fn(&Entry) -> bool) -> Option<CallRecord> {
    let mut best: Option<CallRecord> = None;
    for ring in rings() {
        let ring = ring.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = ring.iter().rev().find(|e| pred(e)) {
            if best.as_ref().map_or(true, |b| e.timestamp_ms >= b.timestamp_ms) {
                best = Some(e.record());
            }
        }
    }
    best
}

/// The most recent recorded call whose response id is `id`.
pub fn find_response(id: &str) -> Option<CallRecord> {
    find(|r| r.response_id.as_deref() == Some(id))
}

/// The recorded call whose span has these ids.
pub fn find_span(trace_id: [u8; 16], span_id: [u8; 8]) -> Option<CallRecord> {
    find(|r| r.span.is_some_and(|s| s.span_id == span_id && s.trace_id == trace_id))
}

/// Forgets every recorded call.
pub fn clear() {
    for ring in rings() {
        ring.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Aggregates over a set of calls.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Calls.
    pub calls: u64,
    /// Calls with status `success`.
    pub successes: u64,
    /// Calls with any other status.
    pub failures: u64,
    /// Input tokens (cached included).
    pub input_tokens: u64,
    /// Output tokens (reasoning included).
    pub output_tokens: u64,
    /// Cache-read tokens.
    pub cache_read_tokens: u64,
    /// Cache-creation tokens.
    pub cache_creation_tokens: u64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Total cost of the priced calls, USD.
    pub cost_usd: f64,
    /// Calls whose cost is unknown (unpriced model, or no usage).
    pub unpriced_calls: u64,
    /// Mean duration, seconds.
    pub avg_duration_seconds: f64,
    /// Mean cost per priced call, USD.
    pub avg_cost_usd: f64,
    /// Mean input tokens per call that reported usage.
    pub avg_input_tokens: f64,
    /// Mean output tokens per call that reported usage.
    pub avg_output_tokens: f64,
    /// Shortest call, seconds (`None` without calls).
    pub min_duration_seconds: Option<f64>,
    /// Median duration, seconds: exact over the calls kept (see [`Stats::quantile_method`]).
    pub p50_duration_seconds: Option<f64>,
    /// 95th percentile duration, seconds: exact over the calls kept.
    pub p95_duration_seconds: Option<f64>,
    /// Longest call, seconds.
    pub max_duration_seconds: Option<f64>,
    #[serde(skip)]
    durations: Vec<f64>,
    #[serde(skip)]
    cost_pico: u128,
    #[serde(skip)]
    duration_sum: f64,
    #[serde(skip)]
    with_usage: u64,
}

impl Totals {
    fn add(&mut self, r: &CallRecord) {
        self.calls += 1;
        if r.status == Status::Success.as_str() {
            self.successes += 1;
        } else {
            self.failures += 1;
        }
        self.input_tokens += r.input_tokens.unwrap_or(0);
        self.output_tokens += r.output_tokens.unwrap_or(0);
        self.cache_read_tokens += r.cache_read_tokens.unwrap_or(0);
        self.cache_creation_tokens += r.cache_creation_tokens.unwrap_or(0);
        self.reasoning_tokens += r.reasoning_tokens.unwrap_or(0);
        if r.input_tokens.is_some() || r.output_tokens.is_some() {
            self.with_usage += 1;
        }
        match r.cost_pico {
            Some(p) => self.cost_pico += u128::from(p),
            None if r.status == Status::Success.as_str() => self.unpriced_calls += 1,
            None => {}
        }
        self.duration_sum += r.duration_seconds;
        self.durations.push(r.duration_seconds);
    }

    fn finish(&mut self) {
        let priced = self.calls - self.unpriced_calls;
        self.cost_usd = self.cost_pico as f64 / PICO_PER_USD as f64;
        let mean = |sum: f64, n: u64| if n == 0 { 0.0 } else { sum / n as f64 };
        self.avg_duration_seconds = mean(self.duration_sum, self.calls);
        self.avg_cost_usd = mean(self.cost_usd, priced);
        self.avg_input_tokens = mean(self.input_tokens as f64, self.with_usage);
        self.avg_output_tokens = mean(self.output_tokens as f64, self.with_usage);
        let mut d = std::mem::take(&mut self.durations);
        d.sort_by(f64::total_cmp);
        // Nearest rank: always one of the durations observed.
        let rank = |q: f64| d.get(((q * d.len() as f64).ceil() as usize).clamp(1, d.len().max(1)) - 1).copied();
        self.min_duration_seconds = d.first().copied();
        self.p50_duration_seconds = rank(0.5);
        self.p95_duration_seconds = rank(0.95);
        self.max_duration_seconds = d.last().copied();
    }

    /// Exact total cost in picodollars.
    pub fn cost_pico(&self) -> u128 {
        self.cost_pico
    }
}

/// How the ledger's duration quantiles are computed.
pub const QUANTILE_METHOD: &str =
    "exact: nearest rank over the durations of the calls kept in the ledger (each quantile is one observed duration)";

/// Statistics over the recorded calls.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Calls covered (at most the ledger's capacity).
    pub window_calls: usize,
    /// How the `p50`/`p95` durations are computed ([`QUANTILE_METHOD`]).
    pub quantile_method: &'static str,
    /// Everything.
    pub totals: Totals,
    /// By model.
    pub by_model: BTreeMap<String, Totals>,
    /// By agent.
    pub by_agent: BTreeMap<String, Totals>,
    /// By agent, then model.
    pub by_agent_model: BTreeMap<String, BTreeMap<String, Totals>>,
    /// By hour (UTC, `YYYY-MM-DDTHH:00Z`).
    pub by_hour: BTreeMap<String, Totals>,
    /// By conversation (the request context's conversation id): the
    /// conversations obs follows, bounded (see [`crate::conversation`]).
    pub conversations: crate::conversation::Summary,
}

fn hour_label(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = crate::time::civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:00Z", (secs % 86_400) / 3600)
}

/// Statistics of the calls in the ledger now.
pub fn stats() -> Stats {
    let records = recent();
    let mut s = Stats {
        window_calls: records.len(),
        quantile_method: QUANTILE_METHOD,
        conversations: crate::conversation::summary(),
        ..Stats::default()
    };
    for r in &records {
        s.totals.add(r);
        s.by_model.entry(r.model.to_string()).or_default().add(r);
        s.by_agent.entry(r.agent.to_string()).or_default().add(r);
        s.by_agent_model.entry(r.agent.to_string()).or_default().entry(r.model.to_string()).or_default().add(r);
        s.by_hour.entry(hour_label(r.timestamp_ms)).or_default().add(r);
    }
    s.totals.finish();
    for t in s.by_model.values_mut().chain(s.by_agent.values_mut()).chain(s.by_hour.values_mut()) {
        t.finish();
    }
    for m in s.by_agent_model.values_mut() {
        m.values_mut().for_each(Totals::finish);
    }
    s
}

/// Statistics as one JSON object.
pub fn stats_json() -> String {
    serde_json::to_string_pretty(&stats()).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// The recorded calls as one JSON array.
pub fn to_json() -> String {
    serde_json::to_string(&recent()).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// The recorded calls as JSON Lines (one object per line).
pub fn to_jsonl() -> String {
    let mut out = String::new();
    for r in recent() {
        if let Ok(line) = serde_json::to_string(&r) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn duration_quantiles_are_observed_values() {
        let mut t = super::Totals::default();
        for secs in [3.84, 0.5, 1.0, 2.0] {
            let r = super::CallRecord::new(
                0,
                "a",
                "m",
                "p",
                None,
                None,
                (secs * 1e9) as u64,
                crate::status::Status::Success,
                false,
            );
            t.add(&r);
        }
        t.finish();
        // Nanoseconds scaled by 1e-9 may be off in the last bit.
        let close = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-9);
        assert!(close(t.min_duration_seconds, 0.5), "{t:?}");
        assert!(close(t.p50_duration_seconds, 1.0), "{t:?}");
        assert!(close(t.p95_duration_seconds, 3.84), "{t:?}");
        assert!(close(t.max_duration_seconds, 3.84), "{t:?}");
        let mut one = super::Totals::default();
        one.add(&super::CallRecord::new(
            0,
            "a",
            "m",
            "p",
            None,
            None,
            3_840_000_000,
            crate::status::Status::Error,
            false,
        ));
        one.finish();
        assert!(close(one.p50_duration_seconds, 3.84) && close(one.p95_duration_seconds, 3.84), "{one:?}");
        let mut none = super::Totals::default();
        none.finish();
        assert_eq!((none.min_duration_seconds, none.p95_duration_seconds), (None, None));
    }

    #[test]
    fn timestamps_follow_the_system_clock() {
        let sys = || super::SystemTime::now().duration_since(super::UNIX_EPOCH).unwrap().as_millis() as u64;
        let before = sys();
        let now = quanta::Instant::now();
        let ms = super::wall_ms(Some(now));
        let after = sys();
        assert!((before..=after + 1).contains(&ms), "{before} <= {ms} <= {after}");
        // Anchored now: an instant 250 ms later reads 250 ms later.
        let later = super::wall_ms(Some(now + super::Duration::from_millis(250)));
        assert!((ms + 249..=ms + 251).contains(&later), "{ms} + 250 ms = {later}");
        assert!((before..=sys() + 1).contains(&super::wall_ms(None)));
    }

    #[test]
    fn hours_are_utc_labels() {
        assert_eq!(super::hour_label(0), "1970-01-01T00:00Z");
        assert_eq!(super::hour_label(1_763_722_800_000), "2025-11-21T11:00Z");
    }
}
