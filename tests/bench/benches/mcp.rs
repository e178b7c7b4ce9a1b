//! The cost obs adds to one MCP `tools/call`, on each side: the same rmcp 3
//! session (a client and an `echo` server over an in-memory pipe, one
//! current-thread runtime, so a call is a full round trip through both
//! rmcp service loops and the JSON codec) without obs, with obs's client
//! transport wrapper only, with its server wrapper only, and with both.
//!
//! * `OBS_BENCH_MODE=metrics` (the default): `init()` with the Prometheus
//!   exporter only: the MCP metrics and the obs tool calls, spans disabled.
//! * `OBS_BENCH_MODE=json`: metrics, every MCP span (with OpenTelemetry ids
//!   and the `_meta` they propagate) and the JSON log layer, to `/dev/null`.
//!
//! `OBS_BENCH_QUICK=1` shortens every case (1 s instead of 3). Run with
//! `cargo bench -p obs-bench --bench mcp`; the overhead of a side is its
//! case's median minus `plain`'s.

use criterion::Criterion;
use obs_tests::mcp::in_process;
use std::time::Duration;

fn main() {
    let mode = std::env::var("OBS_BENCH_MODE").unwrap_or_else(|_| "metrics".into());
    let b = obs_runtime::Builder::new().prometheus_addr("127.0.0.1:0");
    let _obs = match mode.as_str() {
        "metrics" => b.exporters(&["prometheus"]),
        "json" => b
            .exporters(&["logs", "prometheus"])
            .log_format(obs_runtime::export::logs::LogFormat::Json)
            .log_output(obs_runtime::export::logs::LogOutput::parse("/dev/null")),
        other => panic!("OBS_BENCH_MODE={other}: expected metrics or json"),
    }
    .init()
    .expect("obs init");
    let quick = std::env::var("OBS_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (warm, measure) = if quick { (300, 1000) } else { (1000, 3000) };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(warm))
        .measurement_time(Duration::from_millis(measure))
        .configure_from_args();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut g = c.benchmark_group(format!("mcp_{mode}"));
    for (case, client_traced, server_traced) in
        [("plain", false, false), ("client", true, false), ("server", false, true), ("both", true, true)]
    {
        let client = rt.block_on(in_process::connect_sides(client_traced, server_traced));
        g.bench_function(case, |b| b.iter(|| rt.block_on(in_process::echo(&client, "hello"))));
        rt.block_on(async {
            let _ = client.cancel().await;
        });
    }
    g.finish();
    c.final_summary();
}
