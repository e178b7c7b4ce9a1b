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
//! ```
//! use obs_runtime::budget::{self, Budget, Period};
//! budget::register(Budget::new("daily", 25.0, Period::Day).hard()).unwrap();
//! budget::register(Budget::new("researcher-hourly", 2.0, Period::Hour).agent("researcher")).unwrap();
//! ```

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
    fn as_str(self) -> &'static str {
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
}

impl Budget {
    /// A process-wide budget of `limit_usd` per `period`, warning at 80%.
    pub fn new(name: impl Into<String>, limit_usd: f64, period: Period) -> Budget {
        Budget { name: name.into(), limit_usd, period, scope: Scope::Process, warn_at: 0.8, hard: false }
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
}

impl std::fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
}

impl State {
    /// Spending in the current window, resetting it when a new one began.
    fn current(&self, window: u64) -> u64 {
        let w = self.window.load(Ordering::Acquire);
        if w != window && self.window.compare_exchange(w, window, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            // A new period: the first caller to see it resets the sum. A cost
            // added by a racing thread in the same instant may land in either
            // period; the boundary is the only imprecision.
            self.spent.store(0, Ordering::Release);
        }
        self.spent.load(Ordering::Acquire)
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
/// number of dollars and the warning fraction between 0 and 1.
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
        def: b,
    });
    let mut next: Vec<Arc<State>> = budgets().to_vec();
    next.push(state);
    SNAPSHOT.publish(next);
    Ok(())
}

/// Adds a priced call's cost to every budget it falls in.
pub(crate) fn add_cost(agent: &str, model: &str, pico: u64) {
    let secs = now_secs();
    for s in budgets() {
        if !s.applies(agent, model) {
            continue;
        }
        let window = window_of(s.def.period, secs);
        s.current(window);
        let after = s.spent.fetch_add(pico, Ordering::AcqRel).saturating_add(pico);
        if let Some(g) = &s.spent_gauge {
            g.set(State::usd(after));
        }
        if after >= s.warn_pico && s.warned_window.swap(window, Ordering::AcqRel) != window {
            tracing::warn!(
                target: "obs_runtime::budget",
                budget = %s.def.name,
                spent_usd = State::usd(after),
                limit_usd = s.def.limit_usd,
                period = s.def.period.as_str(),
                "budget `{}` reached {:.0}% of its limit",
                s.def.name,
                100.0 * after as f64 / s.limit_pico.max(1) as f64
            );
        }
        if after >= s.limit_pico && s.exceeded_window.swap(window, Ordering::AcqRel) != window {
            tracing::error!(
                target: "obs_runtime::budget",
                budget = %s.def.name,
                spent_usd = State::usd(after),
                limit_usd = s.def.limit_usd,
                hard = s.def.hard,
                "budget `{}` is spent",
                s.def.name
            );
        }
    }
}

/// `Err` when the hard budget `name` is spent in its current period. An
/// unknown or soft budget never stops a call.
pub fn check(name: &str) -> Result<(), BudgetExceeded> {
    let Some(s) = budgets().iter().find(|s| s.def.name == name) else {
        warn_unknown_once(name);
        return Ok(());
    };
    let spent = s.current(window_of(s.def.period, now_secs()));
    if s.def.hard && spent >= s.limit_pico {
        return Err(BudgetExceeded {
            budget: s.def.name.clone(),
            limit_usd: s.def.limit_usd,
            spent_usd: State::usd(spent),
            period: s.def.period.as_str(),
        });
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

/// Spent in the current period of budget `name`, USD.
pub fn spent_usd(name: &str) -> Option<f64> {
    let s = budgets().iter().find(|s| s.def.name == name)?;
    Some(State::usd(s.current(window_of(s.def.period, now_secs()))))
}

/// Exact spending in the current period of budget `name`, picodollars.
pub fn spent_pico(name: &str) -> Option<u64> {
    let s = budgets().iter().find(|s| s.def.name == name)?;
    Some(s.current(window_of(s.def.period, now_secs())))
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
