//! A simulated multi-agent research run, instrumented with obs.
//!
//! A `planner` agent plans topics and fans out to concurrent `researcher`
//! agents, which call models (`gpt-5.4`, `gpt-5.4-mini`, `claude-sonnet-4-6`)
//! and tools (`web_search`, `fetch_page`); a `writer` agent writes the report.
//! Nothing touches the network: latencies, token counts and failures come from
//! a deterministic generator, so every run records the same calls.
//!
//! The binary `research-agent` runs it and prints a summary read back from
//! `obs_runtime::metrics::snapshot()`.

pub mod agents;
pub mod args;
pub mod llm;
pub mod rng;
pub mod service;
pub mod summary;
pub mod tools;

use std::time::Duration;

/// How fast the simulation runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sim {
    /// Multiplier applied to every simulated latency (1.0 = realistic, 0.1 = `--quick`).
    pub scale: f64,
}

impl Sim {
    /// Realistic latencies: a run of 4 topics takes 3 to 4 seconds.
    pub const REALISTIC: Sim = Sim { scale: 1.0 };
    /// Latencies divided by 10, for tests.
    pub const QUICK: Sim = Sim { scale: 0.1 };

    /// Sleeps for a latency drawn from `lo_ms..=hi_ms` (before scaling).
    pub async fn wait(&self, rng: &mut rng::SplitMix64, lo_ms: u64, hi_ms: u64) {
        let ms = rng.range(lo_ms, hi_ms) as f64 * self.scale;
        tokio::time::sleep(Duration::from_secs_f64(ms / 1000.0)).await;
    }
}
