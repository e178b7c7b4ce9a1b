//! `init()`: one configuration, from defaults, then the environment, then
//! builder calls; validated as a whole; applied all at once or not at all.
//!
//! [`Builder::from_env`] reads every `OBS_*` variable (and `OTEL_SERVICE_NAME`,
//! `RUST_LOG`) in one place, and each variable has exactly one builder method
//! of the same name (`OBS_LOG_QUEUE` and [`Builder::log_queue`]). A bad value,
//! from either, is kept as a [`ConfigError`]; [`Builder::init`] reports all
//! of them together. Nothing global changes until every exporter has started:
//! the pricing file is parsed first but put in force last, with the ledger
//! capacity, the cost threshold, the cardinality limit, the capture settings
//! and the redaction key, so a failed `init()` leaves the process as it was.

#[cfg(feature = "logs")]
use crate::export::logs::{LogFormat, LogOutput, LogSpans, Rotation};
use crate::export::{self, ExportError, ExporterConfig, Running};
#[cfg(feature = "redact-hash")]
use crate::redact::KeySource;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Exporters started when neither `OBS_EXPORTERS` nor the builder names any:
/// those of `logs` and `prometheus` that this build has (both by default).
pub const DEFAULT_EXPORTERS: &[&str] = {
    #[cfg(all(feature = "logs", feature = "prometheus"))]
    let names: &[&str] = &["logs", "prometheus"];
    #[cfg(all(feature = "logs", not(feature = "prometheus")))]
    let names: &[&str] = &["logs"];
    #[cfg(all(not(feature = "logs"), feature = "prometheus"))]
    let names: &[&str] = &["prometheus"];
    #[cfg(not(any(feature = "logs", feature = "prometheus")))]
    let names: &[&str] = &[];
    names
};

/// Why `init()` did not start. Whatever the reason, nothing was changed: a
/// corrected call can follow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitError {
    /// `init()` already ran in this process; keep the first guard alive.
    AlreadyInitialized,
    /// Every configuration value that cannot be used: the environment's in
    /// the order of the table on [`Builder`], then the builder's in the
    /// order of the calls, then unknown exporter names.
    Invalid(Vec<ConfigError>),
    /// An exporter could not start.
    Exporter(ExportError),
    /// The pricing file (`OBS_PRICING_FILE` or [`Builder::pricing_file`])
    /// could not be loaded; the built-in prices stay in force.
    Pricing {
        /// Which setting named the file.
        origin: ConfigOrigin,
        /// What is wrong with the file.
        error: crate::pricing::PricingError,
    },
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::AlreadyInitialized => write!(
                f,
                "obs is already initialised in this process: call init() once, at the start of main, and keep its guard alive"
            ),
            InitError::Invalid(errors) => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            InitError::Exporter(e) => write!(f, "{e}"),
            InitError::Pricing { origin, error } => {
                let (setting, point, unset) = match origin {
                    ConfigOrigin::Env => ("OBS_PRICING_FILE", "point OBS_PRICING_FILE at", "unset it"),
                    ConfigOrigin::Builder => ("Builder::pricing_file", "pass Builder::pricing_file", "drop the call"),
                };
                let (fix, file) = if error.unreadable() { ("", "a price file") } else { ("correct it or ", "another price file") };
                write!(
                    f,
                    "{setting}: {error}; {fix}{point} {file} (obs's format or LiteLLM's JSON), or {unset} to keep the built-in prices"
                )
            }
        }
    }
}

impl std::error::Error for InitError {}

/// Where a configuration value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigOrigin {
    /// The environment variable.
    Env,
    /// The builder method of the same name.
    Builder,
}

/// One configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// The environment variable (`OBS_LOG_QUEUE`).
    pub var: &'static str,
    /// The builder method that sets the same thing (`log_queue`).
    pub method: &'static str,
    /// Where the value came from.
    pub origin: ConfigOrigin,
    /// The value as given, cut to 80 bytes and with what the secret
    /// detectors find replaced (a redaction key or an endpoint token is
    /// shown by its length only).
    pub value: String,
    /// What a usable value looks like.
    pub expected: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ConfigError { var, method, value, expected, .. } = self;
        match self.origin {
            ConfigOrigin::Env => write!(f, "{var}=`{value}` cannot be used: expected {expected}"),
            ConfigOrigin::Builder => write!(f, "Builder::{method}(`{value}`) cannot be used: expected {expected}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A redaction key: kept out of `Debug` output.
#[derive(Clone)]
#[cfg(feature = "redact-hash")]
struct SecretKey(Vec<u8>);

#[cfg(feature = "redact-hash")]
impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[REDACTED; {} bytes]", self.0.len())
    }
}

/// Configuration for [`Builder::init`]; [`crate::init`] is `Builder::from_env().init()`.
///
/// Each environment variable has one builder method of the same name; a
/// builder call overrides the variable (and any error it had):
///
/// | variable | method |
/// |---|---|
/// | `OTEL_SERVICE_NAME` | [`service_name`](Builder::service_name) |
/// | `OBS_EXPORTERS` | [`exporters`](Builder::exporters) |
/// | `OBS_PROMETHEUS_ADDR` | [`prometheus_addr`](Builder::prometheus_addr) |
/// | `OBS_NAMESPACE` | [`namespace`](Builder::namespace) |
/// | `OBS_CARDINALITY_LIMIT` | [`cardinality_limit`](Builder::cardinality_limit) |
/// | `RUST_LOG` | [`log_filter`](Builder::log_filter) |
/// | `OBS_LOG_FORMAT` | [`log_format`](Builder::log_format) |
/// | `OBS_LOG_OUTPUT` | [`log_output`](Builder::log_output) |
/// | `OBS_LOG_ROTATION` | [`log_rotation`](Builder::log_rotation) |
/// | `OBS_LOG_MAX_FILES` | [`log_max_files`](Builder::log_max_files) |
/// | `OBS_LOG_SPANS` | [`log_spans`](Builder::log_spans) |
/// | `OBS_LOG_QUEUE` | [`log_queue`](Builder::log_queue) |
/// | `OBS_PRICING_FILE` | [`pricing_file`](Builder::pricing_file) |
/// | `OBS_HIGH_COST_USD` | [`high_cost_usd`](Builder::high_cost_usd) |
/// | `OBS_LEDGER_CAPACITY` | [`ledger_capacity`](Builder::ledger_capacity) |
/// | `OBS_CAPTURE_CONTENT` | [`capture_content`](Builder::capture_content) |
/// | `OBS_CAPTURE_MAX_BYTES` | [`capture_max_bytes`](Builder::capture_max_bytes) |
/// | `OBS_REDACT_KEY` | [`redact_key`](Builder::redact_key) |
/// | `OBS_BUDGET_REDIS_URL` | `budget_redis_url` (feature `redis`) |
/// | `OBS_BUDGET_REDIS_TIMEOUT` | `budget_redis_timeout` (feature `redis`) |
/// | `OBS_BUDGET_REDIS_REFRESH` | `budget_redis_refresh` (feature `redis`) |
/// | `OBS_BUDGET_REDIS_PREFIX` | `budget_redis_prefix` (feature `redis`) |
/// | `OBS_LABEL_VALUE_MAX_BYTES` | [`label_value_max_bytes`](Builder::label_value_max_bytes) |
/// | `OBS_LOG_QUEUE_BYTES` | [`log_queue_bytes`](Builder::log_queue_bytes) |
/// | `OBS_PROMETHEUS_TOKEN` | [`prometheus_token`](Builder::prometheus_token) |
/// | `OBS_PROMETHEUS_MAX_CONNECTIONS` | [`prometheus_max_connections`](Builder::prometheus_max_connections) |
/// | `OBS_PROMETHEUS_TIMEOUT_SECS` | [`prometheus_timeout_secs`](Builder::prometheus_timeout_secs) |
/// | `OBS_ERROR_LOG_LEVEL` | [`error_log_level`](Builder::error_log_level) |
/// | `OBS_HEALTH_CACHE_TTL` | [`health_cache_ttl`](Builder::health_cache_ttl) |
/// | `OBS_UI` | `ui` (feature `ui`) |
/// | `OBS_UI_RUNS` | `ui_runs` (feature `ui`) |
/// | `OBS_UI_RUN_CALLS` | `ui_run_calls` (feature `ui`) |
/// | `OBS_UI_MAX_BYTES` | `ui_max_bytes` (feature `ui`) |
/// | `OBS_CONVERSATION_IDLE_TIMEOUT` | [`conversation_idle_timeout`](Builder::conversation_idle_timeout) |
/// | `OBS_FEEDBACK_KEY` | `feedback_key` (feature `redact-hash`) |
/// | `OTEL_EXPORTER_OTLP_ENDPOINT` | `otlp_endpoint` (feature `otlp`) |
/// | `OTEL_EXPORTER_OTLP_PROTOCOL` | `otlp_protocol` (feature `otlp`) |
/// | `OTEL_EXPORTER_OTLP_HEADERS` | `otlp_headers` (feature `otlp`) |
///
/// The OTLP exporter also reads the other standard variables, which have no
/// builder method: the per-signal `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_*`
/// (endpoint, protocol, headers, timeout), `OTEL_EXPORTER_OTLP_TIMEOUT`,
/// `OTEL_{TRACES,METRICS,LOGS}_EXPORTER=none`, `OTEL_METRIC_EXPORT_INTERVAL`,
/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, `OTEL_BSP_*`,
/// `OTEL_BLRP_*`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`.
///
/// ```no_run
/// let _obs = obs_runtime::Builder::from_env()
///     .service_name("research-agent")
///     .prometheus_addr("127.0.0.1:9464")
///     .init()
///     .expect("obs");
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    cfg: ExporterConfig,
    exporters: Option<Vec<String>>,
    /// Where `exporters` came from, for errors.
    exporters_origin: ConfigOrigin,
    cardinality_limit: Option<usize>,
    pricing_file: Option<std::path::PathBuf>,
    /// Where `pricing_file` came from, for errors.
    pricing_file_origin: ConfigOrigin,
    high_cost_usd: Option<f64>,
    ledger_capacity: Option<usize>,
    capture_content: Option<bool>,
    capture_max_bytes: Option<usize>,
    #[cfg(feature = "redact-hash")]
    redact_key: Option<(SecretKey, KeySource)>,
    // Limits (issue 13): label values, the endpoint's connections and token.
    label_value_max_bytes: Option<usize>,
    /// Budgets shared through Redis (`OBS_BUDGET_REDIS_*`).
    budget_store: BudgetStoreConfig,
    /// Failure log lines (issue 14): `Some(None)` off, `Some(Some(level))`.
    error_log_level: Option<Option<tracing::Level>>,
    /// How long a health report is reused.
    health_cache_ttl: Option<std::time::Duration>,
    /// In-process alert rules and their notifiers (`alert*` methods).
    alerts: crate::ops::alerts::Config,
    /// Quality and conversations (issue 25): the conversation idle timeout
    /// and the key of feedback tokens.
    conversation_idle_timeout: Option<std::time::Duration>,
    #[cfg(feature = "redact-hash")]
    feedback_key: Option<SecretKey>,
    errors: Vec<ConfigError>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

