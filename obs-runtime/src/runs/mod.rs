//! The run store behind the live view (feature `ui`): the last runs of the
//! program's agents, each the tree of calls under one root call (an agent
//! called outside any other agent, or a model or tool call outside any
//! agent), with statuses, durations, tokens, cost, error messages and
//! captured content; and the recent failures grouped by function and error
//! type ([`failures`]).
//!
//! Runs are collected from obs's own spans by a `tracing` layer
//! ([`layer`], part of [`crate::layer()`]), so the call path has no code for
//! them: with the view off the layer's filter has no interest in any
//! callsite and spans stay disabled exactly as without it (zero cost); with
//! it on, each instrumented call's span is enabled, and its fields (the
//! ones the call path records for traces: tokens, cost, time to first
//! token, `error.type`, captured content) are kept when it closes.
//!
//! **Memory.** Everything the store keeps is counted in bytes as it is
//! allocated: each kept call (its node and every string it holds), each
//! run's header and request context, the indexes of runs, and the failure
//! groups. The count never exceeds the bound (`OBS_UI_MAX_BYTES`, default
//! 16 MiB): to make room the oldest finished runs are evicted (the last
//! [`AGENT_FLOOR`] runs of each agent go last, so a busy agent cannot push a
//! rare one out); what still does not fit is not kept. A run keeps at most
//! `OBS_UI_RUN_CALLS` calls (default 2,000) and a quarter of the bound; past
//! either it is cut, and says how many calls it left out (its totals still
//! count every call). What is not counted: the spans still open, which the
//! `tracing` registry holds for the program anyway (each also holds the node
//! it will hand over when it closes).
//!
//! What this module must not do: take a lock the call path takes (its locks
//! are its own: one per run, and the store's, taken when a run starts and
//! ends and when a reader lists runs), panic, or grow past its bound.

mod failures;
mod layer;

pub(crate) use failures::failures;
pub(crate) use layer::{in_current_subscriber, layer};

use crate::context::RequestContext;
use crate::status::Status;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Runs kept by default (`OBS_UI_RUNS`).
pub const DEFAULT_RUNS: usize = 500;
/// Bounds of `OBS_UI_RUNS`.
pub const RUNS_RANGE: std::ops::RangeInclusive<usize> = 1..=100_000;
/// Calls kept per run by default (`OBS_UI_RUN_CALLS`).
pub const DEFAULT_RUN_CALLS: usize = 2_000;
/// Bounds of `OBS_UI_RUN_CALLS`.
pub const RUN_CALLS_RANGE: std::ops::RangeInclusive<usize> = 1..=100_000;
/// The store's memory bound by default (`OBS_UI_MAX_BYTES`): 16 MiB.
pub const DEFAULT_MAX_BYTES: usize = 16 << 20;
/// Bounds of `OBS_UI_MAX_BYTES`: 1 MiB to 1 GiB.
pub const MAX_BYTES_RANGE: std::ops::RangeInclusive<usize> = (1 << 20)..=(1 << 30);
/// Runs of each agent evicted last.
pub const AGENT_FLOOR: usize = 10;

/// Longest name (agent, model, tool, function) and id kept, in bytes.
const MAX_NAME: usize = 256;
/// Longest error message kept (the failure line's is already cut to 1 KiB).
const MAX_MESSAGE: usize = 1024;
/// Longest captured content kept per field (capture cuts it first, to
/// `OBS_CAPTURE_MAX_BYTES`).
const MAX_CONTENT: usize = 64 * 1024;

static ON: AtomicBool = AtomicBool::new(false);
static MAX_RUNS: AtomicUsize = AtomicUsize::new(DEFAULT_RUNS);
static MAX_CALLS: AtomicUsize = AtomicUsize::new(DEFAULT_RUN_CALLS);
static MAX_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_BYTES);
/// Bytes the store holds now (see the module doc).
static USED: AtomicUsize = AtomicUsize::new(0);
/// The highest `USED` seen: the bound is checked against it in tests.
static PEAK: AtomicUsize = AtomicUsize::new(0);
static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

