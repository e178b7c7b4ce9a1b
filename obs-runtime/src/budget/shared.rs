//! Budgets shared by a fleet of replicas through Redis (feature `redis`,
//! turned on by `OBS_BUDGET_REDIS_URL` or [`crate::Builder::budget_redis_url`]).
//!
//! ## Keys
//!
//! Each budget period is one key, `{prefix}:{budget}:{period start}`
//! (`obs:budget:daily:2026-12-01`; an hour is `2026-12-01T13`, a month
//! `2026-12`, [`Period::Total`] `total`), holding the
//! fleet's spend as integer picodollars (at most $9.2M per period, Redis's
//! 64-bit integers). It expires an hour after its period ends (a `total`
//! key never does). Beside it:
//!
//! * `{key}:replicas`, a hash of how much each replica has added so far in
//!   the period (one field per process, named as in
//!   [`StoreStatus::replica`](super::StoreStatus::replica)), which makes every
//!   addition exactly once;
//! * `{key}:warned` and `{key}:spent`, set once per period by the replica
//!   elected to log the budget's warning and its "is spent" error, so the
//!   fleet logs each once, not once per replica.
//!
//! ## Sync
//!
//! A call never waits for Redis. The hard-budget check before a call reads
//! a local view: the rest of the fleet's spend as last read, plus this
//! process's own spend (atomics, as without a store). After the call the
//! cost is added to this process's total, and a background thread (its own
//! single-threaded tokio runtime: sync programs and any async runtime work
//! alike) is woken. The thread syncs each budget at most every tenth of the
//! refresh interval while calls are made, and at least every refresh
//! interval: one Lua script per budget that, in one atomic step, compares
//! the replica's field with the total it last confirmed, and only if they
//! match `INCRBY`s the key by the difference and stores the new total; it
//! returns the replica's field and the fleet's total, which becomes the
//! local view. A batch whose reply is lost (a timeout) and is sent again
//! finds its new total already there and adds nothing; a store that lost
//! its data (restarted without persistence) has no field, and each replica
//! adds its whole total for the period again, so the key returns to the sum
//! of the fleet's ledgers.
//!
//! ## Overshoot
//!
//! A hard budget's limit is checked against a view at most one refresh
//! interval (plus a tenth, plus one round trip) old, so the fleet's spend
//! can pass the limit by at most the calls in flight across the fleet when
//! it is reached, plus the calls the fleet completes within 1.1 refresh
//! intervals and one round trip. Calls that take longer than that interval
//! (most model calls) make the second term at most one call per concurrent
//! caller.
//!
//! ## Failure
//!
//! Every round trip is bounded by the timeout (`OBS_BUDGET_REDIS_TIMEOUT`).
//! One that fails or times out marks the store degraded
//! (`budget_store_up` 0, `budget_store_errors_total{reason}`, `/ready`
//! `degraded`, one warning per outage naming each budget's policy); the
//! thread retries every refresh interval. Meanwhile each hard budget applies
//! its policy, counted in `budget_store_degraded_calls_total{budget, policy}`:
//!
//! * fail open (the default): calls are checked against the last fleet view
//!   plus this process's spend, which keeps counting; when the store answers
//!   again that spend is added exactly once
//!   (`budget_store_reconciled_usd_total{budget}`);
//! * fail closed ([`Budget::fail_closed`](super::Budget::fail_closed)):
//!   calls are refused with [`BudgetExceeded`](super::BudgetExceeded) whose
//!   `store_unreachable` is true.
//!
//! While the store is unreachable, warnings cannot be elected: each replica
//! logs its own (with `fleet=false`).
//!
//! ## A process that stops
//!
//! A process that exits sends its spend when its `init()` guard is dropped
//! (bounded by the timeout). A process that is killed (`SIGKILL`, an
//! out-of-memory kill, or `SIGTERM` in a program that does not handle it
//! and so never drops the guard) loses the spend the store has not
//! confirmed yet. That is bounded per budget: a call that leaves 1% of the
//! limit unconfirmed ([`unsynced_max`]) starts a sync at once instead of
//! after the tenth of the refresh interval, so the loss is under 1% of the
//! limit plus the calls that finish during two syncs (a sync is a round
//! trip per budget), and never more than what finished in the last tenth of
//! a refresh interval and two syncs. While the store is unreachable nothing
//! is confirmed: a fail-open budget's spend since the outage began is lost
//! if the process is killed before the store returns; a fail-closed budget
//! refuses calls meanwhile, so it loses nothing more.

