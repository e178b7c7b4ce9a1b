//! Log records over OTLP: the lines obs's log layer writes, as OpenTelemetry
//! log records with the same message, fields and context (request, agent,
//! model, tool) and the trace and span ids of where they were emitted.
//!
//! The records come from obs's layer rather than from
//! `opentelemetry-appender-tracing`, so they carry exactly what the local
//! lines carry: values already cut to size, and the same filter (`RUST_LOG`).

use super::batch::Queue;
use crate::trace::TraceIds;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogProcessor, SdkLogRecord, SdkLogger, SdkLoggerProvider};
use std::sync::OnceLock;
use std::time::SystemTime;

static LOGGER: OnceLock<SdkLogger> = OnceLock::new();

/// Hands each record to the queue of the exporter's thread.
#[derive(Debug)]
pub(crate) struct ToQueue(pub(crate) QueueHandle);

/// `Queue` is not `Debug`; the processor must be.
pub(crate) struct QueueHandle(pub(crate) std::sync::Arc<Queue<SdkLogRecord>>);

impl std::fmt::Debug for QueueHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueueHandle")
    }
}

impl LogProcessor for ToQueue {
    fn emit(&self, data: &mut SdkLogRecord, _scope: &InstrumentationScope) {
        self.0 .0.push(data.clone());
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
}

/// Makes records go out through `provider` (once per process).
pub(crate) fn install(provider: &SdkLoggerProvider) {
    let scope = InstrumentationScope::builder("obs").with_version(env!("CARGO_PKG_VERSION")).build();
    let _ = LOGGER.set(provider.logger_with_scope(scope));
}

/// Whether a line should also become a log record: the exporter runs, and
/// this is not the exporter's own thread (its warnings would feed themselves).
pub(crate) fn active() -> bool {
    LOGGER.get().is_some() && !crate::trace::suppressed()
}

fn severity(level: &tracing::Level) -> (Severity, &'static str) {
    match *level {
        tracing::Level::ERROR => (Severity::Error, "ERROR"),
        tracing::Level::WARN => (Severity::Warn, "WARN"),
        tracing::Level::INFO => (Severity::Info, "INFO"),
        tracing::Level::DEBUG => (Severity::Debug, "DEBUG"),
        tracing::Level::TRACE => (Severity::Trace, "TRACE"),
    }
}

/// Emits one record. Never blocks: the record is queued or dropped (counted).
pub(crate) fn emit<'a>(
    level: &tracing::Level,
    target: &str,
    message: &str,
    time: SystemTime,
    attributes: impl Iterator<Item = (&'a str, AnyValue)>,
    ids: Option<TraceIds>,
    event_name: Option<&'static str>,
) {
    let Some(logger) = LOGGER.get() else { return };
    let mut r = logger.create_log_record();
    let (number, text) = severity(level);
    r.set_severity_number(number);
    r.set_severity_text(text);
    r.set_timestamp(time);
    r.set_observed_timestamp(time);
    r.set_target(target.to_string());
    r.set_body(AnyValue::String(message.to_string().into()));
    if let Some(name) = event_name {
        r.set_event_name(name);
    }
    for (k, v) in attributes {
        r.add_attribute(k.to_string(), v);
    }
    if let Some(ids) = ids {
        let flags = if ids.sampled {
            opentelemetry::trace::TraceFlags::SAMPLED
        } else {
            opentelemetry::trace::TraceFlags::default()
        };
        r.set_trace_context(ids.trace_id, ids.span_id, Some(flags));
    }
    logger.emit(r);
}