/// The store's settings, applied by `init()` before collection starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) runs: usize,
    pub(crate) run_calls: usize,
    pub(crate) max_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { runs: DEFAULT_RUNS, run_calls: DEFAULT_RUN_CALLS, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// Starts collecting runs with `cfg` (from `init()`, once every exporter
/// started). Callsites re-evaluate their interest, so spans of
/// instrumented calls are enabled from here on.
pub(crate) fn start(cfg: Config) {
    MAX_RUNS.store(cfg.runs.clamp(*RUNS_RANGE.start(), *RUNS_RANGE.end()), Ordering::Relaxed);
    MAX_CALLS.store(cfg.run_calls.clamp(*RUN_CALLS_RANGE.start(), *RUN_CALLS_RANGE.end()), Ordering::Relaxed);
    MAX_BYTES.store(cfg.max_bytes.clamp(*MAX_BYTES_RANGE.start(), *MAX_BYTES_RANGE.end()), Ordering::Relaxed);
    set_collecting(true);
}

/// Turns collection on or off for spans created from now on (a run under
/// way when it turns off is still finished and kept). Off, the layer has no
/// interest in any callsite.
pub(crate) fn set_collecting(on: bool) {
    ON.store(on, Ordering::Release);
    tracing::callsite::rebuild_interest_cache();
}

/// Whether runs are collected.
pub(crate) fn collecting() -> bool {
    ON.load(Ordering::Acquire)
}

/// The store's settings in force.
pub(crate) fn config() -> Config {
    Config {
        runs: MAX_RUNS.load(Ordering::Relaxed),
        run_calls: MAX_CALLS.load(Ordering::Relaxed),
        max_bytes: MAX_BYTES.load(Ordering::Relaxed),
    }
}

// ---- What is kept ----

/// The kind of an instrumented call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Agent,
    Model,
    Tool,
    Function,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Model => "model",
            Kind::Tool => "tool",
            Kind::Function => "function",
        }
    }

    /// The kind of a span by its `gen_ai.operation.name`.
    fn of_operation(op: &str) -> Kind {
        match op {
            "invoke_agent" | "create_agent" => Kind::Agent,
            "execute_tool" => Kind::Tool,
            _ => Kind::Model,
        }
    }
}

/// Token types, in the order of `llm_tokens_total`'s `type` label.
pub(crate) const TOKEN_TYPES: [&str; 5] = ["input", "output", "cache_read", "cache_creation", "reasoning"];

/// Token counts by type (`None`: not reported).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tokens(pub(crate) [Option<u64>; 5]);

impl Tokens {
    fn add(&mut self, o: &Tokens) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            if let Some(b) = b {
                *a = Some(a.unwrap_or(0).saturating_add(b));
            }
        }
    }
}

/// A string a call may carry, kept only when present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extra {
    ErrorType,
    ErrorMessage,
    Function,
    Provider,
    ResponseModel,
    FinishReasons,
    /// Captured input: a model call's messages or a tool's arguments.
    Input,
    /// Captured output: a model call's messages or a tool's result.
    Output,
}

impl Extra {
    fn limit(self) -> usize {
        match self {
            Extra::ErrorMessage => MAX_MESSAGE,
            Extra::Input | Extra::Output => MAX_CONTENT,
            _ => MAX_NAME,
        }
    }
}

/// One call of a run.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// Its place in the run, in order of creation (the root is 0).
    pub(crate) index: u32,
    /// The nearest kept call it ran inside; `None` for the root.
    pub(crate) parent: Option<u32>,
    pub(crate) kind: Kind,
    /// `None` while it runs.
    pub(crate) status: Option<Status>,
    /// The agent, model, tool or function name.
    pub(crate) name: Box<str>,
    /// The span's name and target (module path): static, never counted.
    pub(crate) span_name: &'static str,
    pub(crate) target: &'static str,
    /// Since the start of the run.
    pub(crate) start_ns: u64,
    pub(crate) duration_ns: u64,
    pub(crate) tokens: Tokens,
    pub(crate) cost_pico: Option<u64>,
    pub(crate) ttft_ns: Option<u64>,
    /// `obs.usage`: `missing` or `incomplete` when the call reported none.
    pub(crate) usage: Option<&'static str>,
    pub(crate) extras: Vec<(Extra, Box<str>)>,
}