use super::{budgets, now_secs, window_of, Period, State, StoreStatus};
use crate::metrics::{self, names, Counter, Gauge};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest a round trip to Redis may take before the store counts as
/// degraded (`OBS_BUDGET_REDIS_TIMEOUT`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);
/// Longest the local view of the fleet's spend goes without a refresh
/// (`OBS_BUDGET_REDIS_REFRESH`).
pub const DEFAULT_REFRESH: Duration = Duration::from_millis(100);
/// Prefix of every key (`OBS_BUDGET_REDIS_PREFIX`).
pub const DEFAULT_PREFIX: &str = "obs:budget";

/// A period's keys outlive it by this long, so a late replica's last batch
/// still lands in its own period's key.
const GRACE_SECS: u64 = 3600;

/// The most of a budget's spend this process leaves unconfirmed by the store
/// before a call asks for a sync at once: 1% of its limit (at least a
/// picodollar). What a killed process loses is bounded by it (module docs).
pub(crate) fn unsynced_max(limit_pico: u64) -> u64 {
    (limit_pico / 100).max(1)
}

/// The store's settings, from `init()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) url: String,
    pub(crate) timeout: Duration,
    pub(crate) refresh: Duration,
    pub(crate) prefix: String,
}

/// Whether `url` is a Redis URL this build can use; the error says why not.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    redis::Client::open(url).map(|_| ()).map_err(|e| e.to_string())
}

/// `url` without its user and password.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => format!("{}***@{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// The series of one shared budget.
pub(crate) struct BudgetSeries {
    local: Option<Gauge>,
    fail_open: Counter,
    fail_closed: Counter,
    reconciled: Counter,
}

impl BudgetSeries {
    fn new(budget: &str) -> BudgetSeries {
        let b = [("budget", budget)];
        let policy =
            |p| metrics::builtin_counter(&names::BUDGET_STORE_DEGRADED_CALLS, &[("budget", budget), ("policy", p)]);
        BudgetSeries {
            local: metrics::builtin_gauge(&names::BUDGET_SPENT_LOCAL, &b),
            fail_open: policy("fail_open"),
            fail_closed: policy("fail_closed"),
            reconciled: metrics::builtin_counter(&names::BUDGET_STORE_RECONCILED, &b),
        }
    }

    /// This process's spend in the period, USD.
    pub(crate) fn local_spent(&self, usd: f64) {
        if let Some(g) = &self.local {
            g.set(usd);
        }
    }

    /// A hard-budget check while the store is unreachable.
    pub(crate) fn degraded_call(&self, fail_closed: bool) {
        let counter = if fail_closed { &self.fail_closed } else { &self.fail_open };
        counter.increment(1);
    }
}

/// A period that ended with spend the store may not have yet.
struct Carry {
    name: String,
    period: Period,
    window: u64,
    total: u64,
}

/// What the call path and the store's thread share.
pub(crate) struct Link {
    attached: AtomicBool,
    up: AtomicBool,
    /// Wakes the thread: a call added spend, or a sync is awaited.
    wake: tokio::sync::Notify,
    /// A wake is pending since the last sync started: later calls skip the
    /// `Notify` (a load instead of a read-modify-write per call).
    woken: AtomicBool,
    /// A call left too much spend unconfirmed: the next sync starts without
    /// waiting out the spacing between syncs.
    urgent: tokio::sync::Notify,
    urgent_pending: AtomicBool,
    stop: AtomicBool,
    stop_wake: tokio::sync::Notify,
    /// Syncs started and finished, for [`Link::sync_now`].
    started: AtomicU64,
    finished: AtomicU64,
    timeout: Duration,
    refresh: Duration,
    url: String,
    prefix: String,
    replica: String,
    last_error: Mutex<Option<String>>,
    carries: Mutex<Vec<Carry>>,
    up_gauge: Option<Gauge>,
}

static LINK: OnceLock<Link> = OnceLock::new();