/// What a usable value of each checked setting looks like.
const EXPECT_USD: &str = "a cost in US dollars, e.g. 1.5";
const EXPECT_LEDGER: &str = "a positive number of model calls to keep, at most 1000000";
const EXPECT_CARDINALITY: &str = "a positive number of series per metric, at most 100000";
#[cfg(feature = "logs")]
const EXPECT_QUEUE: &str = "a positive number of lines, at most 1000000";
#[cfg(feature = "logs")]
const EXPECT_FILES: &str = "a whole number of rotated files to keep, e.g. 7";
const EXPECT_CAPTURE: &str = "true or false (1 or 0)";
const EXPECT_CAPTURE_BYTES: &str = "a positive number of bytes, at most 1048576 (1 MiB; at least 16 are kept)";

// ---- Limits (issue 13): every size from the configuration has an upper
// bound, checked here, so no value can make obs allocate without bound.
const EXPECT_NAMESPACE: &str =
    "a metric name prefix: letters, digits and `_`, not starting with a digit, at most 64 characters (e.g. my_app)";
const EXPECT_LABEL_BYTES: &str = "a number of bytes from 16 to 65536";
#[cfg(feature = "logs")]
const EXPECT_QUEUE_BYTES: &str = "a number of bytes from 65536 to 1073741824 (1 GiB), e.g. 16777216";
#[cfg(feature = "prometheus")]
const EXPECT_TOKEN: &str = "16 to 4096 visible ASCII characters (e.g. `openssl rand -hex 32`)";
#[cfg(feature = "prometheus")]
const EXPECT_CONNECTIONS: &str = "a number of connections from 1 to 4096";
#[cfg(feature = "prometheus")]
const EXPECT_TIMEOUT: &str = "a number of seconds from 1 to 3600";

