//! The MCP end-to-end runs (`tests/mcp_*.rs`): `mcp-agent` against
//! `mcp-server` over stdio (the agent starts the server as its child) or
//! Streamable HTTP (the test starts the server), with the OpenAI-compatible
//! test server as the model, both processes exporting over OTLP to a backend.
//! What each run must produce is here too: the span tree of one run and the
//! counts of its metrics.

use crate::backends::{free_port, ServerProcess};
use crate::openai_server::{OpenAiServer, Reply, Usage};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The model's replies of a run of `mode`.
fn script(mode: &str) -> Vec<Reply> {
    let m = "gpt-4o-mini-2024-07-18";
    match mode {
        // The plain agent calls its tools itself; the model is asked twice.
        "plain" => vec![
            Reply::tools(m, &[("get_weather", r#"{"city":"Paris"}"#)], Usage::new(120, 20)),
            Reply::text(m, "Sunny in Paris and Lyon.", Usage::new(180, 12)),
        ],
        // rig runs the three tools the model asks for, then the answer.
        "rig" => vec![
            Reply::tools(
                m,
                &[("get_weather", r#"{"city":"Paris"}"#), ("flaky", "{}"), ("get_forecast", r#"{"city":"Paris"}"#)],
                Usage::new(140, 30),
            ),
            Reply::text(m, "Sunny in Paris.", Usage::new(260, 9)),
        ],
        _ => Vec::new(),
    }
}

/// What one run produced.
pub struct McpRun {
    /// The agent's JSON line (`spans`, `result`, `metrics`).
    pub summary: Value,
    /// The agent's stderr.
    pub agent_log: String,
    /// The server's stderr (its JSON log lines).
    pub server_log: String,
    /// The server's `/metrics` once the agent is done (HTTP); before the
    /// session closed (stdio: the server exits with its session).
    pub server_metrics: String,
}

impl McpRun {
    /// The agent's `/metrics` page at its end.
    pub fn agent_metrics(&self) -> &str {
        self.summary["metrics"].as_str().unwrap_or_default()
    }

    /// The trace id the agent's spans share.
    pub fn trace_id(&self) -> String {
        let ids: std::collections::BTreeSet<&str> = self.summary["spans"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["trace_id"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(ids.len(), 1, "the agent's spans should share one trace id: {}", self.summary);
        ids.into_iter().next().unwrap_or_default().to_string()
    }

    /// The server's log lines (JSON) whose message is `message`.
    pub fn server_lines(&self, message: &str) -> Vec<Value> {
        self.server_log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["message"] == message)
            .collect()
    }
}

/// Runs `mcp-agent {mode}` over `transport` (`stdio` or `http`) with the
/// OTLP settings `otlp` for both processes; `OBS_LOG_FORMAT=json`, free
/// Prometheus ports.
pub fn run(agent: &Path, server: &Path, mode: &str, transport: &str, otlp: &[(&str, &str)]) -> McpRun {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let openai = rt.block_on(OpenAiServer::start(script(mode)));
    let dir = std::env::temp_dir().join(format!("obs-mcp-{mode}-{transport}-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("work dir");
    let addr_file = dir.join("server-addr.json");
    let server_log = dir.join("server.log");
    let mut server_process = None;
    let mut url = String::new();
    if transport == "http" {
        let (addr_file, otlp) = (addr_file.clone(), otlp.to_vec());
        let mut p = ServerProcess::spawn("mcp-server", |_| {
            let mut c = std::process::Command::new(server);
            c.arg("http").env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
            c.envs(otlp.iter().copied())
                .env("OTEL_SERVICE_NAME", "mcp-server")
                .env("OBS_PROMETHEUS_ADDR", "127.0.0.1:0")
                .env("OBS_LOG_FORMAT", "json")
                .env("MCP_TEST_ADDR_FILE", &addr_file);
            c
        });
        p.wait_ready(Duration::from_secs(60), || addr_file.exists());
        url = address(&addr_file)["mcp"].as_str().expect("the server's MCP URL").to_string();
        server_process = Some(p);
    }
    let mut env: Vec<(&str, &str)> = otlp.to_vec();
    let base = openai.base_url();
    let (server_s, addr_s, log_s) = (path_str(server), path_str(&addr_file), path_str(&server_log));
    env.extend([
        ("OTEL_SERVICE_NAME", "mcp-agent"),
        ("OBS_LOG_FORMAT", "json"),
        ("MCP_TEST_TRANSPORT", transport),
        ("MCP_TEST_URL", url.as_str()),
        ("MCP_TEST_SERVER_EXE", server_s.as_str()),
        ("MCP_TEST_SERVER_LOG", log_s.as_str()),
        ("MCP_TEST_ADDR_FILE", addr_s.as_str()),
        ("MCP_TEST_OPENAI_URL", base.as_str()),
    ]);
    let r = crate::backends::run(agent, mode, &env, Duration::from_secs(180));
    assert!(r.summary["result"].get("agent_error").is_none(), "the agent failed: {}\n{}", r.summary, r.stderr);
    assert_eq!(openai.pending(), 0, "the model's replies were not all used: {}", r.summary);
    let (server_metrics, server_log) = match server_process.as_mut() {
        Some(p) => {
            let metrics = address(&addr_file)["metrics"].as_str().expect("metrics address").to_string();
            let page = crate::http_get(metrics.parse().expect("address"), "/metrics").expect("scrape the server").body;
            // SIGTERM: the server flushes its spans and exits.
            p.stop();
            (page, p.log())
        }
        None => (
            r.summary["result"]["server_metrics"].as_str().unwrap_or_default().to_string(),
            std::fs::read_to_string(&server_log).unwrap_or_default(),
        ),
    };
    drop(server_process);
    let _ = std::fs::remove_dir_all(&dir);
    McpRun { summary: r.summary, agent_log: r.stderr, server_log, server_metrics }
}

fn path_str(p: &Path) -> String {
    p.to_str().expect("a UTF-8 path").to_string()
}

fn address(file: &PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).expect("the server's address file")).expect("address JSON")
}

/// Every span of one run in its trace, as root-to-span name paths (see
/// `backends::expect::tree_paths`), for the agent `mode`. Both transports
/// give the same tree: the server's `notifications/initialized` is not in
/// it, because rmcp's server reads that notification without its `_meta`
/// (it is a trace of its own).
pub fn run_tree(mode: &str) -> Vec<String> {
    let (root, chat) = match mode {
        "plain" => ("invoke_agent planner", "chat gpt-4o-mini"),
        _ => ("invoke_agent researcher", "chat"),
    };
    let mut t: Vec<String> = vec![
        root.to_string(),
        format!("{root} > {chat}"),
        format!("{root} > {chat}"),
        format!("{root} > initialize"),
        format!("{root} > initialize > initialize"),
        format!("{root} > notifications/initialized"),
        format!("{root} > serve_inner"),
        format!("{root} > serve_inner > tools/list"),
        format!("{root} > serve_inner > tools/list > tools/list"),
    ];
    match mode {
        "plain" => t.extend(
            [
                // Called in the agent's body, with its context in `_meta`.
                "tools/call get_weather",
                "tools/call get_weather > tools/call get_weather",
                "tools/call get_weather > tools/call get_weather > forecast",
                // Through a `#[track_tool]`: its span takes the MCP attributes.
                "execute_tool get_weather",
                "execute_tool get_weather > tools/call get_weather",
                "execute_tool get_weather > tools/call get_weather > forecast",
                "tools/call flaky",
                "tools/call flaky > tools/call flaky",
                "tools/call get_forecast",
                "tools/call get_forecast > tools/call get_forecast",
            ]
            .map(|p| format!("{root} > {p}")),
        ),
        _ => t.extend(
            [
                // rig's tool spans, covering the calls its MCP tools make.
                "execute_tool",
                "execute_tool",
                "execute_tool",
                "execute_tool > tools/call get_weather",
                "execute_tool > tools/call get_weather > forecast",
                "execute_tool > tools/call flaky",
                "execute_tool > tools/call get_forecast",
            ]
            .map(|p| format!("{root} > {p}")),
        ),
    }
    t.sort();
    t
}

/// A histogram's `_count` per series of a Prometheus page, by its labels
/// (`k="v"` pairs, sorted, joined by `,`), series with a zero count left out.
pub fn counts(page: &str, histogram: &str) -> BTreeMap<String, u64> {
    counter(page, &format!("{histogram}_count"))
}

/// A counter's non-zero series of a Prometheus page, by their labels.
pub fn counter(page: &str, name: &str) -> BTreeMap<String, u64> {
    let prefix = format!("{name}{{");
    let mut out = BTreeMap::new();
    for line in page.lines() {
        let Some(rest) = line.strip_prefix(&prefix) else { continue };
        let Some((labels, value)) = rest.rsplit_once("} ") else { continue };
        let n: u64 = value.trim().parse().unwrap_or(0);
        if n > 0 {
            let mut pairs = split_labels(labels);
            pairs.sort_unstable();
            *out.entry(pairs.join(",")).or_default() += n;
        }
    }
    out
}

/// `a="x",b="y, z"` into its pairs (commas inside values kept).
fn split_labels(labels: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in labels.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&labels[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < labels.len() {
        out.push(&labels[start..]);
    }
    out
}

/// The MCP operation counts every run of `mode` over `transport` must
/// show, on the client's side (`side` = `client`) or the server's: keys as
/// [`counts`] writes them.
pub fn operation_counts(mode: &str, transport: &str, side: &str) -> BTreeMap<String, u64> {
    let net = match transport {
        "stdio" => "network_transport=\"pipe\"",
        _ => "network_transport=\"tcp\"",
    };
    let v = "mcp_protocol_version=\"2025-11-25\"";
    let key = |parts: &[&str]| {
        let mut p: Vec<&str> = parts.to_vec();
        p.extend([net, v]);
        p.sort_unstable();
        p.join(",")
    };
    let tool = |name: &str| format!("gen_ai_tool_name=\"{name}\"");
    let op = "gen_ai_operation_name=\"execute_tool\"";
    let call = "mcp_method_name=\"tools/call\"";
    let weather = if mode == "plain" { 2 } else { 1 };
    let _ = side;
    [
        (key(&["mcp_method_name=\"initialize\""]), 1),
        (key(&["mcp_method_name=\"notifications/initialized\""]), 1),
        (key(&["mcp_method_name=\"tools/list\""]), 1),
        (key(&[call, op, &tool("get_weather")]), weather),
        (key(&[call, op, &tool("flaky"), "error_type=\"tool_error\""]), 1),
        (key(&[call, op, &tool("get_forecast"), "error_type=\"-32602\"", "rpc_response_status_code=\"-32602\""]), 1),
    ]
    .into_iter()
    .collect()
}

/// A small MCP server for in-process sessions (ops tests, benchmarks):
/// `echo {text}` answers its text, `broken` answers a result with
/// `isError`.
pub mod in_process {
    use rmcp::handler::server::router::tool::ToolRouter;
    use rmcp::handler::server::wrapper::Parameters;
    use rmcp::model::{
        CallToolRequestParams, CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig,
    };
    use rmcp::service::{RoleClient, RunningService};
    use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler, ServiceExt};

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    pub struct EchoArgs {
        text: String,
    }

    /// The server.
    #[derive(Clone)]
    pub struct Echo {
        #[allow(dead_code)] // read by `#[tool_handler]`
        tool_router: ToolRouter<Self>,
    }

    impl Default for Echo {
        fn default() -> Self {
            Echo { tool_router: Self::tool_router() }
        }
    }

    #[tool_router]
    impl Echo {
        #[tool(description = "Echoes its text")]
        async fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> Result<CallToolResult, ErrorData> {
            Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
        }

        #[tool(description = "Always fails")]
        async fn broken(&self) -> Result<CallToolResult, ErrorData> {
            Ok(CallToolResult::error(vec![ContentBlock::text("broken")]))
        }
    }

    #[tool_handler]
    impl ServerHandler for Echo {
        fn get_info(&self) -> ServerConfig {
            ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
                .with_server_info(Implementation::new("echo", "1.0.0"))
        }
    }

    /// A client connected to an [`Echo`] over an in-memory pipe; with
    /// `traced`, both ends are wrapped by obs (`rmcp3::client`,
    /// `rmcp3::server`), else neither is.
    pub async fn connect(traced: bool) -> RunningService<RoleClient, ()> {
        connect_sides(traced, traced).await
    }

    /// The same, each side wrapped or not.
    pub async fn connect_sides(client: bool, server: bool) -> RunningService<RoleClient, ()> {
        let (a, b) = tokio::io::duplex(1 << 16);
        let (server_in, server_out) = tokio::io::split(b);
        tokio::spawn(async move {
            let quit = if server {
                let running = obs_runtime::mcp::rmcp3::server(Echo::default()).serve((server_in, server_out)).await;
                running.expect("serve").waiting().await
            } else {
                Echo::default().serve((server_in, server_out)).await.expect("serve").waiting().await
            };
            drop(quit);
        });
        let (r, w) = tokio::io::split(a);
        if client {
            ().serve(obs_runtime::mcp::rmcp3::client((r, w))).await.expect("connect")
        } else {
            ().serve((r, w)).await.expect("connect")
        }
    }

    /// `echo {text}`.
    pub async fn echo(client: &RunningService<RoleClient, ()>, text: &str) -> CallToolResult {
        let args = serde_json::json!({ "text": text }).as_object().cloned().unwrap_or_default();
        client.call_tool(CallToolRequestParams::new("echo").with_arguments(args)).await.expect("echo")
    }

    /// `broken`.
    pub async fn broken(client: &RunningService<RoleClient, ()>) -> CallToolResult {
        client.call_tool(CallToolRequestParams::new("broken")).await.expect("broken")
    }
}
