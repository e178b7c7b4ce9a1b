//! `mcp-agent`: the agent of the mcp_* tests. It talks to a model (the
//! OpenAI-compatible test server at `MCP_TEST_OPENAI_URL`) and calls tools
//! on `mcp-server` over stdio (it starts `MCP_TEST_SERVER_EXE stdio` as its
//! child, with stderr to `MCP_TEST_SERVER_LOG`) or Streamable HTTP
//! (`MCP_TEST_URL`), per `MCP_TEST_TRANSPORT`. obs: `init()` and the
//! standard variables, the macros, and the transport wrapper line.
//!
//! Modes (first argument), each inside the request `req-mcp-1` (user
//! `user-42`, conversation `conv-7`):
//!
//! * `plain`: agent `planner` (`#[track_execution]`) with a plain rmcp 3
//!   client: connects, lists the tools, asks the model (`#[track_llm_call]`
//!   over async-openai), then calls `get_weather {Paris}` with the caller's
//!   context in `_meta` (`rmcp3::context_meta`), `get_weather {Lyon}`
//!   through a `#[track_tool(name = "get_weather")]` function (the tool span
//!   covers the MCP call: no second span), `flaky` (an `isError` result) and
//!   `get_forecast`, a tool the server does not have (rmcp answers -32602),
//!   asks the model again, and closes the session.
//! * `rig`: agent `researcher` (`#[track_execution]` around a rig agent)
//!   with rig's MCP tools (`rig-rmcp` 0.44 on rmcp 2) built from the
//!   server's tool list, plus `get_forecast` (a tool the server does not
//!   have): the model asks for `get_weather {Paris}`, `flaky` and
//!   `get_forecast {Paris}` in one turn, then answers. No obs code around
//!   rig's tool calls.
//! * `bare`: a plain rmcp 3 client without obs's wrapper (no `_meta`) calls
//!   `get_weather` twice, outside any request: the server's traces.
//!
//! It prints one JSON line: the spans it saw from inside (kind, name, trace
//! and span ids), the results, its own `/metrics` page and the server's
//! (scraped before the session closes, from the address the server wrote to
//! `MCP_TEST_ADDR_FILE`).

use obs_runtime::mcp::{rmcp2, rmcp3};
use obs_runtime::{track_execution, track_llm_call, track_tool, RequestContext};
use serde_json::{json, Value};
use std::sync::Mutex;

static SEEN: Mutex<Vec<Value>> = Mutex::new(Vec::new());

fn seen(kind: &str, name: &str) {
    let ids = obs_runtime::trace::current();
    SEEN.lock().unwrap().push(json!({
        "kind": kind,
        "name": name,
        "trace_id": ids.map(|i| i.trace_id.to_string()),
        "span_id": ids.map(|i| i.span_id.to_string()),
    }));
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

/// `GET http://{addr}/metrics`.
fn scrape(addr: &str) -> String {
    let addr: std::net::SocketAddr = addr.parse().expect("metrics address");
    obs_tests::http_get(addr, "/metrics").map(|r| r.body).unwrap_or_else(|e| format!("scrape failed: {e}"))
}

/// The server's `/metrics` page, from the address it wrote down.
fn scrape_server() -> String {
    let path = env("MCP_TEST_ADDR_FILE");
    for _ in 0..600 {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let v: Value = serde_json::from_str(&text).expect("address file");
            return scrape(v["metrics"].as_str().expect("the server's metrics address"));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the server wrote no address to {path}");
}

fn server_command() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env("MCP_TEST_SERVER_EXE"));
    cmd.arg("stdio");
    // The server is a service of its own in the same backend project.
    cmd.env("OTEL_SERVICE_NAME", "mcp-server");
    cmd
}

/// Where the server's stderr (its log lines) goes.
fn server_log() -> std::fs::File {
    std::fs::File::create(env("MCP_TEST_SERVER_LOG")).expect("server log file")
}

/// `mcp-server stdio` as an rmcp 3 child-process transport.
fn stdio3() -> rmcp::transport::TokioChildProcess {
    rmcp::transport::TokioChildProcess::builder(server_command())
        .stderr(server_log())
        .spawn()
        .expect("start the server")
        .0
}

