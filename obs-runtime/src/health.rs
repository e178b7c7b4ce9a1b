//! Health checks: functions marked `#[health_check]` (collected through
//! `inventory`) and checks registered at run time with [`register`], run by
//! `/ready` (feature `prometheus`) or by [`run`].
//!
//! A check returns `bool` or `Result<T, E>` (`T: Serialize`, shown as the
//! check's `details`; `E: Display`, shown as its `error`), both through the
//! secret detectors of [`crate::redact::scan`] (details as captured content
//! is: [`crate::redact::prepare_content`], cut to 16 KiB). Every check runs concurrently with
//! its own timeout (5 s unless given); a check that times out or panics
//! failed. The overall status is `healthy` (every check passed, HTTP 200),
//! `degraded` (a non-critical check failed, 207) or `critical` (a critical
//! check failed, 503).
//!
//! Probes do not pile up: concurrent calls of [`run`] share one run, and its
//! report is reused for a short time ([`set_cache_ttl`], 1 s by default), so
//! a slow check runs at most once per period however often `/ready` is
//! probed. A blocking check still running past its timeout is not started
//! again until it returns (it counts as failed meanwhile).
//!
//! Each run sets `health_check_status{check}` (1 passed, 0 failed) and
//! `health_check_duration_seconds{check}` in the registry.
//!
//! ```
//! use obs_runtime::health::{self, Check};
//! use std::time::Duration;
//!
//! /// Critical: `/ready` answers 503 while the database is unreachable.
//! #[obs_runtime::health_check(critical, timeout = "2s")]
//! async fn database() -> Result<u32, std::io::Error> {
//!     Ok(3) // open connections, shown as the check's details
//! }
//!
//! // Registered at run time, e.g. once a client exists.
//! health::register(Check::blocking("cache", || true).timeout(Duration::from_millis(500))).unwrap();
//! assert!(health::checks().iter().any(|c| c.name() == "database" && c.is_critical()));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// What one run of a check gives: its details (`None` for `()` or `bool`),
/// or its error text.
pub type CheckResult = Result<Option<serde_json::Value>, String>;

/// The future of an async check.
pub type CheckFuture = Pin<Box<dyn Future<Output = CheckResult> + Send>>;

/// A check's timeout when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a report is reused by default ([`set_cache_ttl`]).
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(1);
/// Longest error text kept, in bytes (longer ones are cut).
const MAX_ERROR_BYTES: usize = 1024;
/// Longest details kept, in bytes of JSON (longer ones are cut, still JSON).
const MAX_DETAILS_BYTES: usize = 16 * 1024;

/// What a health check function returns: `bool` (`false` fails), or
/// `Result<T, E>` with `T: Serialize` (its details) and `E: Display`.
#[diagnostic::on_unimplemented(
    message = "a health check returns `bool` or `Result<T, E>` with `T: serde::Serialize` and `E: Display`, not `{Self}`",
    label = "return `bool`, or `Result<T, E>` (`T: Serialize` for details, `E: Display` for the error)"
)]
pub trait CheckOutput {
    /// The run's result.
    fn into_check_result(self) -> CheckResult;
}

impl CheckOutput for bool {
    fn into_check_result(self) -> CheckResult {
        if self {
            Ok(None)
        } else {
            Err("the check returned false".into())
        }
    }
}

impl<T: serde::Serialize, E: fmt::Display> CheckOutput for Result<T, E> {
    fn into_check_result(self) -> CheckResult {
        match self {
            Ok(v) => match serde_json::to_value(v) {
                Ok(serde_json::Value::Null) => Ok(None),
                Ok(v) => Ok(Some(v)),
                Err(e) => Err(format!("the check passed but its details cannot be shown as JSON: {e}")),
            },
            Err(e) => Err(e.to_string()),
        }
    }
}

#[derive(Clone)]
#[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
enum Run {
    Blocking(Arc<dyn Fn() -> CheckResult + Send + Sync>),
    Async(Arc<dyn Fn() -> CheckFuture + Send + Sync>),
}

