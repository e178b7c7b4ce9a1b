//! Exporters: plug-ins that read the registry or subscribe to `tracing`.
//!
//! Each registers itself with `inventory` and is started by name from
//! `init()` (`OBS_EXPORTERS`, or [`crate::Builder::exporters`]). The hot path
//! never knows which are installed; exporters must never block it.

#[cfg(feature = "logs")]
pub mod logs;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "ui")]
pub(crate) mod ui;

use std::net::SocketAddr;

/// What an exporter gets from `init()`.
///
/// Hidden with [`Exporter`] and [`Running`]: exporters are registered only by
/// obs for now, because this configuration is a closed set of fields that an
/// exporter from another crate could not extend.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct ExporterConfig {
    /// `service.name` (`OTEL_SERVICE_NAME`).
    pub service_name: String,
    /// Metric name prefix, without the trailing `_`.
    pub namespace: Option<String>,
    /// Prometheus listen address (`OBS_PROMETHEUS_ADDR`).
    pub prometheus_addr: Option<String>,
    /// The Prometheus endpoint's token and connection limits.
    #[cfg(feature = "prometheus")]
    pub prometheus: prometheus::ServerConfig,
    /// The log exporter's settings (`OBS_LOG_*`, `RUST_LOG`).
    #[cfg(feature = "logs")]
    pub log: logs::LogConfig,
    /// The OTLP exporter's settings (`OTEL_EXPORTER_OTLP_*`).
    #[cfg(feature = "otlp")]
    pub otlp: otlp::OtlpConfig,
}

/// An exporter that could not start: which one, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportError {
    /// The exporter's name.
    pub exporter: &'static str,
    /// What went wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exporter `{}`: {}", self.exporter, self.message)
    }
}

impl std::error::Error for ExportError {}

/// An exporter, started by name from `init()` (see [`ExporterConfig`] on
/// why this is not yet a public plug-in API).
#[doc(hidden)]
pub trait Exporter: Sync {
    /// The name `OBS_EXPORTERS` selects it by.
    fn name(&self) -> &'static str;
    /// Starts exporting. Must not block on a backend.
    fn start(&self, cfg: &ExporterConfig) -> Result<Box<dyn Running>, ExportError>;
}

/// A started exporter, owned by the `init()` guard.
#[doc(hidden)]
pub trait Running: Send {
    /// One line for humans: what runs where.
    fn describe(&self) -> String;
    /// The address it serves on, if it serves.
    fn local_addr(&self) -> Option<SocketAddr> {
        None
    }
    /// Makes the started exporter visible to the process (installs a global,
    /// publishes settings). Called once every exporter has started, so a
    /// failed `init()` leaves nothing behind; must not fail.
    fn commit(&mut self) {}
    /// Flushes buffered data (bounded time).
    fn flush(&mut self) {}
    /// Flushes and stops.
    fn shutdown(&mut self);
}

/// What exporters submit to `inventory`.
#[doc(hidden)]
pub struct Registration(pub &'static dyn Exporter);

inventory::collect!(Registration);

/// Every exporter linked into the binary, by name.
pub fn available() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = inventory::iter::<Registration>.into_iter().map(|r| r.0.name()).collect();
    v.sort_unstable();
    v
}

pub(crate) fn find(name: &str) -> Option<&'static dyn Exporter> {
    inventory::iter::<Registration>.into_iter().map(|r| r.0).find(|e| e.name() == name)
}
