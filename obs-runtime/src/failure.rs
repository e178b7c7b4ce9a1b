//! Failures in the logs: an instrumented call that ends in `error` or
//! `panic` writes one event on target `errors`, with the function, the
//! agent, model or tool, `error.type`, `error.message` (the error's
//! `Display`, when its type has one, cut to 1 KiB and through the secret
//! detectors), `status` and `duration_ms`; inside the call's span, so the
//! line carries its trace and span ids and the request context.
//!
//! Levels: WARN for tools, model calls and `#[traced]` functions (a step
//! that failed; the caller may recover, and the agent above reports its
//! own failure), ERROR for agents (the unit of work failed). Per function
//! with the macros' `err = false` / `err = "warn"`; for every function
//! without its own setting with `Builder::error_log_level` /
//! `OBS_ERROR_LOG_LEVEL` (`off` silences them).
//!
//! Identical failures (same function, status and `error.type`, whatever
//! their messages: real ones carry ids, URLs and counts) form a group that
//! writes at most one line per [`REPEAT_WINDOW`]: the first failure's line,
//! with its message; the failures after it are counted, with the number of
//! distinct messages among them. The count is written by the group's next
//! line once the window is over (its `repeated` and `distinct_messages`
//! fields), or, when the group went quiet, by a count line
//! (`event = "call_failed_repeated"`) that the log writer writes once the
//! window is over (it looks every second) and the `init()` guard writes when
//! it is dropped. The table is a fixed 256 groups; a group taking the slot
//! of another writes the other's count first. Distinct messages are told
//! apart by a 32-bit hash, exactly up to 1,024 per group and 4,096 in all
//! (past that, `distinct_messages_capped`), so memory stays bounded.
//!
//! A panic's message (cut to 1 KiB, through the secret detectors) is the
//! `error.message` of its failure line: `init()` installs a panic hook that
//! keeps the message of the thread's last panic, then calls the hook that
//! was in place (so what the panic prints or does is unchanged), and the
//! call guard, dropped while unwinding (or, for an `async fn`, when the
//! runtime drops the future after the panic), reads it. A hook the
//! application sets after `init()` without calling the previous one leaves
//! later lines with the message of the last panic obs's hook saw, or none.
//!
//! The call path reaches this module only on a failed call (`report`, out of
//! line and cold); the message is formatted only when a line may be written.

use crate::context::{current_agent, Agent};
use crate::descriptor::{FnInfo, FnKind};
use crate::status::Status;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Identical failures within this window after a line are counted, not written.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(10);
/// Slots of the rate-limit table.
const SLOTS: usize = 256;
/// Distinct messages counted exactly per group, and in the whole table.
const DISTINCT_PER_GROUP: usize = 1024;
const DISTINCT_IN_ALL: usize = 4096;
/// Longest panic message kept, in bytes.
const MAX_PANIC_BYTES: usize = 1024;

// Level codes, shared with the macros' `FnInfo::err_level`: 0 = not set.
pub(crate) const LEVEL_DEFAULT: u8 = 0;
pub(crate) const LEVEL_OFF: u8 = 1;

/// The code of a level (2 = TRACE .. 6 = ERROR).
pub(crate) fn level_code(level: Option<tracing::Level>) -> u8 {
    match level {
        None => LEVEL_OFF,
        Some(tracing::Level::TRACE) => 2,
        Some(tracing::Level::DEBUG) => 3,
        Some(tracing::Level::INFO) => 4,
        Some(tracing::Level::WARN) => 5,
        Some(tracing::Level::ERROR) => 6,
    }
}

/// The level every function without its own `err = ..` uses (`LEVEL_DEFAULT`: by kind).
static GLOBAL: AtomicU8 = AtomicU8::new(LEVEL_DEFAULT);

/// Sets the level of failure lines for functions without `err = ..`
/// (`None`: off). Applied by `init()` from `Builder::error_log_level`.
pub(crate) fn set_global_level(level: Option<tracing::Level>) {
    GLOBAL.store(level_code(level), Ordering::Relaxed);
}