/// A health check: a name (its `check` label), whether it is critical, its
/// timeout and the function that runs it.
#[derive(Clone)]
pub struct Check {
    name: Cow<'static, str>,
    critical: bool,
    timeout: Duration,
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    run: Run,
    /// Set while a blocking run is under way (it cannot be cancelled).
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    busy: Arc<AtomicBool>,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("critical", &self.critical)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Check {
    fn with(name: Cow<'static, str>, run: Run) -> Check {
        Check { name, critical: false, timeout: DEFAULT_TIMEOUT, run, busy: Arc::default() }
    }

    /// An async check: `f` makes the future of one run.
    pub fn new<F, Fut, R>(name: impl Into<Cow<'static, str>>, f: F) -> Check
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: CheckOutput,
    {
        let run = move || -> CheckFuture {
            let fut = f();
            Box::pin(async move { fut.await.into_check_result() })
        };
        Check::with(name.into(), Run::Async(Arc::new(run)))
    }

    /// A check that blocks (file system, a sync client): run on a blocking thread.
    pub fn blocking<F, R>(name: impl Into<Cow<'static, str>>, f: F) -> Check
    where
        F: Fn() -> R + Send + Sync + 'static,
        R: CheckOutput,
    {
        Check::with(name.into(), Run::Blocking(Arc::new(move || f().into_check_result())))
    }

    /// A failure makes `/ready` answer 503 `critical` (else 207 `degraded`).
    pub fn critical(mut self) -> Check {
        self.critical = true;
        self
    }

    /// Longest a run may take; past it the check failed (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Check {
        self.timeout = timeout;
        self
    }

    /// The check's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether its failure is critical.
    pub fn is_critical(&self) -> bool {
        self.critical
    }

    /// Its timeout.
    pub fn timeout_duration(&self) -> Duration {
        self.timeout
    }
}

/// A check registered by `#[health_check]` (what the macro generates).
#[doc(hidden)]
pub struct Registration {
    pub name: &'static str,
    pub critical: bool,
    pub timeout_ns: u64,
    pub run: StaticRun,
}

/// The function of a registered check.
#[doc(hidden)]
pub enum StaticRun {
    Blocking(fn() -> CheckResult),
    Async(fn() -> CheckFuture),
}

inventory::collect!(Registration);

/// Why [`register`] refused a check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealthError {
    /// Another check has this name (names are the `check` label, so unique).
    Duplicate(String),
    /// The name is empty or has a control character.
    InvalidName(String),
    /// The timeout is zero.
    ZeroTimeout(String),
}

impl fmt::Display for HealthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HealthError::Duplicate(n) => {
                write!(f, "a health check named `{n}` is already registered; give this one another name")
            }
            HealthError::InvalidName(n) => write!(
                f,
                "health check name {n:?} cannot be a metric label value: use a non-empty name without control characters, e.g. \"database\""
            ),
            HealthError::ZeroTimeout(n) => {
                write!(f, "health check `{n}` has a zero timeout: give it the longest a run may take, e.g. 2 s")
            }
        }
    }
}

impl std::error::Error for HealthError {}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every check: the registered functions' first, then the run-time ones.
fn all() -> &'static Mutex<Vec<Check>> {
    static ALL: OnceLock<Mutex<Vec<Check>>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<Check> = Vec::new();
        for r in inventory::iter::<Registration> {
            // The macro checked the name; a second function of the same
            // name (in another module) is kept once, the first seen.
            if v.iter().any(|c| c.name == r.name) {
                continue;
            }
            let run = match r.run {
                StaticRun::Blocking(f) => Run::Blocking(Arc::new(f)),
                StaticRun::Async(f) => Run::Async(Arc::new(f)),
            };
            let mut c = Check::with(Cow::Borrowed(r.name), run).timeout(Duration::from_nanos(r.timeout_ns));
            c.critical = r.critical;
            v.push(c);
        }
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Mutex::new(v)
    })
}

/// Adds a check at run time. Refused when its name is taken or is not a
/// usable label value, or its timeout is zero.
pub fn register(check: Check) -> Result<(), HealthError> {
    let name = check.name.to_string();
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(HealthError::InvalidName(name));
    }
    if check.timeout.is_zero() {
        return Err(HealthError::ZeroTimeout(name));
    }
    let mut all = lock(all());
    if all.iter().any(|c| c.name == check.name) {
        return Err(HealthError::Duplicate(name));
    }
    all.push(check);
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(())
}

/// Every registered check, by name.
pub fn checks() -> Vec<Check> {
    lock(all()).clone()
}

static CACHE_TTL_NS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1_000_000_000);

/// How long a report is reused before the checks run again (default 1 s;
/// zero runs them on every probe that does not overlap a run under way).
/// Also `Builder::health_cache_ttl` and `OBS_HEALTH_CACHE_TTL`.
pub fn set_cache_ttl(ttl: Duration) {
    CACHE_TTL_NS.store(u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
}

#[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
fn cache_ttl() -> Duration {
    Duration::from_nanos(CACHE_TTL_NS.load(Ordering::Relaxed))
}

/// The overall status of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Every check passed.
    Healthy,
    /// A non-critical check failed.
    Degraded,
    /// A critical check failed or timed out.
    Critical,
}

