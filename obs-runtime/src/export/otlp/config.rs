//! The OTLP exporter's settings, read from the standard `OTEL_*` variables
//! as the OpenTelemetry specification defines them, then overridden by the
//! builder (`Builder::otlp_endpoint`, `otlp_protocol`, `otlp_headers`).
//!
//! Per signal (traces, metrics, logs): a signal variable
//! (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) wins over the general one
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`). A signal endpoint is used as given; the
//! general one gets `/v1/traces`, `/v1/metrics` or `/v1/logs` appended over
//! HTTP, as the specification says. Header values may be secrets (an API
//! key), so an error about them never shows them, not even cut.

use std::time::Duration;

/// A variable whose value cannot be used; `init()` reports it as a
/// `ConfigError` with the others, showing the value the way it shows every
/// value (cut, and through the secret detectors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) var: &'static str,
    pub(crate) value: String,
    pub(crate) expected: &'static str,
}

/// The wire protocol (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// `http/protobuf` (the default; port 4318).
    HttpProtobuf,
    /// `grpc` (port 4317).
    Grpc,
}

impl OtlpProtocol {
    /// Parses the specification's names; `http/json` is not supported.
    pub fn parse(s: &str) -> Option<OtlpProtocol> {
        match s.trim() {
            "http/protobuf" => Some(OtlpProtocol::HttpProtobuf),
            "grpc" => Some(OtlpProtocol::Grpc),
            _ => None,
        }
    }

    /// The specification's name.
    pub fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::Grpc => "grpc",
        }
    }

    fn default_endpoint(self) -> &'static str {
        match self {
            OtlpProtocol::HttpProtobuf => "http://localhost:4318",
            OtlpProtocol::Grpc => "http://localhost:4317",
        }
    }
}

const EXPECT_PROTOCOL: &str = "grpc or http/protobuf (http/json is not supported)";
const EXPECT_ENDPOINT: &str =
    "an http:// URL such as http://127.0.0.1:4318 (https:// needs a TLS build, not in this one)";
const EXPECT_HEADERS: &str = "comma-separated key=value pairs, values percent-encoded (key1=value1,key2=value2)";
const EXPECT_MS: &str = "a whole number of milliseconds";
const EXPECT_EXPORTER: &str = "otlp or none";
const EXPECT_TEMPORALITY: &str = "cumulative, delta or lowmemory";
const EXPECT_COUNT: &str = "a positive whole number";
const EXPECT_SAMPLER: &str = "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or \
                              parentbased_traceidratio (the samplers this build has)";
const EXPECT_RATIO: &str = "a sampling ratio from 0 to 1, e.g. 0.25";
const EXPECT_RESOURCE: &str = "comma-separated key=value pairs, e.g. deployment.environment=prod,team=agents";

/// Which signals a variable names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    pub(crate) const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }
}

/// How counters and histograms are reported
/// (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub(crate) enum Temporality {
    /// Totals since the start (the default; what Prometheus does).
    #[default]
    Cumulative,
    /// Changes since the last export, for counters and histograms.
    Delta,
    /// Delta for counters and histograms, cumulative for up-down counters:
    /// the specification's `lowmemory` (the same here, as obs keeps totals
    /// anyway).
    LowMemory,
}

/// One signal's destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) protocol: OtlpProtocol,
    /// The full URL: with `/v1/{signal}` over HTTP.
    pub(crate) endpoint: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
}

/// Queue and batch sizes of one signal (`OTEL_BSP_*` for spans,
/// `OTEL_BLRP_*` for logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Batching {
    pub(crate) max_queue: usize,
    pub(crate) max_batch: usize,
    pub(crate) delay: Duration,
}

/// Everything the OTLP exporter reads; `Default` is "not asked for".
#[derive(Clone, Debug, Default)]
pub struct OtlpConfig {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or a signal endpoint is set, or the builder set one.
    pub(crate) requested: bool,
    endpoint: Option<String>,
    signal_endpoint: [Option<String>; 3],
    protocol: Option<OtlpProtocol>,
    signal_protocol: [Option<OtlpProtocol>; 3],
    headers: Vec<(String, String)>,
    signal_headers: [Vec<(String, String)>; 3],
    timeout: Option<Duration>,
    signal_timeout: [Option<Duration>; 3],
    disabled: [bool; 3],
    pub(crate) metric_interval: Option<Duration>,
    pub(crate) temporality: Temporality,
    bsp: [Option<usize>; 3],
    blrp: [Option<usize>; 3],
}

fn idx(s: Signal) -> usize {
    s as usize
}

/// Reads and checks a variable; a bad value becomes a [`Problem`].
struct Env<'a> {
    errors: &'a mut Vec<Problem>,
}

impl Env<'_> {
    fn get(&mut self, var: &'static str) -> Option<String> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Some(v),
            Ok(_) | Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                self.bad(var, "<not UTF-8>".into(), "valid UTF-8 text");
                None
            }
        }
    }

    fn bad(&mut self, var: &'static str, value: String, expected: &'static str) {
        self.errors.push(Problem { var, value, expected });
    }

    fn parsed<T>(&mut self, var: &'static str, parse: impl Fn(&str) -> Option<T>, expected: &'static str) -> Option<T> {
        let v = self.get(var)?;
        let parsed = parse(&v);
        if parsed.is_none() {
            self.bad(var, v, expected);
        }
        parsed
    }

    fn headers(&mut self, var: &'static str) -> Vec<(String, String)> {
        let Some(v) = self.get(var) else { return Vec::new() };
        match parse_headers(&v) {
            Some(h) => h,
            None => {
                // Header values are credentials more often than not.
                self.bad(var, format!("<{} bytes, not shown>", v.len()), EXPECT_HEADERS);
                Vec::new()
            }
        }
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS`: `k=v,k2=v2`, values percent-decoded.
pub(crate) fn parse_headers(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for pair in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair.split_once('=')?;
        let k = percent_decode(k.trim())?;
        let v = percent_decode(v.trim())?;
        let valid_name = !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        let valid_value = v.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
        if !valid_name || !valid_value {
            return None;
        }
        out.push((k.to_ascii_lowercase(), v));
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn millis(s: &str) -> Option<Duration> {
    s.trim().parse::<u64>().ok().map(Duration::from_millis)
}

fn count(s: &str) -> Option<usize> {
    s.trim().parse::<usize>().ok().filter(|n| (1..=1_000_000).contains(n))
}

/// Only plain `http://` URLs with a host: this build has no TLS.
pub(crate) fn valid_endpoint(s: &str) -> bool {
    let Some(rest) = s.trim().strip_prefix("http://") else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && s.parse::<http::Uri>().is_ok()
}

fn endpoint(s: &str) -> Option<String> {
    valid_endpoint(s).then(|| s.trim().to_string())
}

impl OtlpConfig {
    /// The configuration the environment gives; bad values go to `errors`.
    pub(crate) fn from_env(errors: &mut Vec<Problem>) -> OtlpConfig {
        let mut env = Env { errors };
        let mut c = OtlpConfig {
            endpoint: env.parsed("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, EXPECT_ENDPOINT),
            ..Default::default()
        };
        c.protocol = env.parsed("OTEL_EXPORTER_OTLP_PROTOCOL", OtlpProtocol::parse, EXPECT_PROTOCOL);
        c.headers = env.headers("OTEL_EXPORTER_OTLP_HEADERS");
        c.timeout = env.parsed("OTEL_EXPORTER_OTLP_TIMEOUT", millis, EXPECT_MS);
        for s in Signal::ALL {
            let i = idx(s);
            let (ep, proto, headers, timeout, exporter) = signal_vars(s);
            c.signal_endpoint[i] = env.parsed(ep, endpoint, EXPECT_ENDPOINT);
            c.signal_protocol[i] = env.parsed(proto, OtlpProtocol::parse, EXPECT_PROTOCOL);
            c.signal_headers[i] = env.headers(headers);
            c.signal_timeout[i] = env.parsed(timeout, millis, EXPECT_MS);
            let which = |v: &str| match v.trim() {
                "otlp" => Some(false),
                "none" => Some(true),
                _ => None,
            };
            c.disabled[i] = env.parsed(exporter, which, EXPECT_EXPORTER).unwrap_or(false);
        }
        c.requested = c.endpoint.is_some() || c.signal_endpoint.iter().any(Option::is_some);
        c.metric_interval = env.parsed("OTEL_METRIC_EXPORT_INTERVAL", millis, EXPECT_MS).filter(|d| !d.is_zero());
        let temporality = |v: &str| match v.trim().to_ascii_lowercase().as_str() {
            "cumulative" => Some(Temporality::Cumulative),
            "delta" => Some(Temporality::Delta),
            "lowmemory" => Some(Temporality::LowMemory),
            _ => None,
        };
        c.temporality = env
            .parsed("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", temporality, EXPECT_TEMPORALITY)
            .unwrap_or_default();
        c.bsp = [
            env.parsed("OTEL_BSP_MAX_QUEUE_SIZE", count, EXPECT_COUNT),
            env.parsed("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", count, EXPECT_COUNT),
            env.parsed("OTEL_BSP_SCHEDULE_DELAY", millis, EXPECT_MS).map(|d| d.as_millis() as usize),
        ];
        c.blrp = [
            env.parsed("OTEL_BLRP_MAX_QUEUE_SIZE", count, EXPECT_COUNT),
            env.parsed("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", count, EXPECT_COUNT),
            env.parsed("OTEL_BLRP_SCHEDULE_DELAY", millis, EXPECT_MS).map(|d| d.as_millis() as usize),
        ];
        // Read by the OpenTelemetry SDK itself, which falls back to a
        // default on a value it cannot use, with no more than a debug line:
        // checked here so that a mistake is an init() error like any other.
        const SAMPLERS: [&str; 6] = [
            "always_on",
            "always_off",
            "traceidratio",
            "parentbased_always_on",
            "parentbased_always_off",
            "parentbased_traceidratio",
        ];
        env.parsed("OTEL_TRACES_SAMPLER", |v| SAMPLERS.contains(&v).then_some(()), EXPECT_SAMPLER);
        let ratio = |v: &str| v.trim().parse::<f64>().ok().filter(|r| (0.0..=1.0).contains(r));
        env.parsed("OTEL_TRACES_SAMPLER_ARG", ratio, EXPECT_RATIO);
        let pairs = |v: &str| {
            v.split_terminator(',')
                .filter(|e| !e.trim().is_empty())
                .all(|e| e.split_once('=').is_some_and(|(k, _)| !k.trim().is_empty()))
                .then_some(())
        };
        env.parsed("OTEL_RESOURCE_ATTRIBUTES", pairs, EXPECT_RESOURCE);
        c
    }

    /// `Builder::otlp_endpoint`: the general endpoint, which also turns the exporter on.
    pub(crate) fn set_endpoint(&mut self, url: String) {
        self.endpoint = Some(url);
        self.signal_endpoint = Default::default();
        self.requested = true;
    }

    /// `Builder::otlp_protocol`.
    pub(crate) fn set_protocol(&mut self, p: OtlpProtocol) {
        self.protocol = Some(p);
        self.signal_protocol = Default::default();
    }

    /// `Builder::otlp_headers`.
    pub(crate) fn set_headers(&mut self, h: Vec<(String, String)>) {
        self.headers = h;
        self.signal_headers = Default::default();
    }

    /// Where `signal` goes, or `None` when `OTEL_{SIGNAL}_EXPORTER=none`.
    pub(crate) fn target(&self, signal: Signal) -> Option<Target> {
        let i = idx(signal);
        if self.disabled[i] {
            return None;
        }
        let protocol = self.signal_protocol[i].or(self.protocol).unwrap_or(OtlpProtocol::HttpProtobuf);
        let endpoint = match (&self.signal_endpoint[i], &self.endpoint) {
            (Some(e), _) => e.clone(),
            (None, general) => {
                let base = general.as_deref().unwrap_or(protocol.default_endpoint()).trim_end_matches('/');
                match protocol {
                    OtlpProtocol::HttpProtobuf => format!("{base}/v1/{}", signal.as_str()),
                    OtlpProtocol::Grpc => base.to_string(),
                }
            }
        };
        let mut headers = self.headers.clone();
        for (k, v) in &self.signal_headers[i] {
            headers.retain(|(k2, _)| k2 != k);
            headers.push((k.clone(), v.clone()));
        }
        let timeout = self.signal_timeout[i].or(self.timeout).unwrap_or(Duration::from_secs(10));
        Some(Target { protocol, endpoint, headers, timeout })
    }

    /// Queue and batch sizes for spans or logs.
    pub(crate) fn batching(&self, signal: Signal) -> Batching {
        let v = if signal == Signal::Logs { &self.blrp } else { &self.bsp };
        let delay_default = if signal == Signal::Logs { 1000 } else { 5000 };
        let max_queue = v[0].unwrap_or(2048);
        Batching {
            max_queue,
            max_batch: v[1].unwrap_or(512).min(max_queue),
            delay: Duration::from_millis(v[2].unwrap_or(delay_default) as u64),
        }
    }
}

fn signal_vars(s: Signal) -> (&'static str, &'static str, &'static str, &'static str, &'static str) {
    match s {
        Signal::Traces => (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_TRACES_EXPORTER",
        ),
        Signal::Metrics => (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
            "OTEL_METRICS_EXPORTER",
        ),
        Signal::Logs => (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
            "OTEL_LOGS_EXPORTER",
        ),
    }
}

/// Expected-value texts for the builder's checks.
pub(crate) const EXPECTED_ENDPOINT: &str = EXPECT_ENDPOINT;
pub(crate) const EXPECTED_HEADERS: &str = EXPECT_HEADERS;

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(general: Option<&str>, proto: Option<OtlpProtocol>) -> OtlpConfig {
        OtlpConfig { endpoint: general.map(str::to_string), protocol: proto, requested: true, ..Default::default() }
    }

    #[test]
    fn general_endpoint_gets_the_signal_path_over_http_only() {
        let c = cfg(Some("http://127.0.0.1:4318/"), None);
        assert_eq!(c.target(Signal::Traces).unwrap().endpoint, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(c.target(Signal::Logs).unwrap().endpoint, "http://127.0.0.1:4318/v1/logs");
        let g = cfg(Some("http://127.0.0.1:4317"), Some(OtlpProtocol::Grpc));
        assert_eq!(g.target(Signal::Metrics).unwrap().endpoint, "http://127.0.0.1:4317");
        assert_eq!(cfg(None, None).target(Signal::Metrics).unwrap().endpoint, "http://localhost:4318/v1/metrics");
    }

    #[test]
    fn signal_settings_win_and_none_disables() {
        let mut c = cfg(Some("http://a:1"), None);
        c.signal_endpoint[idx(Signal::Traces)] = Some("http://b:2/custom".into());
        c.headers = vec![("k".into(), "general".into()), ("x".into(), "1".into())];
        c.signal_headers[idx(Signal::Traces)] = vec![("k".into(), "traces".into())];
        c.disabled[idx(Signal::Metrics)] = true;
        let t = c.target(Signal::Traces).unwrap();
        assert_eq!(t.endpoint, "http://b:2/custom");
        assert_eq!(t.headers, vec![("x".to_string(), "1".to_string()), ("k".to_string(), "traces".to_string())]);
        assert!(c.target(Signal::Metrics).is_none());
        assert_eq!(c.target(Signal::Logs).unwrap().headers[0].1, "general");
    }

    #[test]
    fn headers_are_percent_decoded_and_checked() {
        assert_eq!(
            parse_headers("x-mlflow-experiment-id=0, Authorization=Bearer%20abc").unwrap(),
            vec![("x-mlflow-experiment-id".into(), "0".into()), ("authorization".into(), "Bearer abc".into())]
        );
        assert!(parse_headers("novalue").is_none());
        assert!(parse_headers("k=%zz").is_none());
        assert!(parse_headers("k=a\nb").is_none());
        assert_eq!(parse_headers("").unwrap(), vec![]);
    }

    #[test]
    fn endpoints_must_be_plain_http_urls() {
        assert!(valid_endpoint("http://127.0.0.1:4318"));
        assert!(valid_endpoint("http://collector/otlp"));
        assert!(!valid_endpoint("https://api.vendor.example"));
        assert!(!valid_endpoint("127.0.0.1:4318"));
        assert!(!valid_endpoint("http://"));
        assert!(!valid_endpoint("http://a b"));
    }
}
