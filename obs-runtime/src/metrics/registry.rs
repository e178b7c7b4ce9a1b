//! The metric registry: families (a name, a type, help text) and their series.
//!
//! Looking a series up takes a family lock and hashes the label values; that
//! is the cold path, taken once per call site (or per call for dynamic label
//! values). The returned [`Series`] points at cells that live for the rest of
//! the process, so the hot path holds plain `&'static` references. Memory is
//! bounded by the per-family cardinality limit: past it, new label sets share
//! one overflow series and `obs_cardinality_overflow_total` counts them.
//!
//! Built-in names are reserved. obs's own families ([`super::names::reserved`])
//! are in the registry from its creation, before any user code can register
//! a name, so they never fail whatever the order of registrations; a user
//! registration under one of their names (of any type, through
//! [`super::counter`] and friends or the `metrics` crate's macros) is a
//! [`FamilyError::Reserved`]. Merging a user's `tool_calls_total` into obs's
//! would mix two label sets in one family, and refusing obs's own would leave
//! the instrumented code unrecorded.

use super::cells::{CounterCells, GaugeCells, HistogramCells, SumMode, UpDownCells};
use super::names;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex, RwLock};

/// The label value that stands for every label set past the cardinality limit.
pub const OVERFLOW_VALUE: &str = "__overflow__";

/// Series per family before new label sets go to the overflow series.
pub const DEFAULT_CARDINALITY_LIMIT: usize = 2000;

static CARDINALITY_LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_CARDINALITY_LIMIT);
/// User families (metric names) before new names are refused; obs's own
/// families do not count against it.
const FAMILY_LIMIT: usize = 1000;

pub(crate) fn set_cardinality_limit(n: usize) {
    CARDINALITY_LIMIT.store(n.clamp(1, MAX_CARDINALITY_LIMIT), Relaxed);
}

/// The highest cardinality limit `init()` accepts: every series is a few
/// hundred bytes that live for the rest of the process.
pub const MAX_CARDINALITY_LIMIT: usize = 100_000;

/// Longest label value kept by default, in bytes; longer values are cut on a
/// character boundary and end in [`CUT_MARKER`].
pub const DEFAULT_LABEL_VALUE_MAX_BYTES: usize = 1024;
/// Bounds of the label value limit `init()` accepts (`OBS_LABEL_VALUE_MAX_BYTES`).
pub const LABEL_VALUE_MAX_BYTES_RANGE: std::ops::RangeInclusive<usize> = 16..=65_536;
/// What ends a label value that was cut.
pub const CUT_MARKER: &str = "…";

static LABEL_VALUE_MAX_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_LABEL_VALUE_MAX_BYTES);

pub(crate) fn set_label_value_max_bytes(n: usize) {
    let r = LABEL_VALUE_MAX_BYTES_RANGE;
    LABEL_VALUE_MAX_BYTES.store(n.clamp(*r.start(), *r.end()), Relaxed);
}

/// `v` as a label value: cut to the label value limit, as series keep it.
pub(crate) fn cut_label_value(v: &str) -> Cow<'_, str> {
    cut(v, LABEL_VALUE_MAX_BYTES.load(Relaxed))
}

/// `v` cut to at most `max` bytes (on a character boundary) plus the marker.
pub(crate) fn cut(v: &str, max: usize) -> Cow<'_, str> {
    if v.len() <= max {
        return Cow::Borrowed(v);
    }
    let mut end = max;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}{CUT_MARKER}", &v[..end]))
}

/// Label values that went to the overflow series keep these labels' values
/// when the value is one of `status`'s four: errors and successes past the
/// limit stay apart. Any other value of them is folded too.
const KEPT_ON_OVERFLOW: &str = "status";

/// Overflow series per family: one per status, and a few label-name sets.
const MAX_OVERFLOW_SERIES: usize = 16;

