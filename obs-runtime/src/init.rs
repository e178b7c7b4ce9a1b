//! `init()`: configuration from defaults, environment and a builder; starts
//! the exporters and turns recording on.

use crate::export::logs::{LogFormat, LogOutput, LogSpans, Rotation};
use crate::export::{self, ExportError, ExporterConfig, Running};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Exporters started when neither `OBS_EXPORTERS` nor the builder names any.
pub const DEFAULT_EXPORTERS: &[&str] = &["logs", "prometheus"];

/// Why `init()` did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitError {
    /// `init()` already ran in this process; keep the first guard alive.
    AlreadyInitialized,
    /// An exporter name that is not linked into this binary.
    UnknownExporter {
        /// The name asked for.
        name: String,
        /// The names that exist.
        available: Vec<&'static str>,
    },
    /// An environment variable holds a value that cannot be used.
    InvalidEnv {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
    /// An exporter could not start.
    Exporter(ExportError),
    /// The pricing file (`OBS_PRICING_FILE`) could not be loaded; the
    /// built-in prices stay in force.
    Pricing(crate::pricing::PricingError),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::AlreadyInitialized => write!(
                f,
                "obs is already initialised in this process: call init() once, at the start of main, and keep its guard alive"
            ),
            InitError::UnknownExporter { name, available } => write!(
                f,
                "unknown exporter `{name}` in OBS_EXPORTERS: the exporters in this binary are {}",
                available.join(", ")
            ),
            InitError::InvalidEnv { var, value, expected } => {
                write!(f, "{var}=`{value}` cannot be used: expected {expected}")
            }
            InitError::Exporter(e) => write!(f, "{e}"),
            InitError::Pricing(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for InitError {}

/// Configuration for [`Builder::init`]; [`crate::init`] is `Builder::from_env().init()`.
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
    cardinality_limit: Option<usize>,
    pricing_file: Option<std::path::PathBuf>,
    high_cost_usd: Option<f64>,
    ledger_capacity: Option<usize>,
    errors: Vec<InitError>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

impl Builder {
    /// Embedded defaults only; the environment is not read.
    pub fn new() -> Builder {
        Builder {
            cfg: ExporterConfig { service_name: "unknown_service".into(), ..ExporterConfig::default() },
            exporters: None,
            cardinality_limit: None,
            pricing_file: None,
            high_cost_usd: None,
            ledger_capacity: None,
            errors: Vec::new(),
        }
    }

    /// Defaults overridden by `OTEL_SERVICE_NAME`, `RUST_LOG`, `OBS_EXPORTERS`,
    /// `OBS_PROMETHEUS_ADDR`, `OBS_NAMESPACE`, `OBS_CARDINALITY_LIMIT` and
    /// the log settings below. Builder calls made after this override the
    /// environment.
    ///
    /// | variable | values | default |
    /// |---|---|---|
    /// | `OBS_LOG_FORMAT` | `console`, `json` | `console` |
    /// | `RUST_LOG` | directives: `info,obs_runtime=debug,my_agent::planner=trace` | `info` |
    /// | `OBS_LOG_OUTPUT` | `stderr`, `stdout`, or a file path | `stderr` |
    /// | `OBS_LOG_ROTATION` | `never`, `daily`, or a size (`100MB`, `512KiB`) | `never` |
    /// | `OBS_LOG_MAX_FILES` | rotated files kept | `7` |
    /// | `OBS_LOG_SPANS` | instrumented spans lines see: `none`, `genai`, `all` | `none` (console), `genai` (json) |
    /// | `OBS_LOG_QUEUE` | lines queued for the writer before new ones are dropped | `8192` |
    pub fn from_env() -> Builder {
        let mut b = Builder::new();
        if let Some(v) = env("OTEL_SERVICE_NAME") {
            b.cfg.service_name = v;
        }
        b.cfg.log.filter = env("RUST_LOG");
        b.cfg.prometheus_addr = env("OBS_PROMETHEUS_ADDR");
        b.pricing_file = env("OBS_PRICING_FILE").map(Into::into);
        if let Some(v) = env("OBS_HIGH_COST_USD") {
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => b.high_cost_usd = Some(x),
                _ => b.errors.push(InitError::InvalidEnv {
                    var: "OBS_HIGH_COST_USD",
                    value: v,
                    expected: "a cost in US dollars, e.g. 1.5",
                }),
            }
        }
        if let Some(v) = env("OBS_LEDGER_CAPACITY") {
            match v.parse::<usize>() {
                Ok(n) if n > 0 => b.ledger_capacity = Some(n),
                _ => b.errors.push(InitError::InvalidEnv {
                    var: "OBS_LEDGER_CAPACITY",
                    value: v,
                    expected: "a positive number of model calls to keep",
                }),
            }
        }
        b.cfg.namespace = env("OBS_NAMESPACE");
        if let Some(v) = env("OBS_EXPORTERS") {
            b.exporters = Some(v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
        }
        b.log_env();
        if let Some(v) = env("OBS_CARDINALITY_LIMIT") {
            match v.parse::<usize>() {
                Ok(n) if n > 0 => b.cardinality_limit = Some(n),
                _ => b.errors.push(InitError::InvalidEnv {
                    var: "OBS_CARDINALITY_LIMIT",
                    value: v,
                    expected: "a positive number of series per metric",
                }),
            }
        }
        b
    }

    /// `service.name` of this process.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.cfg.service_name = name.into();
        self
    }
    /// Prefix for every metric name (`{namespace}_llm_calls_total`).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.cfg.namespace = Some(ns.into());
        self
    }
    /// Where `/metrics` is served (`127.0.0.1:9464` by default; port 0 picks a free port).
    pub fn prometheus_addr(mut self, addr: impl Into<String>) -> Self {
        self.cfg.prometheus_addr = Some(addr.into());
        self
    }
    /// The exporters to start, by name (default: `logs`, `prometheus`).
    pub fn exporters(mut self, names: &[&str]) -> Self {
        self.exporters = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }
    /// `json` or `console` (a [`LogFormat`] works too).
    pub fn log_format(mut self, format: impl Into<String>) -> Self {
        self.cfg.log.format = Some(format.into());
        self
    }
    /// `RUST_LOG`-style filter directives.
    pub fn log_filter(mut self, directives: impl Into<String>) -> Self {
        self.cfg.log.filter = Some(directives.into());
        self
    }
    /// Where log lines go: stderr (default), stdout, a file, a buffer.
    pub fn log_output(mut self, output: LogOutput) -> Self {
        self.cfg.log.output = output;
        self
    }
    /// When a log file rotates (daily, or by size).
    pub fn log_rotation(mut self, rotation: Rotation) -> Self {
        self.cfg.log.rotation = rotation;
        self
    }
    /// Rotated log files kept.
    pub fn log_max_files(mut self, n: usize) -> Self {
        self.cfg.log.max_files = n;
        self
    }
    /// Which spans of instrumented calls log lines see.
    pub fn log_spans(mut self, spans: LogSpans) -> Self {
        self.cfg.log.spans = Some(spans);
        self
    }
    /// Lines queued for the log writer thread before new lines are dropped
    /// (and counted in `obs_log_lines_dropped_total`).
    pub fn log_queue_lines(mut self, n: usize) -> Self {
        self.cfg.log.queue_lines = n.max(1);
        self
    }

    /// Reads the `OBS_LOG_*` variables.
    fn log_env(&mut self) {
        if let Some(v) = env("OBS_LOG_FORMAT") {
            match LogFormat::parse(&v) {
                Some(f) => self.cfg.log.format = Some(f.into()),
                None => self.errors.push(InitError::InvalidEnv {
                    var: "OBS_LOG_FORMAT",
                    value: v,
                    expected: "json or console",
                }),
            }
        }
        if let Some(v) = env("OBS_LOG_SPANS") {
            match LogSpans::parse(&v) {
                Some(s) => self.cfg.log.spans = Some(s),
                None => self.errors.push(InitError::InvalidEnv {
                    var: "OBS_LOG_SPANS",
                    value: v,
                    expected: "none, genai or all (false and true also work)",
                }),
            }
        }
        if let Some(v) = env("OBS_LOG_OUTPUT") {
            self.cfg.log.output = LogOutput::parse(&v);
        }
        if let Some(v) = env("OBS_LOG_ROTATION") {
            match Rotation::parse(&v) {
                Some(r) => self.cfg.log.rotation = r,
                None => self.errors.push(InitError::InvalidEnv {
                    var: "OBS_LOG_ROTATION",
                    value: v,
                    expected: "never, daily, or a size such as 100MB",
                }),
            }
        }
        for (var, slot, zero_ok) in [
            ("OBS_LOG_MAX_FILES", &mut self.cfg.log.max_files, true),
            ("OBS_LOG_QUEUE", &mut self.cfg.log.queue_lines, false),
        ] {
            if let Some(v) = env(var) {
                match v.trim().parse::<usize>() {
                    Ok(n) if zero_ok || n > 0 => *slot = n,
                    _ => self.errors.push(InitError::InvalidEnv {
                        var,
                        value: v,
                        expected: if zero_ok { "a number of files" } else { "a positive number of lines" },
                    }),
                }
            }
        }
    }
    /// Series per metric before new label sets share the overflow series.
    pub fn cardinality_limit(mut self, n: usize) -> Self {
        self.cardinality_limit = Some(n);
        self
    }
    /// Loads model prices from this file (obs's format or LiteLLM's JSON) over
    /// the built-in table (`OBS_PRICING_FILE`).
    pub fn pricing_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.pricing_file = Some(path.into());
        self
    }
    /// Calls costing more than this log a `high-cost model call` warning
    /// (default $1; `OBS_HIGH_COST_USD`).
    pub fn high_cost_threshold_usd(mut self, usd: f64) -> Self {
        self.high_cost_usd = Some(usd);
        self
    }
    /// Model calls kept in the ledger (default 10,000; `OBS_LEDGER_CAPACITY`).
    pub fn ledger_capacity(mut self, n: usize) -> Self {
        self.ledger_capacity = Some(n);
        self
    }

    /// Starts the exporters and turns recording on. Fails without side
    /// effects when the configuration is wrong or an exporter cannot start,
    /// so a corrected call can follow; a second successful call is
    /// [`InitError::AlreadyInitialized`].
    pub fn init(self) -> Result<ObsGuard, InitError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let names: Vec<String> =
            self.exporters.unwrap_or_else(|| DEFAULT_EXPORTERS.iter().map(|s| s.to_string()).collect());
        let mut chosen = Vec::new();
        for n in &names {
            match export::find(n) {
                Some(e) => chosen.push(e),
                None => return Err(InitError::UnknownExporter { name: n.clone(), available: export::available() }),
            }
        }
        if INITIALIZED.load(Ordering::Acquire) {
            return Err(InitError::AlreadyInitialized);
        }
        // Prices load before anything starts: a bad file fails init() and,
        // being all or nothing, leaves the built-in table in force.
        if let Some(path) = &self.pricing_file {
            crate::pricing::load_file(path).map_err(InitError::Pricing)?;
        }
        if INITIALIZED.swap(true, Ordering::AcqRel) {
            return Err(InitError::AlreadyInitialized);
        }
        if let Some(usd) = self.high_cost_usd {
            crate::set_high_cost_threshold_usd(usd);
        }
        if let Some(n) = self.ledger_capacity {
            crate::ledger::set_capacity(n);
        }
        let mut running: Vec<Box<dyn Running>> = Vec::new();
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
        if let Some(n) = self.cardinality_limit {
            crate::metrics::registry::set_cardinality_limit(n);
        }
        // Another recorder may already be installed by the application: keep it.
        let _ = metrics::set_global_recorder(crate::metrics::facade::ObsRecorder);
        crate::catalog::materialize();
        crate::call::enable();
        if env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() && export::find("otlp").is_none() {
            tracing::warn!(
                target: "obs_runtime",
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but this build of obs has no OTLP exporter; traces and metrics stay local"
            );
        }
        for r in &running {
            tracing::info!(target: "obs_runtime", service = %self.cfg.service_name, "obs: {}", r.describe());
        }
        Ok(ObsGuard { running })
    }
}

/// Keeps the exporters running; flushes and stops them when dropped.
#[must_use = "exporters stop when the guard is dropped: bind it, e.g. `let _obs = obs_runtime::init()?;`"]
pub struct ObsGuard {
    running: Vec<Box<dyn Running>>,
}

impl ObsGuard {
    /// The address `/metrics` is served on, when the Prometheus exporter runs.
    pub fn prometheus_addr(&self) -> Option<SocketAddr> {
        self.running.iter().find_map(|r| r.local_addr())
    }

    /// One line per running exporter.
    pub fn describe(&self) -> Vec<String> {
        self.running.iter().map(|r| r.describe()).collect()
    }

    /// Flushes every exporter now.
    pub fn flush(&mut self) {
        for r in &mut self.running {
            r.flush();
        }
    }
}

impl Drop for ObsGuard {
    fn drop(&mut self) {
        for r in &mut self.running {
            r.flush();
            r.shutdown();
        }
    }
}