/// Whether `ns` can prefix metric names (`{ns}_llm_calls_total` must be a
/// valid name, and colons are for recording rules).
fn valid_namespace(ns: &str) -> bool {
    ns.len() <= 64
        && ns.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && ns.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `v` parsed as a number within `range`.
fn within<T: std::str::FromStr + PartialOrd>(v: &str, range: std::ops::RangeInclusive<T>) -> Option<T> {
    v.trim().parse::<T>().ok().filter(|n| range.contains(n))
}

/// A value as an error shows it: cut to 80 bytes and run through the
/// secret detectors, so an error never repeats a huge or secret value.
fn shown(value: &str) -> String {
    let cut = crate::metrics::registry::cut(value, 80);
    crate::redact::scan(&cut).into_owned()
}

fn positive(v: &str) -> Option<usize> {
    v.trim().parse::<usize>().ok().filter(|n| *n > 0)
}

fn usd(x: f64) -> Option<f64> {
    Some(x).filter(|x| x.is_finite() && *x >= 0.0)
}

#[cfg(feature = "redact-hash")]
fn key_problem(key: &[u8]) -> Option<String> {
    match crate::redact::hash::check_key(key) {
        Ok(()) => None,
        Err(crate::redact::HashKeyError::TooShort { .. }) => Some(format!(
            "at least {} bytes, random and kept secret (e.g. `openssl rand -hex 32`)",
            crate::redact::hash::MIN_KEY_LEN
        )),
        Err(e) => Some(format!("the key already in use: {e}")),
    }
}

impl Builder {
    /// Embedded defaults only; the environment is not read.
    pub fn new() -> Builder {
        Builder {
            cfg: ExporterConfig { service_name: "unknown_service".into(), ..ExporterConfig::default() },
            exporters: None,
            exporters_origin: ConfigOrigin::Builder,
            cardinality_limit: None,
            pricing_file: None,
            pricing_file_origin: ConfigOrigin::Builder,
            high_cost_usd: None,
            ledger_capacity: None,
            capture_content: None,
            capture_max_bytes: None,
            #[cfg(feature = "redact-hash")]
            redact_key: None,
            label_value_max_bytes: None,
            budget_store: BudgetStoreConfig::default(),
            error_log_level: None,
            health_cache_ttl: None,
            alerts: crate::ops::alerts::Config::default(),
            conversation_idle_timeout: None,
            #[cfg(feature = "redact-hash")]
            feedback_key: None,
            errors: Vec::new(),
        }
    }

    /// The defaults, overridden by every variable of the table above that is
    /// set (and not blank). Builder calls made after this override the
    /// environment. A value that cannot be used is kept as an error that
    /// [`Builder::init`] returns, with all the others.
    ///
    /// | variable | values | default |
    /// |---|---|---|
    /// | `OBS_LOG_FORMAT` | `console`, `json` | `console` |
    /// | `RUST_LOG` | directives: `info,obs_runtime=debug,my_agent::planner=trace` | `info` |
    /// | `OBS_LOG_OUTPUT` | `stderr`, `stdout`, or a file path | `stderr` |
    /// | `OBS_LOG_ROTATION` | `never`, `daily`, or a size (`100MB`, `512KiB`) | `never` |
    /// | `OBS_LOG_MAX_FILES` | rotated files kept | `7` |
    /// | `OBS_LOG_SPANS` | instrumented spans lines see: `none`, `genai`, `all` | `none` (console), `genai` (json) |
    /// | `OBS_LOG_QUEUE` | lines queued for the writer before new ones are dropped (at most 1,000,000) | `8192` |
    /// | `OBS_LOG_QUEUE_BYTES` | bytes queued for the writer before new lines are dropped | 16 MiB |
    /// | `OBS_CAPTURE_CONTENT` | `true`, `false` (`1`, `0`) | `false` |
    /// | `OBS_CAPTURE_MAX_BYTES` | bytes of captured content kept (at most 1 MiB) | `16384` |
    /// | `OBS_REDACT_KEY` | key of `#[redact(hash)]`, at least 16 bytes | random per process |
    /// | `OBS_BUDGET_REDIS_URL` | `redis://[:password@]host:port[/db]`: budgets shared by every process using it (feature `redis`) | none: each process counts its own |
    /// | `OBS_BUDGET_REDIS_TIMEOUT` | longest round trip before the store counts as unreachable: `100ms`, `1s` | `100ms` |
    /// | `OBS_BUDGET_REDIS_REFRESH` | longest time between refreshes of the fleet's spend | `100ms` |
    /// | `OBS_BUDGET_REDIS_PREFIX` | prefix of the store's keys | `obs:budget` |
    /// | `OBS_ALERT_INTERVAL` | time between evaluations of the alert rules ([`Builder::alert`]) | `15s` |
    /// | `OBS_ALERT_WINDOW` | window of the alert rules' ratios, latencies and costs | `5m` |
    /// | `OBS_UI` | the live view at `/` of the Prometheus endpoint, and its run store: `true`, `false` (feature `ui`) | `true` |
    /// | `OBS_UI_RUNS` | finished runs the live view keeps (1 to 100,000) | `500` |
    /// | `OBS_UI_RUN_CALLS` | calls kept per run; past it the run is cut and says so (1 to 100,000) | `2000` |
    /// | `OBS_UI_MAX_BYTES` | the run store's memory bound in bytes (1 MiB to 1 GiB) | 16 MiB |
    /// | `OBS_CONVERSATION_IDLE_TIMEOUT` | time without a model call after which a conversation ends: `90s`, `30m` | `30m` |
    /// | `OBS_FEEDBACK_KEY` | key that signs feedback tokens ([`crate::eval`]), at least 16 bytes, the same in every process | random per process |
    pub fn from_env() -> Builder {
        let mut b = Builder::new();
        if let Some(v) = b.var("OTEL_SERVICE_NAME") {
            b.cfg.service_name = v;
        }
        if let Some(v) = b.var("OBS_EXPORTERS") {
            b.exporters = Some(v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
            b.exporters_origin = ConfigOrigin::Env;
        }
        b.cfg.prometheus_addr = b.var("OBS_PROMETHEUS_ADDR");
        if let Some(v) = b.var("OBS_NAMESPACE") {
            let ok = valid_namespace(v.trim()).then(|| v.trim().to_string());
            b.cfg.namespace = b.checked_env("OBS_NAMESPACE", &v, ok, EXPECT_NAMESPACE);
        }
        if let Some(v) = b.var("OBS_ALERT_INTERVAL") {
            let d = parse_duration(&v).filter(|d| alert_interval_ok(*d));
            if let Some(d) = b.checked_env("OBS_ALERT_INTERVAL", &v, d, EXPECT_ALERT_INTERVAL) {
                b.alerts.interval = d;
            }
        }
        if let Some(v) = b.var("OBS_ALERT_WINDOW") {
            let d = parse_duration(&v).filter(|d| alert_window_ok(*d));
            if let Some(d) = b.checked_env("OBS_ALERT_WINDOW", &v, d, EXPECT_ALERT_WINDOW) {
                b.alerts.window = d;
            }
        }
        if let Some(v) = b.var("OBS_CARDINALITY_LIMIT") {
            let n = within(&v, 1..=crate::metrics::registry::MAX_CARDINALITY_LIMIT);
            b.cardinality_limit = b.checked_env("OBS_CARDINALITY_LIMIT", &v, n, EXPECT_CARDINALITY);
        }
        #[cfg(feature = "logs")]
        {
            b.cfg.log.filter = b.var("RUST_LOG");
            if let Some(v) = b.var("OBS_LOG_FORMAT") {
                b.cfg.log.format =
                    b.checked_env("OBS_LOG_FORMAT", &v, LogFormat::parse(&v), "json or console").map(Into::into);
            }
            if let Some(v) = b.var("OBS_LOG_OUTPUT") {
                b.cfg.log.output = LogOutput::parse(&v);
            }
            if let Some(v) = b.var("OBS_LOG_ROTATION") {
                let r =
                    b.checked_env("OBS_LOG_ROTATION", &v, Rotation::parse(&v), "never, daily, or a size such as 100MB");
                if let Some(r) = r {
                    b.cfg.log.rotation = r;
                }
            }
            if let Some(v) = b.var("OBS_LOG_MAX_FILES") {
                if let Some(n) = b.checked_env("OBS_LOG_MAX_FILES", &v, v.trim().parse().ok(), EXPECT_FILES) {
                    b.cfg.log.max_files = n;
                }
            }
            if let Some(v) = b.var("OBS_LOG_SPANS") {
                let expected = "none, genai or all (false and true also work)";
                b.cfg.log.spans = b.checked_env("OBS_LOG_SPANS", &v, LogSpans::parse(&v), expected);
            }
            if let Some(v) = b.var("OBS_LOG_QUEUE") {
                let n = within(&v, crate::export::logs::QUEUE_LINES_RANGE);
                if let Some(n) = b.checked_env("OBS_LOG_QUEUE", &v, n, EXPECT_QUEUE) {
                    b.cfg.log.queue_lines = n;
                }
            }
            if let Some(v) = b.var("OBS_LOG_QUEUE_BYTES") {
                let n = within(&v, crate::export::logs::QUEUE_BYTES_RANGE);
                if let Some(n) = b.checked_env("OBS_LOG_QUEUE_BYTES", &v, n, EXPECT_QUEUE_BYTES) {
                    b.cfg.log.queue_bytes = n;
                }
            }
        }
        #[cfg(feature = "otlp")]
        {
            let mut problems = Vec::new();
            b.cfg.otlp = crate::export::otlp::OtlpConfig::from_env(&mut problems);
            for p in problems {
                b.errors.push(ConfigError {
                    var: p.var,
                    method: method_of(p.var),
                    origin: ConfigOrigin::Env,
                    value: shown(&p.value),
                    expected: p.expected.to_string(),
                });
            }
        }
        // A path need not be UTF-8.
        b.pricing_file = std::env::var_os("OBS_PRICING_FILE").filter(|v| !v.is_empty()).map(Into::into);
        b.pricing_file_origin = ConfigOrigin::Env;
        if let Some(v) = b.var("OBS_HIGH_COST_USD") {
            b.high_cost_usd = b.checked_env("OBS_HIGH_COST_USD", &v, v.trim().parse().ok().and_then(usd), EXPECT_USD);
        }
        if let Some(v) = b.var("OBS_LEDGER_CAPACITY") {
            let n = positive(&v).filter(|n| *n <= crate::ledger::MAX_CAPACITY);
            b.ledger_capacity = b.checked_env("OBS_LEDGER_CAPACITY", &v, n, EXPECT_LEDGER);
        }
        if let Some(v) = b.var("OBS_CAPTURE_CONTENT") {
            let on = match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            };
            b.capture_content = b.checked_env("OBS_CAPTURE_CONTENT", &v, on, EXPECT_CAPTURE);
        }
        if let Some(v) = b.var("OBS_CAPTURE_MAX_BYTES") {
            let n = within(&v, 1..=crate::redact::capture::MAX_BYTES_LIMIT);
            b.capture_max_bytes = b.checked_env("OBS_CAPTURE_MAX_BYTES", &v, n, EXPECT_CAPTURE_BYTES);
        }
        b.limits_from_env();
        // Read raw, not through `var()`: a key of spaces is still a key, and
        // its bytes are used as they are.
        #[cfg(feature = "redact-hash")]
        if let Some(v) = std::env::var_os("OBS_REDACT_KEY").filter(|v| !v.is_empty()) {
            let key = v.into_encoded_bytes();
            match key_problem(&key) {
                None => b.redact_key = Some((SecretKey(key), KeySource::Env)),
                Some(expected) => b.errors.push(ConfigError {
                    var: "OBS_REDACT_KEY",
                    method: "redact_key",
                    origin: ConfigOrigin::Env,
                    value: format!("<{} bytes, not shown>", key.len()),
                    expected,
                }),
            }
        }
        b.budget_store_from_env();
        if let Some(v) = b.var("OBS_ERROR_LOG_LEVEL") {
            b.error_log_level = b.checked_env("OBS_ERROR_LOG_LEVEL", &v, parse_error_level(&v), EXPECT_ERROR_LEVEL);
        }
        if let Some(v) = b.var("OBS_HEALTH_CACHE_TTL") {
            let d = parse_duration(&v).filter(|d| *d <= MAX_HEALTH_CACHE_TTL);
            b.health_cache_ttl = b.checked_env("OBS_HEALTH_CACHE_TTL", &v, d, EXPECT_HEALTH_CACHE_TTL);
        }
        b.ui_from_env();
        b.quality_from_env();
        b
    }

    /// The limits' variables (issue 13), read by [`Builder::from_env`].
    fn limits_from_env(&mut self) {
        if let Some(v) = self.var("OBS_LABEL_VALUE_MAX_BYTES") {
            let n = within(&v, crate::metrics::registry::LABEL_VALUE_MAX_BYTES_RANGE);
            self.label_value_max_bytes = self.checked_env("OBS_LABEL_VALUE_MAX_BYTES", &v, n, EXPECT_LABEL_BYTES);
        }
        #[cfg(feature = "prometheus")]
        {
            use crate::export::prometheus::{Token, MAX_CONNECTIONS_RANGE, TIMEOUT_SECS_RANGE};
            // Read raw: a token is shown by its length only.
            if let Some(v) = std::env::var_os("OBS_PROMETHEUS_TOKEN").filter(|v| !v.is_empty()) {
                match v.to_str().and_then(Token::new) {
                    Some(t) => self.cfg.prometheus.token = Some(t),
                    None => self.errors.push(ConfigError {
                        var: "OBS_PROMETHEUS_TOKEN",
                        method: "prometheus_token",
                        origin: ConfigOrigin::Env,
                        value: format!("<{} bytes, not shown>", v.len()),
                        expected: EXPECT_TOKEN.into(),
                    }),
                }
            }
            if let Some(v) = self.var("OBS_PROMETHEUS_MAX_CONNECTIONS") {
                let n = within(&v, MAX_CONNECTIONS_RANGE);
                if let Some(n) = self.checked_env("OBS_PROMETHEUS_MAX_CONNECTIONS", &v, n, EXPECT_CONNECTIONS) {
                    self.cfg.prometheus.max_connections = n;
                }
            }
            if let Some(v) = self.var("OBS_PROMETHEUS_TIMEOUT_SECS") {
                let n = within(&v, TIMEOUT_SECS_RANGE);
                if let Some(n) = self.checked_env("OBS_PROMETHEUS_TIMEOUT_SECS", &v, n, EXPECT_TIMEOUT) {
                    self.cfg.prometheus.timeout = std::time::Duration::from_secs(n);
                }
            }
        }
    }

    /// The variable's value when set and not blank; a value that is not
    /// UTF-8 is an error rather than ignored.
    fn var(&mut self, var: &'static str) -> Option<String> {
        match std::env::var(var) {
            Ok(v) => Some(v).filter(|v| !v.trim().is_empty()),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(raw)) => {
                self.checked_env::<()>(var, &raw.to_string_lossy(), None, "valid UTF-8 text");
                None
            }
        }
    }

    /// `parsed`, or records why `value` of `var` cannot be used.
    fn checked_env<T>(&mut self, var: &'static str, value: &str, parsed: Option<T>, expected: &str) -> Option<T> {
        if parsed.is_none() {
            self.errors.push(ConfigError {
                var,
                method: method_of(var),
                origin: ConfigOrigin::Env,
                value: shown(value),
                expected: expected.to_string(),
            });
        }
        parsed
    }

    /// A builder call replaces the variable's value, so its error too.
    fn overrides(&mut self, var: &'static str) {
        self.errors.retain(|e| e.var != var);
    }

    /// `value` when `ok`, else records a builder error for `var`.
    fn checked<T: fmt::Display>(&mut self, var: &'static str, value: T, ok: bool, expected: &str) -> Option<T> {
        self.overrides(var);
        if ok {
            return Some(value);
        }
        self.errors.push(ConfigError {
            var,
            method: method_of(var),
            origin: ConfigOrigin::Builder,
            value: shown(&value.to_string()),
            expected: expected.to_string(),
        });
        None
    }

    /// `service.name` of this process (`OTEL_SERVICE_NAME`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.overrides("OTEL_SERVICE_NAME");
        self.cfg.service_name = name.into();
        self
    }
    /// The exporters to start, by name (`OBS_EXPORTERS`; default: `logs`, `prometheus`).
    pub fn exporters(mut self, names: &[&str]) -> Self {
        self.overrides("OBS_EXPORTERS");
        self.exporters = Some(names.iter().map(|s| s.to_string()).collect());
        self.exporters_origin = ConfigOrigin::Builder;
        self
    }
    /// Where `/metrics` is served (`OBS_PROMETHEUS_ADDR`; `127.0.0.1:9464` by
    /// default; port 0 picks a free port).
    pub fn prometheus_addr(mut self, addr: impl Into<String>) -> Self {
        self.overrides("OBS_PROMETHEUS_ADDR");
        self.cfg.prometheus_addr = Some(addr.into());
        self
    }
    /// Prefix for every metric name (`OBS_NAMESPACE`; `{namespace}_llm_calls_total`):
    /// letters, digits and `_`, not starting with a digit, at most 64.
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        let ns = ns.into();
        let ok = valid_namespace(&ns);
        self.cfg.namespace = self.checked("OBS_NAMESPACE", ns, ok, EXPECT_NAMESPACE);
        self
    }
    /// Series per metric before new label sets share the overflow series
    /// (`OBS_CARDINALITY_LIMIT`; default 2000; 1 to 100,000).
    pub fn cardinality_limit(mut self, n: usize) -> Self {
        let ok = (1..=crate::metrics::registry::MAX_CARDINALITY_LIMIT).contains(&n);
        self.cardinality_limit = self.checked("OBS_CARDINALITY_LIMIT", n, ok, EXPECT_CARDINALITY);
        self
    }
    /// Longest metric label value in bytes; longer values are cut on a
    /// character boundary and end in `…` (`OBS_LABEL_VALUE_MAX_BYTES`;
    /// default 1024; 16 to 65536).
    pub fn label_value_max_bytes(mut self, n: usize) -> Self {
        let ok = crate::metrics::registry::LABEL_VALUE_MAX_BYTES_RANGE.contains(&n);
        self.label_value_max_bytes = self.checked("OBS_LABEL_VALUE_MAX_BYTES", n, ok, EXPECT_LABEL_BYTES);
        self
    }
    #[cfg(feature = "prometheus")]
    /// Requires `Authorization: Bearer {token}` on `/metrics`, `/summary`,
    /// `/ready` and the live view (`/`, `/api/...`; a browser signs in once
    /// with `/?token=...`) (`OBS_PROMETHEUS_TOKEN`; default none; 16 to 4096
    /// visible ASCII characters). `/health` stays open for liveness probes.
    pub fn prometheus_token(mut self, token: &str) -> Self {
        self.overrides("OBS_PROMETHEUS_TOKEN");
        match crate::export::prometheus::Token::new(token) {
            Some(t) => self.cfg.prometheus.token = Some(t),
            None => self.errors.push(ConfigError {
                var: "OBS_PROMETHEUS_TOKEN",
                method: "prometheus_token",
                origin: ConfigOrigin::Builder,
                value: format!("<{} bytes, not shown>", token.len()),
                expected: EXPECT_TOKEN.into(),
            }),
        }
        self
    }
    #[cfg(feature = "prometheus")]
    /// Connections the endpoint serves at once; a new one past it closes the
    /// oldest idle one (`OBS_PROMETHEUS_MAX_CONNECTIONS`; default 64; 1 to 4096).
    pub fn prometheus_max_connections(mut self, n: usize) -> Self {
        let ok = crate::export::prometheus::MAX_CONNECTIONS_RANGE.contains(&n);
        if let Some(n) = self.checked("OBS_PROMETHEUS_MAX_CONNECTIONS", n, ok, EXPECT_CONNECTIONS) {
            self.cfg.prometheus.max_connections = n;
        }
        self
    }
    #[cfg(feature = "prometheus")]
    /// Seconds a connection has to send a request's headers, and an idle
    /// kept-alive connection to send its next request, before it is closed
    /// (`OBS_PROMETHEUS_TIMEOUT_SECS`; default 10; 1 to 3600).
    pub fn prometheus_timeout_secs(mut self, secs: u64) -> Self {
        let ok = crate::export::prometheus::TIMEOUT_SECS_RANGE.contains(&secs);
        if let Some(n) = self.checked("OBS_PROMETHEUS_TIMEOUT_SECS", secs, ok, EXPECT_TIMEOUT) {
            self.cfg.prometheus.timeout = std::time::Duration::from_secs(n);
        }
        self
    }
    #[cfg(feature = "logs")]
    /// `RUST_LOG`-style filter directives (`RUST_LOG`).
    pub fn log_filter(mut self, directives: impl Into<String>) -> Self {
        self.overrides("RUST_LOG");
        self.cfg.log.filter = Some(directives.into());
        self
    }
    #[cfg(feature = "logs")]
    /// The line format (`OBS_LOG_FORMAT`; default console).
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.overrides("OBS_LOG_FORMAT");
        self.cfg.log.format = Some(format.into());
        self
    }
    #[cfg(feature = "logs")]
    /// Where log lines go (`OBS_LOG_OUTPUT`): stderr (default), stdout, a file, a buffer.
    pub fn log_output(mut self, output: LogOutput) -> Self {
        self.overrides("OBS_LOG_OUTPUT");
        self.cfg.log.output = output;
        self
    }
    #[cfg(feature = "logs")]
    /// When a log file rotates (`OBS_LOG_ROTATION`): daily, or by size.
    pub fn log_rotation(mut self, rotation: Rotation) -> Self {
        self.overrides("OBS_LOG_ROTATION");
        self.cfg.log.rotation = rotation;
        self
    }
    #[cfg(feature = "logs")]
    /// Rotated log files kept (`OBS_LOG_MAX_FILES`; default 7).
    pub fn log_max_files(mut self, n: usize) -> Self {
        self.overrides("OBS_LOG_MAX_FILES");
        self.cfg.log.max_files = n;
        self
    }
    #[cfg(feature = "logs")]
    /// Which spans of instrumented calls log lines see (`OBS_LOG_SPANS`).
    pub fn log_spans(mut self, spans: LogSpans) -> Self {
        self.overrides("OBS_LOG_SPANS");
        self.cfg.log.spans = Some(spans);
        self
    }
    #[cfg(feature = "logs")]
    /// Lines queued for the log writer thread before new lines are dropped
    /// (and counted in `obs_log_lines_dropped_total`) (`OBS_LOG_QUEUE`;
    /// default 8192; 1 to 1,000,000).
    pub fn log_queue(mut self, n: usize) -> Self {
        let ok = crate::export::logs::QUEUE_LINES_RANGE.contains(&n);
        if let Some(n) = self.checked("OBS_LOG_QUEUE", n, ok, EXPECT_QUEUE) {
            self.cfg.log.queue_lines = n;
        }
        self
    }
    #[cfg(feature = "otlp")]
    /// Sends traces, metrics and logs over OTLP to this endpoint, and starts
    /// the `otlp` exporter (`OTEL_EXPORTER_OTLP_ENDPOINT`; an `http://` URL,
    /// e.g. `http://127.0.0.1:4318`; over HTTP, `/v1/traces`, `/v1/metrics`
    /// and `/v1/logs` are appended). Replaces the per-signal endpoint
    /// variables too.
    pub fn otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        let ok = crate::export::otlp::valid_endpoint(&url);
        if let Some(url) = self.checked("OTEL_EXPORTER_OTLP_ENDPOINT", url, ok, crate::export::otlp::EXPECTED_ENDPOINT)
        {
            self.cfg.otlp.set_endpoint(url);
        }
        self
    }
    #[cfg(feature = "otlp")]
    /// The OTLP wire protocol (`OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf`
    /// by default, or `grpc`), for every signal.
    pub fn otlp_protocol(mut self, protocol: crate::export::otlp::OtlpProtocol) -> Self {
        self.overrides("OTEL_EXPORTER_OTLP_PROTOCOL");
        self.cfg.otlp.set_protocol(protocol);
        self
    }
    #[cfg(feature = "otlp")]
    /// Headers sent with every OTLP request (`OTEL_EXPORTER_OTLP_HEADERS`),
    /// e.g. `[("authorization", "Bearer ...")]`. A bad name or value is an
    /// error that does not show the value.
    pub fn otlp_headers(mut self, headers: &[(&str, &str)]) -> Self {
        let joined: Vec<String> = headers.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let parsed = crate::export::otlp::parse_headers(&joined.join(","))
            .filter(|p| p.len() == headers.len() && headers.iter().all(|(_, v)| !v.contains([',', '%'])));
        self.overrides("OTEL_EXPORTER_OTLP_HEADERS");
        match parsed {
            Some(h) => self.cfg.otlp.set_headers(h),
            None => self.errors.push(ConfigError {
                var: "OTEL_EXPORTER_OTLP_HEADERS",
                method: "otlp_headers",
                origin: ConfigOrigin::Builder,
                value: format!("<{} headers, not shown>", headers.len()),
                expected: crate::export::otlp::EXPECTED_HEADERS.to_string(),
            }),
        }
        self
    }
    #[cfg(feature = "logs")]
    /// Bytes of lines queued for the log writer thread before new lines are
    /// dropped (`OBS_LOG_QUEUE_BYTES`; default 16 MiB; 64 KiB to 1 GiB).
    pub fn log_queue_bytes(mut self, n: usize) -> Self {
        let ok = crate::export::logs::QUEUE_BYTES_RANGE.contains(&n);
        if let Some(n) = self.checked("OBS_LOG_QUEUE_BYTES", n, ok, EXPECT_QUEUE_BYTES) {
            self.cfg.log.queue_bytes = n;
        }
        self
    }
    /// Loads model prices from this file (obs's format or LiteLLM's JSON) over
    /// the built-in table (`OBS_PRICING_FILE`).
    pub fn pricing_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.overrides("OBS_PRICING_FILE");
        self.pricing_file = Some(path.into());
        self.pricing_file_origin = ConfigOrigin::Builder;
        self
    }
    /// Calls costing more than this log a `high-cost model call` warning
    /// (`OBS_HIGH_COST_USD`; default $1; finite and not negative).
    pub fn high_cost_usd(mut self, usd_limit: f64) -> Self {
        self.high_cost_usd = self.checked("OBS_HIGH_COST_USD", usd_limit, usd(usd_limit).is_some(), EXPECT_USD);
        self
    }
    /// Model calls kept in the ledger (`OBS_LEDGER_CAPACITY`; default 10,000;
    /// 1 to 1,000,000).
    pub fn ledger_capacity(mut self, n: usize) -> Self {
        let ok = (1..=crate::ledger::MAX_CAPACITY).contains(&n);
        self.ledger_capacity = self.checked("OBS_LEDGER_CAPACITY", n, ok, EXPECT_LEDGER);
        self
    }
    /// Captures prompts, completions and tool arguments and results on spans,
    /// redacted (`OBS_CAPTURE_CONTENT`; default off). The same as
    /// [`crate::redact::set_capture`], applied by `init()`.
    pub fn capture_content(mut self, on: bool) -> Self {
        self.overrides("OBS_CAPTURE_CONTENT");
        self.capture_content = Some(on);
        self
    }
    /// Size limit of captured content in bytes (`OBS_CAPTURE_MAX_BYTES`;
    /// default 16384; 1 to 1048576 (1 MiB), and smaller than 16 is raised
    /// to 16). The same as [`crate::redact::set_capture_max_bytes`],
    /// applied by `init()`.
    pub fn capture_max_bytes(mut self, n: usize) -> Self {
        let ok = (1..=crate::redact::capture::MAX_BYTES_LIMIT).contains(&n);
        self.capture_max_bytes = self.checked("OBS_CAPTURE_MAX_BYTES", n, ok, EXPECT_CAPTURE_BYTES);
        self
    }
    #[cfg(feature = "redact-hash")]
    /// The key of `#[redact(hash)]` (`OBS_REDACT_KEY`): at least 16 bytes,
    /// kept secret and shared by every process whose hashes must join. The
    /// same as [`crate::redact::set_hash_key`], applied by `init()`; a
    /// different key already in use is an error.
    pub fn redact_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.overrides("OBS_REDACT_KEY");
        let key = key.as_ref().to_vec();
        match key_problem(&key) {
            None => self.redact_key = Some((SecretKey(key), KeySource::Explicit)),
            Some(expected) => {
                self.redact_key = None;
                self.errors.push(ConfigError {
                    var: "OBS_REDACT_KEY",
                    method: "redact_key",
                    origin: ConfigOrigin::Builder,
                    value: format!("<{} bytes, not shown>", key.len()),
                    expected,
                });
            }
        }
        self
    }

    #[cfg(feature = "redis")]
    /// Shares every budget's spend with the other processes using this Redis
    /// server (`OBS_BUDGET_REDIS_URL`): `redis://[:password@]host:port[/db]`.
    /// See [`crate::budget`] ("Across replicas") and [`crate::budget::shared`].
    pub fn budget_redis_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        let ok = crate::budget::shared::check_url(&url);
        self.budget_store.url = self.checked_budget_url(ConfigOrigin::Builder, url, ok);
        self
    }
    #[cfg(feature = "redis")]
    /// Longest a round trip to the budget store may take before it counts as
    /// unreachable and budgets apply their failure policy
    /// (`OBS_BUDGET_REDIS_TIMEOUT`; default 100 ms; above zero). Calls never
    /// wait for the store.
    pub fn budget_redis_timeout(mut self, timeout: std::time::Duration) -> Self {
        let v = self.checked("OBS_BUDGET_REDIS_TIMEOUT", DisplayDuration(timeout), !timeout.is_zero(), EXPECT_DURATION);
        self.budget_store.timeout = v.map(|d| d.0);
        self
    }
    #[cfg(feature = "redis")]
    /// Longest the local view of the fleet's spend goes without a refresh
    /// (`OBS_BUDGET_REDIS_REFRESH`; default 100 ms; above zero): the window
    /// in the overshoot bound of a hard budget.
    pub fn budget_redis_refresh(mut self, every: std::time::Duration) -> Self {
        let v = self.checked("OBS_BUDGET_REDIS_REFRESH", DisplayDuration(every), !every.is_zero(), EXPECT_DURATION);
        self.budget_store.refresh = v.map(|d| d.0);
        self
    }
    #[cfg(feature = "redis")]
    /// Prefix of the budget store's keys (`OBS_BUDGET_REDIS_PREFIX`; default
    /// `obs:budget`): processes share a budget when they share the prefix.
    pub fn budget_redis_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let ok = prefix_ok(&prefix);
        self.budget_store.prefix = self.checked("OBS_BUDGET_REDIS_PREFIX", prefix, ok, EXPECT_PREFIX);
        self
    }

    /// The level of the log line a failed or panicked call writes, for
    /// every function without its own `err = ..` (`OBS_ERROR_LOG_LEVEL`:
    /// `off`, `error`, `warn`, `info`, `debug`, `trace`; default: ERROR for
    /// agents, WARN for the others). `None` turns those lines off.
    pub fn error_log_level(mut self, level: Option<tracing::Level>) -> Self {
        self.overrides("OBS_ERROR_LOG_LEVEL");
        self.error_log_level = Some(level);
        self
    }

    /// How long `/ready` reuses a health report before the checks run again
    /// (`OBS_HEALTH_CACHE_TTL`: `500ms`, `2s`; default 1 s; at most 1 hour).
    /// Concurrent probes share one run whatever this is.
    pub fn health_cache_ttl(mut self, ttl: std::time::Duration) -> Self {
        let ok = !ttl.is_zero() && ttl <= MAX_HEALTH_CACHE_TTL;
        self.health_cache_ttl =
            self.checked("OBS_HEALTH_CACHE_TTL", DebugDuration(ttl), ok, EXPECT_HEALTH_CACHE_TTL).map(|d| d.0);
        self
    }

    /// Adds an in-process alert rule ([`crate::ops::alerts`]): with at least
    /// one rule, `init()` starts a thread that evaluates them on a snapshot
    /// of the registry every [`Builder::alert_interval`].
    pub fn alert(mut self, rule: crate::ops::alerts::AlertRule) -> Self {
        self.alerts.rules.push(rule);
        self
    }
    /// Adds a notifier of the alert rules' transitions; without any, they
    /// go to [`crate::ops::alerts::LogNotifier`].
    pub fn alert_notifier(mut self, n: impl crate::ops::alerts::Notifier) -> Self {
        self.alerts.notifiers.push(std::sync::Arc::new(n));
        self
    }
    /// Time between two evaluations of the alert rules
    /// (`OBS_ALERT_INTERVAL`; default 15 s; 10 ms to 1 hour).
    pub fn alert_interval(mut self, every: std::time::Duration) -> Self {
        if self
            .checked("OBS_ALERT_INTERVAL", format!("{every:?}"), alert_interval_ok(every), EXPECT_ALERT_INTERVAL)
            .is_some()
        {
            self.alerts.interval = every;
        }
        self
    }
    /// The window over which alert rules compute error ratios, latencies and
    /// cost per hour (`OBS_ALERT_WINDOW`; default 5 minutes; 10 ms to 1 day).
    pub fn alert_window(mut self, window: std::time::Duration) -> Self {
        if self
            .checked("OBS_ALERT_WINDOW", format!("{window:?}"), alert_window_ok(window), EXPECT_ALERT_WINDOW)
            .is_some()
        {
            self.alerts.window = window;
        }
        self
    }

    /// Starts the exporters and turns recording on, all or nothing.
    ///
    /// Every configuration error is returned at once
    /// ([`InitError::Invalid`]). Then the pricing file is parsed and the
    /// exporters start; only when all of them started are the prices, the
    /// limits, the capture settings and the redaction key put in force and
    /// recording turned on. On any error nothing has changed, so a corrected
    /// call can follow; a second successful call is
    /// [`InitError::AlreadyInitialized`].
    pub fn init(self) -> Result<ObsGuard, InitError> {
        let mut errors = self.errors;
        #[allow(unused_mut)]
        let mut names: Vec<String> =
            self.exporters.unwrap_or_else(|| DEFAULT_EXPORTERS.iter().map(|s| s.to_string()).collect());
        // An OTLP endpoint is the request for the OTLP exporter.
        #[cfg(feature = "otlp")]
        if self.cfg.otlp.requested && !names.iter().any(|n| n == "otlp") {
            names.push("otlp".to_string());
        }
        let mut chosen = Vec::new();
        for n in &names {
            match export::find(n) {
                Some(e) => chosen.push(e),
                None => errors.push(ConfigError {
                    var: "OBS_EXPORTERS",
                    method: "exporters",
                    origin: self.exporters_origin,
                    value: n.clone(),
                    expected: format!("one of the exporters in this binary: {}", export::available().join(", ")),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(InitError::Invalid(errors));
        }
        if INITIALIZED.load(Ordering::Acquire) {
            return Err(InitError::AlreadyInitialized);
        }
        // Parsed now, so a bad file fails init() before anything starts; put
        // in force only after every exporter started.
        let prices = match &self.pricing_file {
            Some(path) => Some(
                crate::pricing::read_file(path)
                    .map_err(|error| InitError::Pricing { origin: self.pricing_file_origin, error })?,
            ),
            None => None,
        };
        if INITIALIZED.swap(true, Ordering::AcqRel) {
            return Err(InitError::AlreadyInitialized);
        }
        let mut running: Vec<Box<dyn Running>> = Vec::new();
        // The live view is served by the Prometheus endpoint.
        #[cfg(feature = "ui")]
        let serves_ui = chosen.iter().any(|e| e.name() == "prometheus");
        for e in chosen {
            match e.start(&self.cfg) {
                Ok(r) => running.push(r),
                Err(err) => {
                    for mut r in running {
                        r.shutdown();
                    }
                    INITIALIZED.store(false, Ordering::Release);
                    return Err(InitError::Exporter(err));
                }
            }
        }
        // Every exporter runs: from here on nothing can fail, so the staged
        // configuration goes in force. A file's prices are in force before
        // init() returns (putting them in force parses the built-in table
        // here); without one, the built-in table is parsed off this thread.
        let file_prices_line = match (prices, &self.pricing_file) {
            (Some(p), Some(path)) => {
                let file = p.describe(path);
                p.commit();
                Some(format!("{file} over the built-in table; in force: {}", crate::pricing::describe_table()))
            }
            _ => None,
        };
        if let Some(usd) = self.high_cost_usd {
            crate::llm::set_high_cost_threshold_usd(usd);
        }
        if let Some(n) = self.ledger_capacity {
            crate::ledger::set_capacity(n);
        }
        if let Some(n) = self.cardinality_limit {
            crate::metrics::registry::set_cardinality_limit(n);
        }
        if let Some(n) = self.label_value_max_bytes {
            crate::metrics::registry::set_label_value_max_bytes(n);
        }
        if let Some(on) = self.capture_content {
            crate::redact::set_capture(on);
        }
        if let Some(level) = self.error_log_level {
            crate::failure::set_global_level(level);
        }
        if let Some(ttl) = self.health_cache_ttl {
            crate::health::set_cache_ttl(ttl);
        }
        if let Some(n) = self.capture_max_bytes {
            crate::redact::set_capture_max_bytes(n);
        }
        if let Some(d) = self.conversation_idle_timeout {
            crate::conversation::set_idle_timeout(d);
        }
        #[cfg(feature = "redact-hash")]
        if let Some(SecretKey(key)) = &self.feedback_key {
            if let Err(e) = crate::eval::set_feedback_key(key) {
                tracing::warn!(target: "obs_runtime", "OBS_FEEDBACK_KEY not applied: {e}");
            }
        }
        #[cfg(feature = "redact-hash")]
        if let Some((SecretKey(key), source)) = &self.redact_key {
            // Checked when it was given; only a key installed since then by
            // another thread can refuse it, and init() is past failing.
            if let Err(e) = crate::redact::hash::install_key(key, *source) {
                tracing::warn!(target: "obs_runtime", "OBS_REDACT_KEY not applied: {e}");
            }
        }
        for r in &mut running {
            r.commit();
        }
        // The live view collects runs once the subscriber is in place.
        #[cfg(feature = "ui")]
        let ui_url = live_view(self.cfg.prometheus.ui, serves_ui, &running).map(|(view, url)| {
            running.push(view);
            url
        });
        #[cfg(not(feature = "ui"))]
        let ui_url: Option<String> = None;
        #[cfg(feature = "redis")]
        if let Some(store) = self.budget_store.start() {
            running.push(store);
        }
        // Another recorder may already be installed by the application: keep it.
        #[cfg(feature = "metrics-facade")]
        let _ = metrics::set_global_recorder(crate::metrics::facade::ObsRecorder);
        crate::catalog::materialize();
        if !self.alerts.rules.is_empty() {
            match crate::ops::alerts::Evaluator::start(self.alerts.clone()) {
                Ok(e) => running.push(Box::new(Alerts(e))),
                Err(e) => tracing::error!(target: "obs_runtime::alerts", "alert rules not evaluated: {e}"),
            }
        }
        #[cfg(any(feature = "prometheus", feature = "otlp"))]
        crate::process::set_build_info(&self.cfg.service_name);
        crate::call::enable();
        // A panic's message in its failure line, through the detectors.
        crate::failure::install_panic_hook(|m| crate::redact::scan(m).into_owned());
        if env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() && export::find("otlp").is_none() {
            tracing::warn!(
                target: "obs_runtime",
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but this build of obs has no OTLP exporter (feature `otlp` of \
                 obs-runtime); traces and metrics stay local"
            );
        }
        for r in &running {
            tracing::info!(target: "obs_runtime", service = %self.cfg.service_name, "obs: {}", r.describe());
        }
        // Which prices costs are computed with: a stale or wrong file shows
        // here, not months later in a bill.
        let prices = match file_prices_line {
            Some(line) => {
                tracing::info!(target: "obs_runtime", service = %self.cfg.service_name, "obs: prices: {line}");
                None
            }
            None => warm_prices(self.cfg.service_name.clone()),
        };
        Ok(ObsGuard { running, prices, ui_url })
    }
}

/// Parses the built-in price table (about 40 ms in a release build) on a
/// thread of its own, then says which prices are in force, so neither
/// `init()` nor the first priced call pays for it. No race: the table is
/// built once, behind a lock; a price looked up meanwhile (at the end of a
/// model call, so rarely this early) waits for it, and never sees it half
/// built. The guard's `flush` and drop wait for the thread, so the line is
/// written before the logs are flushed.
fn warm_prices(service: String) -> Option<std::thread::JoinHandle<()>> {
    // The thread logs through the subscriber init() was called under.
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let announce = move || {
        let line = crate::pricing::describe_table();
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!(target: "obs_runtime", service = %service, "obs: prices: built-in table, {line}");
        });
    };
    match std::thread::Builder::new().name("obs-prices".into()).spawn(announce.clone()) {
        Ok(h) => Some(h),
        Err(_) => {
            announce();
            None
        }
    }
}

