//! `mcp-server`: the MCP server of the mcp_* tests, an rmcp 3 `ServerHandler`
//! with its obs wrapper line (`obs_runtime::mcp::rmcp3::server`) and
//! nothing else of obs but `init()` and one `#[traced]` helper.
//!
//! Tools:
//! * `get_weather {city}`: logs `looking up the weather` (the line that must
//!   carry the caller's request id), calls the `#[traced]` `forecast`
//!   (a child span), answers `{city}: sunny, 21 °C`; a call without `city`
//!   is refused by rmcp with -32602 (invalid params);
//! * `flaky`: answers a result with `isError: true` (`station offline`).
//!
//! Modes (first argument): `stdio` serves one session on stdin/stdout;
//! `http` serves Streamable HTTP on a free 127.0.0.1 port at `/mcp`, behind
//! obs's tower layer, until SIGTERM. Both write
//! `{"metrics":"127.0.0.1:P","mcp":"http://127.0.0.1:Q/mcp"}` to the file
//! named by `MCP_TEST_ADDR_FILE` (and, in `http` mode, to stdout) once they
//! listen. Logs go to stderr (stdout is the MCP channel in `stdio` mode).

use obs_runtime::mcp::rmcp3;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock as Content, Implementation, ServerCapabilities, ServerConfig as ServerInfo,
};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler, ServiceExt};

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct CityArgs {
    /// The city.
    city: String,
}

#[derive(Debug, Clone)]
struct Weather {
    #[allow(dead_code)] // read by `#[tool_handler]`
    tool_router: ToolRouter<Self>,
}

#[obs_runtime::traced(name = "forecast")]
async fn forecast(city: &str) -> String {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    format!("{city}: sunny, 21 °C")
}

#[tool_router]
impl Weather {
    fn new() -> Self {
        Weather { tool_router: Self::tool_router() }
    }

    #[tool(description = "The current weather in a city")]
    async fn get_weather(
        &self,
        Parameters(CityArgs { city }): Parameters<CityArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        tracing::info!(city = %city, "looking up the weather");
        Ok(CallToolResult::success(vec![Content::text(forecast(&city).await)]))
    }

    #[tool(description = "A station that is offline")]
    async fn flaky(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::error(vec![Content::text("station offline")]))
    }
}

#[tool_handler]
impl ServerHandler for Weather {
    fn get_info(&self) -> ServerInfo {
        ServerInfo::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("weather", "1.0.0"))
    }
}

fn write_addr(metrics: Option<std::net::SocketAddr>, mcp: Option<String>) -> String {
    let line = serde_json::json!({
        "metrics": metrics.map(|a| a.to_string()),
        "mcp": mcp,
        "pid": std::process::id(),
    })
    .to_string();
    if let Ok(path) = std::env::var("MCP_TEST_ADDR_FILE") {
        // Written whole, then renamed: a reader never sees half a line.
        let tmp = format!("{path}.tmp");
        std::fs::write(&tmp, &line).expect("write the address file");
        std::fs::rename(&tmp, &path).expect("rename the address file");
    }
    line
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let obs = obs_runtime::init().expect("obs init");
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "stdio" => {
            write_addr(obs.prometheus_addr(), None);
            let running = rmcp3::server(Weather::new()).serve(rmcp::transport::stdio()).await.expect("serve stdio");
            let _ = running.waiting().await;
        }
        "http" => {
            use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
            use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
            let service = StreamableHttpService::new(
                || Ok(rmcp3::server(Weather::new())),
                LocalSessionManager::default().into(),
                StreamableHttpServerConfig::default(),
            );
            let app = axum::Router::new().nest_service("/mcp", service).layer(obs_runtime::tower::ObsLayer::new());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("local addr");
            println!("{}", write_addr(obs.prometheus_addr(), Some(format!("http://{addr}/mcp"))));
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    term.recv().await;
                })
                .await
                .expect("serve http");
        }
        other => panic!("mode `{other}`: expected `stdio` or `http`"),
    }
    // Dropping the guard flushes the spans to the OTLP endpoint.
    drop(obs);
}