impl Node {
    fn new(kind: Kind, span_name: &'static str, target: &'static str) -> Node {
        Node {
            index: 0,
            parent: None,
            kind,
            status: None,
            name: Box::from(""),
            span_name,
            target,
            start_ns: 0,
            duration_ns: 0,
            tokens: Tokens::default(),
            cost_pico: None,
            ttft_ns: None,
            usage: None,
            extras: Vec::new(),
        }
    }

    pub(crate) fn extra(&self, which: Extra) -> Option<&str> {
        self.extras.iter().find(|(k, _)| *k == which).map(|(_, v)| &**v)
    }

    fn set_extra(&mut self, which: Extra, v: &str) {
        if v.is_empty() {
            return;
        }
        let v: Box<str> = crate::metrics::registry::cut(v, which.limit()).into();
        match self.extras.iter_mut().find(|(k, _)| *k == which) {
            Some(slot) => slot.1 = v,
            None => self.extras.push((which, v)),
        }
    }

    /// Bytes it holds on the heap as a kept call: its box, its strings,
    /// and its slot in the run's vector (counted twice, for the vector's
    /// spare capacity).
    fn bytes(&self) -> usize {
        std::mem::size_of::<Node>()
            + 2 * std::mem::size_of::<Box<Node>>()
            + self.name.len()
            + self.extras.capacity() * std::mem::size_of::<(Extra, Box<str>)>()
            + self.extras.iter().map(|(_, v)| v.len()).sum::<usize>()
    }
}

/// What a run adds up over every call it had, kept or cut.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Totals {
    pub(crate) calls: u64,
    /// Calls that ended in `error` or `panic`.
    pub(crate) failed: u64,
    pub(crate) model_calls: u64,
    pub(crate) tool_calls: u64,
    pub(crate) tokens: Tokens,
    pub(crate) cost_pico: u64,
}

impl Totals {
    fn add(&mut self, n: &Node) {
        self.calls += 1;
        if matches!(n.status, Some(Status::Error | Status::Panic)) {
            self.failed += 1;
        }
        match n.kind {
            Kind::Model => {
                self.model_calls += 1;
                self.tokens.add(&n.tokens);
            }
            Kind::Tool => self.tool_calls += 1,
            _ => {}
        }
        self.cost_pico = self.cost_pico.saturating_add(n.cost_pico.unwrap_or(0));
    }
}

/// Why a run kept fewer calls than it had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CutReason {
    /// `OBS_UI_RUN_CALLS`.
    Calls,
    /// A quarter of `OBS_UI_MAX_BYTES`, or the store's bound itself.
    Bytes,
}

/// What identifies a run and where it ran.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    pub(crate) id: u64,
    /// Known once the root starts (see [`RunCell::set_trace_id`]).
    pub(crate) trace_id: Option<Box<str>>,
    /// The root's agent (the calling agent for a model or tool root; `none`
    /// outside any).
    pub(crate) agent: &'static str,
    pub(crate) kind: Kind,
    /// The root call's name.
    pub(crate) name: Box<str>,
    /// Milliseconds since the Unix epoch at the start.
    pub(crate) start_ms: u64,
    pub(crate) request: Option<RequestContext>,
}

impl Header {
    fn bytes(&self) -> usize {
        // The trace id's 32 hex digits, counted from the start: a run in
        // progress learns it later.
        TRACE_ID_BYTES
            + self.name.len()
            + self.request.as_ref().map_or(0, |r| {
                // The context is shared with the program; counted as if it
                // were the store's own.
                64 + r.fields().map(|(_, v)| v.len() + 16).sum::<usize>()
            })
    }
}

/// Length of a trace id in hex.
const TRACE_ID_BYTES: usize = 32;

/// A run in progress: its calls so far, behind its own lock.
pub(crate) struct RunCell {
    /// Without its trace id, which is `trace_id`.
    header: Header,
    trace_id: std::sync::OnceLock<Box<str>>,
    start: quanta::Instant,
    /// The next call's index (also the calls started so far).
    next: AtomicU64,
    state: Mutex<Building>,
}

