//! Metrics: the registry the macros record into, and the API for your own
//! counters, gauges, histograms and timers, in the same registry and on the
//! same `/metrics` page.
//!
//! ```
//! use obs_runtime::metrics;
//! let jobs = metrics::counter("jobs_total", "Jobs processed.", &[("queue", "default")]).unwrap();
//! jobs.increment(1);
//! let latency = metrics::histogram("job_duration_seconds", "Job duration.", &[]).unwrap();
//! {
//!     let _timer = latency.start_timer(); // records the elapsed seconds when dropped
//! }
//! ```
//!
//! Code that already uses the `metrics` crate's macros (`metrics::counter!`)
//! lands in this registry too once `init()` has installed obs as the global
//! `metrics` recorder.

pub(crate) mod cells;
#[cfg(feature = "metrics-facade")]
pub(crate) mod facade;
#[doc(hidden)]
pub mod names;
// The storage behind the public handles; hidden, not private, so tests can
// check that the built-in families exist before any call.
#[doc(hidden)]
pub mod registry;

pub use cells::HistogramSnapshot;
pub use names::{
    AGENT_DURATION_BUCKETS, DEFAULT_BUCKETS, FUNCTION_DURATION_BUCKETS, LLM_DURATION_BUCKETS, TOKEN_BUCKETS,
};
#[doc(hidden)]
pub use registry::registry;
pub use registry::{FamilyError, MetricKind, Series, DEFAULT_CARDINALITY_LIMIT, OVERFLOW_VALUE};

use cells::{shard, CounterCells, GaugeCells, HistogramCells};
use std::collections::BTreeMap;