/// The builder method of each variable (the table on [`Builder`]).
fn method_of(var: &str) -> &'static str {
    match var {
        "OBS_CONVERSATION_IDLE_TIMEOUT" => "conversation_idle_timeout",
        "OBS_FEEDBACK_KEY" => "feedback_key",
        "OTEL_SERVICE_NAME" => "service_name",
        "OBS_EXPORTERS" => "exporters",
        "OBS_PROMETHEUS_ADDR" => "prometheus_addr",
        "OBS_NAMESPACE" => "namespace",
        "OBS_CARDINALITY_LIMIT" => "cardinality_limit",
        "RUST_LOG" => "log_filter",
        "OBS_LOG_FORMAT" => "log_format",
        "OBS_LOG_OUTPUT" => "log_output",
        "OBS_LOG_ROTATION" => "log_rotation",
        "OBS_LOG_MAX_FILES" => "log_max_files",
        "OBS_LOG_SPANS" => "log_spans",
        "OBS_LOG_QUEUE" => "log_queue",
        "OBS_PRICING_FILE" => "pricing_file",
        "OBS_HIGH_COST_USD" => "high_cost_usd",
        "OBS_LEDGER_CAPACITY" => "ledger_capacity",
        "OBS_CAPTURE_CONTENT" => "capture_content",
        "OBS_CAPTURE_MAX_BYTES" => "capture_max_bytes",
        "OBS_REDACT_KEY" => "redact_key",
        "OTEL_EXPORTER_OTLP_ENDPOINT" => "otlp_endpoint",
        "OTEL_EXPORTER_OTLP_PROTOCOL" => "otlp_protocol",
        "OTEL_EXPORTER_OTLP_HEADERS" => "otlp_headers",
        "OBS_LABEL_VALUE_MAX_BYTES" => "label_value_max_bytes",
        "OBS_LOG_QUEUE_BYTES" => "log_queue_bytes",
        "OBS_PROMETHEUS_TOKEN" => "prometheus_token",
        "OBS_PROMETHEUS_MAX_CONNECTIONS" => "prometheus_max_connections",
        "OBS_PROMETHEUS_TIMEOUT_SECS" => "prometheus_timeout_secs",
        "OBS_BUDGET_REDIS_URL" => "budget_redis_url",
        "OBS_ERROR_LOG_LEVEL" => "error_log_level",
        "OBS_HEALTH_CACHE_TTL" => "health_cache_ttl",
        "OBS_BUDGET_REDIS_TIMEOUT" => "budget_redis_timeout",
        "OBS_BUDGET_REDIS_REFRESH" => "budget_redis_refresh",
        "OBS_BUDGET_REDIS_PREFIX" => "budget_redis_prefix",
        "OBS_ALERT_INTERVAL" => "alert_interval",
        "OBS_ALERT_WINDOW" => "alert_window",
        "OBS_UI" => "ui",
        "OBS_UI_RUNS" => "ui_runs",
        "OBS_UI_RUN_CALLS" => "ui_run_calls",
        "OBS_UI_MAX_BYTES" => "ui_max_bytes",
        _ => "",
    }
}

