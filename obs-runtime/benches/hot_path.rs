//! Cost of one instrumented call, as ratios against baselines measured in the
//! same run (never as timed assertions).
//!
//! * `hot_path/uninstrumented`: the bare function, the floor.
//! * `hot_path/baseline_metrics_crate`: the same body instrumented by hand with
//!   the `metrics` crate: `metrics-exporter-prometheus`'s recorder installed
//!   globally (shared atomics: an `AtomicU64` counter, an `AtomicBucket`
//!   histogram), handles cached in `static`s, a `std::time::Instant` pair.
//! * `hot_path/baseline_metrics_crate_quanta_clock`: the baseline with obs's
//!   clock (`quanta`) instead of `std`'s, to tell the clock from the recording.
//! * `hot_path/obs_tool_call`: the same body under `#[track_tool]`, after
//!   `init()` with the Prometheus exporter only (no tracing subscriber, so the
//!   span is disabled).
//! * `hot_path/baseline_agent_llm` and `hot_path/obs_llm_call_in_agent`: an
//!   agent function calling one model function, per outer call (two
//!   instrumented calls), by hand and with obs.
//! * `hot_path/baseline_llm_usage` and `hot_path/obs_llm_usage`: a model call
//!   that reports tokens (so it is priced, and recorded in the ledger), by hand
//!   (calls, duration, two token counters, a cost counter) and with obs.
//! * `hot_path/baseline_llm_error` and `hot_path/obs_llm_error`: a model call
//!   that returns `Err` (the `error_type`-labelled series).
//! * `hot_path/baseline_tool_runtime_label` and `hot_path/obs_tool_runtime_label`:
//!   a tool with a label whose value is computed per call (`labels(tier = t)`);
//!   by hand, `metrics::counter!` with a runtime label looks its handle up per call.
//! * `hot_path/obs_agent_runtime_name`: an agent whose name is a runtime value
//!   (`agent = name`), calling the model function.
//! * `contention/*`: 1 and 2 threads calling the same function (the tool, and
//!   the agent calling a model function); the reported time is wall time per
//!   call per thread, so 2-thread / 1-thread is the slowdown caused by sharing
//!   (with `uninstrumented` as the control for the machine itself).
//!
//! The machine must otherwise be idle for the 2-thread figures to mean
//! anything: with 2 cores, any other load lands on the benchmark's threads.
//! That includes the baseline exporter's own upkeep thread (every 5 s, about
//! 130 ms to drain the samples), which makes the baseline's 2-thread figures
//! vary from run to run.
//!
//! Run with `cargo bench -p obs-runtime --bench hot_path`.

mod common;

use criterion::{criterion_group, BenchmarkId, Criterion};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use obs_runtime::{track_execution, track_llm_call, track_tool};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

// ------------------------------------------------- hand-written, `metrics`

static BASE_CALLS: OnceLock<metrics::Counter> = OnceLock::new();
static BASE_DURATION: OnceLock<metrics::Histogram> = OnceLock::new();

