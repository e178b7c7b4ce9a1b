//! The `otlp` exporter: traces, metrics and logs to an OpenTelemetry
//! collector or backend (Phoenix, MLflow, Langfuse, Jaeger, Tempo, a vendor),
//! over OTLP/HTTP (protobuf) or OTLP/gRPC, from the standard `OTEL_*`
//! variables.
//!
//! `init()` starts it when `OTEL_EXPORTER_OTLP_ENDPOINT` (or a signal's own
//! endpoint) is set, or when the builder sets one with
//! [`crate::Builder::otlp_endpoint`]. Two variables are enough for a GenAI
//! backend:
//!
//! ```text
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006   # Phoenix
//! OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none  # it takes traces only
//! ```
//!
//! What it sends:
//! - **traces**: every span the `tracing` bridge of [`crate::layer()`] gives
//!   ids to (the instrumented calls' GenAI spans, the application's own
//!   spans), sampled per `OTEL_TRACES_SAMPLER` (parent-based always-on by
//!   default), with the resource below;
//! - **metrics**: obs's registry, read every `OTEL_METRIC_EXPORT_INTERVAL`
//!   (see [`metrics`](self) below); sampling never applies to them, so they
//!   count every call even when a trace is not kept;
//! - **logs**: obs's log lines as log records with their trace and span ids
//!   (needs the `logs` exporter, which formats them; it runs by default).
//!
//! The resource: `service.name` (`OTEL_SERVICE_NAME` or the builder),
//! `service.instance.id` (random per process), `OTEL_RESOURCE_ATTRIBUTES`,
//! `telemetry.sdk.*`, `process.pid`, `process.executable.name` and
//! `process.runtime.name`.
//!
//! It never hurts the application: each signal has a bounded queue that drops
//! (and counts, in `obs_otlp_dropped_total{signal, reason}`) what it cannot
//! take; sending happens on the exporter's own thread, each send bounded by
//! `OTEL_EXPORTER_OTLP_TIMEOUT`; a failed send is warned about at most once a
//! minute per signal; the next send is tried as usual, so export resumes
//! when the backend returns; dropping the `init()` guard flushes for at most
//! [`SHUTDOWN_TIMEOUT`], whatever the backend does.

mod batch;
mod config;
pub(crate) mod logs;
mod metrics;

pub(crate) use config::{parse_headers, valid_endpoint, EXPECTED_ENDPOINT, EXPECTED_HEADERS};
pub use config::{OtlpConfig, OtlpProtocol};

use super::{ExportError, Exporter, ExporterConfig, Running};
use batch::{wait_oneshot, Queue};
use config::{Signal, Target};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::logs::{LogBatch, LogExporter as _, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::trace::{SpanData, SpanExporter as _};
use opentelemetry_sdk::Resource;
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The semantic-conventions schema obs's names follow.
pub(crate) const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.41.0";

/// How long dropping the `init()` guard waits for the last sends.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`crate::ObsGuard::flush`] waits.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// How often metrics go out when `OTEL_METRIC_EXPORT_INTERVAL` is not set.
const DEFAULT_METRIC_INTERVAL: Duration = Duration::from_secs(60);

/// The OTLP exporter, registered with `inventory` under `otlp`.
pub(crate) struct OtlpExporter;

inventory::submit! { super::Registration(&OtlpExporter) }

fn err(message: String) -> ExportError {
    ExportError { exporter: "otlp", message }
}

/// The resource every signal carries.
fn resource(cfg: &ExporterConfig) -> Resource {
    use std::hash::{BuildHasher, Hasher};
    // Two independently keyed hashes: 128 random bits without a dependency.
    let mut id = String::with_capacity(32);
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        id.push_str(&format!("{:016x}", h.finish()));
    }
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut b = Resource::builder().with_attributes([
        KeyValue::new("service.instance.id", id),
        KeyValue::new("process.pid", i64::from(std::process::id())),
        KeyValue::new("process.executable.name", exe),
        KeyValue::new("process.runtime.name", "rust"),
    ]);
    // `unknown_service` is the default, which OTEL_RESOURCE_ATTRIBUTES may name better.
    if cfg.service_name != "unknown_service" {
        b = b.with_service_name(cfg.service_name.clone());
    }
    b.build()
}

/// What the application side holds: the queues and the exporter's thread.
struct Handles {
    spans: Option<Arc<Queue<SpanData>>>,
    logs: Option<(Arc<Queue<SdkLogRecord>>, Resource)>,
    metrics: Option<mpsc::Sender<MetricsCmd>>,
}