// ---- Quality and conversations (issue 25) ----

const EXPECT_IDLE_TIMEOUT: &str = "a duration from 1s to 7 days, such as 90s or 30m (units ms, s, m)";

fn idle_timeout_ok(d: std::time::Duration) -> bool {
    crate::conversation::IDLE_TIMEOUT_RANGE.contains(&d)
}

#[cfg(feature = "redact-hash")]
fn feedback_key_problem(key: &[u8]) -> Option<String> {
    match crate::eval::check_feedback_key(key) {
        Ok(()) => None,
        Err(crate::eval::FeedbackKeyError::TooShort { .. }) => {
            Some("at least 16 bytes, random and kept secret (e.g. `openssl rand -hex 32`)".to_string())
        }
        Err(e) => Some(format!("the key already in use: {e}")),
    }
}

impl Builder {
    /// `OBS_CONVERSATION_IDLE_TIMEOUT` and `OBS_FEEDBACK_KEY`, read by [`Builder::from_env`].
    fn quality_from_env(&mut self) {
        if let Some(v) = self.var("OBS_CONVERSATION_IDLE_TIMEOUT") {
            let d = parse_duration(&v).filter(|d| idle_timeout_ok(*d));
            self.conversation_idle_timeout =
                self.checked_env("OBS_CONVERSATION_IDLE_TIMEOUT", &v, d, EXPECT_IDLE_TIMEOUT);
        }
        // Read raw, as OBS_REDACT_KEY: shown by its length only.
        if let Some(v) = std::env::var_os("OBS_FEEDBACK_KEY").filter(|v| !v.is_empty()) {
            let key = v.into_encoded_bytes();
            #[cfg(feature = "redact-hash")]
            match feedback_key_problem(&key) {
                None => self.feedback_key = Some(SecretKey(key)),
                Some(expected) => self.feedback_key_error(ConfigOrigin::Env, key.len(), expected),
            }
            #[cfg(not(feature = "redact-hash"))]
            self.feedback_key_error(
                ConfigOrigin::Env,
                key.len(),
                "a build of obs-runtime with the `redact-hash` feature (HMAC-SHA256 signs feedback tokens)".into(),
            );
        }
    }