/// The recording a careful user writes by hand with the `metrics` crate:
/// handles cached in statics, one counter and one histogram.
#[inline(always)]
fn record_baseline_tool(elapsed: Duration) {
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

/// What a careful user writes by hand with the `metrics` crate.
#[inline(never)]
fn baseline_metrics_crate(x: u64) -> u64 {
    let start = Instant::now();
    let r = black_box(x) + 1;
    let elapsed = start.elapsed();
    record_baseline_tool(elapsed);
    r
}

/// The same with `quanta`'s clock (obs's clock) instead of `std::time::Instant`:
/// not the baseline, but it separates the cost of the clock from the cost of
/// the recording.
#[inline(never)]
fn baseline_metrics_crate_quanta_clock(x: u64) -> u64 {
    let start = quanta::Instant::now();
    let r = black_box(x) + 1;
    let elapsed = quanta::Instant::now().saturating_duration_since(start);
    record_baseline_tool(elapsed);
    r
}

static BASE_AGENT_CALLS: OnceLock<metrics::Counter> = OnceLock::new();
static BASE_AGENT_DURATION: OnceLock<metrics::Histogram> = OnceLock::new();
static BASE_AGENT_IN_FLIGHT: OnceLock<metrics::Gauge> = OnceLock::new();
static BASE_LLM_CALLS: OnceLock<metrics::Counter> = OnceLock::new();
static BASE_LLM_DURATION: OnceLock<metrics::Histogram> = OnceLock::new();

/// The model call, by hand. Its `agent` label is a constant here: a hand-written
/// version that looked the caller's agent up at run time would cost more.
#[inline(never)]
fn baseline_llm(x: u64) -> u64 {
    let start = Instant::now();
    let r = black_box(x) + 1;
    let elapsed = start.elapsed();
    BASE_LLM_CALLS
        .get_or_init(|| {
            metrics::counter!("llm_calls_total", "model" => "gpt-4o", "provider" => "openai",
                "agent" => "bench_agent", "status" => "success")
        })
        .increment(1);
    BASE_LLM_DURATION
        .get_or_init(|| {
            metrics::histogram!("llm_duration_seconds", "model" => "gpt-4o", "provider" => "openai",
                "agent" => "bench_agent", "status" => "success")
        })
        .record(elapsed.as_secs_f64());
    r
}

/// The agent, by hand: in-flight gauge, counter, histogram.
#[inline(never)]
fn baseline_agent_llm(x: u64) -> u64 {
    let in_flight =
        BASE_AGENT_IN_FLIGHT.get_or_init(|| metrics::gauge!("agent_executions_in_flight", "agent" => "bench_agent"));
    in_flight.increment(1.0);
    let start = Instant::now();
    let r = baseline_llm(x);
    let elapsed = start.elapsed();
    BASE_AGENT_CALLS
        .get_or_init(|| metrics::counter!("agent_executions_total", "agent" => "bench_agent", "status" => "success"))
        .increment(1);
    BASE_AGENT_DURATION
        .get_or_init(|| metrics::histogram!("agent_duration_seconds", "agent" => "bench_agent", "status" => "success"))
        .record(elapsed.as_secs_f64());
    in_flight.decrement(1.0);
    r
}

static BASE_USAGE: OnceLock<[metrics::Counter; 3]> = OnceLock::new();

/// A priced model call by hand: calls and duration, input and output tokens,
/// cost (gpt-4o's rates, in micro-dollars).
#[inline(never)]
fn baseline_llm_usage(x: u64) -> u64 {
    let r = baseline_llm(x);
    let [input, output, cost] = BASE_USAGE.get_or_init(|| {
        let l = |t: &'static str| {
            metrics::counter!("llm_tokens_total", "model" => "gpt-4o", "provider" => "openai", "agent" => "bench_agent", "type" => t)
        };
        [l("input"), l("output"), metrics::counter!("llm_cost_usd_total", "model" => "gpt-4o", "provider" => "openai", "agent" => "bench_agent")]
    });
    let (i, o) = black_box((100u64, 20u64));
    input.increment(i);
    output.increment(o);
    cost.increment(i * 2_500_000 / 1_000_000 + o * 10_000_000 / 1_000_000);
    r
}

static BASE_LLM_ERR_CALLS: OnceLock<metrics::Counter> = OnceLock::new();
static BASE_LLM_ERR_DURATION: OnceLock<metrics::Histogram> = OnceLock::new();

/// A failed model call by hand: its error type is known where it is written,
/// so its handles are cached like the success ones.
#[inline(never)]
fn baseline_llm_error(x: u64) -> u64 {
    let start = Instant::now();
    let r: Result<u64, BenchError> = if black_box(true) { Err(BenchError) } else { Ok(x) };
    let elapsed = start.elapsed();
    BASE_LLM_ERR_CALLS
        .get_or_init(|| {
            metrics::counter!("llm_calls_total", "model" => "gpt-4o", "provider" => "openai",
                "agent" => "none", "status" => "error")
        })
        .increment(1);
    BASE_LLM_ERR_DURATION
        .get_or_init(|| {
            metrics::histogram!("gen_ai_client_operation_duration_seconds", "gen_ai_request_model" => "gpt-4o",
                "gen_ai_provider_name" => "openai", "error_type" => "BenchError")
        })
        .record(elapsed.as_secs_f64());
    r.unwrap_or(x)
}

/// A tool with a runtime label by hand: the handle depends on the value, so
/// `metrics::counter!` looks it up in the recorder on every call.
#[inline(never)]
fn baseline_tool_runtime_label(x: u64) -> u64 {
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

#[inline(always)]
fn tier_of(x: u64) -> &'static str {
    if x % 2 == 0 {
        "free"
    } else {
        "pro"
    }
}

