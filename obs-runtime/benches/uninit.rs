//! Cost of instrumentation when `init()` is never called (a separate bench
//! binary, so no other benchmark can have initialised obs in this process):
//! instrumented-but-not-initialised against the bare function, with the
//! tool's span written by hand with `tracing` as a control (no subscriber is
//! installed, so every span here is disabled).
//!
//! Run with `cargo bench -p obs-runtime --bench uninit`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use obs_runtime::{track_execution, track_llm_call, track_tool};
use std::hint::black_box;

/// Control: the span the tool's macro opens, written by hand with `tracing`
/// (disabled too, since no subscriber is installed), without obs.
#[inline(never)]
fn tracing_span_only(x: u64) -> u64 {
    let span = tracing::span!(
        tracing::Level::INFO,
        "execute_tool bench_tool",
        otel.kind = "internal",
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = "bench_tool",
        error.type = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        obs.status = tracing::field::Empty,
    );
    let r = {
        let _entered = span.enter();
        black_box(x) + 1
    };
    if !span.is_disabled() {
        span.record("obs.status", "success");
    }
    r
}

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

fn uninit(c: &mut Criterion) {
    assert!(!obs_runtime::enabled(), "this benchmark measures obs before init()");
    let cases: [common::Case; 4] = [
        ("uninstrumented", common::uninstrumented),
        ("tracing_span_only", tracing_span_only),
        ("obs_tool_call_uninit", obs_tool_call),
        ("obs_llm_call_in_agent_uninit", obs_agent),
    ];
    common::run_cases(c, "uninit", &cases);
    let m = obs_runtime::metrics::snapshot();
    assert!(m.series("tool_calls_total", &[]).is_empty(), "recorded without init()");
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = uninit
}
criterion_main!(benches);
