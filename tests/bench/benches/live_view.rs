//! The live view's cost per instrumented call: the same calls with the run
//! store collecting (`on`) and not (`off`), in one process, after `init()`
//! with the Prometheus exporter and the view (no log exporter: the run
//! store's layer is the subscriber, as `init()` installs it then).
//!
//! * `run of 12 calls`: one agent run with ten tool calls and one model
//!   call (tokens and cost), the shape the view is for; divide by 12 for a
//!   call.
//! * `tool alone` / `model call alone`: a call outside any agent, which
//!   with the view on is a run of its own (the store's lock twice).
//!
//! Off, a call's span stays disabled, as without the view: `off` is the
//! baseline obs pays anyway. `on - off` is the view's cost.
//!
//! ```text
//! cargo bench -p obs-bench --bench live_view              # 3 s per case
//! OBS_BENCH_QUICK=1 cargo bench -p obs-bench --bench live_view
//! ```

use criterion::Criterion;
use obs_runtime::{track_execution, track_llm_call, track_tool};
use std::hint::black_box;
use std::time::Duration;

#[derive(Debug)]
struct BenchError;

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bench failure")
    }
}

struct Reply;

impl obs_runtime::LlmUsage for Reply {
    fn usage(&self) -> Option<obs_runtime::TokenUsage> {
        Some(obs_runtime::TokenUsage::new(black_box(100), black_box(20)))
    }
}

#[track_tool(name = "lv_tool")]
#[inline(never)]
fn tool(x: u64) -> u64 {
    black_box(x) + 1
}

#[track_llm_call(model = "gpt-4o-mini", provider = "openai")]
#[inline(never)]
fn model(x: u64) -> Result<Reply, BenchError> {
    black_box(x);
    Ok(Reply)
}

#[track_execution(agent = "lv_agent")]
#[inline(never)]
fn run(x: u64) -> u64 {
    let mut s = 0;
    for i in 0..10 {
        s += tool(x + i);
    }
    let _ = model(x);
    s
}

/// A measured function and its name.
type Case = (&'static str, fn(u64) -> u64);

fn config() -> Criterion {
    let quick = std::env::var_os("OBS_BENCH_QUICK").is_some_and(|v| v != "0");
    let (warm, measure) = if quick { (300, 1000) } else { (1000, 3000) };
    Criterion::default()
        .warm_up_time(Duration::from_millis(warm))
        .measurement_time(Duration::from_millis(measure))
        .sample_size(if quick { 20 } else { 30 })
        .configure_from_args()
}

fn main() {
    let _obs = obs_runtime::Builder::new()
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .error_log_level(None)
        // Off by default in a release build.
        .ui(true)
        .init()
        .expect("obs");
    let mut c = config();
    let cases: [Case; 3] =
        [("run of 12 calls", run), ("tool alone", tool), ("model call alone", |x| model(x).map_or(0, |_| 1))];
    for (name, f) in cases {
        let mut g = c.benchmark_group(format!("live_view/{name}"));
        for on in [false, true] {
            obs_runtime::testing::set_live_view_collecting(on);
            g.bench_function(if on { "on" } else { "off" }, |b| {
                let mut i = 0u64;
                b.iter(|| {
                    i = i.wrapping_add(1);
                    f(black_box(i))
                })
            });
        }
        g.finish();
    }
    c.final_summary();
}