// ---------------------------------------------------------------------- obs

#[track_tool(name = "bench_tool")]
#[inline(never)]
fn obs_tool_call(x: u64) -> u64 {
    black_box(x) + 1
}

#[track_llm_call(model = "gpt-4o", usage = none)]
#[inline(never)]
fn obs_llm(x: u64) -> u64 {
    black_box(x) + 1
}

#[track_execution(agent = "bench_agent")]
#[inline(never)]
fn obs_agent(x: u64) -> u64 {
    obs_llm(x)
}

/// A tool whose runtime label takes a new value on every call: past the
/// cardinality limit and the site's cache, every call takes the overflow
/// path (issue 13 measured 5.8 to 7.5 µs per call there).
#[track_tool(name = "bench_tool_overflow", labels(user = unbounded(user)))]
#[inline(never)]
fn obs_tool_overflow_inner(x: u64, user: u64) -> u64 {
    black_box(x) + user
}

#[inline(never)]
fn obs_tool_overflow(x: u64) -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    obs_tool_overflow_inner(x, NEXT.fetch_add(1, Ordering::Relaxed))
}

#[derive(Debug)]
struct BenchError;

/// A model response that reports its tokens.
struct Reply(u64);

impl obs_runtime::LlmUsage for Reply {
    fn usage(&self) -> Option<obs_runtime::TokenUsage> {
        Some(obs_runtime::TokenUsage::new(black_box(100), black_box(20)))
    }
}

#[track_llm_call(model = "gpt-4o")]
#[inline(never)]
fn obs_llm_usage_inner(x: u64) -> Reply {
    Reply(black_box(x) + 1)
}

#[track_execution(agent = "bench_agent")]
#[inline(never)]
fn obs_llm_usage(x: u64) -> u64 {
    obs_llm_usage_inner(x).0
}

#[track_llm_call(model = "gpt-4o", usage = none)]
#[inline(never)]
fn obs_llm_error_inner(x: u64) -> Result<u64, BenchError> {
    if black_box(true) {
        Err(BenchError)
    } else {
        Ok(x)
    }
}

fn obs_llm_error(x: u64) -> u64 {
    obs_llm_error_inner(x).unwrap_or(x)
}

#[track_tool(name = "bench_tool_dyn", labels(tier = tier))]
#[inline(never)]
fn obs_tool_runtime_label_inner(x: u64, tier: &'static str) -> u64 {
    let _ = tier;
    black_box(x) + 1
}

fn obs_tool_runtime_label(x: u64) -> u64 {
    obs_tool_runtime_label_inner(x, tier_of(x))
}

#[track_execution(agent = name)]
#[inline(never)]
fn obs_agent_named(x: u64, name: &'static str) -> u64 {
    let _ = name;
    obs_llm(x)
}

fn obs_agent_runtime_name(x: u64) -> u64 {
    obs_agent_named(x, "bench_agent_rt")
}

// -------------------------------------------------------------------- setup

/// Nanoseconds the baseline's upkeep thread spent draining histograms.
static UPKEEP_NS: AtomicU64 = AtomicU64::new(0);
static UPKEEP_RUNS: AtomicU64 = AtomicU64::new(0);

/// Installs the Prometheus recorder of the `metrics` ecosystem globally, with
/// the same buckets obs uses for tools, and runs its upkeep (the histogram
/// drain) every 5 s on a thread, as `PrometheusBuilder::install` would on a
/// runtime (its default `upkeep_timeout`). Without upkeep its histograms grow
/// without bound.
fn install_baseline() -> PrometheusHandle {
    let handle = PrometheusBuilder::new()
        .set_buckets(obs_runtime::metrics::FUNCTION_DURATION_BUCKETS)
        .expect("buckets")
        .install_recorder()
        .expect("install the metrics-exporter-prometheus recorder");
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("baseline-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            let t = Instant::now();
            upkeep.run_upkeep();
            UPKEEP_NS.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            UPKEEP_RUNS.fetch_add(1, Ordering::Relaxed);
        })
        .expect("spawn upkeep thread");
    handle
}

// ---------------------------------------------------------------- benchmarks