/// The shared store, while one runs.
#[inline]
pub(crate) fn link() -> Option<&'static Link> {
    LINK.get().filter(|l| l.attached.load(Ordering::Acquire))
}

impl Link {
    /// False while the store is unreachable or slow.
    #[inline]
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Asks the thread for a sync soon (a call added spend). The sync that
    /// follows reads every cost added before this call.
    #[inline]
    pub(crate) fn wake(&self) {
        if !self.woken.load(Ordering::SeqCst) && !self.woken.swap(true, Ordering::SeqCst) {
            self.wake.notify_one();
        }
    }

    /// Like [`Link::wake`], for a call that left more than
    /// [`unsynced_max`] unconfirmed: the sync comes without the spacing.
    pub(crate) fn wake_urgent(&self) {
        self.wake();
        if !self.urgent_pending.load(Ordering::SeqCst) && !self.urgent_pending.swap(true, Ordering::SeqCst) {
            self.urgent.notify_one();
        }
    }

    pub(crate) fn status(&self) -> StoreStatus {
        let degraded = !self.is_up();
        StoreStatus {
            kind: "redis",
            url: Some(self.url.clone()),
            prefix: Some(self.prefix.clone()),
            replica: Some(self.replica.clone()),
            degraded,
            last_error: if degraded { lock(&self.last_error).clone() } else { None },
        }
    }

