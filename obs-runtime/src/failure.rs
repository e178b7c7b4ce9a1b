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
//! Identical failures (same function, status, type and message) are
//! rate-limited: at most one line per [`REPEAT_WINDOW`]; the next line
//! after a quiet stretch carries `repeated`, the number left out since the
//! previous one. The table is a fixed 256 slots, so memory stays bounded.
//!
//! The call path reaches this module only on a failed call (`report`, out of
//! line and cold); the message is formatted only when a line may be written.

use crate::context::{current_agent, Agent};
use crate::descriptor::{FnInfo, FnKind};
use crate::status::Status;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Identical failures within this window after a line are counted, not written.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(10);
/// Slots of the rate-limit table.
const SLOTS: usize = 256;

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

struct Slot {
    key: u64,
    /// When the last line for this key was written.
    last: Instant,
    /// Failures left out since then.
    suppressed: u64,
}

fn table() -> &'static Mutex<Vec<Option<Slot>>> {
    static T: std::sync::OnceLock<Mutex<Vec<Option<Slot>>>> = std::sync::OnceLock::new();
    T.get_or_init(|| Mutex::new((0..SLOTS).map(|_| None).collect()))
}

/// `Some(repeated)` when a line is due, `None` when this one is counted instead.
fn admit(key: u64, now: Instant) -> Option<u64> {
    let mut t = table().lock().unwrap_or_else(|e| e.into_inner());
    let slot = &mut t[(key as usize) % SLOTS];
    match slot {
        Some(s) if s.key == key && now.duration_since(s.last) < REPEAT_WINDOW => {
            s.suppressed += 1;
            None
        }
        Some(s) if s.key == key => {
            let repeated = s.suppressed;
            s.last = now;
            s.suppressed = 0;
            Some(repeated)
        }
        // Empty, or another failure's slot (evicted: bounded memory beats
        // exact counts under many distinct failures).
        _ => {
            *slot = Some(Slot { key, last: now, suppressed: 0 });
            Some(0)
        }
    }
}

fn key_of(info: &FnInfo, status: Status, error_type: &str, message: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (info as *const FnInfo as usize).hash(&mut h);
    (status as u8).hash(&mut h);
    error_type.hash(&mut h);
    message.hash(&mut h);
    h.finish()
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
    let error_type = error_type.unwrap_or(status.as_str());
    let message = message.unwrap_or_default();
    let Some(repeated) = admit(key_of(info, status, error_type, &message), Instant::now()) else { return };
    let agent = if agent == Agent::NONE { current_agent() } else { agent };
    let agent = (agent != Agent::NONE).then(|| agent.name());
    let what = match info.kind() {
        FnKind::Agent => format!("agent `{}`", agent.unwrap_or(info.name())),
        FnKind::LlmCall => format!("model call `{}`", info.model().unwrap_or(info.name())),
        FnKind::Tool => format!("tool `{}`", info.tool().unwrap_or(info.name())),
        FnKind::Function => format!("`{}`", info.name()),
    };
    let ending = if status == Status::Panic { "panicked" } else { "failed" };
    let duration_ms = elapsed_ns.map(|ns| ns as f64 / 1e6);
    let repeated = (repeated > 0).then_some(repeated);
    let error_message = (!message.is_empty()).then_some(message.as_str());
    // The call's span as parent (its ids and request context), unless it is
    // disabled: then whatever span is current.
    let parent = if span.is_disabled() { None } else { span.id() };
    macro_rules! emit {
        ($level:expr) => {
            match &parent {
                Some(id) => tracing::event!(
                    target: "errors",
                    parent: id.clone(),
                    $level,
                    event = "call_failed",
                    function = info.name(),
                    kind = info.kind().macro_name(),
                    agent,
                    model = info.model(),
                    tool = info.tool(),
                    status = status.as_str(),
                    error.type = error_type,
                    error.message = error_message,
                    duration_ms,
                    repeated,
                    "{what} {ending}: {error_type}"
                ),
                None => tracing::event!(
                    target: "errors",
                    $level,
                    event = "call_failed",
                    function = info.name(),
                    kind = info.kind().macro_name(),
                    agent,
                    model = info.model(),
                    tool = info.tool(),
                    status = status.as_str(),
                    error.type = error_type,
                    error.message = error_message,
                    duration_ms,
                    repeated,
                    "{what} {ending}: {error_type}"
                ),
            }
        };
    }
    match level {
        tracing::Level::ERROR => emit!(tracing::Level::ERROR),
        tracing::Level::WARN => emit!(tracing::Level::WARN),
        tracing::Level::INFO => emit!(tracing::Level::INFO),
        tracing::Level::DEBUG => emit!(tracing::Level::DEBUG),
        tracing::Level::TRACE => emit!(tracing::Level::TRACE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_failures_are_counted_within_the_window() {
        let t0 = Instant::now();
        let key = 0xfeed_u64;
        assert_eq!(admit(key, t0), Some(0));
        assert_eq!(admit(key, t0 + Duration::from_secs(1)), None);
        assert_eq!(admit(key, t0 + Duration::from_secs(2)), None);
        assert_eq!(admit(key, t0 + REPEAT_WINDOW + Duration::from_secs(1)), Some(2));
        assert_eq!(admit(key, t0 + REPEAT_WINDOW + Duration::from_secs(2)), None);
        // Another key in the same slot takes it over: the table stays 256 slots.
        let other = key + SLOTS as u64;
        assert_eq!(admit(other, t0 + REPEAT_WINDOW + Duration::from_secs(3)), Some(0));
        assert_eq!(table().lock().unwrap().len(), SLOTS);
    }
}
