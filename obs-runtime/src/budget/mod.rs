//! Spending budgets in USD per period (hour, day, month, or the process's
//! whole life), for the whole process, one agent or one model.
//!
//! Every priced model call adds its cost to the budgets whose scope it falls
//! in. Crossing the warning fraction (80% by default) logs one warning per
//! period; `budget_spent_usd{budget}` and `budget_limit_usd{budget}` are
//! gauges. A hard budget named by `#[track_llm_call(budget = "name")]` makes
//! the call return `BudgetExceeded` before it runs once the budget is spent.
//! The check happens before the call and the cost is added after it, so
//! concurrent calls overshoot a hard limit by at most the calls in flight.
//!
//! A model call reads the registered budgets without a lock (an immutable
//! snapshot) and adds its cost with one atomic add per budget in scope: that
//! sum is shared by every thread, the price of an exact process-wide limit.
//!
//! ## Across replicas
//!
//! In one process a budget caps that process. With the `redis` feature and
//! `OBS_BUDGET_REDIS_URL` (or `Builder::budget_redis_url`), every budget's
//! spend per period lives in one Redis key shared by the fleet (the module
//! `budget::shared`, built with the feature, describes the keys, the sync
//! protocol and the failure policies). A call still never waits for Redis: the check reads a local
//! view (the fleet's spend at the last refresh plus this process's spend
//! since), and the cost goes to Redis after the call, from a background
//! thread. So the fleet's spend can pass a hard limit by at most
//!
//! * the calls in flight across the fleet when the limit is reached (as in
//!   one process), plus
//! * the calls the fleet completes within one refresh interval plus one
//!   round trip (what a replica's view had not seen yet).
//!
//! When Redis is unreachable or slower than the timeout, each budget applies
//! its policy: fail open (the default: keep counting locally, add the spend
//! when Redis returns, exactly once) or [`Budget::fail_closed`] (refuse calls
//! as over budget). See [`store_status`].
//!
//! ```
//! use obs_runtime::budget::{self, Budget, Period};
//! budget::register(Budget::new("daily", 25.0, Period::Day).hard()).unwrap();
//! budget::register(Budget::new("researcher-hourly", 2.0, Period::Hour).agent("researcher")).unwrap();
//! ```

#[cfg(feature = "redis")]
pub mod shared;

use crate::metrics::{self, Gauge};
use crate::pricing::PICO_PER_USD;
use crate::slot::Slot;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The period over which a budget's spending is summed (UTC calendar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// Each clock hour.
    Hour,
    /// Each UTC day.
    Day,
    /// Each UTC calendar month.
    Month,
    /// The life of the process.
    Total,
}

impl Period {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
            Period::Month => "month",
            Period::Total => "total",
        }
    }
}

/// Which calls a budget counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every priced model call.
    Process,
    /// Calls made inside this agent.
    Agent(String),
    /// Calls to this model.
    Model(String),
}

/// A budget definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    name: String,
    limit_usd: f64,
    period: Period,
    scope: Scope,
    warn_at: f64,
    hard: bool,
    fail_closed: bool,
}

impl Budget {
    /// A process-wide budget of `limit_usd` per `period`, warning at 80%.
    pub fn new(name: impl Into<String>, limit_usd: f64, period: Period) -> Budget {
        Budget {
            name: name.into(),
            limit_usd,
            period,
            scope: Scope::Process,
            warn_at: 0.8,
            hard: false,
            fail_closed: false,
        }
    }
    /// Counts only the calls made inside `agent`.
    pub fn agent(mut self, agent: impl Into<String>) -> Budget {
        self.scope = Scope::Agent(agent.into());
        self
    }
    /// Counts only the calls to `model`.
    pub fn model(mut self, model: impl Into<String>) -> Budget {
        self.scope = Scope::Model(model.into());
        self
    }
    /// Warns when spending reaches this fraction of the limit (0 to 1).
    pub fn warn_at(mut self, fraction: f64) -> Budget {
        self.warn_at = fraction;
        self
    }
    /// Makes the budget a hard limit for the calls that name it.
    pub fn hard(mut self) -> Budget {
        self.hard = true;
        self
    }
    /// With a shared store (feature `redis`): while the store is unreachable
    /// or slow, refuse this hard budget's calls as over budget
    /// ([`BudgetExceeded::store_unreachable`]) instead of the default fail
    /// open (admit them against this process's own count, and add that
    /// spend to the store when it returns). Without a shared store it
    /// changes nothing.
    ///
    /// ```
    /// use obs_runtime::budget::{Budget, Period};
    /// let strict = Budget::new("fleet-daily", 250.0, Period::Day).hard().fail_closed();
    /// # let _ = strict;
    /// ```
    pub fn fail_closed(mut self) -> Budget {
        self.fail_closed = true;
        self
    }
}