    /// Waits (at most `wait`) for a sync that starts after this call;
    /// whether it reached the store.
    fn sync_now(&self, wait: Duration) -> bool {
        let target = self.started.load(Ordering::SeqCst) + 1;
        // Without the spacing between syncs: a flush or a new budget asks
        // for one now.
        self.urgent.notify_one();
        self.wake.notify_one();
        let deadline = Instant::now() + wait;
        while self.finished.load(Ordering::SeqCst) < target {
            if Instant::now() >= deadline || !self.attached.load(Ordering::Acquire) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        self.is_up()
    }

    /// Longest a sync of every budget may take when the store answers.
    fn sync_wait(&self) -> Duration {
        self.refresh / 10 + self.timeout * 3
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A budget's period ended with `total` spent here: the thread sends what
/// the store has not confirmed yet to that period's key.
pub(super) fn period_ended(s: &State, window: u64, total: u64) {
    let Some(link) = link() else { return };
    if total == 0 {
        return;
    }
    lock(&link.carries).push(Carry { name: s.def.name.clone(), period: s.def.period, window, total });
    link.wake();
}

/// A budget was registered: with a store running, load the fleet's spend
/// before the first call (bounded by the timeout).
pub(super) fn registered() {
    if let Some(link) = link() {
        link.sync_now(link.sync_wait());
    }
}

/// The running store, owned by the `init()` guard.
pub(crate) struct Handle {
    link: &'static Link,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    pub(crate) fn describe(&self) -> String {
        let l = self.link;
        let state = if l.is_up() { "connected" } else { "unreachable, budgets apply their failure policy" };
        format!("budgets shared through {} (prefix {}, replica {}): {state}", l.url, l.prefix, l.replica)
    }

    /// Sends every budget's spend now (bounded by the timeout).
    pub(crate) fn flush(&self) {
        self.link.sync_now(self.link.sync_wait());
    }

    /// A last sync, then the thread stops; budgets count in-process again.
    pub(crate) fn shutdown(&mut self) {
        self.link.stop.store(true, Ordering::SeqCst);
        self.link.stop_wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.link.attached.store(false, Ordering::Release);
    }
}

/// Starts the store's thread and waits (bounded by the timeout) for its
/// first sync, so the first call sees the fleet's spend.
pub(crate) fn start(cfg: Config) -> Result<Handle, String> {
    let client = redis::Client::open(cfg.url.as_str()).map_err(|e| e.to_string())?;
    let mut fresh = false;
    let link = LINK.get_or_init(|| {
        fresh = true;
        let up_gauge = metrics::builtin_gauge(&names::BUDGET_STORE_UP, &[]);
        if let Some(g) = &up_gauge {
            g.set(1.0);
        }
        Link {
            attached: AtomicBool::new(false),
            up: AtomicBool::new(true),
            wake: tokio::sync::Notify::new(),
            woken: AtomicBool::new(false),
            urgent: tokio::sync::Notify::new(),
            urgent_pending: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            stop_wake: tokio::sync::Notify::new(),
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            timeout: cfg.timeout,
            refresh: cfg.refresh,
            url: redact_url(&cfg.url),
            prefix: cfg.prefix.clone(),
            replica: replica_id(),
            last_error: Mutex::new(None),
            carries: Mutex::new(Vec::new()),
            up_gauge,
        }
    });
    if !fresh {
        return Err("the budget store already ran in this process; it starts once, with init()".into());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start its runtime: {e}"))?;
    link.attached.store(true, Ordering::Release);
    let mut sync = Sync::new(client, cfg);
    let thread = std::thread::Builder::new()
        .name("obs-budget-store".into())
        .spawn(move || rt.block_on(sync.run(link)))
        .map_err(|e| {
            link.attached.store(false, Ordering::Release);
            format!("cannot start its thread: {e}")
        })?;
    let deadline = Instant::now() + link.sync_wait();
    while link.finished.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(Handle { link, thread: Some(thread) })
}

/// `{host}:{pid}:{start}`: unique per process, readable in the hash.
fn replica_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{host}:{}:{:x}", std::process::id(), (nanos & 0xffff_ffff) as u32)
}

/// Days since 1970-01-01 of a date (the inverse of `time::civil_from_days`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * if m > 2 { m - 3 } else { m + 9 } + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// A period's key suffix (its start) and when its keys expire (0: never).
fn period_key(period: Period, window: u64) -> (String, u64) {
    let civil = |secs: u64| crate::time::civil_from_days((secs / 86_400) as i64);
    match period {
        Period::Hour => {
            let start = window * 3600;
            let (y, m, d) = civil(start);
            (format!("{y:04}-{m:02}-{d:02}T{:02}", (start % 86_400) / 3600), start + 3600 + GRACE_SECS)
        }
        Period::Day => {
            let (y, m, d) = civil(window * 86_400);
            (format!("{y:04}-{m:02}-{d:02}"), (window + 1) * 86_400 + GRACE_SECS)
        }
        Period::Month => {
            let y = (window.max(1) - 1) / 12;
            let m = (window - y * 12) as u32;
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            let end = days_from_civil(ny as i64, nm, 1).max(0) as u64 * 86_400;
            (format!("{y:04}-{m:02}"), end + GRACE_SECS)
        }
        Period::Total => ("total".into(), 0),
    }
}

/// Adds a replica's new total to a period's key exactly once; returns the
/// replica's field (what the store has from it) and the key (the fleet's
/// total), both as decimal strings, since Lua's numbers are doubles.
///
/// KEYS: the period's key, its per-replica hash. ARGV: replica, the total
/// it last confirmed, its new total, the difference, expiry (0: none).
static ADD: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local cur = redis.call('HGET', KEYS[2], ARGV[1]) or '0'
if cur == ARGV[2] and ARGV[4] ~= '0' then
  redis.call('INCRBY', KEYS[1], ARGV[4])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  cur = ARGV[3]
end
if ARGV[5] ~= '0' then
  redis.call('EXPIREAT', KEYS[1], ARGV[5])
  redis.call('EXPIREAT', KEYS[2], ARGV[5])
end
return {cur, redis.call('GET', KEYS[1]) or '0'}
",
    )
});

/// Why a round trip did not complete.
enum Fail {
    Timeout,
    Error(String),
}

async fn timed<T>(t: Duration, f: impl Future<Output = redis::RedisResult<T>>) -> Result<T, Fail> {
    match tokio::time::timeout(t, f).await {
        Err(_) => Err(Fail::Timeout),
        Ok(Err(e)) if e.is_timeout() => Err(Fail::Timeout),
        Ok(Err(e)) => Err(Fail::Error(e.to_string())),
        Ok(Ok(v)) => Ok(v),
    }
}

/// What the store has confirmed from this replica in one period.
struct PeriodSync {
    window: u64,
    acked: u64,
    /// Since an outage (or a loss of the store's data): confirmed additions
    /// count as reconciled until the store has everything.
    reconciling: bool,
    warned: bool,
    spent_logged: bool,
}

impl PeriodSync {
    fn new(window: u64) -> PeriodSync {
        PeriodSync { window, acked: 0, reconciling: false, warned: false, spent_logged: false }
    }
}