    fn feedback_key_error(&mut self, origin: ConfigOrigin, len: usize, expected: String) {
        self.errors.push(ConfigError {
            var: "OBS_FEEDBACK_KEY",
            method: "feedback_key",
            origin,
            value: format!("<{len} bytes, not shown>"),
            expected,
        });
    }

    /// How long a conversation may go without a model call before it ends
    /// and its turns, duration and cost are recorded
    /// (`OBS_CONVERSATION_IDLE_TIMEOUT`; default 30 minutes; 1 s to 7 days).
    /// See [`crate::conversation`].
    pub fn conversation_idle_timeout(mut self, idle: std::time::Duration) -> Self {
        let ok = idle_timeout_ok(idle);
        self.conversation_idle_timeout =
            self.checked("OBS_CONVERSATION_IDLE_TIMEOUT", DebugDuration(idle), ok, EXPECT_IDLE_TIMEOUT).map(|d| d.0);
        self
    }

    #[cfg(feature = "redact-hash")]
    /// The key that signs and checks feedback tokens (`OBS_FEEDBACK_KEY`):
    /// at least 16 bytes, kept secret, the same in every process that hands
    /// out or takes tokens. The same as [`crate::eval::set_feedback_key`],
    /// applied by `init()`.
    pub fn feedback_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.overrides("OBS_FEEDBACK_KEY");
        let key = key.as_ref().to_vec();
        match feedback_key_problem(&key) {
            None => self.feedback_key = Some(SecretKey(key)),
            Some(expected) => {
                self.feedback_key = None;
                self.feedback_key_error(ConfigOrigin::Builder, key.len(), expected);
            }
        }
        self
    }
}