std::thread_local! {
    /// Set while one call's series are resolved ([`count_overflow_once`]):
    /// an overflow is noted here instead of counted per family.
    static OVERFLOW_BATCH: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Resolves the series of one call with `f`; if any of them went to an
/// overflow series, `obs_cardinality_overflow_total{metric}` counts one, not
/// one per family the call records into.
pub(crate) fn count_overflow_once<R>(metric: &str, f: impl FnOnce() -> R) -> R {
    let outer = OVERFLOW_BATCH.with(|b| b.replace(Some(false)));
    let r = f();
    let overflowed = OVERFLOW_BATCH.with(|b| b.replace(outer)) == Some(true);
    if overflowed {
        if outer.is_some() {
            OVERFLOW_BATCH.with(|b| b.set(Some(true)));
        } else {
            count_overflow(metric);
        }
    }
    r
}

fn count_overflow(metric: &str) {
    let overflow = &names::CARDINALITY_OVERFLOW;
    if metric != overflow.name {
        overflow.family().series(&[("metric", metric)]).counter().add(super::cells::shard(), 1);
    }
}

/// What kind of metric a family holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetricKind {
    /// Monotonic counter (`_total`).
    Counter,
    /// Monotonic counter kept as an exact integer and exported times `scale`
    /// (cost in picodollars exported as USD).
    ScaledCounter {
        /// Exported value = integer * scale.
        scale: f64,
    },
    /// Gauge moved by increments and decrements (for example calls in flight).
    UpDown,
    /// Gauge set to absolute values.
    Gauge,
    /// Histogram with fixed buckets.
    Histogram {
        /// Upper bucket bounds, in the exported unit.
        bounds: &'static [f64],
        /// Exported value = recorded integer * scale.
        scale: f64,
        /// Whether the sum is exact-integer or float.
        float_sum: bool,
    },
}

impl MetricKind {
    pub(crate) fn prometheus_type(&self) -> &'static str {
        match self {
            MetricKind::Counter | MetricKind::ScaledCounter { .. } => "counter",
            MetricKind::UpDown | MetricKind::Gauge => "gauge",
            MetricKind::Histogram { .. } => "histogram",
        }
    }

    fn same_shape(&self, other: &MetricKind) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// One series' cells.