/// Why a budget could not be registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetError(String);

impl std::fmt::Display for BudgetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BudgetError {}

/// Returned by a model call whose hard budget is spent, before it runs.
/// Its error type must implement `From<BudgetExceeded>`.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetExceeded {
    /// The budget's name.
    pub budget: String,
    /// Its limit per period, USD.
    pub limit_usd: f64,
    /// Spent in the current period, USD.
    pub spent_usd: f64,
    /// `hour`, `day`, `month` or `total`.
    pub period: &'static str,
    /// The budget fails closed and its shared store is unreachable: the
    /// call was refused without knowing the fleet's spend (`spent_usd` is
    /// the last one known).
    pub store_unreachable: bool,
}

impl std::fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.store_unreachable {
            return write!(
                f,
                "budget `{}` fails closed: its shared spend store is unreachable (last known ${:.4} of ${:.4} this {}); the model was not called",
                self.budget, self.spent_usd, self.limit_usd, self.period
            );
        }
        write!(
            f,
            "budget `{}` is spent: ${:.4} of ${:.4} this {}; the model was not called",
            self.budget, self.spent_usd, self.limit_usd, self.period
        )
    }
}

impl std::error::Error for BudgetExceeded {}

struct State {
    def: Budget,
    limit_pico: u64,
    warn_pico: u64,
    window: AtomicU64,
    spent: AtomicU64,
    warned_window: AtomicU64,
    exceeded_window: AtomicU64,
    spent_gauge: Option<Gauge>,
    /// With a shared store: the rest of the fleet's spend in this window, as
    /// last read from the store (0 without one). The fleet's spend as this
    /// process sees it is `others + spent`.
    others: AtomicU64,
    /// With a shared store: the series only a shared budget has, set when
    /// the store first syncs this budget.
    #[cfg(feature = "redis")]
    shared: std::sync::OnceLock<shared::BudgetSeries>,
    /// With a shared store: how much of `spent` the store has confirmed.
    /// A call that leaves more than [`shared::unsynced_max`] unconfirmed
    /// asks for a sync at once, which bounds what a killed process loses.
    #[cfg(feature = "redis")]
    synced: AtomicU64,
}

impl State {
    /// This process's spending in the current window, resetting it when a
    /// new one began.
    fn current(&self, window: u64) -> u64 {
        let w = self.window.load(Ordering::Acquire);
        if w != window && self.window.compare_exchange(w, window, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            // A new period: the first caller to see it resets the sum. A cost
            // added by a racing thread in the same instant may land in either
            // period; the boundary is the only imprecision.
            let _old = self.spent.swap(0, Ordering::AcqRel);
            self.others.store(0, Ordering::SeqCst);
            #[cfg(feature = "redis")]
            self.synced.store(0, Ordering::SeqCst);
            // The old period's total goes to the shared store (cold: once per period).
            #[cfg(feature = "redis")]
            shared::period_ended(self, w, _old);
        }
        self.spent.load(Ordering::Acquire)
    }

    /// The fleet's spend in the current window as this process sees it
    /// (`others` is 0 without a shared store), and this process's own.
    fn fleet(&self, window: u64) -> (u64, u64) {
        let local = self.current(window);
        (self.others.load(Ordering::Acquire).saturating_add(local), local)
    }

    fn applies(&self, agent: &str, model: &str) -> bool {
        match &self.def.scope {
            Scope::Process => true,
            Scope::Agent(a) => a == agent,
            Scope::Model(m) => m == model,
        }
    }

    fn usd(pico: u64) -> f64 {
        pico as f64 / PICO_PER_USD as f64
    }
}

