//! obs side by side with hand-written instrumentation and the peer crates,
//! in one process per mode (obs's `init()` is once per process):
//!
//! * `OBS_BENCH_MODE=uninit`: obs never initialised; against the bare
//!   function, `#[tracing::instrument]` without a subscriber and
//!   `#[fastrace::trace]` without a reporter.
//! * `OBS_BENCH_MODE=metrics` (the default): `init()` with the Prometheus
//!   exporter only (spans disabled); against cached `metrics` handles with
//!   `std::time::Instant` and with `quanta`, `counter!`/`histogram!` per call,
//!   the hand-written model call (tokens by type, cost, duration; cached),
//!   `#[autometrics]`, the OpenTelemetry SDK's counter and histogram and
//!   `#[tracing::instrument]` with a registry. Also 1 and 2 threads on one
//!   function (`contention`), and rendering 10,000 series (`render`).
//! * `OBS_BENCH_MODE=json`: metrics, spans of every instrumented call and the
//!   JSON log layer (lines to `/dev/null`); against a hand-written `tracing`
//!   span under a JSON `fmt` subscriber plus cached `metrics`.
//! * `OBS_BENCH_MODE=otlp`: everything, with the OTLP exporter sending to a
//!   sink on 127.0.0.1 that this process runs; against the same hand-written
//!   span and metrics with the span also exported through
//!   `tracing-opentelemetry` and `opentelemetry-otlp` to that sink.
//!
//! Each of obs's four macros is measured on a sync function and on an async
//! one polled once with a no-op waker. `OBS_BENCH_QUICK=1` shortens every
//! case (1 s instead of 3). `tests/bench/table.py` runs the four modes and
//! prints one table.

use criterion::{BenchmarkId, Criterion};
use obs_runtime::{traced, track_execution, track_llm_call, track_tool};
use std::future::Future;
use std::hint::black_box;
use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- harness

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Uninit,
    Metrics,
    Json,
    Otlp,
}

impl Mode {
    fn from_env() -> Mode {
        match std::env::var("OBS_BENCH_MODE").as_deref().unwrap_or("metrics") {
            "uninit" => Mode::Uninit,
            "metrics" => Mode::Metrics,
            "json" => Mode::Json,
            "otlp" => Mode::Otlp,
            other => panic!("OBS_BENCH_MODE={other}: expected uninit, metrics, json or otlp"),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Mode::Uninit => "uninit",
            Mode::Metrics => "metrics",
            Mode::Json => "json",
            Mode::Otlp => "otlp",
        }
    }
}

/// One measured function, optionally under its own (thread-local) subscriber.
struct Case {
    name: &'static str,
    f: fn(u64) -> u64,
    dispatch: Option<fn() -> tracing::Dispatch>,
}

const fn case(name: &'static str, f: fn(u64) -> u64) -> Case {
    Case { name, f, dispatch: None }
}

fn config() -> Criterion {
    let quick = std::env::var_os("OBS_BENCH_QUICK").is_some_and(|v| v != "0");
    let (warm, measure) = if quick { (300, 1000) } else { (1000, 3000) };
    Criterion::default()
        .warm_up_time(Duration::from_millis(warm))
        .measurement_time(Duration::from_millis(measure))
        .sample_size(if quick { 20 } else { 30 })
        .configure_from_args()
}

fn run_cases(c: &mut Criterion, group: &str, cases: &[Case]) {
    let mut g = c.benchmark_group(group);
    for case in cases {
        let f = case.f;
        let mut measure = |b: &mut criterion::Bencher<'_>| {
            let mut i = 0u64;
            b.iter(|| {
                i = i.wrapping_add(1);
                f(black_box(i))
            })
        };
        match case.dispatch {
            Some(d) => {
                let d = d();
                tracing::dispatcher::with_default(&d, || {
                    g.bench_function(case.name, &mut measure);
                })
            }
            None => {
                g.bench_function(case.name, &mut measure);
            }
        }
    }
    g.finish();
}

/// Polls an async function's future once with a no-op waker (the bodies here
/// never wait, so once is to completion).
#[inline(always)]
fn poll_once<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => unreachable!("the bodies never wait"),
    }
}