/// A handle to one counter series.
#[derive(Clone, Copy)]
pub struct Counter(&'static CounterCells);

impl Counter {
    /// Adds `n`.
    #[inline]
    pub fn increment(&self, n: u64) {
        self.0.add(shard(), n);
    }
    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// A handle to one gauge series.
#[derive(Clone, Copy)]
pub struct Gauge(&'static GaugeCells);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.0.set(v);
    }
    /// Adds `d` (negative to decrease).
    pub fn add(&self, d: f64) {
        self.0.add(d);
    }
    /// The current value.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

/// A handle to one histogram series.
#[derive(Clone, Copy)]
pub struct Histogram(&'static HistogramCells);

impl Histogram {
    /// Records one observation.
    #[inline]
    pub fn record(&self, v: f64) {
        self.0.record_f64(shard(), v);
    }
    /// Starts a timer that records the elapsed seconds when dropped.
    pub fn start_timer(&self) -> MetricsTimer {
        MetricsTimer { histogram: *self, start: quanta::Instant::now(), armed: true }
    }
    /// The current buckets, count and sum.
    pub fn snapshot(&self) -> HistogramSnapshot {
        self.0.snapshot()
    }
}

/// Records the time from its creation to its drop (or [`MetricsTimer::stop`])
/// into a histogram, in seconds.
#[must_use = "the timer records when it is dropped; bind it to a variable"]
pub struct MetricsTimer {
    histogram: Histogram,
    start: quanta::Instant,
    armed: bool,
}

impl MetricsTimer {
    /// Stops the timer now, records, and returns the elapsed time.
    pub fn stop(mut self) -> std::time::Duration {
        self.armed = false;
        let d = self.start.elapsed();
        self.histogram.record(d.as_secs_f64());
        d
    }
    /// Drops the timer without recording.
    pub fn discard(mut self) {
        self.armed = false;
    }
}

impl Drop for MetricsTimer {
    fn drop(&mut self) {
        if self.armed {
            self.histogram.record(self.start.elapsed().as_secs_f64());
        }
    }
}

fn check_labels(labels: &[(&str, &str)]) -> Result<(), FamilyError> {
    match labels
        .iter()
        .enumerate()
        .find(|(i, (k, _))| !registry::valid_label_name(k) || labels[..*i].iter().any(|(k2, _)| k2 == k))
    {
        Some((_, (k, _))) => Err(FamilyError::InvalidLabel(k.to_string())),
        None => Ok(()),
    }
}

/// The names obs's built-in metrics own. A user metric under one of them is
/// refused ([`FamilyError::Reserved`]); name yours with your own prefix.
pub fn reserved_names() -> impl Iterator<Item = &'static str> {
    names::reserved().map(|b| b.name)
}

/// A series of one of obs's own self-metrics, as a public handle. Built-in
/// families cannot fail (their names are reserved), so neither can this.
pub(crate) fn builtin_counter(b: &'static names::Builtin, labels: &[(&str, &str)]) -> Counter {
    Counter(b.family().series(labels).counter())
}

/// As [`builtin_counter`], for a gauge; `None` only if `b` is not a gauge.
pub(crate) fn builtin_gauge(b: &'static names::Builtin, labels: &[(&str, &str)]) -> Option<Gauge> {
    match b.family().series(labels) {
        Series::Gauge(g) => Some(Gauge(g)),
        _ => None,
    }
}

/// As [`builtin_counter`], for a histogram.
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
pub(crate) fn builtin_histogram(b: &'static names::Builtin, labels: &[(&str, &str)]) -> Histogram {
    Histogram(b.family().series(labels).histogram())
}

/// The counter `name{labels}`; the family is created on first use.
pub fn counter(name: &str, help: &str, labels: &[(&str, &str)]) -> Result<Counter, FamilyError> {
    check_labels(labels)?;
    Ok(Counter(registry().family(name, help, MetricKind::Counter)?.series(labels).counter()))
}

/// The gauge `name{labels}`.
pub fn gauge(name: &str, help: &str, labels: &[(&str, &str)]) -> Result<Gauge, FamilyError> {
    check_labels(labels)?;
    match registry().family(name, help, MetricKind::Gauge)?.series(labels) {
        Series::Gauge(g) => Ok(Gauge(g)),
        _ => Err(FamilyError::KindConflict { name: name.into(), existing: MetricKind::UpDown }),
    }
}

/// The histogram `name{labels}` with [`names::DEFAULT_BUCKETS`].
pub fn histogram(name: &str, help: &str, labels: &[(&str, &str)]) -> Result<Histogram, FamilyError> {
    histogram_with_buckets(name, help, names::DEFAULT_BUCKETS, labels)
}

/// The histogram `name{labels}` with the given bucket upper bounds (sorted,
/// finite). The buckets are fixed by the first registration of `name`.
pub fn histogram_with_buckets(
    name: &str,
    help: &str,
    buckets: &'static [f64],
    labels: &[(&str, &str)],
) -> Result<Histogram, FamilyError> {
    check_labels(labels)?;
    if let Some(problem) = bucket_problem(buckets) {
        // The name is the caller's and the list can be long: both shown cut.
        return Err(FamilyError::InvalidBuckets(format!(
            "histogram `{}`: {problem}; give its bucket upper bounds finite and strictly increasing, e.g. [0.1, 0.5, 1.0]",
            registry::cut(name, 100)
        )));
    }
    // `le` is the bucket bound's label: a second one makes the page invalid.
    if let Some((k, _)) = labels.iter().find(|(k, _)| *k == "le") {
        return Err(FamilyError::InvalidLabel(k.to_string()));
    }
    let kind = MetricKind::Histogram { bounds: buckets, scale: 1.0, float_sum: true };
    Ok(Histogram(registry().family(name, help, kind)?.series(labels).histogram()))
}

/// What is wrong with histogram bucket bounds, naming the first bad one.
fn bucket_problem(buckets: &[f64]) -> Option<String> {
    if buckets.is_empty() {
        return Some("no buckets".into());
    }
    if let Some(i) = buckets.iter().position(|b| !b.is_finite()) {
        return Some(format!("bucket {i} of {} is {}", buckets.len(), buckets[i]));
    }
    let i = buckets.windows(2).position(|w| w[0] >= w[1])?;
    Some(format!(
        "bucket {} of {} ({}) is not above the one before it ({})",
        i + 1,
        buckets.len(),
        buckets[i + 1],
        buckets[i]
    ))
}

/// One series' value in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A counter.
    Counter(u64),
    /// A counter kept as an exact integer, exported as `raw * scale`
    /// (`llm_cost_usd_total` is kept in picodollars: scale 1e-12).
    Scaled {
        /// The exact integer.
        raw: u64,
        /// Exported value = raw * scale.
        scale: f64,
    },
    /// A gauge.
    Gauge(f64),
    /// A histogram.
    Histogram(HistogramSnapshot),
}

/// Label names and values of one series, in export order.
pub type LabelPairs = Vec<(String, String)>;

/// A copy of every series in the registry.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    series: BTreeMap<String, Vec<(LabelPairs, Value)>>,
}