#[derive(Default)]
struct Building {
    // Boxed: a node moves into the run's vector without copying its 200
    // bytes, and a vector's spare capacity costs a pointer a slot.
    #[allow(clippy::vec_box)]
    nodes: Vec<Box<Node>>,
    totals: Totals,
    cut: u64,
    cut_reason: Option<CutReason>,
    /// Bytes counted for this run (header and kept calls).
    bytes: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A finished run. Its bytes are given back to the store's count when the
/// last reference to it drops.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) header: Header,
    pub(crate) status: Status,
    pub(crate) duration_ns: u64,
    pub(crate) totals: Totals,
    /// Sorted by index.
    #[allow(clippy::vec_box)]
    pub(crate) nodes: Vec<Box<Node>>,
    pub(crate) cut: u64,
    pub(crate) cut_reason: Option<CutReason>,
    bytes: usize,
}

impl Drop for Run {
    fn drop(&mut self) {
        release(self.bytes);
    }
}

/// A run as a reader sees it: finished, or a copy of one in progress.
#[derive(Clone, Debug)]
pub(crate) struct View {
    pub(crate) header: Header,
    /// `None` while it runs.
    pub(crate) status: Option<Status>,
    /// So far, for a run in progress.
    pub(crate) duration_ns: u64,
    pub(crate) totals: Totals,
    pub(crate) cut: u64,
    pub(crate) cut_reason: Option<CutReason>,
    pub(crate) nodes: Vec<Node>,
}

impl View {
    fn of_run(r: &Run, with_nodes: bool) -> View {
        View {
            header: r.header.clone(),
            status: Some(r.status),
            duration_ns: r.duration_ns,
            totals: r.totals,
            cut: r.cut,
            cut_reason: r.cut_reason,
            nodes: if with_nodes { r.nodes.iter().map(|n| (**n).clone()).collect() } else { Vec::new() },
        }
    }

    fn of_cell(c: &RunCell, with_nodes: bool) -> View {
        let b = lock(&c.state);
        let mut nodes: Vec<Node> =
            if with_nodes { b.nodes.iter().map(|n| (**n).clone()).collect() } else { Vec::new() };
        nodes.sort_by_key(|n| n.index);
        View {
            header: c.header(),
            status: None,
            duration_ns: elapsed_ns(c.start, quanta::Instant::now()),
            totals: b.totals,
            cut: b.cut,
            cut_reason: b.cut_reason,
            nodes,
        }
    }

    /// The run's id as the API shows it.
    pub(crate) fn id(&self) -> String {
        run_id(self.header.id)
    }
}

/// A run's id as the API shows it: 16 hex digits.
pub(crate) fn run_id(id: u64) -> String {
    format!("{id:016x}")
}

fn elapsed_ns(from: quanta::Instant, to: quanta::Instant) -> u64 {
    let d = to.saturating_duration_since(from);
    d.as_secs().saturating_mul(1_000_000_000).saturating_add(u64::from(d.subsec_nanos()))
}

// ---- The store and its byte count ----

#[derive(Default)]
struct Store {
    /// Oldest first.
    finished: VecDeque<Arc<Run>>,
    /// Finished runs kept per agent.
    per_agent: HashMap<&'static str, usize>,
    open: BTreeMap<u64, Arc<RunCell>>,
    /// Bytes counted for the three collections above (their own allocations).
    index_bytes: usize,
    /// Runs seen, and runs not kept at all (no room even after evicting).
    started: u64,
    dropped: u64,
    evicted: u64,
}

static STORE: Mutex<Option<Store>> = Mutex::new(None);

fn with_store<R>(f: impl FnOnce(&mut Store) -> R) -> R {
    let mut g = lock(&STORE);
    f(g.get_or_insert_with(Store::new))
}

/// Bytes of one `open` entry, counted with its run: a B-tree stores its
/// entries in nodes of up to 11, each with spare room; 48 bytes an entry is
/// above what std's layout takes.
const OPEN_ENTRY_BYTES: usize = 48;