/// The store's thread.
struct Sync {
    client: redis::Client,
    cfg: Config,
    con: Option<redis::aio::ConnectionManager>,
    failures: u32,
    periods: HashMap<String, PeriodSync>,
    carries: Vec<Carry>,
    errors_timeout: Counter,
    errors_other: Counter,
}

impl Sync {
    fn new(client: redis::Client, cfg: Config) -> Sync {
        let reason = |r| metrics::builtin_counter(&names::BUDGET_STORE_ERRORS, &[("reason", r)]);
        Sync {
            client,
            cfg,
            con: None,
            failures: 0,
            periods: HashMap::new(),
            carries: Vec::new(),
            errors_timeout: reason("timeout"),
            errors_other: reason("error"),
        }
    }

    async fn run(&mut self, link: &'static Link) {
        let spacing = self.cfg.refresh / 10;
        loop {
            let stopping = link.stop.load(Ordering::SeqCst);
            // Before reading any total: a call adding spend from here on wakes
            // the thread again (urgently, if it leaves too much unconfirmed).
            link.woken.store(false, Ordering::SeqCst);
            link.urgent_pending.store(false, Ordering::SeqCst);
            link.started.fetch_add(1, Ordering::SeqCst);
            let ok = match self.sync(link).await {
                Ok(()) => {
                    self.recovered(link);
                    true
                }
                Err(f) => {
                    self.failed(link, f);
                    false
                }
            };
            link.finished.fetch_add(1, Ordering::SeqCst);
            if stopping {
                return;
            }
            if ok {
                // Batches: calls finishing meanwhile go in the next sync,
                // unless one left too much of a budget unconfirmed.
                tokio::select! {
                    _ = link.stop_wake.notified() => continue,
                    _ = link.urgent.notified() => {}
                    _ = tokio::time::sleep(spacing) => {}
                }
                tokio::select! {
                    _ = link.wake.notified() => {}
                    _ = link.stop_wake.notified() => {}
                    _ = tokio::time::sleep(self.cfg.refresh.saturating_sub(spacing)) => {}
                }
            } else {
                // Unreachable: retry every refresh interval, however many
                // calls wake the thread.
                tokio::select! {
                    _ = link.stop_wake.notified() => {}
                    _ = tokio::time::sleep(self.cfg.refresh) => {}
                }
            }
        }
    }

