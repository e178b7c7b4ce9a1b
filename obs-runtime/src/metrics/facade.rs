//! obs as the `metrics` crate's global recorder: `metrics::counter!` and
//! friends land in the obs registry, next to the generated metrics.
//!
//! Names and label names that Prometheus would reject (`http.method`) are
//! sanitised (`http_method`), as `metrics-exporter-prometheus` does. A name
//! already used with another type, or reserved for one of obs's built-in
//! metrics (`tool_calls_total`, see [`super::names::reserved`]), records
//! nowhere and is reported once: the `metrics` API has no error to return,
//! and a panic in the application's metric call is not an option.

use super::cells::{shard, CounterCells, GaugeCells, HistogramCells};
use super::names::DEFAULT_BUCKETS;
use super::registry::{registry, MetricKind, Series};
use metrics::{Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, SharedString, Unit};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The recorder `init()` installs.
pub(crate) struct ObsRecorder;

struct C(&'static CounterCells);
struct G(&'static GaugeCells);
struct H(&'static HistogramCells);

impl CounterFn for C {
    fn increment(&self, n: u64) {
        self.0.add(shard(), n);
    }
    fn absolute(&self, v: u64) {
        // Counters never go down: add the difference when it is positive.
        let cur = self.0.get();
        if v > cur {
            self.0.add(shard(), v - cur);
        }
    }
}

impl GaugeFn for G {
    fn increment(&self, d: f64) {
        self.0.add(d);
    }
    fn decrement(&self, d: f64) {
        self.0.add(-d);
    }
    fn set(&self, v: f64) {
        self.0.set(v);
    }
}

impl HistogramFn for H {
    fn record(&self, v: f64) {
        self.0.record_f64(shard(), v);
    }
}

/// Replaces characters Prometheus does not allow with `_`.
pub(crate) fn sanitize(name: &str, allow_colon: bool) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || (allow_colon && c == ':') { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn warn_once(name: &str, why: &dyn std::fmt::Display) {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    // Bounded: names past the first 1000 refused ones are not warned about
    // (a loop registering a new name each time must not grow this set).
    const MAX_WARNED: usize = 1000;
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let seen = seen.get_or_insert_with(HashSet::new);
    if seen.len() < MAX_WARNED && seen.insert(name.to_string()) {
        tracing::warn!(target: "obs_runtime::metrics", metric = name, "metric not recorded: {why}");
    }
}

/// Prometheus label names from the facade's: sanitised; a reserved name
/// (`__name__`, anything starting with `__`, the bucket and quantile labels
/// `le` and `quantile`) renamed
/// `exported_{name}` as Prometheus does for clashing target labels; a name
/// that two keys sanitise to (`a.b` and `a_b`) made unique with `_2`, `_3`.
/// So no label set can make the page invalid.
pub(crate) fn label_names<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        let mut name = sanitize(k, false);
        if name.starts_with("__") || name == "le" || name == "quantile" {
            name = format!("exported_{name}");
        }
        if out.contains(&name) {
            let base = name;
            name = (2..).map(|i| format!("{base}_{i}")).find(|n| !out.contains(n)).unwrap_or(base);
        }
        out.push(name);
    }
    out
}

fn lookup(key: &Key, kind: MetricKind) -> Option<Series> {
    let name = sanitize(key.name(), true);
    let names = label_names(key.labels().map(|l| l.key()));
    let labels: Vec<(String, String)> = names.into_iter().zip(key.labels().map(|l| l.value().to_string())).collect();
    let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    match registry().family(&name, "", kind) {
        Ok(f) => Some(f.series(&labels)),
        Err(e) => {
            warn_once(&name, &e);
            None
        }
    }
}

fn describe(key: KeyName, description: SharedString, kind: MetricKind) {
    let name = sanitize(key.as_str(), true);
    match registry().family(&name, &description, kind) {
        Ok(f) => f.set_help(&description),
        Err(e) => warn_once(&name, &e),
    }
}

const FACADE_HISTOGRAM: MetricKind = MetricKind::Histogram { bounds: DEFAULT_BUCKETS, scale: 1.0, float_sum: true };

impl metrics::Recorder for ObsRecorder {
    fn describe_counter(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        describe(key, description, MetricKind::Counter);
    }
    fn describe_gauge(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        describe(key, description, MetricKind::Gauge);
    }
    fn describe_histogram(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        describe(key, description, FACADE_HISTOGRAM);
    }
    fn register_counter(&self, key: &Key, _m: &Metadata<'_>) -> Counter {
        match lookup(key, MetricKind::Counter) {
            Some(Series::Counter(c)) => Counter::from_arc(Arc::new(C(c))),
            _ => Counter::noop(),
        }
    }
    fn register_gauge(&self, key: &Key, _m: &Metadata<'_>) -> Gauge {
        match lookup(key, MetricKind::Gauge) {
            Some(Series::Gauge(g)) => Gauge::from_arc(Arc::new(G(g))),
            _ => Gauge::noop(),
        }
    }
    fn register_histogram(&self, key: &Key, _m: &Metadata<'_>) -> Histogram {
        match lookup(key, FACADE_HISTOGRAM) {
            Some(Series::Histogram(h)) => Histogram::from_arc(Arc::new(H(h))),
            _ => Histogram::noop(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitize("http.server.duration", true), "http_server_duration");
        assert_eq!(sanitize("a:b", true), "a:b");
        assert_eq!(sanitize("a:b", false), "a_b");
        assert_eq!(sanitize("9x", false), "_9x");
    }

    #[test]
    fn label_names_never_collide_or_use_reserved_names() {
        let names = super::label_names(["a.b", "a_b", "__name__", "le", "a-b", "quantile"].into_iter());
        assert_eq!(names, ["a_b", "a_b_2", "exported___name__", "exported_le", "a_b_3", "exported_quantile"]);
    }
}
