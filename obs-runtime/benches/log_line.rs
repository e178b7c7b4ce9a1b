//! One log line, obs's pipeline against the ecosystem's pieces, in one run:
//! `tracing_subscriber::fmt().json()` writing through
//! `tracing_appender::non_blocking` (what the issue asked us to consider
//! instead of our own writer and formatter). Both write JSON lines to
//! `/dev/null` from inside an application span with two fields, so each line
//! carries span context.
//!
//! ```text
//! cargo bench -p obs-runtime --bench log_line
//! ```
//!
//! * `log_line/obs`: `init()` with the `logs` exporter (JSON), the line
//!   formatted by `obs_runtime::layer()` and queued for obs's writer thread.
//! * `log_line/fmt_json_non_blocking`: the same event through a scoped
//!   `fmt` JSON subscriber whose writer is tracing-appender's non-blocking one.
//!
//! Both queues hold 128,000 lines (tracing-appender's default). Printed
//! after the run: the lines each pipeline dropped (both drop rather than
//! block when their writer falls behind), so a cheaper-because-dropped result
//! is visible.

#[allow(dead_code)] // only the criterion settings are used here
mod common;

use criterion::Criterion;
use std::hint::black_box;

fn event(i: u64) {
    tracing::info!(attempt = i, cached = false, "document fetched");
}

fn log_line(c: &mut Criterion, fmt: &tracing::Dispatch) {
    let mut g = c.benchmark_group("log_line");
    let span = tracing::info_span!("handle_request", route = "/agents/run", tenant = "acme");
    g.bench_function("obs", |b| {
        let _e = span.enter();
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            event(black_box(i))
        })
    });
    tracing::dispatcher::with_default(fmt, || {
        let span = tracing::info_span!("handle_request", route = "/agents/run", tenant = "acme");
        g.bench_function("fmt_json_non_blocking", |b| {
            let _e = span.enter();
            let mut i = 0u64;
            b.iter(|| {
                i += 1;
                event(black_box(i))
            })
        });
    });
    g.finish();
}

fn main() {
    let mut obs = obs_runtime::Builder::new()
        .exporters(&["logs"])
        .log_format(obs_runtime::export::logs::LogFormat::Json)
        .log_output(obs_runtime::export::logs::LogOutput::parse("/dev/null"))
        // tracing-appender's default queue, so neither side wins by dropping.
        .log_queue(128_000)
        .init()
        .expect("obs init");
    let devnull = std::fs::OpenOptions::new().write(true).open("/dev/null").expect("/dev/null");
    let (writer, worker) = tracing_appender::non_blocking(devnull);
    let dropped = writer.error_counter();
    let fmt = tracing::Dispatch::new(
        tracing_subscriber::fmt().json().with_writer(writer).with_max_level(tracing::Level::INFO).finish(),
    );
    let mut c = common::config().configure_from_args();
    log_line(&mut c, &fmt);
    obs.flush();
    drop(worker);
    let obs_dropped = common::log_lines_dropped();
    eprintln!("lines dropped: obs {obs_dropped}, fmt + non_blocking {}", dropped.dropped_lines());
    c.final_summary();
}
