//! Conversations: model calls made inside a request context with a
//! conversation id ([`crate::RequestContext::with_conversation_id`]) belong
//! to that conversation. obs follows each one while it is active and, when it
//! ends, records how many turns it had, how long it lasted and what it cost:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `conversations_active` | gauge | `agent` |
//! | `conversation_turns` | histogram (turns) | `agent` |
//! | `conversation_duration_seconds` | histogram | `agent` |
//! | `conversation_cost_usd` | histogram (exact sum, picodollars) | `agent` |
//!
//! * A **turn** is one request of the conversation: each distinct request id
//!   among its model calls (give each turn its own [`crate::RequestContext`]
//!   with the same conversation id).
//! * A conversation's **agent** is the agent of its first model call.
//! * It **ends** when no model call of it was seen for the idle timeout
//!   (`OBS_CONVERSATION_IDLE_TIMEOUT`, [`crate::Builder::conversation_idle_timeout`];
//!   30 minutes by default); its duration runs from the end of its first
//!   model call to the end of its last (a one-call conversation lasts 0 s).
//!   A later call with the same id starts a new conversation.
//! * Memory is bounded: at most [`MAX_CONVERSATIONS`] are followed at once
//!   (past it, the least recently active one ends early, with a warning
//!   once), and the last [`MAX_SUMMARY`] ended ones are kept for `/summary`.
//!
//! Ended conversations are found on the next model call (at most once a
//! second) and whenever the series are read (`/metrics`, `/summary`, an OTLP
//! export). Programs that never set a conversation id pay one relaxed load
//! per model call.

use crate::context::{Agent, RequestContext};
use crate::metrics::cells::shard;
use crate::metrics::names;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a conversation may go without a model call before it ends, by default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Idle timeouts `init()` accepts: 1 second to 7 days.
pub const IDLE_TIMEOUT_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600);

/// Conversations followed at once.
pub const MAX_CONVERSATIONS: usize = 10_000;

/// Ended conversations kept for `/summary`, and rows it shows.
pub const MAX_SUMMARY: usize = 100;

/// Requests remembered per conversation to tell a new turn from another
/// call of a turn already counted (turns interleaved deeper than this count
/// again).
const RECENT_REQUESTS: usize = 4;

static IDLE_MS: AtomicU64 = AtomicU64::new(DEFAULT_IDLE_TIMEOUT.as_millis() as u64);

/// Milliseconds of the clock set by `testing::set_conversation_clock`; 0 for the system clock.
static MANUAL_MS: AtomicU64 = AtomicU64::new(0);

static EVICTION_WARNED: AtomicBool = AtomicBool::new(false);

/// Sets the idle timeout (clamped into [`IDLE_TIMEOUT_RANGE`]); done by `init()`.
pub(crate) fn set_idle_timeout(d: Duration) {
    let d = d.clamp(*IDLE_TIMEOUT_RANGE.start(), *IDLE_TIMEOUT_RANGE.end());
    IDLE_MS.store(d.as_millis() as u64, Ordering::Relaxed);
}

/// The idle timeout in force.
pub fn idle_timeout() -> Duration {
    Duration::from_millis(IDLE_MS.load(Ordering::Relaxed))
}

/// Replaces the clock conversations are timed with (`None`: the system
/// clock again), then ends the conversations idle by it.
pub(crate) fn set_clock(at_ms: Option<u64>) {
    // 0 stands for the system clock, so a clock set to the epoch reads 1 ms.
    MANUAL_MS.store(at_ms.map_or(0, |ms| ms.max(1)), Ordering::Relaxed);
    sweep();
}

fn now_ms() -> u64 {
    match MANUAL_MS.load(Ordering::Relaxed) {
        0 => SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        ms => ms,
    }
}

/// One conversation being followed.
struct Live {
    agent: &'static str,
    first_ms: u64,
    last_ms: u64,
    turns: u32,
    calls: u64,
    cost_pico: u64,
    /// Hashes of its most recent requests; `next` is the slot to write.
    requests: [u64; RECENT_REQUESTS],
    next: usize,
}

impl Live {
    fn new(agent: &'static str, now: u64) -> Live {
        Live {
            agent,
            first_ms: now,
            last_ms: now,
            turns: 0,
            calls: 0,
            cost_pico: 0,
            requests: [0; RECENT_REQUESTS],
            next: 0,
        }
    }

