//! A full queue never blocks the application: lines that do not fit are
//! dropped and counted, and every line is either written or counted.

use obs_runtime::export::logs::{LogBuffer, LogOutput};
use obs_runtime::metrics::snapshot;
use std::time::Instant;

#[test]
fn every_line_is_written_or_counted_as_dropped() {
    let buf = LogBuffer::new();
    let mut obs = obs_runtime::Builder::new()
        .exporters(&["logs"])
        .log_format(obs_runtime::export::logs::LogFormat::Json)
        .log_queue(1)
        .log_output(LogOutput::Buffer(buf.clone()))
        .init()
        .expect("init");
    obs.flush();
    let before = buf.lines().len() as u64; // obs's own start-up line
    const N: u64 = 20_000;
    let start = Instant::now();
    for i in 0..N {
        tracing::info!(target: "burst", i, "burst line");
    }
    let elapsed = start.elapsed();
    obs.flush();
    let written = buf.lines().len() as u64 - before;
    let dropped = |reason: &str| snapshot().counter("obs_log_lines_dropped_total", &[("reason", reason)]);
    let queue_full = dropped("queue_full").expect("the self-metric exists");
    assert_eq!(dropped("write_error"), Some(0));
    assert_eq!(written + queue_full, N, "written {written} + dropped {queue_full} != {N} (in {elapsed:?})");
    assert!(queue_full > 0, "a one-line queue under a burst drops lines");
}