/// The same, for rmcp 2.
fn stdio2() -> rmcp_2::transport::TokioChildProcess {
    rmcp_2::transport::TokioChildProcess::builder(server_command())
        .stderr(server_log())
        .spawn()
        .expect("start the server")
        .0
}

#[derive(Debug)]
struct AgentError(String);
impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for AgentError {}
fn err(e: impl std::fmt::Display) -> AgentError {
    AgentError(e.to_string())
}

// ------------------------------------------------------------------ plain

mod plain {
    use super::*;
    use async_openai::config::OpenAIConfig;
    use async_openai::types::chat::{
        ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs, CreateChatCompletionResponse,
    };
    use rmcp::model::CallToolRequestParams;
    use rmcp::service::{RoleClient, RunningService};
    use rmcp::ServiceExt as _;

    type Client = RunningService<RoleClient, ()>;

    #[track_llm_call(model = "gpt-4o-mini", provider = "openai")]
    async fn ask(
        llm: &async_openai::Client<OpenAIConfig>,
        prompt: &str,
    ) -> Result<CreateChatCompletionResponse, async_openai::error::OpenAIError> {
        seen("llm", "gpt-4o-mini");
        let req = CreateChatCompletionRequestArgs::default()
            .model("gpt-4o-mini")
            .messages([ChatCompletionRequestUserMessageArgs::default().content(prompt).build()?.into()])
            .build()?;
        llm.chat().create(req).await
    }

    fn args(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    /// A call made in the agent's body, with the caller's context in `_meta`.
    async fn direct(client: &Client, tool: &str, arguments: Value) -> Value {
        let mut p = CallToolRequestParams::new(tool.to_string()).with_arguments(args(arguments));
        p.meta = Some(rmcp3::context_meta());
        match client.call_tool(p).await {
            Ok(r) => json!({"is_error": r.is_error, "content": r.content}),
            Err(e) => json!({"error": e.to_string()}),
        }
    }

    /// A tool function that wraps the MCP call: its span covers it.
    #[track_tool(name = "get_weather")]
    async fn weather(client: &Client, city: &str) -> Result<String, AgentError> {
        seen("tool", "get_weather");
        let p = CallToolRequestParams::new("get_weather").with_arguments(args(json!({ "city": city })));
        let r = client.call_tool(p).await.map_err(err)?;
        Ok(serde_json::to_string(&r.content).map_err(err)?)
    }

    async fn connect() -> Client {
        match env("MCP_TEST_TRANSPORT").as_str() {
            "stdio" => ().serve(rmcp3::client(stdio3())).await.expect("connect over stdio"),
            _ => {
                let t = rmcp::transport::StreamableHttpClientTransport::from_uri(env("MCP_TEST_URL"));
                ().serve(rmcp3::client(t)).await.expect("connect over HTTP")
            }
        }
    }

    #[track_execution(agent = "planner")]
    pub(super) async fn run() -> Result<Value, AgentError> {
        seen("agent", "planner");
        let llm = async_openai::Client::with_config(
            OpenAIConfig::new().with_api_base(env("MCP_TEST_OPENAI_URL")).with_api_key("sk-test"),
        );
        let client = connect().await;
        let tools = client.list_all_tools().await.map_err(err)?;
        let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
        let first = ask(&llm, "What is the weather in Paris and Lyon?").await.map_err(err)?;
        // A contact the model passed on: redacted wherever arguments are captured.
        let paris = direct(&client, "get_weather", json!({"city": "Paris", "contact": "bob@example.com"})).await;
        let lyon = weather(&client, "Lyon").await?;
        let flaky = direct(&client, "flaky", json!({})).await;
        let unknown = direct(&client, "get_forecast", json!({"city": "Paris"})).await;
        let answer = ask(&llm, "Summarise").await.map_err(err)?;
        let server_metrics = scrape_server();
        client.cancel().await.map_err(err)?;
        Ok(json!({
            "tools": names,
            "first_finish": first.choices.first().and_then(|c| c.finish_reason).map(|f| format!("{f:?}")),
            "paris": paris,
            "lyon": lyon,
            "flaky": flaky,
            "unknown": unknown,
            "answer": answer.choices.first().and_then(|c| c.message.content.clone()),
            "server_metrics": server_metrics,
        }))
    }
}

// ------------------------------------------------------------------ rig

mod rig {
    use super::*;
    use rig_agent::agent::AgentBuilder;
    use rig_core::providers::openai::{OpenAIConfig, Route};
    use rmcp_2::ServiceExt as _;