#[derive(Debug)]
struct BenchError;

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bench failure")
    }
}

impl std::error::Error for BenchError {}

/// A model response that reports its tokens (so the call is priced).
struct Reply(u64);

impl obs_runtime::LlmUsage for Reply {
    fn usage(&self) -> Option<obs_runtime::TokenUsage> {
        Some(obs_runtime::TokenUsage::new(black_box(100), black_box(20)))
    }
}

// ---------------------------------------------------------------- obs

#[inline(never)]
fn uninstrumented(x: u64) -> u64 {
    black_box(x) + 1
}

#[track_tool(name = "bench_tool")]
#[inline(never)]
fn obs_tool(x: u64) -> u64 {
    black_box(x) + 1
}

#[track_tool(name = "bench_tool_async")]
#[inline(never)]
async fn obs_tool_async_inner(x: u64) -> u64 {
    black_box(x) + 1
}

fn obs_tool_async(x: u64) -> u64 {
    poll_once(obs_tool_async_inner(x))
}

#[track_llm_call(model = "gpt-4o")]
#[inline(never)]
fn obs_llm(x: u64) -> Reply {
    Reply(black_box(x) + 1)
}

fn obs_llm_usage(x: u64) -> u64 {
    obs_llm(x).0
}

#[track_llm_call(model = "gpt-4o")]
#[inline(never)]
async fn obs_llm_async_inner(x: u64) -> Reply {
    Reply(black_box(x) + 1)
}

fn obs_llm_async(x: u64) -> u64 {
    poll_once(obs_llm_async_inner(x)).0
}

#[track_execution(agent = "bench_agent")]
#[inline(never)]
fn obs_agent(x: u64) -> u64 {
    black_box(x) + 1
}

#[track_execution(agent = "bench_agent_async")]
#[inline(never)]
async fn obs_agent_async_inner(x: u64) -> u64 {
    black_box(x) + 1
}

fn obs_agent_async(x: u64) -> u64 {
    poll_once(obs_agent_async_inner(x))
}

#[traced]
#[inline(never)]
fn obs_traced(x: u64) -> u64 {
    black_box(x) + 1
}

#[traced]
#[inline(never)]
async fn obs_traced_async_inner(x: u64) -> u64 {
    black_box(x) + 1
}

fn obs_traced_async(x: u64) -> u64 {
    poll_once(obs_traced_async_inner(x))
}

#[track_tool(name = "bench_tool_failing")]
#[inline(never)]
fn obs_tool_failing(x: u64) -> Result<u64, BenchError> {
    if black_box(true) {
        Err(BenchError)
    } else {
        Ok(x)
    }
}

fn obs_tool_failed(x: u64) -> u64 {
    obs_tool_failing(x).unwrap_or(x)
}

#[track_llm_call(model = "gpt-4o", usage = none)]
#[inline(never)]
fn obs_llm_failing(x: u64) -> Result<u64, BenchError> {
    if black_box(true) {
        Err(BenchError)
    } else {
        Ok(x)
    }
}

fn obs_llm_failed(x: u64) -> u64 {
    obs_llm_failing(x).unwrap_or(x)
}

#[inline(always)]
fn tier_of(x: u64) -> &'static str {
    if x.is_multiple_of(2) {
        "free"
    } else {
        "pro"
    }
}

#[track_tool(name = "bench_tool_dyn", labels(tier = tier))]
#[inline(never)]
fn obs_tool_labelled(x: u64, tier: &'static str) -> u64 {
    let _ = tier;
    black_box(x) + 1
}

fn obs_tool_runtime_label(x: u64) -> u64 {
    obs_tool_labelled(x, tier_of(x))
}

/// obs's cases, in every mode.
fn obs_cases() -> Vec<Case> {
    vec![
        case("uninstrumented", uninstrumented),
        case("obs_tool", obs_tool),
        case("obs_tool_async", obs_tool_async),
        case("obs_llm_usage", obs_llm_usage),
        case("obs_llm_usage_async", obs_llm_async),
        case("obs_agent", obs_agent),
        case("obs_agent_async", obs_agent_async),
        case("obs_traced", obs_traced),
        case("obs_traced_async", obs_traced_async),
        case("obs_tool_failed", obs_tool_failed),
        case("obs_llm_failed", obs_llm_failed),
        case("obs_tool_runtime_label", obs_tool_runtime_label),
    ]
}

