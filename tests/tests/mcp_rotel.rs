//! scratch
use obs_tests::backends::{run, Rotel};
use obs_tests::openai_server::{OpenAiServer, Reply, Usage};
use std::path::Path;
use std::time::Duration;

const AGENT: &str = env!("CARGO_BIN_EXE_mcp-agent");
const SERVER: &str = env!("CARGO_BIN_EXE_mcp-server");

#[test]
fn dump() {
    let rotel = Rotel::start();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mode = std::env::var("DBG_MODE").unwrap_or("plain".into());
    let openai = rt.block_on(OpenAiServer::start(if mode == "rig" { vec![
        Reply::tools("gpt-4o-mini-2024-07-18", &[("get_weather", r#"{"city":"Paris"}"#), ("flaky", "{}"), ("get_forecast", r#"{"city":"Paris"}"#)], Usage::new(100, 20)),
        Reply::text("gpt-4o-mini-2024-07-18", "Sunny.", Usage::new(150, 10)),
    ] } else { vec![
        Reply::tools("gpt-4o-mini-2024-07-18", &[("get_weather", r#"{"city":"Paris"}"#)], Usage::new(100, 20)),
        Reply::text("gpt-4o-mini-2024-07-18", "Sunny.", Usage::new(150, 10)),
    ] }));
    let dir = std::env::temp_dir().join(format!("mcp-dbg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let addr = dir.join("addr.json");
    let slog = dir.join("server.log");
    let transport = std::env::var("DBG_TRANSPORT").unwrap_or("stdio".into());
    let mut url = String::new();
    let _server = if transport == "http" {
        let endpoint = rotel.http_endpoint();
        let addr2 = addr.clone();
        let p = obs_tests::backends::ServerProcess::spawn("mcp-server", |_| {
            let mut c = std::process::Command::new(SERVER);
            c.arg("http").env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint).env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                .env("OTEL_SERVICE_NAME", "mcp-server").env("OBS_PROMETHEUS_ADDR", "127.0.0.1:0").env("OBS_LOG_FORMAT", "json")
                .env("MCP_TEST_ADDR_FILE", &addr2).env("OTEL_METRIC_EXPORT_INTERVAL", "1000");
            c
        });
        for _ in 0..200 { if let Ok(t) = std::fs::read_to_string(&addr) { url = serde_json::from_str::<serde_json::Value>(&t).unwrap()["mcp"].as_str().unwrap().to_string(); break; } std::thread::sleep(Duration::from_millis(50)); }
        Some(p)
    } else { None };
    let r = run(
        Path::new(AGENT),
        &mode,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.http_endpoint().as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SERVICE_NAME", "mcp-agent"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
            ("OBS_LOG_FORMAT", "json"),
            ("MCP_TEST_TRANSPORT", transport.as_str()),
            ("MCP_TEST_URL", url.as_str()),
            ("MCP_TEST_SERVER_EXE", SERVER),
            ("MCP_TEST_SERVER_LOG", slog.to_str().unwrap()),
            ("MCP_TEST_ADDR_FILE", addr.to_str().unwrap()),
            ("MCP_TEST_OPENAI_URL", openai.base_url().as_str()),
        ],
        Duration::from_secs(120),
    );
    std::thread::sleep(Duration::from_secs(3));
    let got = rotel.received();
    for s in &got.spans {
        eprintln!("{} {} {:>16} {:>16} {:28} {:?} {}", s.resource.get("service.name").and_then(|v| v.as_str()).unwrap_or(""), &s.trace_id[..8], s.parent_id, s.span_id, s.name, s.kind, s.status_code);
    }
    eprintln!("RESULT {}", serde_json::to_string_pretty(&r.summary["result"]).unwrap());
    eprintln!("SPANS {}", r.summary["spans"]);
    eprintln!("AGENT METRICS {}", r.summary["metrics"].as_str().unwrap().lines().filter(|l| l.contains("mcp_") || l.starts_with("tool_calls")).collect::<Vec<_>>().join("\n"));
    eprintln!("SERVER METRICS {}", r.summary["result"]["server_metrics"].as_str().unwrap_or("").lines().filter(|l| l.contains("mcp_") || l.starts_with("tool_calls")).collect::<Vec<_>>().join("\n"));
    eprintln!("SERVER LOG {}", std::fs::read_to_string(&slog).unwrap());
    eprintln!("AGENT STDERR {}", r.stderr);
    panic!("dump");
}