    fn connection(&mut self) -> Result<redis::aio::ConnectionManager, Fail> {
        if let Some(c) = &self.con {
            return Ok(c.clone());
        }
        let t = self.cfg.timeout;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(t))
            .set_response_timeout(Some(t))
            .set_number_of_retries(0)
            .set_max_delay(self.cfg.refresh);
        let c = redis::aio::ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| Fail::Error(e.to_string()))?;
        self.con = Some(c.clone());
        Ok(c)
    }

    /// One sync: ended periods first, then every budget's current period.
    async fn sync(&mut self, link: &'static Link) -> Result<(), Fail> {
        let mut con = self.connection()?;
        let t = self.cfg.timeout;
        self.carries.append(&mut lock(&link.carries));
        let now = now_secs();
        while let Some(c) = self.carries.first() {
            let (suffix, expire_at) = period_key(c.period, c.window);
            if expire_at != 0 && expire_at <= now {
                tracing::warn!(
                    target: "obs_runtime::budget",
                    budget = %c.name,
                    "budget `{}`: ${:.6} spent in a period whose key has expired was not added to the shared store",
                    c.name,
                    c.total as f64 / crate::pricing::PICO_PER_USD as f64
                );
                self.carries.remove(0);
                continue;
            }
            let key = format!("{}:{}:{suffix}", self.cfg.prefix, c.name);
            // The budget's entry is still the ended period's, if it was synced.
            let mut p = PeriodSync::new(c.window);
            if let Some(q) = self.periods.get(&c.name) {
                p.acked = if q.window == c.window { q.acked } else { 0 };
                p.reconciling = q.reconciling;
            }
            let series = budgets().iter().find(|s| s.def.name == c.name).and_then(|s| s.shared.get());
            add(&mut con, t, &link.replica, &key, &mut p, c.total, series, expire_at).await?;
            self.carries.remove(0);
        }
        let secs = now_secs();
        for s in budgets() {
            let series = s.shared.get_or_init(|| {
                let b = BudgetSeries::new(&s.def.name);
                b.local_spent(0.0);
                b
            });
            s.current(window_of(s.def.period, secs));
            // A (period, total) pair read while the period did not change.
            let window = s.window.load(Ordering::SeqCst);
            let local = s.spent.load(Ordering::SeqCst);
            if s.window.load(Ordering::SeqCst) != window {
                continue;
            }
            let p = self.periods.entry(s.def.name.clone()).or_insert_with(|| PeriodSync::new(window));
            if p.window != window {
                // The ended period went to `carries` when it ended.
                let reconciling = p.reconciling;
                *p = PeriodSync::new(window);
                p.reconciling = reconciling;
            }
            let (suffix, expire_at) = period_key(s.def.period, window);
            let key = format!("{}:{}:{suffix}", self.cfg.prefix, s.def.name);
            let fleet_total = add(&mut con, t, &link.replica, &key, p, local, Some(series), expire_at).await?;
            s.others.store(fleet_total.saturating_sub(p.acked), Ordering::SeqCst);
            if s.window.load(Ordering::SeqCst) != window {
                // The period ended meanwhile: that total was the old one's.
                s.others.store(0, Ordering::SeqCst);
                continue;
            }
            s.synced.store(p.acked, Ordering::SeqCst);
            if s.window.load(Ordering::SeqCst) != window {
                s.synced.store(0, Ordering::SeqCst);
            }
            let (fleet, local) = s.fleet(window);
            if let Some(g) = &s.spent_gauge {
                g.set(State::usd(fleet));
            }
            series.local_spent(State::usd(local));
            if fleet >= s.warn_pico && !p.warned {
                if elect(&mut con, t, &format!("{key}:warned"), &link.replica, expire_at).await? {
                    s.log_warning(fleet, Some(true));
                }
                p.warned = true;
            }
            if fleet >= s.limit_pico && !p.spent_logged {
                if elect(&mut con, t, &format!("{key}:spent"), &link.replica, expire_at).await? {
                    s.log_spent(fleet, Some(true));
                }
                p.spent_logged = true;
            }
        }
        Ok(())
    }

    fn recovered(&mut self, link: &Link) {
        self.failures = 0;
        if !link.up.swap(true, Ordering::AcqRel) {
            if let Some(g) = &link.up_gauge {
                g.set(1.0);
            }
            *lock(&link.last_error) = None;
            tracing::info!(
                target: "obs_runtime::budget",
                store = %link.url,
                "the shared budget store answers again: spend recorded meanwhile was added to it"
            );
        }
    }

    fn failed(&mut self, link: &Link, f: Fail) {
        let msg = match f {
            Fail::Timeout => {
                self.errors_timeout.increment(1);
                format!("no answer within {:?}", self.cfg.timeout)
            }
            Fail::Error(e) => {
                self.errors_other.increment(1);
                e
            }
        };
        // A connection that keeps failing is rebuilt from scratch.
        self.failures += 1;
        if self.failures >= 3 {
            self.con = None;
            self.failures = 0;
        }
        for p in self.periods.values_mut() {
            p.reconciling = true;
        }
        *lock(&link.last_error) = Some(msg.clone());
        if link.up.swap(false, Ordering::AcqRel) {
            if let Some(g) = &link.up_gauge {
                g.set(0.0);
            }
            let (closed, open): (Vec<&State>, Vec<&State>) =
                budgets().iter().map(|s| &**s).filter(|s| s.def.hard).partition(|s| s.def.fail_closed);
            let names = |v: Vec<&State>| v.iter().map(|s| s.def.name.as_str()).collect::<Vec<_>>().join(", ");
            tracing::warn!(
                target: "obs_runtime::budget",
                store = %link.url,
                error = %msg,
                "the shared budget store is unreachable ({msg}): fail-open budgets [{}] count this process's spend and add it when the store returns; fail-closed budgets [{}] refuse their calls",
                names(open),
                names(closed)
            );
        }
        // No election without the store: each replica warns on its own view.
        let secs = now_secs();
        for s in budgets() {
            let window = window_of(s.def.period, secs);
            let (fleet, _) = s.fleet(window);
            let p = self.periods.entry(s.def.name.clone()).or_insert_with(|| PeriodSync::new(window));
            if p.window != window {
                continue;
            }
            if fleet >= s.warn_pico && !p.warned {
                s.log_warning(fleet, Some(false));
                p.warned = true;
            }
            if fleet >= s.limit_pico && !p.spent_logged {
                s.log_spent(fleet, Some(false));
                p.spent_logged = true;
            }
        }
    }
}