impl HealthStatus {
    /// `healthy`, `degraded` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Critical => "critical",
        }
    }

    /// The HTTP status `/ready` answers with: 200, 207 or 503.
    pub fn http_status(self) -> u16 {
        match self {
            HealthStatus::Healthy => 200,
            HealthStatus::Degraded => 207,
            HealthStatus::Critical => 503,
        }
    }
}

/// One check's part of a report.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CheckReport {
    /// The check's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Whether it is critical.
    pub critical: bool,
    /// How long it ran (its timeout when it timed out).
    pub duration: Duration,
    /// What it returned on success (`None` for `()` and `bool`).
    pub details: Option<serde_json::Value>,
    /// Why it failed, through the secret detectors and cut to 1 KiB.
    pub error: Option<String>,
}

/// The result of running every check.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// The overall status.
    pub status: HealthStatus,
    /// Every check, by name.
    pub checks: Vec<CheckReport>,
}

impl Report {
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    fn of(checks: Vec<CheckReport>) -> Report {
        let status = if checks.iter().any(|c| !c.passed && c.critical) {
            HealthStatus::Critical
        } else if checks.iter().any(|c| !c.passed) {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        };
        Report { status, checks }
    }

    /// `{"status", "checks": {name: {status, critical, duration_seconds,
    /// details | error}}, "summary": {total, passed, failed, critical_failed}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut checks = serde_json::Map::new();
        for c in &self.checks {
            let mut o = serde_json::Map::new();
            o.insert("status".into(), (if c.passed { "pass" } else { "fail" }).into());
            o.insert("critical".into(), c.critical.into());
            o.insert("duration_seconds".into(), c.duration.as_secs_f64().into());
            if let Some(d) = &c.details {
                o.insert("details".into(), d.clone());
            }
            if let Some(e) = &c.error {
                o.insert("error".into(), e.clone().into());
            }
            checks.insert(c.name.clone(), o.into());
        }
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        serde_json::json!({
            "status": self.status.as_str(),
            "checks": checks,
            "summary": {
                "total": self.checks.len(),
                "passed": self.checks.len() - failed,
                "failed": failed,
                "critical_failed": self.checks.iter().filter(|c| !c.passed && c.critical).count(),
            },
        })
    }
}

/// The error text as reports show it: cut, then through the detectors.
#[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
fn shown_error(e: &str) -> String {
    let cut = crate::metrics::registry::cut(e, MAX_ERROR_BYTES);
    crate::redact::scan(&cut).into_owned()
}

/// The details as reports show them: through the detectors like captured
/// content (every string and key scanned, the values of secret-named keys
/// masked), and cut to 16 KiB as valid JSON.
#[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
fn shown_details(d: &serde_json::Value) -> serde_json::Value {
    let json = d.to_string();
    let shown = crate::redact::prepare_content(&json, MAX_DETAILS_BYTES);
    serde_json::from_str(&shown).unwrap_or(serde_json::Value::String(shown))
}

#[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
fn record_metrics(c: &CheckReport) {
    use crate::metrics::{builtin_gauge, names};
    let labels = [("check", c.name.as_str())];
    if let Some(g) = builtin_gauge(&names::HEALTH_STATUS, &labels) {
        g.set(if c.passed { 1.0 } else { 0.0 });
    }
    if let Some(g) = builtin_gauge(&names::HEALTH_DURATION, &labels) {
        g.set(c.duration.as_secs_f64());
    }
}

#[cfg(feature = "prometheus")]
pub use runner::run;

#[cfg(feature = "prometheus")]
mod runner {
    use super::*;
    use std::time::Instant;

    type Pending = tokio::sync::watch::Receiver<Option<Arc<Report>>>;

    #[derive(Default)]
    struct State {
        cached: Option<(Instant, Arc<Report>)>,
        running: Option<Pending>,
    }