/// The level of `info`'s failure lines, `None` when off.
fn level_of(info: &FnInfo) -> Option<tracing::Level> {
    let code = match info.err_level() {
        LEVEL_DEFAULT => GLOBAL.load(Ordering::Relaxed),
        own => own,
    };
    match code {
        LEVEL_DEFAULT => Some(match info.kind() {
            FnKind::Agent => tracing::Level::ERROR,
            _ => tracing::Level::WARN,
        }),
        2 => Some(tracing::Level::TRACE),
        3 => Some(tracing::Level::DEBUG),
        4 => Some(tracing::Level::INFO),
        5 => Some(tracing::Level::WARN),
        6 => Some(tracing::Level::ERROR),
        _ => None,
    }
}

/// The level of `info`'s failure line, when one is written and the
/// subscriber's level filter lets it through (a filtered-out line is
/// neither formatted nor counted by the rate limit).
fn wanted(info: &FnInfo) -> Option<tracing::Level> {
    level_of(info).filter(|l| tracing::level_enabled!(*l))
}

/// Whether a failed call of `info` would write a line now: its level is on
/// and the subscriber's level filter lets it through.
#[inline]
pub(crate) fn may_report(info: &FnInfo) -> bool {
    wanted(info).is_some()
}

thread_local! {
    /// The failing call's error text, handed over by the generated code just
    /// before it ends the call on this thread; tagged with its function.
    static MESSAGE: RefCell<Option<(usize, String)>> = const { RefCell::new(None) };
}

/// Hands the error text of the call of `info` that is about to end on this
/// thread (from generated code, through `__private`); ignored when its
/// failure lines are off.
pub(crate) fn stash(info: &'static FnInfo, text: impl FnOnce() -> String) {
    if wanted(info).is_none() {
        return;
    }
    let text = text();
    MESSAGE.with(|m| *m.borrow_mut() = Some((info as *const FnInfo as usize, text)));
}

/// The failure-line clock: the monotonic clock, or, once a test took it
/// over ([`advance_clock`]), a logical one that moves only when told, so a
/// test sees a window end without waiting it out, whatever the machine's load.
fn now() -> Instant {
    match MANUAL.get() {
        Some(start) => *start + Duration::from_nanos(SKEW_NS.load(Ordering::Relaxed)),
        None => Instant::now(),
    }
}

static MANUAL: OnceLock<Instant> = OnceLock::new();
static SKEW_NS: AtomicU64 = AtomicU64::new(0);

/// Stops the failure-line clock (the first time) and moves it forward by
/// `by` (`testing::advance_failure_clock`).
pub(crate) fn advance_clock(by: Duration) {
    MANUAL.get_or_init(Instant::now);
    let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
    let _ = SKEW_NS.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| Some(s.saturating_add(ns)));
}

/// Whose failure: its group (function, status, `error.type`) and agent.
#[derive(Clone, Copy)]
struct Failed {
    info: &'static FnInfo,
    status: Status,
    error_type: &'static str,
    agent: Agent,
}

/// One group of identical failures.
struct Group {
    key: u64,
    /// The failure that wrote the group's last line.
    first: Failed,
    /// When the group's last line was written: its window's start.
    since: Instant,
    /// Failures left out since then.
    left_out: u64,
    /// The distinct messages among them: sorted 32-bit hashes.
    messages: Vec<u32>,
    /// More distinct messages than `messages` could hold.
    capped: bool,
}

/// What a line says about the failures a group left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LeftOut {
    count: u64,
    distinct: u64,
    capped: bool,
}

/// The count of a group written on a line of its own.
struct CountLine {
    who: Failed,
    left_out: LeftOut,
}

struct Table {
    slots: Vec<Option<Group>>,
    /// Message hashes held by all groups (at most `DISTINCT_IN_ALL`).
    hashes: usize,
}

impl Table {
    fn new() -> Table {
        Table { slots: (0..SLOTS).map(|_| None).collect(), hashes: 0 }
    }

    /// Empties slot `i`; its count, when it has one, for a line of its own.
    fn take(&mut self, i: usize) -> Option<CountLine> {
        let g = self.slots[i].take()?;
        self.hashes -= g.messages.len();
        let left_out = LeftOut { count: g.left_out, distinct: g.messages.len() as u64, capped: g.capped };
        (g.left_out > 0).then_some(CountLine { who: g.first, left_out })
    }
}

fn table() -> std::sync::MutexGuard<'static, Table> {
    static T: OnceLock<Mutex<Table>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(Table::new())).lock().unwrap_or_else(|e| e.into_inner())
}