enum MetricsCmd {
    Flush(oneshot::Sender<()>),
    Stop(oneshot::Sender<()>),
}

fn self_metric(signal: Signal, reason: &str) -> crate::metrics::Counter {
    crate::metrics::builtin_counter(
        &crate::metrics::names::OTLP_DROPPED,
        &[("signal", signal.as_str()), ("reason", reason)],
    )
}

fn dropped(signal: Signal) -> [crate::metrics::Counter; 2] {
    [self_metric(signal, "queue_full"), self_metric(signal, "export_failed")]
}

fn metadata(headers: &[(String, String)]) -> Result<tonic::metadata::MetadataMap, String> {
    let mut md = tonic::metadata::MetadataMap::new();
    for (k, v) in headers {
        let key =
            tonic::metadata::MetadataKey::from_bytes(k.as_bytes()).map_err(|_| format!("bad header name `{k}`"))?;
        let value = v.parse().map_err(|_| format!("bad value for header `{k}` (not shown)"))?;
        md.insert(key, value);
    }
    Ok(md)
}

/// A gRPC channel that connects on first use (and again after a failure).
fn channel(t: &Target) -> Result<tonic::transport::Channel, String> {
    Ok(tonic::transport::Channel::from_shared(t.endpoint.clone())
        .map_err(|e| e.to_string())?
        .timeout(t.timeout)
        .connect_timeout(t.timeout)
        .connect_lazy())
}

/// An OTLP/HTTP exporter builder with the target's endpoint, timeout and headers.
fn over_http<B: WithExportConfig + WithHttpConfig>(b: B, t: &Target) -> B {
    b.with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(&t.endpoint)
        .with_timeout(t.timeout)
        .with_headers(t.headers.iter().cloned().collect())
}

/// An OTLP/gRPC exporter builder with the target's channel, timeout and metadata.
fn over_grpc<B: WithExportConfig + WithTonicConfig>(b: B, t: &Target) -> Result<B, String> {
    Ok(b.with_channel(channel(t)?).with_timeout(t.timeout).with_metadata(metadata(&t.headers)?))
}

fn span_exporter(t: &Target) -> Result<opentelemetry_otlp::SpanExporter, String> {
    let b = opentelemetry_otlp::SpanExporter::builder();
    let built = match t.protocol {
        OtlpProtocol::HttpProtobuf => over_http(b.with_http(), t).build(),
        OtlpProtocol::Grpc => over_grpc(b.with_tonic(), t)?.build(),
    };
    built.map_err(|e| e.to_string())
}

fn log_exporter(t: &Target) -> Result<opentelemetry_otlp::LogExporter, String> {
    let b = opentelemetry_otlp::LogExporter::builder();
    let built = match t.protocol {
        OtlpProtocol::HttpProtobuf => over_http(b.with_http(), t).build(),
        OtlpProtocol::Grpc => over_grpc(b.with_tonic(), t)?.build(),
    };
    built.map_err(|e| e.to_string())
}

/// Sends metric requests over HTTP or gRPC.
enum MetricsClient {
    Http {
        client: opentelemetry_http::hyper::HyperClient,
        target: Target,
    },
    Grpc {
        client: opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient<
            tonic::transport::Channel,
        >,
        metadata: tonic::metadata::MetadataMap,
    },
}

impl MetricsClient {
    fn new(t: &Target) -> Result<MetricsClient, String> {
        Ok(match t.protocol {
            OtlpProtocol::HttpProtobuf => MetricsClient::Http {
                client: opentelemetry_http::hyper::HyperClient::with_default_connector(t.timeout, None),
                target: t.clone(),
            },
            OtlpProtocol::Grpc => {
                MetricsClient::Grpc {
                    client: opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient::new(
                        channel(t)?,
                    ),
                    metadata: metadata(&t.headers)?,
                }
            }
        })
    }

    async fn send(
        &mut self,
        req: opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
    ) -> Result<(), String> {
        use opentelemetry_http::HttpClient as _;
        use prost::Message as _;
        match self {
            MetricsClient::Http { client, target } => {
                let mut b = http::Request::builder()
                    .method(http::Method::POST)
                    .uri(&target.endpoint)
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf");
                for (k, v) in &target.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                let request = b.body(bytes::Bytes::from(req.encode_to_vec())).map_err(|e| e.to_string())?;
                let response = client.send_bytes(request).await.map_err(|e| e.to_string())?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("HTTP {} from {}", response.status(), target.endpoint))
                }
            }
            MetricsClient::Grpc { client, metadata } => {
                let mut request = tonic::Request::new(req);
                *request.metadata_mut() = metadata.clone();
                client.export(request).await.map(|_| ()).map_err(|s| format!("gRPC {:?}: {}", s.code(), s.message()))
            }
        }
    }
}