// ---- Failure lines and health checks (issue 14) ----

const EXPECT_ERROR_LEVEL: &str = "off, or a level: error, warn, info, debug, trace";
const EXPECT_HEALTH_CACHE_TTL: &str = "a duration above zero and at most 1 hour, such as 500ms or 2s (units ms, s, m)";
const MAX_HEALTH_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// `OBS_ERROR_LOG_LEVEL`: `Some(None)` for off.
fn parse_error_level(v: &str) -> Option<Option<tracing::Level>> {
    match v.trim().to_ascii_lowercase().as_str() {
        "off" | "none" | "false" => Some(None),
        "error" => Some(Some(tracing::Level::ERROR)),
        "warn" | "warning" => Some(Some(tracing::Level::WARN)),
        "info" => Some(Some(tracing::Level::INFO)),
        "debug" => Some(Some(tracing::Level::DEBUG)),
        "trace" => Some(Some(tracing::Level::TRACE)),
        _ => None,
    }
}

/// A duration as builder errors show it.
#[derive(Clone, Copy)]
struct DebugDuration(std::time::Duration);

impl fmt::Display for DebugDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

// ---- Budgets shared through Redis (OBS_BUDGET_REDIS_*, feature `redis`) ----

const EXPECT_DURATION: &str = "a duration above zero such as 100ms or 2s (units ms, s, m)";
const EXPECT_PREFIX: &str = "a key prefix without spaces, e.g. obs:budget";

/// The budget store's settings: defaults, then `OBS_BUDGET_REDIS_*`, then
/// the `budget_redis_*` builder methods. A URL turns the store on.
#[derive(Clone, Debug, Default)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
struct BudgetStoreConfig {
    url: Option<String>,
    timeout: Option<std::time::Duration>,
    refresh: Option<std::time::Duration>,
    prefix: Option<String>,
}

const EXPECT_ALERT_INTERVAL: &str = "a duration from 10ms to 60m, e.g. 15s";
const EXPECT_ALERT_WINDOW: &str = "a duration from 10ms to 1440m (a day), e.g. 5m";

fn alert_interval_ok(d: std::time::Duration) -> bool {
    (std::time::Duration::from_millis(10)..=std::time::Duration::from_secs(3600)).contains(&d)
}

fn alert_window_ok(d: std::time::Duration) -> bool {
    (std::time::Duration::from_millis(10)..=std::time::Duration::from_secs(86_400)).contains(&d)
}

/// `100ms`, `2s`, `1m`: above zero.
fn parse_duration(v: &str) -> Option<std::time::Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit())?;
    let n: u64 = v[..split].parse().ok()?;
    let d = match v[split..].trim() {
        "ms" => std::time::Duration::from_millis(n),
        "s" => std::time::Duration::from_secs(n),
        "m" => std::time::Duration::from_secs(n.checked_mul(60)?),
        _ => return None,
    };
    Some(d).filter(|d| !d.is_zero())
}

fn prefix_ok(p: &str) -> bool {
    !p.is_empty() && !p.chars().any(char::is_whitespace)
}

/// A duration as configuration errors show it.
#[cfg(feature = "redis")]
#[derive(Clone, Copy)]
struct DisplayDuration(std::time::Duration);

#[cfg(feature = "redis")]
impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Builder {
    fn budget_store_from_env(&mut self) {
        if let Some(url) = self.var("OBS_BUDGET_REDIS_URL") {
            #[cfg(feature = "redis")]
            {
                let ok = crate::budget::shared::check_url(&url);
                self.budget_store.url = self.checked_budget_url(ConfigOrigin::Env, url, ok);
            }
            #[cfg(not(feature = "redis"))]
            self.checked_env::<()>(
                "OBS_BUDGET_REDIS_URL",
                &redact_url(&url),
                None,
                "a build of obs-runtime with the `redis` feature (budgets shared through Redis); without it each process would count only its own spend",
            );
        }
        if let Some(v) = self.var("OBS_BUDGET_REDIS_TIMEOUT") {
            self.budget_store.timeout =
                self.checked_env("OBS_BUDGET_REDIS_TIMEOUT", &v, parse_duration(&v), EXPECT_DURATION);
        }
        if let Some(v) = self.var("OBS_BUDGET_REDIS_REFRESH") {
            self.budget_store.refresh =
                self.checked_env("OBS_BUDGET_REDIS_REFRESH", &v, parse_duration(&v), EXPECT_DURATION);
        }
        if let Some(v) = self.var("OBS_BUDGET_REDIS_PREFIX") {
            let ok = prefix_ok(&v).then(|| v.clone());
            self.budget_store.prefix = self.checked_env("OBS_BUDGET_REDIS_PREFIX", &v, ok, EXPECT_PREFIX);
        }
    }

    /// The URL when usable, else an error that shows it without credentials.
    #[cfg(feature = "redis")]
    fn checked_budget_url(&mut self, origin: ConfigOrigin, url: String, ok: Result<(), String>) -> Option<String> {
        self.overrides("OBS_BUDGET_REDIS_URL");
        match ok {
            Ok(()) => Some(url),
            Err(e) => {
                self.errors.push(ConfigError {
                    var: "OBS_BUDGET_REDIS_URL",
                    method: "budget_redis_url",
                    origin,
                    value: crate::budget::shared::redact_url(&url),
                    expected: format!(
                        "a Redis URL such as redis://127.0.0.1:6379/0 or redis://:password@host:6379 ({e})"
                    ),
                });
                None
            }
        }
    }
}