impl Store {
    /// The agent index is made for every agent name there can be, so it
    /// never grows (and its bytes are counted once).
    fn new() -> Store {
        Store { per_agent: HashMap::with_capacity(crate::context::MAX_AGENTS + 1), ..Store::default() }
    }

    /// Recounts the indexes' own allocations and adjusts `USED` (growth is
    /// made room for first, in `push_finished`).
    fn recount_index(&mut self) {
        let per_agent_slot = std::mem::size_of::<(&'static str, usize)>() + 1;
        let now = self.finished.capacity() * std::mem::size_of::<Arc<Run>>()
            + (self.per_agent.capacity() + 16) * per_agent_slot;
        if now > self.index_bytes {
            charge(now - self.index_bytes);
        } else {
            release(self.index_bytes - now);
        }
        self.index_bytes = now;
    }

    /// Evicts the oldest finished run, sparing the last [`AGENT_FLOOR`] of
    /// each agent while another can go. `false` when none is left.
    fn evict_one(&mut self) -> bool {
        let pick = self
            .finished
            .iter()
            .position(|r| self.per_agent.get(r.header.agent).copied().unwrap_or(0) > AGENT_FLOOR)
            .or(if self.finished.is_empty() { None } else { Some(0) });
        let Some(i) = pick else { return false };
        if let Some(run) = self.finished.remove(i) {
            self.forget_agent(run.header.agent);
            self.evicted += 1;
            // `run` drops here (or with its last reader), giving its bytes back.
        }
        true
    }

    fn forget_agent(&mut self, agent: &'static str) {
        if let Some(n) = self.per_agent.get_mut(agent) {
            *n -= 1;
            if *n == 0 {
                self.per_agent.remove(agent);
            }
        }
    }

    fn push_finished(&mut self, run: Arc<Run>) {
        let max = MAX_RUNS.load(Ordering::Relaxed);
        while self.finished.len() >= max && self.evict_one() {}
        if self.finished.len() == self.finished.capacity() {
            // Grows by half, within the run limit, and pays for it first:
            // older runs make room (which may leave room in the queue).
            let len = self.finished.len();
            let add = (len / 2).max(16).min(max.saturating_sub(len).max(1));
            let bytes = add * std::mem::size_of::<Arc<Run>>();
            while USED.load(Ordering::Acquire) + bytes > MAX_BYTES.load(Ordering::Relaxed) && self.evict_one() {}
            if self.finished.len() == self.finished.capacity() {
                self.finished.reserve_exact(add);
            }
        }
        *self.per_agent.entry(run.header.agent).or_insert(0) += 1;
        self.finished.push_back(run);
        self.recount_index();
    }
}

fn charge(n: usize) {
    let now = USED.fetch_add(n, Ordering::AcqRel) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn release(n: usize) {
    USED.fetch_sub(n, Ordering::AcqRel);
}

/// Counts `n` more bytes if they fit under the bound, evicting finished
/// runs to make room; `false` (nothing counted) when they cannot fit.
/// Never called with a run's lock held (the store's lock is taken here).
fn reserve(n: usize) -> bool {
    let max = MAX_BYTES.load(Ordering::Relaxed);
    if n > max {
        return false;
    }
    let mut prev = USED.load(Ordering::Acquire);
    loop {
        if prev + n <= max {
            match USED.compare_exchange_weak(prev, prev + n, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    PEAK.fetch_max(prev + n, Ordering::Relaxed);
                    return true;
                }
                Err(p) => prev = p,
            }
            continue;
        }
        // Over: make room. An evicted run's bytes come back when it drops
        // here, unless a reader still holds it.
        let evicted = with_store(|s| {
            let e = s.evict_one();
            s.recount_index();
            e
        });
        if !evicted {
            return false;
        }
        prev = USED.load(Ordering::Acquire);
    }
}

/// The store's figures, for the API and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) kept: usize,
    pub(crate) in_progress: usize,
    pub(crate) started: u64,
    pub(crate) dropped: u64,
    pub(crate) evicted: u64,
    pub(crate) bytes: usize,
    pub(crate) peak_bytes: usize,
}