    fn add(&mut self, now: u64, request: u64, cost_pico: Option<u64>) {
        self.last_ms = self.last_ms.max(now);
        self.calls += 1;
        self.cost_pico = self.cost_pico.saturating_add(cost_pico.unwrap_or(0));
        // Hashes are never 0, the mark of an empty slot.
        if !self.requests.contains(&request) {
            self.turns = self.turns.saturating_add(1);
            self.requests[self.next] = request;
            self.next = (self.next + 1) % RECENT_REQUESTS;
        }
    }

    fn row(&self, id: &str, state: &'static str) -> Conversation {
        Conversation {
            id: id.to_string(),
            agent: self.agent,
            state,
            turns: self.turns,
            calls: self.calls,
            cost_usd: self.cost_pico as f64 / crate::pricing::PICO_PER_USD as f64,
            duration_seconds: self.last_ms.saturating_sub(self.first_ms) as f64 / 1000.0,
            first_activity_ms: self.first_ms,
            last_activity_ms: self.last_ms,
        }
    }
}

#[derive(Default)]
struct Tracker {
    live: HashMap<Box<str>, Live>,
    /// The most recently ended, newest last.
    ended: VecDeque<Conversation>,
    ended_total: u64,
    turns_sum: u64,
    duration_ms_sum: u64,
    cost_pico_sum: u128,
    next_sweep_ms: u64,
}

static TRACKER: Mutex<Option<Tracker>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Tracker) -> R) -> R {
    let mut t = TRACKER.lock().unwrap_or_else(|e| e.into_inner());
    f(t.get_or_insert_with(Tracker::default))
}

fn request_hash(request_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    request_id.hash(&mut h);
    // 0 marks an empty slot.
    h.finish().max(1)
}

/// Counts a model call that just ended in the conversation of the current
/// request context, if it has one.
#[inline]
pub(crate) fn on_model_call(agent: Agent, cost_pico: Option<u64>) {
    if crate::context::conversation_ids_seen() {
        record(agent.name(), cost_pico);
    }
}

#[cold]
#[inline(never)]
fn record(agent: &'static str, cost_pico: Option<u64>) {
    let Some(rc) = RequestContext::current() else { return };
    let Some(id) = rc.conversation_id() else { return };
    let request = request_hash(rc.request_id());
    let now = now_ms();
    with(|t| {
        if now >= t.next_sweep_ms {
            t.sweep(now);
        }
        if let Some(c) = t.live.get_mut(id) {
            c.add(now, request, cost_pico);
            return;
        }
        if t.live.len() >= MAX_CONVERSATIONS {
            t.evict_one();
        }
        let mut c = Live::new(agent, now);
        c.add(now, request, cost_pico);
        active(agent).add(shard(), 1);
        t.live.insert(id.into(), c);
    });
}

fn active(agent: &str) -> &'static crate::metrics::cells::UpDownCells {
    names::CONVERSATIONS_ACTIVE.family().series(&[("agent", agent)]).updown()
}

impl Tracker {
    /// Ends every conversation idle at `now`.
    fn sweep(&mut self, now: u64) {
        let idle = IDLE_MS.load(Ordering::Relaxed);
        self.next_sweep_ms = now.saturating_add(idle.min(1000));
        let done: Vec<Box<str>> =
            self.live.iter().filter(|(_, c)| now.saturating_sub(c.last_ms) >= idle).map(|(k, _)| k.clone()).collect();
        for id in done {
            self.end(&id);
        }
    }