// ------------------------------------------------- hand-written, `metrics`

static BASE_CALLS: OnceLock<metrics::Counter> = OnceLock::new();
static BASE_DURATION: OnceLock<metrics::Histogram> = OnceLock::new();

#[inline(always)]
fn record_base_tool(elapsed: Duration) {
    BASE_CALLS
        .get_or_init(
            || metrics::counter!("tool_calls_total", "tool" => "bench_tool", "agent" => "none", "status" => "success"),
        )
        .increment(1);
    BASE_DURATION
        .get_or_init(|| {
            metrics::histogram!("tool_duration_seconds", "tool" => "bench_tool", "agent" => "none", "status" => "success")
        })
        .record(elapsed.as_secs_f64());
}

/// What a careful user writes by hand: handles cached in statics.
#[inline(never)]
fn base_metrics_instant(x: u64) -> u64 {
    let start = Instant::now();
    let r = black_box(x) + 1;
    record_base_tool(start.elapsed());
    r
}

/// The same with obs's clock (`quanta`): separates the clock from the recording.
#[inline(never)]
fn base_metrics_quanta(x: u64) -> u64 {
    let start = quanta::Instant::now();
    let r = black_box(x) + 1;
    record_base_tool(quanta::Instant::now().saturating_duration_since(start));
    r
}

/// `counter!`/`histogram!` per call (the handle looked up every time), with a
/// runtime label value.
#[inline(never)]
fn base_metrics_per_call(x: u64) -> u64 {
    let tier = tier_of(x);
    let start = Instant::now();
    let r = black_box(x) + 1;
    let elapsed = start.elapsed();
    metrics::counter!("tool_calls_total", "tool" => "bench_tool_dyn", "agent" => "none", "status" => "success", "tier" => tier)
        .increment(1);
    metrics::histogram!("tool_duration_seconds", "tool" => "bench_tool_dyn", "agent" => "none", "status" => "success", "tier" => tier)
        .record(elapsed.as_secs_f64());
    r
}

struct BaseLlm {
    calls: metrics::Counter,
    duration: metrics::Histogram,
    input: metrics::Counter,
    output: metrics::Counter,
    cost: metrics::Counter,
}

static BASE_LLM: OnceLock<BaseLlm> = OnceLock::new();

#[inline(always)]
fn record_base_llm(elapsed: Duration) {
    let h = BASE_LLM.get_or_init(|| {
        let tokens = |t: &'static str| {
            metrics::counter!("llm_tokens_total", "model" => "gpt-4o", "provider" => "openai", "agent" => "none", "type" => t)
        };
        BaseLlm {
            calls: metrics::counter!("llm_calls_total", "model" => "gpt-4o", "provider" => "openai", "agent" => "none", "status" => "success"),
            duration: metrics::histogram!("llm_duration_seconds", "model" => "gpt-4o", "provider" => "openai", "agent" => "none", "status" => "success"),
            input: tokens("input"),
            output: tokens("output"),
            cost: metrics::counter!("llm_cost_usd_total", "model" => "gpt-4o", "provider" => "openai", "agent" => "none"),
        }
    });
    let (i, o) = black_box((100u64, 20u64));
    h.calls.increment(1);
    h.duration.record(elapsed.as_secs_f64());
    h.input.increment(i);
    h.output.increment(o);
    // gpt-4o's rates in picodollars per token.
    h.cost.increment(i * 2_500_000 + o * 10_000_000);
}

/// The model call by hand: calls, duration, tokens by type, cost; cached.
#[inline(never)]
fn base_llm(x: u64) -> u64 {
    let start = Instant::now();
    let r = black_box(x) + 1;
    record_base_llm(start.elapsed());
    r
}

