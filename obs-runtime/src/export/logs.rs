//! Structured logs through `tracing-subscriber`: `console` (human-readable,
//! coloured on a terminal) or `json` (one object per line), filtered by
//! `RUST_LOG`-style directives.
//!
//! By default the log layer does not see the spans of instrumented calls, so
//! an instrumented call costs no span formatting when only logs and
//! Prometheus are on; `OBS_LOG_SPANS=true` shows them in every line.

use super::{ExportError, Exporter, ExporterConfig, Running};
use std::io::IsTerminal;
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// The log exporter, registered with `inventory` under `logs`.
pub struct LogExporter;

inventory::submit! { super::Registration(&LogExporter) }

struct Installed(String);

impl Running for Installed {
    fn describe(&self) -> String {
        self.0.clone()
    }
    fn shutdown(&mut self) {}
}

/// Whether a span was created by an obs macro (they all declare `obs.status`).
fn is_obs_span(meta: &tracing::Metadata<'_>) -> bool {
    meta.is_span() && meta.fields().field("obs.status").is_some()
}

impl Exporter for LogExporter {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn start(&self, cfg: &ExporterConfig) -> Result<Box<dyn Running>, ExportError> {
        let directives = cfg.log_filter.clone().unwrap_or_else(|| "info".into());
        let filter = EnvFilter::builder().parse(&directives).map_err(|e| ExportError {
            exporter: "logs",
            message: format!("RUST_LOG `{directives}` is not a valid filter ({e}); write e.g. `info,my_agent=debug`"),
        })?;
        let format = cfg.log_format.as_deref().unwrap_or("console");
        let show_spans = cfg.log_spans;
        let spans = filter_fn(move |meta| show_spans || !is_obs_span(meta));
        let layer = match format {
            "json" => tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(show_spans)
                .with_span_list(show_spans)
                .with_writer(std::io::stderr)
                .with_filter(spans)
                .boxed(),
            "console" => tracing_subscriber::fmt::layer()
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .with_filter(spans)
                .boxed(),
            other => {
                return Err(ExportError {
                    exporter: "logs",
                    message: format!("OBS_LOG_FORMAT `{other}` is not a log format: use `json` or `console`"),
                })
            }
        };
        let subscriber = tracing_subscriber::registry().with(layer.with_filter(filter));
        match tracing::subscriber::set_global_default(subscriber) {
            Ok(()) => Ok(Box::new(Installed(format!("logs ({format}) on stderr, filter `{directives}`")))),
            // The application installed its own subscriber: keep it, and say so.
            Err(_) => Ok(Box::new(Installed("logs: the application's own tracing subscriber is kept".into()))),
        }
    }
}
