//! What the log exporter costs an instrumented call, against baselines in
//! the same run. The exporter is installed once per process, so the
//! configuration comes from the environment, as with `init()`:
//!
//! ```text
//! cargo bench -p obs-runtime --bench logs                                 # default: console, spans of instrumented calls off
//! OBS_LOG_FORMAT=json cargo bench -p obs-runtime --bench logs             # json: agent/model/tool spans on (trace ids)
//! OBS_LOG_FORMAT=json OBS_LOG_SPANS=none cargo bench -p obs-runtime --bench logs
//! ```
//!
//! * `logs/uninstrumented`: the bare function, the floor.
//! * `logs/tool_call`: a `#[track_tool]` function after `init()` with the
//!   default exporters (`logs` and `prometheus`); lines go to `/dev/null`
//!   unless `OBS_LOG_OUTPUT` says otherwise.
//! * `logs/llm_call_in_agent`: an agent calling one model function (two
//!   instrumented calls per iteration).
//! * `logs/tool_call_with_event`: the tool emitting one `info!` line: the
//!   cost of a log line (format, queue) on top of the call.

mod common;

use criterion::{criterion_group, Criterion};
use obs_runtime::{track_execution, track_llm_call, track_tool};
use std::hint::black_box;

#[track_tool(name = "bench_tool")]
#[inline(never)]
fn tool_call(x: u64) -> u64 {
    black_box(x) + 1
}

#[track_tool(name = "bench_tool_event")]
#[inline(never)]
fn tool_call_with_event(x: u64) -> u64 {
    tracing::info!(x, "tool ran");
    black_box(x) + 1
}

#[track_llm_call(model = "gpt-4o", usage = none)]
#[inline(never)]
fn llm(x: u64) -> u64 {
    black_box(x) + 1
}

#[track_execution(agent = "bench_agent")]
#[inline(never)]
fn llm_call_in_agent(x: u64) -> u64 {
    llm(x)
}

fn logs(c: &mut Criterion) {
    let cases: [common::Case; 4] = [
        ("uninstrumented", common::uninstrumented),
        ("tool_call", tool_call),
        ("llm_call_in_agent", llm_call_in_agent),
        ("tool_call_with_event", tool_call_with_event),
    ];
    common::run_cases(c, "logs", &cases);
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = logs
}

fn main() {
    let mut b = obs_runtime::Builder::from_env().prometheus_addr("127.0.0.1:0");
    if std::env::var_os("OBS_LOG_OUTPUT").is_none() {
        b = b.log_output(obs_runtime::export::logs::LogOutput::parse("/dev/null"));
    }
    let mut obs = b.init().expect("obs init");
    eprintln!("configuration: {}", obs.describe().join("; "));
    benches();
    obs.flush();
    let dropped = common::log_lines_dropped();
    eprintln!("log lines dropped (queue full or write error): {dropped}");
    drop(obs);
    Criterion::default().configure_from_args().final_summary();
}
