//! Structured logs: `console` (human-readable, coloured on a terminal) or
//! `json` (one object per line), filtered by `RUST_LOG`-style directives,
//! written to stderr, stdout or a file (rotated daily or by size) by a
//! background thread.
//!
//! Every line carries where it was emitted: the request ([`RequestContext`](crate::context::RequestContext)),
//! the agent, the model and tool of the enclosing instrumented calls, the
//! enclosing spans' own fields, and (JSON) the W3C `trace_id`/`span_id` of the
//! innermost span, as [`crate::trace`] assigns them. A JSON line:
//!
//! ```text
//! {"timestamp":"2026-05-01T12:00:00.123456Z","level":"INFO","target":"my_agent::tools","message":"fetched",
//!  "request_id":"0196…","agent":"researcher","model":"gpt-4o","tool":"web_search",
//!  "trace_id":"4bf9…","span_id":"00f0…","bytes":5120}
//! ```
//!
//! The lines are formatted by [`crate::layer()`]: `init()` installs a
//! subscriber with it when the application has none, and otherwise sends
//! obs's lines through the one in the application's subscriber (or, when
//! that subscriber lacks it, says what is lost and the line to add).
//!
//! What this exporter must not do: block the application (lines go through a
//! bounded queue; a full queue drops the line and counts it in
//! `obs_log_lines_dropped_total{reason="queue_full"}`), grow without bound
//! (the queue is bounded in lines and in bytes, and each value in bytes), or panic.
//!
//! Cost: by default (`console`) the spans of instrumented calls are not shown,
//! so they stay disabled and an instrumented call pays nothing for logging
//! (agent and request still come from the task's context). `json` shows the
//! agent, model and tool spans (`OBS_LOG_SPANS=genai`), which gives each of
//! those calls a span with trace ids: about 2 to 2.5 µs per call on the
//! reference machine (`OBS_LOG_FORMAT=json cargo bench -p obs-runtime --bench logs`),
//! against about 0.1 µs for the call's metrics.

mod config;
mod layer;
mod writer;

pub use config::{LogBuffer, LogConfig, LogFormat, LogOutput, LogSpans, Rotation};
pub use config::{DEFAULT_MAX_FILES, DEFAULT_QUEUE_BYTES, DEFAULT_QUEUE_LINES, MAX_VALUE_BYTES};
pub use config::{QUEUE_BYTES_RANGE, QUEUE_LINES_RANGE};
pub use layer::layer;

use super::{ExportError, Exporter, ExporterConfig, Running};
use layer::Sink;
use std::io::IsTerminal;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::time::{Duration, Instant};
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use writer::{Msg, Output};

/// The log exporter, registered with `inventory` under `logs`.
pub(crate) struct LogExporter;

inventory::submit! { super::Registration(&LogExporter) }

fn err(message: String) -> ExportError {
    ExportError { exporter: "logs", message }
}

/// Where obs's lines will flow once `init()` commits.
enum Route {
    /// No subscriber yet: obs installs `registry().with(layer())`.
    OwnSubscriber,
    /// The application's subscriber carries `obs_runtime::layer()`.
    ApplicationLayer,
    /// The application's subscriber lacks obs's layer: nothing is written.
    Missing,
}

/// What `init()` is told when the application's subscriber has no obs layer.
pub(crate) const MISSING_LAYER: &str = "the application's tracing subscriber has no obs layer, so obs writes no log lines and spans get no trace ids (request, agent and trace context in logs, and traceparent propagation, are off); add `.with(obs_runtime::layer())` to that subscriber, e.g. `tracing_subscriber::registry().with(your_layers).with(obs_runtime::layer()).init()`";