/// Registered budgets: an immutable snapshot swapped on registration, so a
/// model call reads it without a lock. Replaced snapshots are leaked (one per
/// registration, a handful per process).
static SNAPSHOT: Slot<Vec<Arc<State>>> = Slot::new();
static REGISTER: Mutex<()> = Mutex::new(());

fn budgets() -> &'static [Arc<State>] {
    SNAPSHOT.get().map_or(&[], Vec::as_slice)
}

fn window_of(period: Period, secs: u64) -> u64 {
    match period {
        Period::Hour => secs / 3600,
        Period::Day => secs / 86_400,
        Period::Month => {
            let (y, m, _) = crate::time::civil_from_days((secs / 86_400) as i64);
            (y as u64) * 12 + u64::from(m)
        }
        Period::Total => 0,
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Registers a budget. Names are unique; the limit must be a positive
/// number of dollars and the warning fraction between 0 and 1. With a
/// shared store running, it then waits (at most a few store timeouts) for
/// the fleet's spend of this budget, so the first call checks against it.
pub fn register(b: Budget) -> Result<(), BudgetError> {
    if !(b.limit_usd.is_finite() && b.limit_usd > 0.0) {
        return Err(BudgetError(format!(
            "budget `{}`: the limit must be a positive number of USD, got {}",
            b.name, b.limit_usd
        )));
    }
    if !(0.0..=1.0).contains(&b.warn_at) {
        return Err(BudgetError(format!(
            "budget `{}`: warn_at is a fraction of the limit from 0 to 1, got {}",
            b.name, b.warn_at
        )));
    }
    let _g = REGISTER.lock().unwrap_or_else(|e| e.into_inner());
    if budgets().iter().any(|s| s.def.name == b.name) {
        return Err(BudgetError(format!("budget `{}` is already registered; budget names are unique", b.name)));
    }
    let limit_pico = (b.limit_usd * PICO_PER_USD as f64) as u64;
    let labels = [("budget", b.name.as_str())];
    let spent_gauge = metrics::builtin_gauge(&metrics::names::BUDGET_SPENT, &labels);
    if let Some(g) = metrics::builtin_gauge(&metrics::names::BUDGET_LIMIT, &labels) {
        g.set(b.limit_usd);
    }
    if let Some(g) = &spent_gauge {
        g.set(0.0);
    }
    let state = Arc::new(State {
        warn_pico: (limit_pico as f64 * b.warn_at) as u64,
        limit_pico,
        window: AtomicU64::new(window_of(b.period, now_secs())),
        spent: AtomicU64::new(0),
        warned_window: AtomicU64::new(u64::MAX),
        exceeded_window: AtomicU64::new(u64::MAX),
        spent_gauge,
        others: AtomicU64::new(0),
        #[cfg(feature = "redis")]
        shared: std::sync::OnceLock::new(),
        #[cfg(feature = "redis")]
        synced: AtomicU64::new(0),
        def: b,
    });
    let mut next: Vec<Arc<State>> = budgets().to_vec();
    next.push(state);
    SNAPSHOT.publish(next);
    drop(_g);
    // A shared store loads the fleet's spend before the first call (bounded
    // by its timeout; without a store this returns at once).
    #[cfg(feature = "redis")]
    shared::registered();
    Ok(())
}

/// Adds a priced call's cost to every budget it falls in.
#[inline]
pub(crate) fn add_cost(agent: &str, model: &str, pico: u64) {
    let budgets = budgets();
    // No budget registered (the common case): no clock read, no store wake-up.
    if !budgets.is_empty() {
        add_cost_to(budgets, agent, model, pico);
    }
}

fn add_cost_to(budgets: &[Arc<State>], agent: &str, model: &str, pico: u64) {
    let secs = now_secs();
    #[cfg(feature = "redis")]
    let store = shared::link();
    #[cfg(not(feature = "redis"))]
    let store: Option<()> = None;
    #[cfg(feature = "redis")]
    let mut urgent = false;
    for s in budgets {
        if !s.applies(agent, model) {
            continue;
        }
        let window = window_of(s.def.period, secs);
        s.current(window);
        let local = s.spent.fetch_add(pico, Ordering::AcqRel).saturating_add(pico);
        let after = s.others.load(Ordering::Acquire).saturating_add(local);
        if let Some(g) = &s.spent_gauge {
            g.set(State::usd(after));
        }
        if store.is_some() {
            // The store's thread adds the cost to the fleet's key, and warns
            // once per fleet (it elects one replica through the store).
            #[cfg(feature = "redis")]
            {
                if let Some(series) = s.shared.get() {
                    series.local_spent(State::usd(local));
                }
                urgent |= local.saturating_sub(s.synced.load(Ordering::Acquire)) >= shared::unsynced_max(s.limit_pico);
            }
            continue;
        }
        s.warn_if_crossed(window, after);
    }
    #[cfg(feature = "redis")]
    if let Some(link) = store {
        if urgent {
            link.wake_urgent();
        } else {
            link.wake();
        }
    }
}

impl State {
    /// Logs the warning at `warn_at` and the spent error, once per window of
    /// this process.
    fn warn_if_crossed(&self, window: u64, after: u64) {
        if after >= self.warn_pico && self.warned_window.swap(window, Ordering::AcqRel) != window {
            self.log_warning(after, None);
        }
        if after >= self.limit_pico && self.exceeded_window.swap(window, Ordering::AcqRel) != window {
            self.log_spent(after, None);
        }
    }

    /// `fleet`: `Some(true)` when the shared store elected this replica to
    /// log for the fleet, `Some(false)` when the store was unreachable and
    /// this replica logs on its own view.
    fn log_warning(&self, spent: u64, fleet: Option<bool>) {
        tracing::warn!(
            target: "obs_runtime::budget",
            budget = %self.def.name,
            spent_usd = State::usd(spent),
            limit_usd = self.def.limit_usd,
            period = self.def.period.as_str(),
            fleet,
            "budget `{}` reached {:.0}% of its limit",
            self.def.name,
            100.0 * spent as f64 / self.limit_pico.max(1) as f64
        );
    }

    fn log_spent(&self, spent: u64, fleet: Option<bool>) {
        tracing::error!(
            target: "obs_runtime::budget",
            budget = %self.def.name,
            spent_usd = State::usd(spent),
            limit_usd = self.def.limit_usd,
            hard = self.def.hard,
            fleet,
            "budget `{}` is spent",
            self.def.name
        );
    }
}

/// `Err` when the hard budget `name` is spent in its current period. An
/// unknown or soft budget never stops a call.
///
/// With a shared store this reads the fleet's spend as last refreshed plus
/// this process's since; it never waits for the store. While the store is
/// unreachable, a [`fail_closed`](Budget::fail_closed) hard budget refuses
/// every call and a fail-open one checks against what this process knows.
pub fn check(name: &str) -> Result<(), BudgetExceeded> {
    let Some(s) = budgets().iter().find(|s| s.def.name == name) else {
        warn_unknown_once(name);
        return Ok(());
    };
    let (spent, _) = s.fleet(window_of(s.def.period, now_secs()));
    if !s.def.hard {
        return Ok(());
    }
    let refuse = |store_unreachable| BudgetExceeded {
        budget: s.def.name.clone(),
        limit_usd: s.def.limit_usd,
        spent_usd: State::usd(spent),
        period: s.def.period.as_str(),
        store_unreachable,
    };
    #[cfg(feature = "redis")]
    if let Some(link) = shared::link() {
        if !link.is_up() {
            let fail_closed = s.def.fail_closed;
            if let Some(series) = s.shared.get() {
                series.degraded_call(fail_closed);
            }
            if fail_closed {
                return Err(refuse(true));
            }
        }
    }
    if spent >= s.limit_pico {
        return Err(refuse(false));
    }
    Ok(())
}

fn warn_unknown_once(name: &str) {
    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.iter().any(|n| n == name) {
        seen.push(name.to_string());
        tracing::warn!(
            target: "obs_runtime::budget",
            budget = name,
            "a model call names budget `{name}`, which is not registered: it is not enforced; register it with obs_runtime::budget::register"
        );
    }
}

/// Spent in the current period of budget `name`, USD: with a shared store,
/// the fleet's spend as this process sees it (see [`spent_pico`]).
pub fn spent_usd(name: &str) -> Option<f64> {
    spent_pico(name).map(State::usd)
}

/// Exact spending in the current period of budget `name`, picodollars. With
/// a shared store it is the fleet's: the store's value at the last refresh
/// plus what this process spent since ([`local_spent_pico`] is this
/// process's share alone).
pub fn spent_pico(name: &str) -> Option<u64> {
    let s = budgets().iter().find(|s| s.def.name == name)?;
    Some(s.fleet(window_of(s.def.period, now_secs())).0)
}

/// This process's own spending in the current period of budget `name`,
/// picodollars (equal to [`spent_pico`] without a shared store).
pub fn local_spent_pico(name: &str) -> Option<u64> {
    let s = budgets().iter().find(|s| s.def.name == name)?;
    Some(s.current(window_of(s.def.period, now_secs())))
}

/// One registered budget and its spend now, as the live view shows it.
#[cfg_attr(not(feature = "ui"), allow(dead_code))]
#[derive(Clone, Debug)]
pub(crate) struct BudgetView {
    pub(crate) name: String,
    /// `process`, `agent NAME` or `model NAME`.
    pub(crate) scope: String,
    pub(crate) period: &'static str,
    pub(crate) limit_usd: f64,
    /// The fleet's spend in the current period as this process sees it
    /// ([`spent_pico`]).
    pub(crate) spent_pico: u64,
    pub(crate) hard: bool,
}

/// Every registered budget, in registration order.
#[cfg_attr(not(feature = "ui"), allow(dead_code))]
pub(crate) fn views() -> Vec<BudgetView> {
    let secs = now_secs();
    budgets()
        .iter()
        .map(|s| BudgetView {
            name: s.def.name.clone(),
            scope: match &s.def.scope {
                Scope::Process => "process".to_string(),
                Scope::Agent(a) => format!("agent {a}"),
                Scope::Model(m) => format!("model {m}"),
            },
            period: s.def.period.as_str(),
            limit_usd: s.def.limit_usd,
            spent_pico: s.fleet(window_of(s.def.period, secs)).0,
            hard: s.def.hard,
        })
        .collect()
}

/// Where budgets keep their spend, for `/summary`, `/ready` and logs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct StoreStatus {
    /// `in-process` (each process counts its own spend), or `redis`.
    pub kind: &'static str,
    /// The server, without credentials (`redis://127.0.0.1:6379/0`).
    pub url: Option<String>,
    /// The prefix of the store's keys (`obs:budget`).
    pub prefix: Option<String>,
    /// This process's name in the store (its field in each period's
    /// per-replica hash).
    pub replica: Option<String>,
    /// The store is unreachable or slower than its timeout: budgets apply
    /// their failure policy (fail open or fail closed).
    pub degraded: bool,
    /// Why, while degraded.
    pub last_error: Option<String>,
}

/// Where budgets keep their spend now: in this process, or in a shared
/// store and whether it is reachable.
///
/// ```
/// let s = obs_runtime::budget::store_status();
/// assert_eq!(s.kind, "in-process"); // before init() with OBS_BUDGET_REDIS_URL
/// assert!(!s.degraded);
/// ```
pub fn store_status() -> StoreStatus {
    #[cfg(feature = "redis")]
    if let Some(link) = shared::link() {
        return link.status();
    }
    StoreStatus { kind: "in-process", url: None, prefix: None, replica: None, degraded: false, last_error: None }
}

#[doc(hidden)]
pub mod __private {
    /// How a budgeted model call returns `BudgetExceeded` through its own
    /// error type.
    #[diagnostic::on_unimplemented(
        message = "a budget stops a model call by returning an error, but `{Self}` cannot carry `obs_runtime::budget::BudgetExceeded`",
        label = "this function has a budget",
        note = "return `Result<_, E>` where `E: From<obs_runtime::budget::BudgetExceeded>` (e.g. a `#[from] BudgetExceeded` variant with thiserror), or remove `budget = ..`"
    )]
    pub trait BudgetReturn {
        /// The early return.
        fn budget_exceeded(e: super::BudgetExceeded) -> Self;
    }

    impl<T, E: From<super::BudgetExceeded>> BudgetReturn for Result<T, E> {
        fn budget_exceeded(e: super::BudgetExceeded) -> Self {
            Err(E::from(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_windows() {
        assert_eq!(window_of(Period::Month, 0), 1970 * 12 + 1);
        assert_eq!(window_of(Period::Month, 20_413 * 86_400), 2025 * 12 + 11);
    }
}