/// Reads every series of the registry now (for summaries, tests, reports).
pub fn snapshot() -> Snapshot {
    let mut s = Snapshot::default();
    for fam in registry().families() {
        let mut v = Vec::new();
        fam.for_each_series(|ls, series| {
            let labels = ls.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let value = match series {
                Series::Counter(c) => match fam.kind() {
                    MetricKind::ScaledCounter { scale } => Value::Scaled { raw: c.get(), scale },
                    _ => Value::Counter(c.get()),
                },
                Series::UpDown(g) => Value::Gauge(g.get() as f64),
                Series::Gauge(g) => Value::Gauge(g.get()),
                Series::Histogram(h) => Value::Histogram(h.snapshot()),
            };
            v.push((labels, value));
        });
        s.series.insert(fam.name().to_string(), v);
    }
    s
}

fn same(stored: &[(String, String)], want: &[(&str, &str)]) -> bool {
    stored.len() == want.len() && want.iter().all(|(k, v)| stored.iter().any(|(k2, v2)| k2 == k && v2 == v))
}

impl Snapshot {
    /// The value of the series `name` whose label set is exactly `labels`
    /// (in any order).
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Value> {
        self.series.get(name)?.iter().find(|(ls, _)| same(ls, labels)).map(|(_, v)| v)
    }

    /// A counter's value.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        match self.get(name, labels)? {
            Value::Counter(n) => Some(*n),
            _ => None,
        }
    }

    /// The exact integer of a counter; for a scaled counter (cost), the raw
    /// integer (picodollars for `llm_cost_usd_total`).
    pub fn raw(&self, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        match self.get(name, labels)? {
            Value::Counter(n) | Value::Scaled { raw: n, .. } => Some(*n),
            _ => None,
        }
    }

    /// The exported value of a counter or gauge (a scaled counter in its unit).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.get(name, labels)? {
            Value::Counter(n) => Some(*n as f64),
            Value::Scaled { raw, scale } => Some(*raw as f64 * scale),
            Value::Gauge(g) => Some(*g),
            Value::Histogram(_) => None,
        }
    }

    /// A gauge's value.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.get(name, labels)? {
            Value::Gauge(n) => Some(*n),
            _ => None,
        }
    }

    /// A histogram's buckets, count and sum.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Option<&HistogramSnapshot> {
        match self.get(name, labels)? {
            Value::Histogram(h) => Some(h),
            _ => None,
        }
    }

    /// Every series of `name` whose labels include all of `filter`.
    pub fn series(&self, name: &str, filter: &[(&str, &str)]) -> Vec<(&[(String, String)], &Value)> {
        self.series
            .get(name)
            .map(|v| {
                v.iter()
                    .filter(|(ls, _)| filter.iter().all(|(k, val)| ls.iter().any(|(k2, v2)| k2 == k && v2 == val)))
                    .map(|(ls, v)| (ls.as_slice(), v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Names of every metric family.
    pub fn names(&self) -> Vec<&str> {
        self.series.keys().map(String::as_str).collect()
    }
}
