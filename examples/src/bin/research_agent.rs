//! `research-agent`: a simulated multi-agent research run instrumented with
//! obs. Prints a summary of the recorded metrics; the live view (`/`) and
//! `/metrics` are served while it runs (and afterwards with `--serve`).
//!
//! ```text
//! cargo run -p obs-examples --bin research-agent -- --topics 6 --serve
//! cargo run -p obs-examples --bin research-agent -- --prometheus-rules rules.yml --grafana-dashboard obs.json
//! ```

use obs_examples::agents::{self, Report};
use obs_examples::args::{Args, ArgsError, USAGE};
use obs_examples::{summary, Sim};
use std::process::ExitCode;
use std::time::Instant;

fn print_report(report: &Report) {
    println!("report: {}", report.text);
    for f in &report.findings {
        let s = if f.pages == 1 { "" } else { "s" };
        println!("  ok      {:<24} {} page{s} read, {} model answers", f.topic, f.pages, f.usage.calls);
    }
    for (topic, e) in &report.failed {
        println!("  failed  {topic:<24} {e}");
    }
    println!(
        "tokens (from the simulated responses): {} in, {} out over {} successful model calls",
        report.usage.input_tokens, report.usage.output_tokens, report.usage.calls
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(ArgsError::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(ArgsError::Invalid(msg)) => {
            eprintln!("research-agent: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let mut builder = obs_runtime::Builder::from_env();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        builder = builder.service_name("research-agent");
    }
    let obs = match builder.init() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("research-agent: cannot start obs: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Generated from the catalog of this binary's instrumented functions
    // (and OBS_NAMESPACE): write them and stop, before any agent runs.
    if args.prometheus_rules.is_some() || args.grafana_dashboard.is_some() {
        let files = [
            (&args.prometheus_rules, obs_runtime::ops::prometheus_rules as fn() -> String, "Prometheus rules"),
            (&args.grafana_dashboard, obs_runtime::ops::grafana_dashboard, "Grafana dashboard"),
        ];
        for (path, make, what) in files {
            let Some(path) = path else { continue };
            if let Err(e) = std::fs::write(path, make()) {
                eprintln!("research-agent: cannot write the {what} to {path}: {e}");
                return ExitCode::FAILURE;
            }
            println!("wrote the {what} to {path}");
        }
        return ExitCode::SUCCESS;
    }
    let metrics_url = obs.prometheus_addr().map(|a| format!("http://{a}/metrics"));
    match &metrics_url {
        Some(url) => println!("metrics: {url} (scrapeable while the agents run)"),
        None => println!("metrics: the prometheus exporter is off (OBS_EXPORTERS)"),
    }
    let ui_url = obs.ui_url().map(str::to_string);
    if let Some(url) = &ui_url {
        println!("live view: {url} (agents, runs and failures in a browser; --serve keeps it up)");
    }

    let sim = if args.quick { Sim::QUICK } else { Sim::REALISTIC };
    println!(
        "research-agent: planner + {} researchers + writer{}",
        args.topics,
        if args.quick { " (quick)" } else { "" }
    );
    let started = Instant::now();
    let outcome = agents::planner(sim, args.topics).await;
    let elapsed = started.elapsed();
    println!();
    match &outcome {
        Ok(report) => print_report(report),
        Err(e) => println!("the run failed: {e}"),
    }
    println!("run took {:.2} s\n", elapsed.as_secs_f64());

    print!("{}", summary::render(&obs_runtime::metrics::snapshot()));
    if let Some(url) = &metrics_url {
        println!("\nmetrics: {url}");
    }
    if let Some(url) = &ui_url {
        println!("live view: {url}");
    }

    if args.serve {
        match (&ui_url, &metrics_url) {
            (Some(ui), Some(url)) => println!("serving {ui} (the live view) and {url} until Ctrl-C"),
            (None, Some(url)) => println!("serving {url} until Ctrl-C"),
            _ => println!("waiting for Ctrl-C (no endpoint: the prometheus exporter is off)"),
        }
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("research-agent: cannot wait for Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    }
    drop(obs);
    ExitCode::SUCCESS
}