    fn state() -> &'static Mutex<State> {
        static S: OnceLock<Mutex<State>> = OnceLock::new();
        S.get_or_init(Mutex::default)
    }

    /// Runs every check (or joins the run under way, or reuses a report
    /// younger than the cache period) and records their metrics. Needs a
    /// Tokio runtime with timers (it is called from `/ready`'s).
    pub async fn run() -> Arc<Report> {
        let mut rx = {
            let mut s = lock(state());
            if let Some((at, r)) = &s.cached {
                if at.elapsed() < cache_ttl() {
                    return r.clone();
                }
            }
            match &s.running {
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = tokio::sync::watch::channel(None);
                    s.running = Some(rx.clone());
                    // A task of its own: the run completes (and is cached)
                    // even if the probe that started it goes away.
                    tokio::spawn(async move {
                        let r = Arc::new(run_all().await);
                        let mut s = lock(state());
                        s.cached = Some((Instant::now(), r.clone()));
                        s.running = None;
                        drop(s);
                        let _ = tx.send(Some(r));
                    });
                    rx
                }
            }
        };
        let shared = rx.wait_for(Option::is_some).await.ok().and_then(|r| r.clone());
        match shared {
            Some(r) => r,
            None => {
                // The run's runtime stopped under it: run here, alone.
                lock(state()).running = None;
                let r = Arc::new(run_all().await);
                lock(state()).cached = Some((Instant::now(), r.clone()));
                r
            }
        }
    }

    /// Clears `busy` when a blocking run ends, however it ends.
    struct Busy(Arc<AtomicBool>);

    impl Drop for Busy {
        fn drop(&mut self) {
            self.0.store(false, Ordering::Release);
        }
    }

    type Timed = (CheckResult, Duration);

    async fn run_all() -> Report {
        let checks = checks();
        // Everything starts first, so the checks run concurrently; each is
        // then awaited until its own deadline.
        let started: Vec<(Check, Instant, Option<tokio::task::JoinHandle<Timed>>)> = checks
            .into_iter()
            .map(|c| {
                let start = Instant::now();
                let handle = match &c.run {
                    Run::Async(f) => {
                        let fut = f();
                        Some(tokio::spawn(async move {
                            let t = Instant::now();
                            let r = fut.await;
                            (r, t.elapsed())
                        }))
                    }
                    Run::Blocking(f) => {
                        if c.busy.swap(true, Ordering::AcqRel) {
                            None
                        } else {
                            let (f, busy) = (f.clone(), Busy(c.busy.clone()));
                            Some(tokio::task::spawn_blocking(move || {
                                let _busy = busy;
                                let t = Instant::now();
                                let r = f();
                                (r, t.elapsed())
                            }))
                        }
                    }
                };
                (c, start, handle)
            })
            .collect();
        let mut reports = Vec::with_capacity(started.len());
        for (c, start, handle) in started {
            let (result, duration) = match handle {
                None => (
                    Err(format!(
                        "still running since an earlier probe, past its timeout of {:?}; not started again until it returns",
                        c.timeout
                    )),
                    Duration::ZERO,
                ),
                Some(mut h) => match tokio::time::timeout_at((start + c.timeout).into(), &mut h).await {
                    Ok(Ok(timed)) => timed,
                    Ok(Err(e)) if e.is_panic() => (Err("the check panicked".into()), start.elapsed()),
                    Ok(Err(_)) => (Err("the check was cancelled".into()), start.elapsed()),
                    Err(_) => {
                        h.abort();
                        (Err(format!("timed out after {:?}", c.timeout)), c.timeout)
                    }
                },
            };
            let report = CheckReport {
                name: c.name.to_string(),
                passed: result.is_ok(),
                critical: c.critical,
                duration,
                error: result.as_ref().err().map(|e| shown_error(e)),
                details: result.ok().flatten().map(|d| shown_details(&d)),
            };
            record_metrics(&report);
            reports.push(report);
        }
        Report::of(reports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_and_zero_timeouts_are_refused_with_the_fix() {
        let e = register(Check::blocking(" ", || true)).unwrap_err();
        assert_eq!(e, HealthError::InvalidName(" ".into()));
        assert!(e.to_string().contains("use a non-empty name without control characters"), "{e}");
        let e = register(Check::new("zero", || async { true }).timeout(Duration::ZERO)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "health check `zero` has a zero timeout: give it the longest a run may take, e.g. 2 s"
        );
        assert!(checks().iter().all(|c| c.name() != "zero"));
    }

    #[test]
    fn the_worst_failure_sets_the_status() {
        let c = |name: &str, passed: bool, critical: bool| CheckReport {
            name: name.into(),
            passed,
            critical,
            duration: Duration::from_millis(5),
            details: None,
            error: (!passed).then(|| "down".to_string()),
        };
        assert_eq!(Report::of(vec![c("a", true, true)]).status, HealthStatus::Healthy);
        assert_eq!(Report::of(vec![c("a", true, true), c("b", false, false)]).status, HealthStatus::Degraded);
        let r = Report::of(vec![c("a", false, true), c("b", false, false)]);
        assert_eq!((r.status, r.status.http_status()), (HealthStatus::Critical, 503));
        assert_eq!(
            r.to_json()["summary"],
            serde_json::json!({"total": 2, "passed": 0, "failed": 2, "critical_failed": 1})
        );
    }
}