    #[track_execution(agent = "researcher")]
    pub(super) async fn run() -> Result<Value, AgentError> {
        seen("agent", "researcher");
        let client = match env("MCP_TEST_TRANSPORT").as_str() {
            "stdio" => ().serve(rmcp2::client(stdio2())).await.expect("connect over stdio"),
            _ => {
                let t = rmcp_2::transport::StreamableHttpClientTransport::from_uri(env("MCP_TEST_URL"));
                ().serve(rmcp2::client(t)).await.expect("connect over HTTP")
            }
        };
        let tools = client.list_all_tools().await.map_err(err)?;
        let peer = client.peer().clone();
        let mut tools = tools;
        let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}});
        tools.push(rmcp_2::model::Tool::new(
            "get_forecast",
            "Tomorrow's weather (the server has no such tool)",
            std::sync::Arc::new(schema.as_object().cloned().unwrap_or_default()),
        ));
        let dynamic: Vec<rig_core::tool::DynamicTool> = rig_rmcp::tools_from_server(tools, &peer)
            .into_iter()
            .map(|t| rig_core::tool::DynamicTool::try_from(t).map_err(err))
            .collect::<Result<_, _>>()?;
        let model = OpenAIConfig::new("sk-test")
            .with_base_url(env("MCP_TEST_OPENAI_URL"))
            .with_route(Route::Chat)
            .client()
            .completion("gpt-4o-mini");
        let agent =
            AgentBuilder::new(model).name("researcher").preamble("Answer briefly.").dynamic_tools(dynamic).build();
        let answer = agent.prompt("What is the weather in Paris?").max_turns(3).await.map_err(err)?;
        let server_metrics = scrape_server();
        client.cancel().await.map_err(err)?;
        Ok(json!({ "answer": answer.output(), "server_metrics": server_metrics }))
    }
}

// ------------------------------------------------------------------ bare

/// An rmcp client without obs's wrapper: its requests carry no `_meta`.
mod bare {
    use super::*;
    use rmcp::model::CallToolRequestParams;
    use rmcp::ServiceExt as _;

    pub(super) async fn run() -> Result<Value, AgentError> {
        let client = match env("MCP_TEST_TRANSPORT").as_str() {
            "stdio" => ().serve(stdio3()).await.expect("connect over stdio"),
            _ => {
                let t = rmcp::transport::StreamableHttpClientTransport::from_uri(env("MCP_TEST_URL"));
                ().serve(t).await.expect("connect over HTTP")
            }
        };
        let mut out = Vec::new();
        for city in ["Paris", "Lyon"] {
            let args = json!({ "city": city }).as_object().cloned().unwrap_or_default();
            let r =
                client.call_tool(CallToolRequestParams::new("get_weather").with_arguments(args)).await.map_err(err)?;
            out.push(json!(r.content));
        }
        let server_metrics = scrape_server();
        client.cancel().await.map_err(err)?;
        Ok(json!({ "results": out, "server_metrics": server_metrics }))
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut obs = obs_runtime::init().expect("obs init");
    let mode = std::env::args().nth(1).unwrap_or_default();
    let request = RequestContext::from_request_id("req-mcp-1").with_user_id("user-42").with_conversation_id("conv-7");
    let result = match mode.as_str() {
        "plain" => request.scope(plain::run()).await,
        "rig" => request.scope(rig::run()).await,
        "bare" => bare::run().await,
        other => panic!("mode `{other}`: expected `plain`, `rig` or `bare`"),
    };
    let result = result.unwrap_or_else(|e| json!({ "agent_error": e.to_string() }));
    let metrics = obs.prometheus_addr().map(|a| scrape(&a.to_string())).unwrap_or_default();
    obs.flush();
    drop(obs);
    let spans = SEEN.lock().unwrap().clone();
    println!("{}", json!({ "spans": spans, "result": result, "metrics": metrics }));
}