/// `url` without its user and password (the feature's own copy is in `budget::shared`).
#[cfg(not(feature = "redis"))]
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => format!("{}***@{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(feature = "redis")]
impl BudgetStoreConfig {
    /// Starts the store when a URL is set; a store that cannot start (no
    /// thread) leaves budgets in-process and says so.
    fn start(&self) -> Option<Box<dyn Running>> {
        use crate::budget::shared;
        let cfg = shared::Config {
            url: self.url.clone()?,
            timeout: self.timeout.unwrap_or(shared::DEFAULT_TIMEOUT),
            refresh: self.refresh.unwrap_or(shared::DEFAULT_REFRESH),
            prefix: self.prefix.clone().unwrap_or_else(|| shared::DEFAULT_PREFIX.to_string()),
        };
        match shared::start(cfg) {
            Ok(h) => Some(Box::new(BudgetStore(h))),
            Err(e) => {
                tracing::error!(target: "obs_runtime::budget", "the shared budget store did not start: {e}; budgets count this process's spend only");
                None
            }
        }
    }
}

/// The budget store as one of the guard's running parts: described at
/// start, flushed and stopped with the exporters.
#[cfg(feature = "redis")]
struct BudgetStore(crate::budget::shared::Handle);

#[cfg(feature = "redis")]
impl Running for BudgetStore {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn flush(&mut self) {
        self.0.flush();
    }
    fn shutdown(&mut self) {
        self.0.shutdown();
    }
}

/// The alert evaluator as one of the guard's running parts.
struct Alerts(crate::ops::alerts::Evaluator);

impl Running for Alerts {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn shutdown(&mut self) {
        self.0.shutdown();
    }
}

// ---- The live view (issue 24, feature `ui`) ----

#[cfg(feature = "ui")]
const EXPECT_UI_RUNS: &str = "a number of runs from 1 to 100000";
#[cfg(feature = "ui")]
const EXPECT_UI_RUN_CALLS: &str = "a number of calls from 1 to 100000";
#[cfg(feature = "ui")]
const EXPECT_UI_BYTES: &str = "a number of bytes from 1048576 (1 MiB) to 1073741824 (1 GiB), e.g. 16777216";

impl Builder {
    /// `OBS_UI`, `OBS_UI_RUNS`, `OBS_UI_RUN_CALLS`, `OBS_UI_MAX_BYTES`.
    fn ui_from_env(&mut self) {
        #[cfg(feature = "ui")]
        {
            use crate::runs::{MAX_BYTES_RANGE, RUNS_RANGE, RUN_CALLS_RANGE};
            if let Some(v) = self.var("OBS_UI") {
                if let Some(on) = self.checked_env("OBS_UI", &v, parse_bool(&v), EXPECT_CAPTURE) {
                    self.cfg.prometheus.ui.on = on;
                }
            }
            if let Some(v) = self.var("OBS_UI_RUNS") {
                if let Some(n) = self.checked_env("OBS_UI_RUNS", &v, within(&v, RUNS_RANGE), EXPECT_UI_RUNS) {
                    self.cfg.prometheus.ui.runs = n;
                }
            }
            if let Some(v) = self.var("OBS_UI_RUN_CALLS") {
                let n = within(&v, RUN_CALLS_RANGE);
                if let Some(n) = self.checked_env("OBS_UI_RUN_CALLS", &v, n, EXPECT_UI_RUN_CALLS) {
                    self.cfg.prometheus.ui.run_calls = n;
                }
            }
            if let Some(v) = self.var("OBS_UI_MAX_BYTES") {
                if let Some(n) = self.checked_env("OBS_UI_MAX_BYTES", &v, within(&v, MAX_BYTES_RANGE), EXPECT_UI_BYTES)
                {
                    self.cfg.prometheus.ui.max_bytes = n;
                }
            }
        }
        // Without the feature, asking for the view is an error that names
        // it (turning it off is what the build does already).
        #[cfg(not(feature = "ui"))]
        for var in ["OBS_UI", "OBS_UI_RUNS", "OBS_UI_RUN_CALLS", "OBS_UI_MAX_BYTES"] {
            if let Some(v) = self.var(var) {
                if var == "OBS_UI" && parse_bool(&v) == Some(false) {
                    continue;
                }
                self.checked_env::<()>(
                    var,
                    &v,
                    None,
                    "a build of obs-runtime with the `ui` feature (the live view; on in the default features)",
                );
            }
        }
    }

    #[cfg(feature = "ui")]
    /// Serves the live view at `/` of the Prometheus endpoint (the page and
    /// `/api/...`) and collects recent runs for it (`OBS_UI`; default on
    /// when the Prometheus exporter runs). Off, instrumented calls pay
    /// nothing for it and `/` answers 404.
    pub fn ui(mut self, on: bool) -> Self {
        self.overrides("OBS_UI");
        self.cfg.prometheus.ui.on = on;
        self
    }
    #[cfg(feature = "ui")]
    /// Finished runs the live view keeps (`OBS_UI_RUNS`; default 500; 1 to
    /// 100,000); the oldest go first, the last 10 of each agent last.
    pub fn ui_runs(mut self, n: usize) -> Self {
        let ok = crate::runs::RUNS_RANGE.contains(&n);
        if let Some(n) = self.checked("OBS_UI_RUNS", n, ok, EXPECT_UI_RUNS) {
            self.cfg.prometheus.ui.runs = n;
        }
        self
    }
    #[cfg(feature = "ui")]
    /// Calls kept per run (`OBS_UI_RUN_CALLS`; default 2,000; 1 to 100,000);
    /// a run with more is cut, says how many it left out, and still counts
    /// every call in its totals.
    pub fn ui_run_calls(mut self, n: usize) -> Self {
        let ok = crate::runs::RUN_CALLS_RANGE.contains(&n);
        if let Some(n) = self.checked("OBS_UI_RUN_CALLS", n, ok, EXPECT_UI_RUN_CALLS) {
            self.cfg.prometheus.ui.run_calls = n;
        }
        self
    }
    #[cfg(feature = "ui")]
    /// The run store's memory bound in bytes (`OBS_UI_MAX_BYTES`; default
    /// 16 MiB; 1 MiB to 1 GiB): runs, calls, messages, captured content and
    /// failure groups all count against it, whatever the load.
    pub fn ui_max_bytes(mut self, n: usize) -> Self {
        let ok = crate::runs::MAX_BYTES_RANGE.contains(&n);
        if let Some(n) = self.checked("OBS_UI_MAX_BYTES", n, ok, EXPECT_UI_BYTES) {
            self.cfg.prometheus.ui.max_bytes = n;
        }
        self
    }
}

/// Starts collecting runs when the view is on and served, installing obs's
/// layer as the subscriber when nothing installed one (no `logs` exporter):
/// runs come from spans, which need a subscriber. The running part and the
/// page's address.
#[cfg(feature = "ui")]
fn live_view(
    ui: crate::export::ui::UiConfig,
    serves_ui: bool,
    running: &[Box<dyn Running>],
) -> Option<(Box<dyn Running>, String)> {
    if !(serves_ui && ui.on) {
        return None;
    }
    if !tracing::dispatcher::has_been_set() {
        // The run store's layer alone: with no logs and no trace export,
        // obs's whole layer would give every call's span OpenTelemetry ids
        // through the bridge that nothing reads (about 0.9 µs a call in the
        // `metrics` bench; runs show no trace id then).
        use tracing_subscriber::layer::SubscriberExt as _;
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(crate::runs::layer(|| None, false)),
        );
    }
    ui.start();
    let url = format!("http://{}/", running.iter().find_map(|r| r.local_addr())?);
    Some((Box::new(LiveView { url: url.clone(), cfg: ui }), url))
}

/// `true`/`false`, `1`/`0` (and `on`/`off`).
fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" => Some(true),
        "false" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// The live view as one of the guard's running parts: stops collecting
/// runs when the guard drops.
#[cfg(feature = "ui")]
struct LiveView {
    url: String,
    cfg: crate::export::ui::UiConfig,
}

#[cfg(feature = "ui")]
impl Running for LiveView {
    fn describe(&self) -> String {
        format!(
            "live view on {} (the last {} runs, {} calls each, within {} MiB)",
            self.url,
            self.cfg.runs,
            self.cfg.run_calls,
            self.cfg.max_bytes >> 20
        )
    }
    fn shutdown(&mut self) {
        crate::runs::set_collecting(false);
    }
}

/// Keeps the exporters running; flushes and stops them when dropped.
#[must_use = "exporters stop when the guard is dropped: bind it, e.g. `let _obs = obs_runtime::init()?;`"]
pub struct ObsGuard {
    running: Vec<Box<dyn Running>>,
    /// The thread parsing the built-in price table, until it is joined.
    prices: Option<std::thread::JoinHandle<()>>,
    ui_url: Option<String>,
}

impl ObsGuard {
    /// The address `/metrics` is served on, when the Prometheus exporter runs.
    pub fn prometheus_addr(&self) -> Option<SocketAddr> {
        self.running.iter().find_map(|r| r.local_addr())
    }

    /// The live view's address (`http://127.0.0.1:9464/`), when it is
    /// served: feature `ui`, `OBS_UI` not `false`, and the Prometheus
    /// exporter running.
    pub fn ui_url(&self) -> Option<&str> {
        self.ui_url.as_deref()
    }

    /// One line per running exporter.
    pub fn describe(&self) -> Vec<String> {
        self.running.iter().map(|r| r.describe()).collect()
    }

    /// Flushes every exporter now (after the start-up lines are all written,
    /// the prices line coming from a thread of its own, and the count lines
    /// of the groups of failures whose window is over).
    pub fn flush(&mut self) {
        self.prices_announced();
        crate::failure::flush_due();
        for r in &mut self.running {
            r.flush();
        }
    }
}

impl ObsGuard {
    fn prices_announced(&mut self) {
        if let Some(h) = self.prices.take() {
            let _ = h.join();
        }
    }
}

impl Drop for ObsGuard {
    fn drop(&mut self) {
        self.prices_announced();
        // Failures counted since their group's last line would be lost.
        crate::failure::flush_all();
        // Each exporter's shutdown flushes within its own bound; a flush
        // first would double the wait on a backend that does not answer.
        // Last started, first stopped: the log writer stays up for what the
        // others report while they stop (a failed last OTLP send).
        for r in self.running.iter_mut().rev() {
            r.shutdown();
        }
    }
}