pub(crate) fn stats() -> Stats {
    with_store(|s| Stats {
        kept: s.finished.len(),
        in_progress: s.open.len(),
        started: s.started,
        dropped: s.dropped,
        evicted: s.evicted,
        bytes: USED.load(Ordering::Acquire),
        peak_bytes: PEAK.load(Ordering::Relaxed),
    })
}

// ---- Readers ----

/// What a runs list keeps.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    pub(crate) agent: Option<String>,
    /// `success`, `error`, `cancelled`, `panic`, `running`, or `failed`
    /// (error or panic).
    pub(crate) status: Option<String>,
    /// Matched, case-insensitively, against the ids, the agent, the request
    /// context, and every kept call's name, error type and error message.
    pub(crate) text: Option<String>,
    pub(crate) limit: usize,
}

fn status_matches(want: &str, status: Option<Status>) -> bool {
    match (want, status) {
        ("running", None) => true,
        ("failed", Some(Status::Error | Status::Panic)) => true,
        (w, Some(s)) => w == s.as_str(),
        _ => false,
    }
}

impl Filter {
    /// Whether a run passes; `needle` is the lowercased text.
    fn keeps<'a>(
        &self,
        needle: Option<&str>,
        h: &Header,
        status: Option<Status>,
        nodes: impl Iterator<Item = &'a Node>,
    ) -> bool {
        if self.agent.as_deref().is_some_and(|a| a != h.agent)
            || self.status.as_deref().is_some_and(|s| !status_matches(s, status))
        {
            return false;
        }
        let Some(needle) = needle else { return true };
        let has = |s: &str| s.to_lowercase().contains(needle);
        has(&run_id(h.id))
            || h.trace_id.as_deref().is_some_and(has)
            || has(h.agent)
            || has(&h.name)
            || h.request.as_ref().is_some_and(|r| r.fields().any(|(_, x)| has(x)))
            || nodes.into_iter().any(|n| {
                has(&n.name)
                    || n.extra(Extra::ErrorType).is_some_and(has)
                    || n.extra(Extra::ErrorMessage).is_some_and(has)
                    || n.extra(Extra::Function).is_some_and(has)
            })
    }
}

/// Runs newest first (those in progress first of all), filtered, without
/// their calls.
pub(crate) fn list(f: &Filter) -> Vec<View> {
    let (open, finished): (Vec<Arc<RunCell>>, Vec<Arc<Run>>) =
        with_store(|s| (s.open.values().rev().cloned().collect(), s.finished.iter().rev().cloned().collect()));
    let needle = f.text.as_deref().map(str::to_lowercase).filter(|t| !t.is_empty());
    let needle = needle.as_deref();
    let mut out = Vec::new();
    for c in &open {
        let mut v = View::of_cell(c, needle.is_some());
        if out.len() < f.limit && f.keeps(needle, &v.header, None, v.nodes.iter()) {
            v.nodes = Vec::new();
            out.push(v);
        }
    }
    for r in &finished {
        if out.len() >= f.limit {
            break;
        }
        if f.keeps(needle, &r.header, Some(r.status), r.nodes.iter().map(|n| &**n)) {
            out.push(View::of_run(r, false));
        }
    }
    out
}

/// One run with its calls, by run id or trace id (the newest run of that trace).
pub(crate) fn get(id: &str) -> Option<View> {
    let by_run = u64::from_str_radix(id, 16).ok().filter(|_| id.len() == 16);
    let (cell, run) = with_store(|s| {
        let matches = |run: u64, trace: Option<&str>| Some(run) == by_run || trace == Some(id);
        let cell = s.open.values().rev().find(|c| matches(c.header.id, c.trace_id.get().map(|t| &**t))).cloned();
        let run = s.finished.iter().rev().find(|r| matches(r.header.id, r.header.trace_id.as_deref())).cloned();
        (cell, run)
    });
    match (cell, run) {
        (Some(c), _) => Some(View::of_cell(&c, true)),
        (None, Some(r)) => Some(View::of_run(&r, true)),
        _ => None,
    }
}