#[derive(Clone, Copy)]
pub enum Series {
    /// A counter.
    Counter(&'static CounterCells),
    /// An up/down gauge.
    UpDown(&'static UpDownCells),
    /// A settable gauge.
    Gauge(&'static GaugeCells),
    /// A histogram.
    Histogram(&'static HistogramCells),
}

impl Series {
    fn new(kind: &MetricKind) -> Series {
        // Leaked on purpose: series are never removed, and their number is capped.
        match *kind {
            MetricKind::Counter | MetricKind::ScaledCounter { .. } => {
                Series::Counter(Box::leak(Box::new(CounterCells::new())))
            }
            MetricKind::UpDown => Series::UpDown(Box::leak(Box::new(UpDownCells::new()))),
            MetricKind::Gauge => Series::Gauge(Box::leak(Box::new(GaugeCells::new()))),
            MetricKind::Histogram { bounds, scale, float_sum } => {
                let mode = if float_sum { SumMode::Float } else { SumMode::Integer };
                Series::Histogram(Box::leak(Box::new(HistogramCells::new(bounds, scale, mode))))
            }
        }
    }

    pub(crate) fn counter(self) -> &'static CounterCells {
        match self {
            Series::Counter(c) => c,
            _ => unreachable_series(),
        }
    }
    pub(crate) fn updown(self) -> &'static UpDownCells {
        match self {
            Series::UpDown(c) => c,
            _ => unreachable_series(),
        }
    }
    pub(crate) fn histogram(self) -> &'static HistogramCells {
        match self {
            Series::Histogram(c) => c,
            _ => unreachable_series(),
        }
    }
}

#[cold]
fn unreachable_series() -> ! {
    // Families are typed at creation and looked up by the same kind; reaching
    // this is a bug in obs itself, never the user's input.
    unreachable!("obs: series kind mismatch (bug in obs-runtime)")
}

/// A label name and value as stored in a series.
pub type Label = (Cow<'static, str>, Box<str>);

struct Entry {
    labels: Box<[Label]>,
    series: Series,
}

#[derive(Default)]
struct SeriesMap {
    by_hash: HashMap<u64, Vec<Entry>>,
    len: usize,
    overflow: Vec<Entry>,
}

/// A metric family: one name, one type, many label sets.
pub struct Family {
    name: Cow<'static, str>,
    help: RwLock<Cow<'static, str>>,
    kind: MetricKind,
    series: Mutex<SeriesMap>,
}

fn hash_labels(labels: &[(&str, &str)]) -> u64 {
    static STATE: LazyLock<std::collections::hash_map::RandomState> = LazyLock::new(Default::default);
    let mut h = STATE.build_hasher();
    for (k, v) in labels {
        k.hash(&mut h);
        v.hash(&mut h);
    }
    h.finish()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding a registry lock cannot leave the maps inconsistent
    // (every insert is a single push), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Family {
    pub(crate) fn new(name: Cow<'static, str>, help: Cow<'static, str>, kind: MetricKind) -> Self {
        Family { name, help: RwLock::new(help), kind, series: Mutex::new(SeriesMap::default()) }
    }

    /// The metric name, without namespace.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The help text.
    pub fn help(&self) -> String {
        self.help.read().unwrap_or_else(|e| e.into_inner()).to_string()
    }

    /// Replaces the help text (`metrics::describe_*!` may come after the first use).
    pub fn set_help(&self, help: &str) {
        if !help.is_empty() {
            *self.help.write().unwrap_or_else(|e| e.into_inner()) = Cow::Owned(help.into());
        }
    }
    /// The metric kind.
    pub fn kind(&self) -> MetricKind {
        self.kind
    }

    /// The series for these labels, created at zero on first use. Values
    /// longer than the label value limit (`OBS_LABEL_VALUE_MAX_BYTES`) are
    /// cut. Past the cardinality limit, the overflow series (one per
    /// `status`), counted in `obs_cardinality_overflow_total`.
    pub fn series(&self, labels: &[(&str, &str)]) -> Series {
        let max = LABEL_VALUE_MAX_BYTES.load(Relaxed);
        if labels.iter().any(|(_, v)| v.len() > max) {
            // Cold: only a value past the limit pays for the copy.
            let cut: Vec<(&str, Cow<'_, str>)> = labels.iter().map(|(k, v)| (*k, cut(v, max))).collect();
            let cut: Vec<(&str, &str)> = cut.iter().map(|(k, v)| (*k, &**v)).collect();
            return self.series_cut(&cut);
        }
        self.series_cut(labels)
    }

    fn series_cut(&self, labels: &[(&str, &str)]) -> Series {
        let h = hash_labels(labels);
        let mut map = lock(&self.series);
        if let Some(e) = map.by_hash.get(&h).and_then(|v| v.iter().find(|e| same_labels(&e.labels, labels))) {
            return e.series;
        }
        if map.len >= CARDINALITY_LIMIT.load(Relaxed) {
            let series = overflow_series(&mut map, &self.kind, labels);
            drop(map);
            match OVERFLOW_BATCH.with(|b| b.get()) {
                Some(_) => OVERFLOW_BATCH.with(|b| b.set(Some(true))),
                None => count_overflow(&self.name),
            }
            return series;
        }
        let series = Series::new(&self.kind);
        let owned = labels.iter().map(|(k, v)| (Cow::Owned(k.to_string()), Box::<str>::from(*v))).collect();
        map.by_hash.entry(h).or_default().push(Entry { labels: owned, series });
        map.len += 1;
        series
    }

    /// Calls `f` with every series, in a stable order (sorted by labels).
    pub fn for_each_series(&self, mut f: impl FnMut(&[Label], Series)) {
        let map = lock(&self.series);
        let mut all: Vec<&Entry> = map.by_hash.values().flatten().chain(&map.overflow).collect();
        all.sort_by(|a, b| a.labels.cmp(&b.labels));
        for e in all {
            f(&e.labels, e.series);
        }
    }
}

/// The overflow series for `labels`: every value folded to
/// [`OVERFLOW_VALUE`] except a `status` of the four statuses.
fn overflow_series(map: &mut SeriesMap, kind: &MetricKind, labels: &[(&str, &str)]) -> Series {
    let folded = |(k, v): &(&str, &str)| -> &'static str {
        if *k == KEPT_ON_OVERFLOW {
            if let Some(s) = crate::status::Status::ALL.iter().find(|s| s.as_str() == *v) {
                return s.as_str();
            }
        }
        OVERFLOW_VALUE
    };
    let found = map.overflow.iter().find(|e| {
        e.labels.len() == labels.len() && e.labels.iter().zip(labels).all(|((k, v), l)| k == l.0 && &**v == folded(l))
    });
    if let Some(e) = found {
        return e.series;
    }
    if map.overflow.len() >= MAX_OVERFLOW_SERIES {
        // Bounded: an unusual label-name set shares the first overflow series.
        return map.overflow[0].series;
    }
    let labels: Box<[Label]> = labels.iter().map(|l| (Cow::Owned(l.0.to_string()), folded(l).into())).collect();
    let series = Series::new(kind);
    map.overflow.push(Entry { labels, series });
    series
}

fn same_labels(stored: &[Label], labels: &[(&str, &str)]) -> bool {
    stored.len() == labels.len() && stored.iter().zip(labels).all(|((k, v), (k2, v2))| k == k2 && &**v == *v2)
}

/// Why a family could not be registered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FamilyError {
    /// The name is one of obs's built-in metrics ([`super::names::reserved`]),
    /// which user code cannot register, with any type.
    Reserved(String),
    /// The name is already registered with another metric kind.
    KindConflict {
        /// The metric name.
        name: String,
        /// The existing kind.
        existing: MetricKind,
    },
    /// The name is not a valid Prometheus metric name.
    InvalidName(String),
    /// A label name is not valid (or starts with the reserved `__`).
    InvalidLabel(String),
    /// Histogram buckets are empty, unsorted or not finite.
    InvalidBuckets(String),
    /// Too many distinct metric names.
    TooManyFamilies,
}

impl std::fmt::Display for FamilyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names come from the caller: shown cut, so an error stays short.
        let cut = |s: &str| cut(s, 100).into_owned();
        match self {
            FamilyError::Reserved(name) => {
                let name = cut(name);
                write!(f, "`{name}` is reserved for obs's built-in metric of that name; name yours e.g. `myapp_{name}`")
            }
            FamilyError::KindConflict { name, existing } => write!(
                f,
                "metric `{}` is already registered as a {}; use another name for a metric of another type",
                cut(name),
                existing.prometheus_type()
            ),
            FamilyError::InvalidName(n) => {
                let n = cut(n);
                write!(f, "`{n}` is not a valid metric name: use [a-zA-Z_:][a-zA-Z0-9_:]*")
            }
            FamilyError::InvalidLabel(n) => {
                let n = cut(n);
                write!(f, "`{n}` is not a valid label name: use [a-zA-Z_][a-zA-Z0-9_]* not starting with `__`, once per series, and not `le` on a histogram")
            }
            FamilyError::InvalidBuckets(m) => write!(f, "{m}"),
            FamilyError::TooManyFamilies => {
                write!(f, "more than {FAMILY_LIMIT} metric names registered: metric names must not be built from runtime data")
            }
        }
    }
}