fn hot_path(c: &mut Criterion) {
    let cases: [common::Case; 14] = [
        ("uninstrumented", common::uninstrumented),
        ("baseline_metrics_crate", baseline_metrics_crate),
        ("baseline_metrics_crate_quanta_clock", baseline_metrics_crate_quanta_clock),
        ("obs_tool_call", obs_tool_call),
        ("baseline_agent_llm", baseline_agent_llm),
        ("obs_llm_call_in_agent", obs_agent),
        ("baseline_llm_usage", baseline_llm_usage),
        ("obs_llm_usage", obs_llm_usage),
        ("baseline_llm_error", baseline_llm_error),
        ("obs_llm_error", obs_llm_error),
        ("baseline_tool_runtime_label", baseline_tool_runtime_label),
        ("obs_tool_runtime_label", obs_tool_runtime_label),
        ("obs_agent_runtime_name", obs_agent_runtime_name),
        ("obs_tool_overflow", obs_tool_overflow),
    ];
    common::run_cases(c, "hot_path", &cases);
}

/// Runs `f` `iters` times on each of `threads` threads started together;
/// returns the wall time from the first start to the last finish, so the
/// per-iteration figure is the time per call per thread.
fn on_threads(threads: usize, iters: u64, f: fn(u64) -> u64) -> Duration {
    let barrier = std::sync::Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || {
                    // First call outside the timing: thread-local set-up.
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
    let cases: [common::Case; 12] = [
        ("uninstrumented", common::uninstrumented),
        ("baseline_metrics_crate", baseline_metrics_crate),
        ("obs", obs_tool_call),
        ("baseline_agent_llm", baseline_agent_llm),
        ("obs_llm_call_in_agent", obs_agent),
        ("baseline_llm_usage", baseline_llm_usage),
        ("obs_llm_usage", obs_llm_usage),
        ("baseline_llm_error", baseline_llm_error),
        ("obs_llm_error", obs_llm_error),
        ("baseline_tool_runtime_label", baseline_tool_runtime_label),
        ("obs_tool_runtime_label", obs_tool_runtime_label),
        ("obs_agent_runtime_name", obs_agent_runtime_name),
    ];
    for (name, f) in cases {
        for threads in [1usize, 2] {
            g.bench_with_input(BenchmarkId::new(name, format!("{threads}_thread")), &threads, |b, &threads| {
                b.iter_custom(|iters| on_threads(threads, iters, f))
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = hot_path, contention
}

fn main() {
    // The baseline's recorder first: obs's `init()` keeps a recorder that is
    // already installed, and its own hot path does not go through `metrics`.
    let baseline = install_baseline();
    let obs =
        obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("127.0.0.1:0").init().expect("obs init");
    assert!(obs_runtime::enabled());

    benches();

    // Both sides really recorded (a check of the set-up, not of timings).
    let m = obs_runtime::metrics::snapshot();
    let total = |name: &str, filter: &[(&str, &str)]| -> u64 {
        m.series(name, filter)
            .into_iter()
            .map(|(_, v)| match v {
                obs_runtime::metrics::Value::Counter(n) => *n,
                _ => 0,
            })
            .sum()
    };
    let obs_calls = total("tool_calls_total", &[("tool", "bench_tool"), ("status", "success")]);
    let obs_llm = total("llm_calls_total", &[("agent", "bench_agent"), ("status", "success")]);
    let base_rendered = baseline.render();
    let base_calls = base_rendered
        .lines()
        .find(|l| l.starts_with("tool_calls_total{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    eprintln!("check: obs tool_calls_total = {obs_calls}, obs llm_calls_total{{agent=bench_agent}} = {obs_llm}");
    eprintln!("check: baseline tool_calls_total = {base_calls}");
    let runs = UPKEEP_RUNS.load(Ordering::Relaxed);
    let ns = UPKEEP_NS.load(Ordering::Relaxed);
    eprintln!(
        "baseline upkeep thread: {runs} runs, {:.1} ms in total (off the measured threads, but on this machine's cores)",
        ns as f64 / 1e6
    );
    if obs_calls == 0 || obs_llm == 0 || base_calls == 0 {
        eprintln!("check: a side recorded nothing (expected only when a filter skipped its benchmarks)");
    }
    drop(obs);

    Criterion::default().configure_from_args().final_summary();
}