impl Exporter for LogExporter {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn start(&self, cfg: &ExporterConfig) -> Result<Box<dyn Running>, ExportError> {
        let lc = &cfg.log;
        let format = match lc.format.as_deref() {
            None => LogFormat::Console,
            Some(f) => LogFormat::parse(f)
                .ok_or_else(|| err(format!("OBS_LOG_FORMAT `{f}` is not a log format: use `json` or `console`")))?,
        };
        let directives = lc.filter.clone().unwrap_or_else(|| "info".into());
        let filter = EnvFilter::builder().parse(&directives).map_err(|e| {
            err(format!(
                "RUST_LOG (or Builder::log_filter) `{}` is not a valid filter ({e}); write e.g. `info,my_agent=debug`",
                crate::metrics::registry::cut(&directives, 80)
            ))
        })?;
        let spans = lc.spans.unwrap_or(match format {
            LogFormat::Json => LogSpans::GenAi,
            LogFormat::Console => LogSpans::None,
        });
        let route = if layer::in_current_subscriber() {
            Route::ApplicationLayer
        } else if tracing::dispatcher::has_been_set()
            || tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>())
        {
            Route::Missing
        } else {
            Route::OwnSubscriber
        };
        let where_ = match route {
            Route::OwnSubscriber => "",
            Route::ApplicationLayer => ", through obs_runtime::layer() in the application's subscriber",
            Route::Missing => {
                return Ok(Box::new(Installed {
                    describe: format!("logs: off: {MISSING_LAYER}"),
                    pending: None,
                    tx: None,
                    missing_layer: true,
                }))
            }
        };
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let ansi = format == LogFormat::Console
            && !no_color
            && match lc.output {
                LogOutput::Stderr => std::io::stderr().is_terminal(),
                LogOutput::Stdout => std::io::stdout().is_terminal(),
                _ => false,
            };
        let out = Output::open(&lc.output, lc.rotation, lc.max_files).map_err(|e| {
            err(format!(
                "OBS_LOG_OUTPUT (or Builder::log_output) names the log file `{}`, which cannot be opened for appending ({e}); \
                 set it to a file this process can create or write (its directory is created if missing), or to stderr or stdout",
                crate::metrics::registry::cut(&lc.output.describe(), 200)
            ))
        })?;
        let dropped = |reason: &str| {
            Some(crate::metrics::builtin_counter(&crate::metrics::names::LOG_LINES_DROPPED, &[("reason", reason)]))
        };
        let (queue_full, write_error) = (dropped("queue_full"), dropped("write_error"));
        let (tx, rx) = sync_channel(lc.queue_lines.clamp(*QUEUE_LINES_RANGE.start(), *QUEUE_LINES_RANGE.end()));
        let queued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let writer_queued = queued.clone();
        std::thread::Builder::new()
            .name("obs-log-writer".into())
            .spawn(move || writer::writer_loop(rx, out, write_error, writer_queued))
            .map_err(|e| err(format!("cannot start the log writer thread ({e})")))?;
        let describe = format!(
            "logs ({}) on {}, filter `{directives}`, instrumented spans: {}{where_}",
            format.as_str(),
            lc.output.describe(),
            spans.as_str()
        );
        let max_queued_bytes = lc.queue_bytes.clamp(*QUEUE_BYTES_RANGE.start(), *QUEUE_BYTES_RANGE.end());
        let sink = Sink { format, ansi, tx: tx.clone(), queue_full, filter, queued, max_queued_bytes };
        Ok(Box::new(Installed { describe, pending: Some((sink, spans, route)), tx: Some(tx), missing_layer: false }))
    }
}

struct Installed {
    describe: String,
    /// Published by `commit`, once every exporter has started.
    pending: Option<(Sink, LogSpans, Route)>,
    tx: Option<SyncSender<Msg>>,
    /// The application's subscriber lacks obs's layer: warn through it.
    missing_layer: bool,
}

/// How long `flush` waits for the writer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

impl Running for Installed {
    fn describe(&self) -> String {
        self.describe.clone()
    }
    fn commit(&mut self) {
        if self.missing_layer {
            tracing::warn!(target: "obs_runtime", "obs: {MISSING_LAYER}");
        }
        let Some((sink, spans, route)) = self.pending.take() else { return };
        layer::set_spans(spans);
        if layer::SINK.set(sink).is_err() {
            // init() commits once per process; a second sink has no reader.
            return;
        }
        if let Route::OwnSubscriber = route {
            // Loses only to an application that installed its subscriber
            // between start and commit; its own layers then stay in force.
            let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer::layer()));
        }
        // Callsites cached their interest before the settings existed.
        tracing::callsite::rebuild_interest_cache();
    }
    fn flush(&mut self) {
        let Some(tx) = &self.tx else { return };
        let deadline = Instant::now() + FLUSH_TIMEOUT;
        let (ack_tx, ack_rx) = sync_channel(1);
        let mut msg = Msg::Flush(ack_tx);
        loop {
            match tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Full(m)) if Instant::now() < deadline => {
                    msg = m;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return,
            }
        }
        let _ = ack_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
    fn shutdown(&mut self) {
        self.flush();
        if let Some(tx) = &self.tx {
            let _ = tx.try_send(Msg::Stop);
        }
    }
}