#[inline(never)]
fn base_llm_quanta(x: u64) -> u64 {
    let start = quanta::Instant::now();
    let r = black_box(x) + 1;
    record_base_llm(quanta::Instant::now().saturating_duration_since(start));
    r
}

// ------------------------------------------------------------------ peers

#[autometrics::autometrics]
#[inline(never)]
fn autometrics_tool(x: u64) -> u64 {
    black_box(x) + 1
}

#[fastrace::trace]
#[inline(never)]
fn fastrace_tool(x: u64) -> u64 {
    black_box(x) + 1
}

#[tracing::instrument(skip_all, fields(gen_ai.tool.name = "bench_tool"))]
#[inline(never)]
fn tracing_instrument_tool(x: u64) -> u64 {
    black_box(x) + 1
}

fn registry_dispatch() -> tracing::Dispatch {
    tracing::Dispatch::new(tracing_subscriber::registry())
}

struct OtelTool {
    calls: opentelemetry::metrics::Counter<u64>,
    duration: opentelemetry::metrics::Histogram<f64>,
    attrs: [opentelemetry::KeyValue; 3],
}

static OTEL: OnceLock<(opentelemetry_sdk::metrics::SdkMeterProvider, OtelTool)> = OnceLock::new();

/// The OpenTelemetry SDK's own instruments, cached, read by a manual reader.
#[inline(never)]
fn otel_sdk_tool(x: u64) -> u64 {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::KeyValue;
    let (_, t) = OTEL.get_or_init(|| {
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_reader(opentelemetry_sdk::metrics::ManualReader::builder().build())
            .build();
        let meter = provider.meter("bench");
        let t = OtelTool {
            calls: meter.u64_counter("tool_calls").build(),
            duration: meter.f64_histogram("tool_duration").with_unit("s").build(),
            attrs: [
                KeyValue::new("tool", "bench_tool"),
                KeyValue::new("agent", "none"),
                KeyValue::new("status", "success"),
            ],
        };
        (provider, t)
    });
    let start = Instant::now();
    let r = black_box(x) + 1;
    let elapsed = start.elapsed();
    t.calls.add(1, &t.attrs);
    t.duration.record(elapsed.as_secs_f64(), &t.attrs);
    r
}

// ----------------------------------------- hand-written, spans + JSON log

fn json_dispatch() -> tracing::Dispatch {
    use tracing_subscriber::layer::SubscriberExt as _;
    tracing::Dispatch::new(
        tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().json().with_writer(std::io::sink)),
    )
}

/// A tool call by hand: a `tracing` span with the GenAI fields under a JSON
/// `fmt` subscriber, plus cached metrics.
#[inline(never)]
fn base_json_tool(x: u64) -> u64 {
    let span = tracing::info_span!(
        "execute_tool bench_tool",
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = "bench_tool",
        otel.status_code = tracing::field::Empty
    );
    let start = Instant::now();
    let r = {
        let _e = span.enter();
        black_box(x) + 1
    };
    record_base_tool(start.elapsed());
    r
}

/// A model call by hand, with spans: the span records its tokens.
#[inline(never)]
fn base_json_llm(x: u64) -> u64 {
    let span = tracing::info_span!(
        "chat gpt-4o",
        gen_ai.operation.name = "chat",
        gen_ai.request.model = "gpt-4o",
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
    );
    let start = Instant::now();
    let r = {
        let _e = span.enter();
        black_box(x) + 1
    };
    record_base_llm(start.elapsed());
    span.record("gen_ai.usage.input_tokens", 100);
    span.record("gen_ai.usage.output_tokens", 20);
    r
}

// ------------------------------------ hand-written, spans exported by OTLP

/// The OTLP sink's address, for the hand-written exporter (otlp mode).
static SINK_ADDR: OnceLock<std::net::SocketAddr> = OnceLock::new();

