//! What every bench file shares: the floor, the case table, the criterion
//! settings and the loop that measures each case (`mod common;` in each).

use criterion::Criterion;
use std::hint::black_box;
use std::time::Duration;

/// The floor: the measured body without any instrumentation.
#[inline(never)]
pub fn uninstrumented(x: u64) -> u64 {
    black_box(x) + 1
}

/// A benchmark's name and function.
pub type Case = (&'static str, fn(u64) -> u64);

/// Short runs: 3 s per case, so a whole file runs in a minute or two.
pub fn config() -> Criterion {
    Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30)
}

/// Measures every case in one group, each called with a fresh argument.
pub fn run_cases(c: &mut Criterion, group: &str, cases: &[Case]) {
    let mut g = c.benchmark_group(group);
    for &(name, f) in cases {
        g.bench_function(name, |b| {
            let mut i = 0u64;
            b.iter(|| {
                i = i.wrapping_add(1);
                f(black_box(i))
            })
        });
    }
    g.finish();
}

/// Log lines obs dropped so far (queue full or write error): printed after a
/// logs bench, so a result made cheaper by dropping is visible.
#[allow(dead_code)] // not every bench file logs
pub fn log_lines_dropped() -> u64 {
    obs_runtime::metrics::snapshot()
        .series("obs_log_lines_dropped_total", &[])
        .into_iter()
        .map(|(_, v)| match v {
            obs_runtime::metrics::Value::Counter(n) => *n,
            _ => 0,
        })
        .sum()
}
