//! `http-service`: an axum agent service instrumented with obs (see
//! `obs_examples::service`).
//!
//! ```text
//! OBS_LOG_FORMAT=json cargo run -p obs-examples --bin http-service -- --addr 127.0.0.1:8080
//! curl -s -XPOST localhost:8080/agents/support/run -H 'X-Request-ID: req-1' -d 'how do I reset my key?'
//! curl -s -XPOST localhost:8080/feedback/5 -d "$FEEDBACK_TOKEN"   # the answer's feedback_token line
//! ```

use std::process::ExitCode;

const USAGE: &str = "usage: http-service [--addr HOST:PORT]   (default 127.0.0.1:8080; port 0 picks a free port)";

#[tokio::main]
async fn main() -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--addr", Some(v)) => addr = v,
            ("--help" | "-h", _) => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("http-service: unexpected argument `{a}`\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }

    let mut builder = obs_runtime::Builder::from_env();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        builder = builder.service_name("http-service");
    }
    let obs = match builder.init() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("http-service: cannot start obs: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("http-service: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(m) = obs.prometheus_addr() {
        println!("metrics: http://{m}/metrics");
    }
    match listener.local_addr() {
        Ok(a) => println!("listening on http://{a}"),
        Err(e) => eprintln!("http-service: {e}"),
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, obs_examples::service::router()).with_graceful_shutdown(shutdown).await {
        eprintln!("http-service: {e}");
        return ExitCode::FAILURE;
    }
    drop(obs); // flushes the logs
    ExitCode::SUCCESS
}