/// Brings the store's count of this replica's spend in one period to `total`,
/// exactly once; returns the fleet's total for the period.
#[allow(clippy::too_many_arguments)]
async fn add(
    con: &mut redis::aio::ConnectionManager,
    t: Duration,
    replica: &str,
    key: &str,
    p: &mut PeriodSync,
    total: u64,
    series: Option<&BudgetSeries>,
    expire_at: u64,
) -> Result<u64, Fail> {
    let hash = format!("{key}:replicas");
    let mut fleet = 0;
    // A mismatch (a lost reply applied after all, or a store that lost its
    // data) costs one more round trip; three bound a sync.
    for _ in 0..3 {
        let prev = p.acked;
        let delta = total.saturating_sub(prev);
        let mut inv = ADD.key(key);
        inv.key(&hash).arg(replica).arg(prev.to_string()).arg(total.to_string()).arg(delta.to_string()).arg(expire_at);
        let (cur, sum): (String, String) = timed(t, inv.invoke_async(con)).await?;
        let parse =
            |v: &str| v.parse::<u64>().map_err(|_| Fail::Error(format!("`{key}` does not hold picodollars: `{v}`")));
        let cur = parse(&cur)?;
        fleet = parse(&sum)?;
        if cur >= p.acked {
            if p.reconciling {
                if let Some(s) = series {
                    s.reconciled.increment(cur - p.acked);
                }
            }
        } else {
            tracing::warn!(
                target: "obs_runtime::budget",
                key,
                "the shared budget store lost this replica's spend in `{key}` (restarted without persistence?): adding it again"
            );
            p.reconciling = true;
        }
        p.acked = cur;
        if cur >= total {
            p.reconciling = false;
            return Ok(fleet);
        }
    }
    Ok(fleet)
}

/// Whether this replica is the first to claim `key` (one log line per fleet).
async fn elect(
    con: &mut redis::aio::ConnectionManager,
    t: Duration,
    key: &str,
    replica: &str,
    expire_at: u64,
) -> Result<bool, Fail> {
    let mut cmd = redis::cmd("SET");
    cmd.arg(key).arg(replica).arg("NX");
    if expire_at != 0 {
        cmd.arg("EXAT").arg(expire_at);
    }
    let won: Option<String> = timed(t, cmd.query_async(con)).await?;
    Ok(won.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_keys_name_the_period_start_and_expire_an_hour_after_its_end() {
        // 2026-12-01T03:40:00Z
        let secs = 1_796_096_400u64;
        let (d, de) = period_key(Period::Day, window_of(Period::Day, secs));
        assert_eq!((d.as_str(), de), ("2026-12-01", 1_796_169_600 + 3600));
        let (h, he) = period_key(Period::Hour, window_of(Period::Hour, secs));
        assert_eq!((h.as_str(), he), ("2026-12-01T03", 1_796_097_600 + 3600));
        let (m, me) = period_key(Period::Month, window_of(Period::Month, secs));
        assert_eq!((m.as_str(), me), ("2026-12", 1_798_761_600 + 3600));
        let (t, te) = period_key(Period::Total, 0);
        assert_eq!((t.as_str(), te), ("total", 0));
        let (f, _) = period_key(Period::Month, window_of(Period::Month, 1_795_000_000));
        assert_eq!(f, "2026-11");
    }

    #[test]
    fn days_from_civil_inverts_civil_from_days() {
        for days in [-800_000i64, -1, 0, 11_016, 20_413, 20_788, 400_000] {
            let (y, m, d) = crate::time::civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(redact_url("redis://:s3cret@10.0.0.1:6379/0"), "redis://***@10.0.0.1:6379/0");
        assert_eq!(redact_url("redis://user:p@ss@h:1"), "redis://***@h:1");
        assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