/// A blocking HTTP/1.1 client for the OTLP exporter: the SDK's batch thread
/// runs the export future with a plain executor, so an async client would need
/// a runtime of its own (obs runs its exporter on one).
#[derive(Debug)]
struct BlockingClient;

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for BlockingClient {
    async fn send_bytes(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let addr = SINK_ADDR.get().ok_or("no sink")?;
        let mut conn = std::net::TcpStream::connect(addr)?;
        let body = request.body();
        let head = format!(
            "POST {} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            request.uri().path(),
            body.len()
        );
        conn.write_all(head.as_bytes())?;
        conn.write_all(body)?;
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match conn.read(&mut chunk)? {
                0 => break,
                n => answer.extend_from_slice(&chunk[..n]),
            }
        }
        Ok(http::Response::builder().status(200).body(bytes::Bytes::new())?)
    }
}

/// A JSON `fmt` subscriber (as for `base_json_*`) with a `tracing-opentelemetry`
/// layer whose tracer exports every span through the SDK's batch processor
/// and the OTLP/HTTP exporter: what an application wires by hand to get its
/// spans to a collector.
fn otel_dispatch() -> tracing::Dispatch {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    use tracing_subscriber::layer::SubscriberExt as _;
    static PROVIDER: OnceLock<opentelemetry_sdk::trace::SdkTracerProvider> = OnceLock::new();
    let provider = PROVIDER.get_or_init(|| {
        let addr = SINK_ADDR.get().expect("otlp mode starts the sink");
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(BlockingClient)
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(format!("http://{addr}/v1/traces"))
            .build()
            .expect("OTLP span exporter");
        opentelemetry_sdk::trace::SdkTracerProvider::builder().with_batch_exporter(exporter).build()
    });
    tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().json().with_writer(std::io::sink))
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
    )
}

// ------------------------------------------------------------- contention

/// Runs `f` `iters` times on each of `threads` threads started together;
/// the wall time from the first start to the last finish (so the figure is
/// per call per thread).
fn on_threads(threads: usize, iters: u64, f: fn(u64) -> u64) -> Duration {
    let barrier = std::sync::Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || {
                    black_box(f(0));
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        black_box(f(black_box(i)));
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("bench thread")).collect()
    });
    let first = spans.iter().map(|s| s.0).min().expect("a thread");
    let last = spans.iter().map(|s| s.1).max().expect("a thread");
    last - first
}

fn contention(c: &mut Criterion) {
    let mut g = c.benchmark_group("contention");
    type Measured = (&'static str, fn(u64) -> u64);
    let cases: [Measured; 5] = [
        ("uninstrumented", uninstrumented),
        ("base_metrics_instant", base_metrics_instant),
        ("obs_tool", obs_tool),
        ("base_llm", base_llm),
        ("obs_llm_usage", obs_llm_usage),
    ];
    for (name, f) in cases {
        for threads in [1usize, 2] {
            g.bench_with_input(BenchmarkId::new(name, format!("{threads}t")), &threads, |b, &threads| {
                b.iter_custom(|iters| on_threads(threads, iters, f))
            });
        }
    }
    g.finish();
}

// ---------------------------------------------------------------- render

const RENDER_SERIES: usize = 10_000;

fn render(c: &mut Criterion, baseline: &metrics_exporter_prometheus::PrometheusHandle) {
    for i in 0..RENDER_SERIES {
        let v = format!("v{i}");
        obs_runtime::metrics::counter("bench_render_total", "Series of the render bench.", &[("i", &v)])
            .expect("obs counter")
            .increment(1);
        metrics::counter!("bench_render_total", "i" => v).increment(1);
    }
    let obs_text = obs_runtime::export::prometheus::render(None);
    assert_eq!(obs_text.lines().filter(|l| l.starts_with("bench_render_total{")).count(), RENDER_SERIES);
    let base_text = baseline.render();
    assert_eq!(base_text.lines().filter(|l| l.starts_with("bench_render_total{")).count(), RENDER_SERIES);
    let mut g = c.benchmark_group("render");
    g.sample_size(10);
    g.bench_function("obs_render_10k", |b| b.iter(|| obs_runtime::export::prometheus::render(None)));
    g.bench_function("metrics_exporter_prometheus_render_10k", |b| b.iter(|| baseline.render()));
    g.finish();
}

// ------------------------------------------------------------- OTLP sink

/// What the sink received: (path, body bytes) per request.
static SINK_REQUESTS: std::sync::Mutex<Vec<(String, usize)>> = std::sync::Mutex::new(Vec::new());

/// An OTLP/HTTP sink on 127.0.0.1: reads each request and answers 200 with an
/// empty body (an empty protobuf export response).
fn otlp_sink() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the OTLP sink");
    let addr = listener.local_addr().expect("sink address");
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || serve(conn));
        }
    });
    addr
}