/// What to write for one failure.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    /// Its line, with what the group left out since its last line.
    Line(Option<LeftOut>),
    /// Nothing: counted in its group.
    Counted,
}

/// Decides one failure of the group `key` (whose message hashes to
/// `message`) at `now`. The second value is the count of a group this one
/// took the slot of, to be written first.
fn admit(t: &mut Table, key: u64, who: Failed, message: u32, now: Instant) -> (Admit, Option<CountLine>) {
    let i = (key as usize) % SLOTS;
    let held = t.hashes;
    let ours =
        t.slots[i].as_ref().filter(|g| g.key == key).map(|g| now.saturating_duration_since(g.since) < REPEAT_WINDOW);
    match ours {
        // Within the window: counted.
        Some(true) => {
            let mut added = false;
            if let Some(g) = t.slots[i].as_mut() {
                g.left_out += 1;
                if let Err(at) = g.messages.binary_search(&message) {
                    if g.messages.len() < DISTINCT_PER_GROUP && held < DISTINCT_IN_ALL {
                        g.messages.insert(at, message);
                        added = true;
                    } else {
                        g.capped = true;
                    }
                }
            }
            t.hashes += usize::from(added);
            (Admit::Counted, None)
        }
        // The window is over: a line, with the count of the one before.
        Some(false) => {
            let left = t.take(i).map(|c| c.left_out);
            t.slots[i] = Some(Group::new(key, who, now));
            (Admit::Line(left), None)
        }
        // Empty, or another group's slot (bounded memory beats exact counts
        // under many distinct groups): that group's count is written first.
        None => {
            let evicted = t.take(i);
            t.slots[i] = Some(Group::new(key, who, now));
            (Admit::Line(None), evicted)
        }
    }
}

impl Group {
    fn new(key: u64, first: Failed, now: Instant) -> Self {
        Group { key, first, since: now, left_out: 0, messages: Vec::new(), capped: false }
    }
}

fn key_of(info: &FnInfo, status: Status, error_type: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (info as *const FnInfo as usize).hash(&mut h);
    (status as u8).hash(&mut h);
    error_type.hash(&mut h);
    h.finish()
}

fn message_hash(message: &str) -> u32 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    message.hash(&mut h);
    h.finish() as u32
}

/// Writes the count line of every group whose window is over (the log
/// writer calls it every second), and forgets those groups: their next
/// failure writes a line with its message again.
pub(crate) fn flush_due() {
    let now = now();
    let due: Vec<CountLine> = {
        let mut t = table();
        let mut due = Vec::new();
        for i in 0..SLOTS {
            if t.slots[i].as_ref().is_some_and(|g| now.saturating_duration_since(g.since) >= REPEAT_WINDOW) {
                due.extend(t.take(i));
            }
        }
        due
    };
    due.iter().for_each(write_count);
}

/// Writes the count line of every group with failures left out, whether
/// its window is over or not (the `init()` guard calls it when dropped).
pub(crate) fn flush_all() {
    let all: Vec<CountLine> = {
        let mut t = table();
        (0..SLOTS).filter_map(|i| t.take(i)).collect()
    };
    all.iter().for_each(write_count);
}

// ------------------------------------------------------------------ panics

thread_local! {
    /// The message of this thread's last panic, cut (set by the hook).
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// How a panic message is shown: set by `init()` to the secret detectors
/// (a layer above this one).
static PANIC_FILTER: OnceLock<fn(&str) -> String> = OnceLock::new();

/// Installs the panic hook that keeps each panic's message for its failure
/// line, once per process, in front of the hook in place (which still runs,
/// so what a panic prints or does is unchanged); `shown` is how the message
/// is shown.
pub(crate) fn install_panic_hook(shown: fn(&str) -> String) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // `set_hook` panics on a panicking thread.
    if std::thread::panicking() {
        return;
    }
    ONCE.call_once(|| {
        let _ = PANIC_FILTER.set(shown);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let text = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            let kept = text.map(|t| crate::metrics::registry::cut(t, MAX_PANIC_BYTES).into_owned());
            let _ = PANIC.try_with(|p| {
                if let Ok(mut p) = p.try_borrow_mut() {
                    *p = kept;
                }
            });
            previous(info);
        }));
    });
}