/// Builds the exporters on the exporter's thread (gRPC needs its runtime)
/// and returns the application's handles and the thread's work.
fn build(
    cfg: &OtlpConfig,
    resource: &Resource,
    namespace: Option<String>,
) -> Result<(Handles, impl std::future::Future<Output = ()>), String> {
    let mut spans = None;
    let mut span_task = None;
    if let Some(t) = cfg.target(Signal::Traces) {
        let mut exporter = span_exporter(&t).map_err(|e| format!("traces to {}: {e}", t.endpoint))?;
        exporter.set_resource(resource);
        let exporter = Arc::new(exporter);
        let (q, task) = batch::queue(
            "traces",
            cfg.batching(Signal::Traces),
            t.timeout,
            dropped(Signal::Traces),
            move |batch: Vec<SpanData>| {
                let e = exporter.clone();
                async move { e.export(batch).await.map_err(|e| e.to_string()) }
            },
        );
        spans = Some(Arc::new(q));
        span_task = Some(task);
    }

    let mut logs = None;
    let mut log_task = None;
    if let Some(t) = cfg.target(Signal::Logs) {
        let mut exporter = log_exporter(&t).map_err(|e| format!("logs to {}: {e}", t.endpoint))?;
        exporter.set_resource(resource);
        let exporter = Arc::new(exporter);
        let scope = opentelemetry::InstrumentationScope::builder("obs").with_version(env!("CARGO_PKG_VERSION")).build();
        let (q, task) = batch::queue(
            "logs",
            cfg.batching(Signal::Logs),
            t.timeout,
            dropped(Signal::Logs),
            move |batch: Vec<SdkLogRecord>| {
                let e = exporter.clone();
                let scope = scope.clone();
                async move {
                    let refs: Vec<(&SdkLogRecord, &opentelemetry::InstrumentationScope)> =
                        batch.iter().map(|r| (r, &scope)).collect();
                    e.export(LogBatch::new(&refs)).await.map_err(|e| e.to_string())
                }
            },
        );
        logs = Some((Arc::new(q), resource.clone()));
        log_task = Some(task);
    }

    let mut metrics_tx = None;
    let mut metrics_task = None;
    if let Some(t) = cfg.target(Signal::Metrics) {
        let mut client = MetricsClient::new(&t).map_err(|e| format!("metrics to {}: {e}", t.endpoint))?;
        let mut reader = metrics::Reader::new(resource, namespace, cfg.temporality);
        let interval = cfg.metric_interval.unwrap_or(DEFAULT_METRIC_INTERVAL);
        let (tx, mut rx) = mpsc::channel::<MetricsCmd>(4);
        let failed = self_metric(Signal::Metrics, "export_failed");
        let timeout = t.timeout;
        metrics_tx = Some(tx);
        metrics_task = Some(async move {
            let mut warned: Option<Instant> = None;
            let mut next = tokio::time::Instant::now() + interval;
            loop {
                let (ack, stop) = tokio::select! {
                    cmd = rx.recv() => match cmd {
                        Some(MetricsCmd::Flush(a)) => (Some(a), false),
                        Some(MetricsCmd::Stop(a)) => (Some(a), true),
                        None => (None, true),
                    },
                    _ = tokio::time::sleep_until(next) => (None, false),
                };
                next = tokio::time::Instant::now() + interval;
                let req = reader.read();
                let n = metrics::points(&req);
                let outcome = match tokio::time::timeout(timeout, client.send(req)).await {
                    Ok(r) => r,
                    Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
                };
                match outcome {
                    Ok(()) => {}
                    Err(e) => {
                        failed.increment(n);
                        if warned.map_or(true, |t| t.elapsed() >= Duration::from_secs(60)) {
                            warned = Some(Instant::now());
                            tracing::warn!(
                                target: "obs_runtime",
                                "obs: OTLP metrics export failed, {n} points dropped (counted in \
                                 obs_otlp_dropped_total; at most one such warning a minute): {e}"
                            );
                        }
                    }
                }
                if let Some(a) = ack {
                    let _ = a.send(());
                }
                if stop {
                    return;
                }
            }
        });
    }

    let work = async move {
        let spans = async {
            if let Some(t) = span_task {
                t.await
            }
        };
        let logs = async {
            if let Some(t) = log_task {
                t.await
            }
        };
        let metrics = async {
            if let Some(t) = metrics_task {
                t.await
            }
        };
        tokio::join!(spans, logs, metrics);
    };
    Ok((Handles { spans, logs, metrics: metrics_tx }, work))
}