fn serve(mut conn: std::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
        SINK_REQUESTS.lock().unwrap_or_else(|e| e.into_inner()).push((path, len));
        buf.drain(..head_end + len);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if conn.write_all(ok).is_err() {
            return;
        }
    }
}

// ------------------------------------------------------------------- main

/// The fastest batch of each case, in ns per call (`OBS_BENCH_MIN=a,b,c`):
/// cases take turns, batch after batch, and each keeps its fastest, which a
/// busy machine slows least (a median moves with the load; the minimum of
/// many short batches mostly does not). For comparing cases on a shared
/// machine; the README's figures are criterion medians on a quiet one.
fn min_of_batches(list: &str, cases: &[Case]) {
    const BATCH: u64 = 2_000;
    const ROUNDS: usize = 400;
    let picked: Vec<&Case> = list
        .split(',')
        .map(|n| cases.iter().find(|c| c.name == n).unwrap_or_else(|| panic!("OBS_BENCH_MIN: no case {n}")))
        .collect();
    let mut best = vec![f64::MAX; picked.len()];
    let mut i = 0u64;
    for _ in 0..ROUNDS {
        for (k, case) in picked.iter().enumerate() {
            let f = case.f;
            let mut batch = || {
                let start = Instant::now();
                for _ in 0..BATCH {
                    i = i.wrapping_add(1);
                    black_box(f(black_box(i)));
                }
                start.elapsed().as_nanos() as f64 / BATCH as f64
            };
            let ns = match case.dispatch {
                Some(d) => tracing::dispatcher::with_default(&d(), batch),
                None => batch(),
            };
            best[k] = best[k].min(ns);
        }
    }
    for (case, ns) in picked.iter().zip(best) {
        println!("{:<32} {ns:>9.1} ns (fastest batch of {BATCH})", case.name);
    }
}

/// Runs one case `iterations` times (`OBS_BENCH_ONLY=case:iterations`), under
/// its own subscriber when it has one: instruction counts of two runs with
/// different iteration counts give the cost of one call, whatever the load.
#[inline(never)]
fn run_only(only: &str, cases: &[Case]) {
    let (name, n) = only.split_once(':').unwrap_or((only, "100000"));
    let n: u64 = n.parse().expect("OBS_BENCH_ONLY=case:iterations");
    let case = cases.iter().find(|c| c.name == name).unwrap_or_else(|| {
        let names: Vec<_> = cases.iter().map(|c| c.name).collect();
        panic!("OBS_BENCH_ONLY: no case {name} in this mode; cases: {names:?}")
    });
    let f = case.f;
    let run = || {
        let mut s = 0u64;
        for i in 0..n {
            s = s.wrapping_add(f(black_box(i)));
        }
        black_box(s);
    };
    match case.dispatch {
        Some(d) => tracing::dispatcher::with_default(&d(), run),
        None => run(),
    }
}