/// The message of this thread's last panic, as shown. Not taken: every
/// call the panic unwinds through reports it.
fn panic_message() -> Option<String> {
    let raw = PANIC.try_with(|p| p.try_borrow().ok().and_then(|p| p.clone())).ok().flatten()?;
    Some(PANIC_FILTER.get().map_or(raw.clone(), |f| f(&raw)))
}

/// Writes the failure line of a call of `info` that ended with `status`
/// (error or panic). Called by the call guard, only then.
#[cold]
#[inline(never)]
pub(crate) fn report(
    info: &'static FnInfo,
    status: Status,
    error_type: Option<&'static str>,
    elapsed_ns: Option<u64>,
    agent: Agent,
    span: &tracing::Span,
) {
    let message = MESSAGE
        .with(|m| m.borrow_mut().take())
        .filter(|(who, _)| *who == info as *const FnInfo as usize)
        .map(|(_, t)| t);
    let Some(level) = wanted(info) else { return };
    let message = match message {
        None if status == Status::Panic => panic_message(),
        m => m,
    };
    let error_type = error_type.unwrap_or(status.as_str());
    let agent = if agent == Agent::NONE { current_agent() } else { agent };
    let hash = message_hash(message.as_deref().unwrap_or(""));
    let key = key_of(info, status, error_type);
    let who = Failed { info, status, error_type, agent };
    let (admit, evicted) = admit(&mut table(), key, who, hash, now());
    if let Some(c) = evicted {
        write_count(&c);
    }
    let Admit::Line(left_out) = admit else { return };
    let ending = if status == Status::Panic { "panicked" } else { "failed" };
    let line = Line {
        level,
        event: "call_failed",
        info,
        status,
        error_type,
        agent,
        message: message.as_deref().filter(|m| !m.is_empty()),
        duration_ms: elapsed_ns.map(|ns| ns as f64 / 1e6),
        left_out,
        text: format!("{} {ending}: {error_type}", what(info, agent)),
    };
    // The call's span as parent (its ids and request context), unless it is
    // disabled: then whatever span is current.
    line.emit(if span.is_disabled() { None } else { span.id() });
}

/// "tool `web_search`", "agent `researcher`", ...
fn what(info: &FnInfo, agent: Agent) -> String {
    match info.kind() {
        FnKind::Agent if agent != Agent::NONE => format!("agent `{}`", agent.name()),
        FnKind::Agent => format!("agent `{}`", info.name()),
        FnKind::LlmCall => format!("model call `{}`", info.model().unwrap_or(info.name())),
        FnKind::Tool => format!("tool `{}`", info.tool().unwrap_or(info.name())),
        FnKind::Function => format!("`{}`", info.name()),
    }
}

/// The line of a group that went quiet: how many failures it left out.
fn write_count(c: &CountLine) {
    let w = c.who;
    let Some(level) = wanted(w.info) else { return };
    let LeftOut { count, distinct, capped } = c.left_out;
    let ending = if w.status == Status::Panic { "panicked" } else { "failed" };
    let times = if count == 1 { "time" } else { "times" };
    let at_least = if capped { "at least " } else { "" };
    let kinds = if distinct == 1 { "message" } else { "messages" };
    let text = format!(
        "{} {ending} {count} more {times} since its last line ({at_least}{distinct} distinct {kinds}): {}",
        what(w.info, w.agent),
        w.error_type
    );
    let line = Line {
        level,
        event: "call_failed_repeated",
        info: w.info,
        status: w.status,
        error_type: w.error_type,
        agent: w.agent,
        message: None,
        duration_ms: None,
        left_out: Some(c.left_out),
        text,
    };
    line.emit(None);
}

/// One line on target `errors`.
struct Line<'a> {
    level: tracing::Level,
    event: &'static str,
    info: &'static FnInfo,
    status: Status,
    error_type: &'a str,
    agent: Agent,
    message: Option<&'a str>,
    duration_ms: Option<f64>,
    left_out: Option<LeftOut>,
    text: String,
}