impl Exporter for OtlpExporter {
    fn name(&self) -> &'static str {
        "otlp"
    }

    fn start(&self, cfg: &ExporterConfig) -> Result<Box<dyn Running>, ExportError> {
        let otlp = cfg.otlp.clone();
        let resource = resource(cfg);
        let namespace = cfg.namespace.clone();
        let describe = describe(&otlp);
        let (ready_tx, ready_rx) = std_mpsc::sync_channel(1);
        let res = resource.clone();
        let thread = std::thread::Builder::new()
            .name("obs-otlp".into())
            .spawn(move || {
                // Spans and log records made while exporting are not exported:
                // they would feed themselves.
                crate::trace::suppress_on_this_thread();
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot start its runtime: {e}")));
                        return;
                    }
                };
                let built = rt.block_on(async { build(&otlp, &res, namespace) });
                match built {
                    Ok((handles, work)) => {
                        let _ = ready_tx.send(Ok(handles));
                        rt.block_on(work);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| err(format!("cannot start its thread: {e}")))?;
        let handles = match ready_rx.recv() {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => {
                return Err(err(format!("{e}; check OTEL_EXPORTER_OTLP_* (see the README, \"OpenTelemetry\")")))
            }
            Err(_) => return Err(err("its thread stopped while starting".into())),
        };
        Ok(Box::new(Started { describe, handles: Some(handles), thread: Some(thread), logger: None }))
    }
}

fn describe(cfg: &OtlpConfig) -> String {
    let mut parts = Vec::new();
    for s in Signal::ALL {
        match cfg.target(s) {
            Some(t) => parts.push(format!("{} to {} ({})", s.as_str(), t.endpoint, t.protocol.as_str())),
            None => parts.push(format!("{} off", s.as_str())),
        }
    }
    let every = cfg.metric_interval.unwrap_or(DEFAULT_METRIC_INTERVAL);
    format!("OTLP: {}; metrics every {} s", parts.join(", "), every.as_secs_f64())
}

struct Started {
    describe: String,
    handles: Option<Handles>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Keeps the log pipeline alive.
    logger: Option<SdkLoggerProvider>,
}

impl Started {
    /// Flushes every signal (or stops them), all within one deadline.
    fn drain(&mut self, stop: bool, within: Duration) {
        let Some(h) = &self.handles else { return };
        let deadline = Instant::now() + within;
        // Spans and logs first, then the last metrics, so all three are as
        // complete as the deadline allows.
        if let Some(q) = &h.spans {
            q.flush(deadline, stop);
        }
        if let Some((q, _)) = &h.logs {
            q.flush(deadline, stop);
        }
        if let Some(tx) = &h.metrics {
            let (ack, done) = oneshot::channel();
            let cmd = if stop { MetricsCmd::Stop(ack) } else { MetricsCmd::Flush(ack) };
            if tx.try_send(cmd).is_ok() {
                let _ = wait_oneshot(done, deadline.saturating_duration_since(Instant::now()));
            }
        }
    }
}

impl Running for Started {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn commit(&mut self) {
        let Some(h) = self.handles.as_ref() else { return };
        if let Some(q) = h.spans.clone() {
            crate::trace::set_span_sink(Box::new(move |span| q.push(span)));
            // Spans come from obs's layer: without the `logs` exporter (which
            // installs it) and without an application subscriber, install it.
            if !tracing::dispatcher::has_been_set() {
                use tracing_subscriber::layer::SubscriberExt as _;
                let _ = tracing::subscriber::set_global_default(
                    tracing_subscriber::registry().with(crate::export::logs::layer()),
                );
            }
            // Instrumented calls' spans were off unless log lines showed them.
            tracing::callsite::rebuild_interest_cache();
        }
        if let Some((q, resource)) = h.logs.clone() {
            let provider = SdkLoggerProvider::builder()
                .with_resource(resource)
                .with_log_processor(logs::ToQueue(logs::QueueHandle(q)))
                .build();
            logs::install(&provider);
            self.logger = Some(provider);
        }
    }

    fn flush(&mut self) {
        self.drain(false, FLUSH_TIMEOUT);
    }

    fn shutdown(&mut self) {
        self.drain(true, SHUTDOWN_TIMEOUT);
        // Each task ended after its last send; the thread ends with them. It
        // is not joined, so a backend that never answers cannot hold the
        // process past the deadline.
        self.handles = None;
        self.thread = None;
    }
}