/// The agents of the runs kept, for the list's filter.
pub(crate) fn agents() -> Vec<&'static str> {
    let mut v: Vec<&'static str> =
        with_store(|s| s.per_agent.keys().copied().chain(s.open.values().map(|c| c.header.agent)).collect());
    v.sort_unstable();
    v.dedup();
    v
}

// ---- What the layer calls ----

/// Starts a run at its root call; `None` when it cannot be kept.
fn open_run(header: Header, start: quanta::Instant) -> Option<Arc<RunCell>> {
    let bytes = std::mem::size_of::<RunCell>() + 16 + header.bytes() + OPEN_ENTRY_BYTES;
    if !reserve(bytes) {
        with_store(|s| {
            s.started += 1;
            s.dropped += 1;
        });
        return None;
    }
    let id = header.id;
    let cell = Arc::new(RunCell {
        header,
        trace_id: std::sync::OnceLock::new(),
        start,
        next: AtomicU64::new(0),
        state: Mutex::new(Building { bytes, ..Building::default() }),
    });
    with_store(|s| {
        s.started += 1;
        s.open.insert(id, cell.clone());
    });
    Some(cell)
}

/// A new run id: unique in the process, and unlikely to match a run of an
/// earlier process (its high half is random per process).
fn next_run_id() -> u64 {
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(std::process::id().into());
        h.finish() & 0xffff_ffff_0000_0000
    });
    base | (NEXT_RUN.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff)
}

impl RunCell {
    /// The header with the trace id, once known.
    fn header(&self) -> Header {
        Header { trace_id: self.trace_id.get().cloned(), ..self.header.clone() }
    }

    /// Whether the trace id is known.
    pub(crate) fn has_trace_id(&self) -> bool {
        self.trace_id.get().is_some()
    }

    /// The run's trace id, read when its root starts: reading it sooner
    /// would start the root's OpenTelemetry span, after which a remote
    /// parent set on it (`trace::continue_trace`, an MCP request's
    /// `_meta`) is refused.
    pub(crate) fn set_trace_id(&self, id: Box<str>) {
        let _ = self.trace_id.set(id);
    }

    /// The index of a call started in this run.
    fn next_index(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Hands over a call that ended: counted in the totals, kept when it is
    /// among the first `OBS_UI_RUN_CALLS` and fits.
    fn add(&self, node: Box<Node>, index: u64) {
        let keep = index < MAX_CALLS.load(Ordering::Relaxed) as u64;
        let bytes = node.bytes();
        let run_cap = MAX_BYTES.load(Ordering::Relaxed) / 4;
        let reserved = keep && reserve(bytes);
        let mut b = lock(&self.state);
        b.totals.add(&node);
        if reserved && b.bytes + bytes <= run_cap {
            b.bytes += bytes;
            b.nodes.push(node);
            return;
        }
        if reserved {
            release(bytes);
        }
        b.cut += 1;
        let reason = if keep { CutReason::Bytes } else { CutReason::Calls };
        // Bytes is the reason to tell when both happened: it cut calls
        // the call limit would have kept.
        if b.cut_reason != Some(CutReason::Bytes) {
            b.cut_reason = Some(reason);
        }
    }

    /// Ends the run with its root call.
    fn finish(self: &Arc<Self>, status: Status, duration_ns: u64) {
        let b = std::mem::take(&mut *lock(&self.state));
        let Building { mut nodes, totals, cut, cut_reason, bytes } = b;
        nodes.sort_by_key(|n| n.index);
        // The cell's size and its `open` entry were counted; the run's
        // size replaces them.
        let (cell, run) = (std::mem::size_of::<RunCell>() + OPEN_ENTRY_BYTES, std::mem::size_of::<Run>());
        if run > cell {
            charge(run - cell);
        } else {
            release(cell - run);
        }
        let bytes = bytes - cell + run;
        let run = Arc::new(Run {
            header: self.header(),
            status,
            duration_ns,
            totals,
            nodes,
            cut,
            cut_reason,
            // The cell's own bytes pass to the run (the header is cloned
            // into it as the cell drops).
            bytes,
        });
        with_store(|s| {
            s.open.remove(&self.header.id);
            s.push_finished(run);
        });
    }
}

#[cfg(test)]
mod tests;