impl Line<'_> {
    fn emit(&self, parent: Option<tracing::span::Id>) {
        let info = self.info;
        let agent = (self.agent != Agent::NONE).then(|| self.agent.name());
        let repeated = self.left_out.map(|l| l.count);
        let distinct_messages = self.left_out.map(|l| l.distinct);
        let distinct_messages_capped = self.left_out.and_then(|l| l.capped.then_some(true));
        // With a parent, the line is the call span's (its ids and request
        // context); without, whatever span is current.
        macro_rules! emit {
            ($level:expr) => {
                match &parent {
                    Some(id) => emit!($level, parent: id.clone(),),
                    None => emit!($level,),
                }
            };
            ($level:expr, $($parent:tt)*) => {
                tracing::event!(
                    target: "errors",
                    $($parent)*
                    $level,
                    event = self.event,
                    function = info.name(),
                    kind = info.kind().macro_name(),
                    agent,
                    model = info.model(),
                    tool = info.tool(),
                    status = self.status.as_str(),
                    error.type = self.error_type,
                    error.message = self.message,
                    duration_ms = self.duration_ms,
                    repeated,
                    distinct_messages,
                    distinct_messages_capped,
                    "{}",
                    self.text
                )
            };
        }
        match self.level {
            tracing::Level::ERROR => emit!(tracing::Level::ERROR),
            tracing::Level::WARN => emit!(tracing::Level::WARN),
            tracing::Level::INFO => emit!(tracing::Level::INFO),
            tracing::Level::DEBUG => emit!(tracing::Level::DEBUG),
            tracing::Level::TRACE => emit!(tracing::Level::TRACE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::fn_info;

    static TOOL: FnInfo = fn_info(FnKind::Tool, "fetch", "m", "f.rs", 1).tool("fetch").build();

    fn who() -> Failed {
        Failed { info: &TOOL, status: Status::Error, error_type: "HttpError", agent: Agent::NONE }
    }

    fn fail(t: &mut Table, message: &str, at: Instant) -> Admit {
        let key = key_of(&TOOL, Status::Error, "HttpError");
        admit(t, key, who(), message_hash(message), at).0
    }

    #[test]
    fn a_group_is_function_status_and_type_and_counts_its_distinct_messages() {
        let mut t = Table::new();
        let t0 = Instant::now();
        assert_eq!(fail(&mut t, "GET /a: 503", t0), Admit::Line(None));
        // Other messages, same group: counted, with their distinct messages.
        for (i, m) in ["GET /b: 503", "GET /c: 503", "GET /b: 503"].iter().enumerate() {
            assert_eq!(fail(&mut t, m, t0 + Duration::from_secs(i as u64 + 1)), Admit::Counted);
        }
        // Past the window: a line, carrying what was left out.
        assert_eq!(
            fail(&mut t, "GET /d: 503", t0 + REPEAT_WINDOW + Duration::from_secs(1)),
            Admit::Line(Some(LeftOut { count: 3, distinct: 2, capped: false }))
        );
        assert_eq!(t.hashes, 0, "a new window holds no message yet");
        // Another error type is another group, in another slot or this one.
        let key = key_of(&TOOL, Status::Error, "Timeout");
        assert_ne!(key, key_of(&TOOL, Status::Error, "HttpError"));
        assert_ne!(key, key_of(&TOOL, Status::Panic, "HttpError"));
    }

    #[test]
    fn a_group_that_takes_another_ones_slot_hands_its_count_over_and_memory_stays_bounded() {
        let mut t = Table::new();
        let t0 = Instant::now();
        fail(&mut t, "first", t0);
        for i in 0..(DISTINCT_PER_GROUP + 10) {
            assert_eq!(fail(&mut t, &format!("message {i}"), t0), Admit::Counted);
        }
        let g = t.slots.iter().flatten().next().unwrap();
        assert_eq!(
            (g.left_out, g.messages.len(), g.capped),
            ((DISTINCT_PER_GROUP + 10) as u64, DISTINCT_PER_GROUP, true)
        );
        assert_eq!(t.hashes, DISTINCT_PER_GROUP);
        // A group whose key falls in the same slot evicts it and gets its count.
        let key = key_of(&TOOL, Status::Error, "HttpError");
        let (admitted, evicted) =
            admit(&mut t, key.wrapping_add(SLOTS as u64), Failed { error_type: "Other", ..who() }, 0, t0);
        assert_eq!(admitted, Admit::Line(None));
        let c = evicted.expect("the evicted group's count");
        assert_eq!(
            c.left_out,
            LeftOut { count: (DISTINCT_PER_GROUP + 10) as u64, distinct: DISTINCT_PER_GROUP as u64, capped: true }
        );
        assert_eq!((t.hashes, t.slots.len()), (0, SLOTS));
    }
}