    /// Ends the least recently active conversation, to make room.
    #[cold]
    fn evict_one(&mut self) {
        let Some(id) = self.live.iter().min_by_key(|(_, c)| c.last_ms).map(|(k, _)| k.clone()) else { return };
        if !EVICTION_WARNED.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "obs_runtime::conversation",
                "more than {MAX_CONVERSATIONS} conversations active at once: the least recently active ones end early (their series count them as ended)"
            );
        }
        self.end(&id);
    }

    fn end(&mut self, id: &str) {
        let Some(c) = self.live.remove(id) else { return };
        let labels = [("agent", c.agent)];
        let duration_ms = c.last_ms.saturating_sub(c.first_ms);
        let s = shard();
        active(c.agent).add(s, -1);
        names::CONVERSATION_TURNS.family().series(&labels).histogram().record_int(s, u64::from(c.turns));
        names::CONVERSATION_DURATION.family().series(&labels).histogram().record_int(s, duration_ms);
        names::CONVERSATION_COST.family().series(&labels).histogram().record_int(s, c.cost_pico);
        self.ended_total += 1;
        self.turns_sum += u64::from(c.turns);
        self.duration_ms_sum = self.duration_ms_sum.saturating_add(duration_ms);
        self.cost_pico_sum += u128::from(c.cost_pico);
        if self.ended.len() >= MAX_SUMMARY {
            self.ended.pop_front();
        }
        self.ended.push_back(c.row(id, "ended"));
    }
}

/// Ends the conversations idle now (reads of the series call it first).
pub(crate) fn sweep() {
    let now = now_ms();
    with(|t| t.sweep(now));
}

/// One conversation, as `/summary` shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Conversation {
    /// The conversation id (cut to [`crate::context::MAX_CONTEXT_ID_BYTES`]).
    pub id: String,
    /// The agent of its first model call (`none` outside any).
    pub agent: &'static str,
    /// `active` or `ended`.
    pub state: &'static str,
    /// Requests with at least one model call.
    pub turns: u32,
    /// Model calls.
    pub calls: u64,
    /// Cost of its priced model calls, USD.
    pub cost_usd: f64,
    /// From the end of its first model call to the end of its last, seconds.
    pub duration_seconds: f64,
    /// When its first model call ended, ms since the Unix epoch.
    pub first_activity_ms: u64,
    /// When its last model call ended, ms since the Unix epoch.
    pub last_activity_ms: u64,
}

/// The conversations obs follows, for `/summary` and [`crate::ledger::stats`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Conversations active now.
    pub active: usize,
    /// Conversations ended since the process started.
    pub ended: u64,
    /// The idle timeout that ends a conversation, seconds.
    pub idle_timeout_seconds: f64,
    /// Mean turns of the ended conversations (0 without any).
    pub avg_turns: f64,
    /// Mean duration of the ended conversations, seconds.
    pub avg_duration_seconds: f64,
    /// Mean cost of the ended conversations, USD.
    pub avg_cost_usd: f64,
    /// At most [`MAX_SUMMARY`]: the active ones (most recently active first),
    /// then the most recently ended.
    pub conversations: Vec<Conversation>,
}

/// The conversations now (ending the idle ones first).
pub fn summary() -> Summary {
    let now = now_ms();
    with(|t| {
        t.sweep(now);
        let mut rows: Vec<Conversation> = t.live.iter().map(|(id, c)| c.row(id, "active")).collect();
        rows.sort_by(|a, b| b.last_activity_ms.cmp(&a.last_activity_ms).then_with(|| a.id.cmp(&b.id)));
        rows.truncate(MAX_SUMMARY);
        let room = MAX_SUMMARY - rows.len();
        rows.extend(t.ended.iter().rev().take(room).cloned());
        let mean = |sum: f64| if t.ended_total == 0 { 0.0 } else { sum / t.ended_total as f64 };
        Summary {
            active: t.live.len(),
            ended: t.ended_total,
            idle_timeout_seconds: idle_timeout().as_secs_f64(),
            avg_turns: mean(t.turns_sum as f64),
            avg_duration_seconds: mean(t.duration_ms_sum as f64 / 1000.0),
            avg_cost_usd: mean(t.cost_pico_sum as f64 / crate::pricing::PICO_PER_USD as f64),
            conversations: rows,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_count_distinct_recent_requests() {
        let mut c = Live::new("a", 10);
        for r in [1, 1, 2, 2, 1, 3, 4, 5, 6, 6] {
            c.add(20, r, Some(5));
        }
        // 1, 2, (1 again: still recent), 3, 4, 5, 6.
        assert_eq!((c.turns, c.calls, c.cost_pico, c.last_ms), (6, 10, 50, 20));
        // A request older than the last four counts again.
        c.add(30, 1, None);
        assert_eq!(c.turns, 7);
    }
}