fn main() {
    let mode = Mode::from_env();
    let mut c = config();
    let mut cases = obs_cases();
    let mut baseline = None;
    let guard = match mode {
        Mode::Uninit => {
            cases.push(case("tracing_instrument_no_subscriber", tracing_instrument_tool));
            cases.push(case("fastrace_no_reporter", fastrace_tool));
            None
        }
        _ => {
            // The `metrics` recorder of the hand-written baselines and
            // autometrics first: obs's `init()` keeps a recorder already
            // installed, and its own calls do not go through `metrics`.
            let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(obs_runtime::metrics::FUNCTION_DURATION_BUCKETS)
                .expect("buckets")
                .install_recorder()
                .expect("install the metrics-exporter-prometheus recorder");
            let upkeep = handle.clone();
            // Its histograms grow until upkeep drains them (every 5 s, as
            // `install()` would on a runtime).
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            });
            baseline = Some(handle);
            let b = obs_runtime::Builder::new().prometheus_addr("127.0.0.1:0").cardinality_limit(2 * RENDER_SERIES);
            let b = match mode {
                Mode::Metrics => b.exporters(&["prometheus"]),
                Mode::Json => b
                    .exporters(&["logs", "prometheus"])
                    .log_format(obs_runtime::export::logs::LogFormat::Json)
                    .log_spans(obs_runtime::export::logs::LogSpans::All)
                    .log_output(obs_runtime::export::logs::LogOutput::parse("/dev/null")),
                _ => b
                    .exporters(&["logs", "prometheus", "otlp"])
                    .otlp_endpoint(format!("http://{}", SINK_ADDR.get_or_init(otlp_sink)))
                    .log_format(obs_runtime::export::logs::LogFormat::Json)
                    .log_spans(obs_runtime::export::logs::LogSpans::All)
                    .log_output(obs_runtime::export::logs::LogOutput::parse("/dev/null")),
            };
            let guard = b.init().expect("obs init");
            eprintln!("obs configuration: {}", guard.describe().join("; "));
            match mode {
                Mode::Metrics => {
                    cases.extend([
                        case("base_metrics_instant", base_metrics_instant),
                        case("base_metrics_quanta", base_metrics_quanta),
                        case("base_metrics_per_call", base_metrics_per_call),
                        case("base_llm", base_llm),
                        case("base_llm_quanta", base_llm_quanta),
                        case("autometrics", autometrics_tool),
                        case("otel_sdk_metrics", otel_sdk_tool),
                        Case {
                            name: "tracing_instrument_registry",
                            f: tracing_instrument_tool,
                            dispatch: Some(registry_dispatch),
                        },
                    ]);
                }
                _ => {
                    cases.extend([
                        Case { name: "base_json_tool", f: base_json_tool, dispatch: Some(json_dispatch) },
                        Case { name: "base_json_llm", f: base_json_llm, dispatch: Some(json_dispatch) },
                    ]);
                    if mode == Mode::Otlp {
                        cases.extend([
                            Case { name: "base_otel_tool", f: base_json_tool, dispatch: Some(otel_dispatch) },
                            Case { name: "base_otel_llm", f: base_json_llm, dispatch: Some(otel_dispatch) },
                        ]);
                    }
                }
            }
            Some(guard)
        }
    };
    assert_eq!(obs_runtime::enabled(), mode != Mode::Uninit);
    if let Ok(list) = std::env::var("OBS_BENCH_MIN") {
        min_of_batches(&list, &cases);
        drop(guard);
        if mode == Mode::Otlp {
            // Both exporters really sent: obs's and the hand-written one.
            std::thread::sleep(Duration::from_secs(6));
            let got = SINK_REQUESTS.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let traces: Vec<_> = got.iter().filter(|(p, _)| p == "/v1/traces").collect();
            eprintln!(
                "sink: {} requests, {} to /v1/traces, {} bytes of spans",
                got.len(),
                traces.len(),
                traces.iter().map(|t| t.1).sum::<usize>()
            );
        }
        return;
    }
    if let Ok(only) = std::env::var("OBS_BENCH_ONLY") {
        // `case:iterations`, for instruction counts under a profiler
        // (`valgrind --tool=callgrind`): the case alone, no criterion.
        run_only(&only, &cases);
        drop(guard);
        return;
    }
    run_cases(&mut c, mode.name(), &cases);
    if mode == Mode::Metrics {
        contention(&mut c);
        if let Some(b) = &baseline {
            render(&mut c, b);
        }
    }
    // The set-up really recorded (or, not initialised, did not).
    let tools = obs_runtime::metrics::snapshot()
        .counter("tool_calls_total", &[("agent", "none"), ("tool", "bench_tool"), ("status", "success")]);
    match mode {
        Mode::Uninit => assert_eq!(tools, None, "recorded without init()"),
        _ => assert!(tools.unwrap_or(0) > 0, "obs recorded no tool call"),
    }
    drop(guard);
    c.final_summary();
}