impl std::error::Error for FamilyError {}

/// Whether `name` is a valid Prometheus metric name.
pub fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Whether `name` is a valid Prometheus label name (and not reserved).
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// All metric families of the process.
pub struct Registry {
    families: RwLock<Vec<&'static Family>>,
}

/// The process-wide registry.
pub fn registry() -> &'static Registry {
    static R: LazyLock<Registry> = LazyLock::new(|| {
        // obs's own families first, so that no user registration, made in any
        // order, can take their names or exhaust the family limit before them.
        let builtins = names::reserved().map(|b| b.family()).collect();
        Registry { families: RwLock::new(builtins) }
    });
    &R
}

impl Registry {
    /// The family named `name`, registered on first use. Names are matched
    /// exactly; a second registration with another kind is an error, and so
    /// is a built-in name ([`FamilyError::Reserved`]).
    pub fn family(&self, name: &str, help: &str, kind: MetricKind) -> Result<&'static Family, FamilyError> {
        if names::is_reserved(name) {
            return Err(FamilyError::Reserved(name.into()));
        }
        if let Some(f) = self.find(name) {
            return if f.kind.same_shape(&kind) {
                Ok(f)
            } else {
                Err(FamilyError::KindConflict { name: name.into(), existing: f.kind })
            };
        }
        if !valid_metric_name(name) {
            return Err(FamilyError::InvalidName(name.into()));
        }
        let mut fams = self.families.write().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = fams.iter().find(|f| f.name == name) {
            return if f.kind.same_shape(&kind) {
                Ok(f)
            } else {
                Err(FamilyError::KindConflict { name: name.into(), existing: f.kind })
            };
        }
        if fams.len() >= FAMILY_LIMIT + names::ALL.len() + names::SELF_METRICS.len() {
            return Err(FamilyError::TooManyFamilies);
        }
        let f: &'static Family =
            Box::leak(Box::new(Family::new(Cow::Owned(name.into()), Cow::Owned(help.into()), kind)));
        fams.push(f);
        Ok(f)
    }

    /// The family named `name`, if registered.
    pub fn find(&self, name: &str) -> Option<&'static Family> {
        self.families.read().unwrap_or_else(|e| e.into_inner()).iter().copied().find(|f| f.name == name)
    }

    /// Every family, sorted by name.
    pub fn families(&self) -> Vec<&'static Family> {
        let mut v = self.families.read().unwrap_or_else(|e| e.into_inner()).clone();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_labels_same_series_and_kind_conflicts_are_errors() {
        let f = registry().family("test_reg_total", "h", MetricKind::Counter).unwrap();
        let a = f.series(&[("a", "1")]).counter();
        let b = f.series(&[("a", "1")]).counter();
        assert!(std::ptr::eq(a, b));
        let c = f.series(&[("a", "2")]).counter();
        assert!(!std::ptr::eq(a, c));
        let err = registry().family("test_reg_total", "h", MetricKind::Gauge).err().unwrap();
        assert!(err.to_string().contains("already registered as a counter"), "{err}");
        assert!(registry().family("bad-name", "h", MetricKind::Gauge).is_err());
    }

    #[test]
    fn built_in_names_are_reserved_and_registered_from_the_start() {
        for b in names::reserved() {
            assert!(registry().find(b.name).is_some_and(|f| std::ptr::eq(f, b.family())), "{}", b.name);
            for kind in [MetricKind::Counter, MetricKind::Gauge, MetricKind::UpDown, b.kind] {
                assert_eq!(registry().family(b.name, "mine", kind).err(), Some(FamilyError::Reserved(b.name.into())));
            }
        }
        assert_eq!(
            FamilyError::Reserved("tool_calls_total".into()).to_string(),
            "`tool_calls_total` is reserved for obs's built-in metric of that name; name yours e.g. `myapp_tool_calls_total`"
        );
    }

    #[test]
    fn names_are_validated() {
        assert!(valid_label_name("team"));
        assert!(!valid_label_name("__x"));
        assert!(!valid_label_name("1x"));
        assert!(valid_metric_name("a:b_c"));
        assert!(!valid_metric_name("a-b"));
    }
}
