//! A real rig 0.44 agent (`rig-core` + `rig-agent`, OpenAI chat-completions
//! provider over `rig-core`'s reqwest transport) against the
//! OpenAI-compatible server of `obs_tests::openai_server`: three agents, two
//! tools, a multi-turn run, a streamed run with a tool turn, and a provider
//! failure. No glue for model calls: `obs_runtime::layer()` turns rig's GenAI
//! spans into obs model calls, whose per-call figures (ledger, metrics) must
//! equal what the server reported. The figures rig hands out
//! (`PromptResponse`, its `CompletionCall`s, the streamed items) read through
//! the `rig-0_44` feature's `LlmUsage` must equal them too.

use futures::StreamExt;
use obs_runtime::testing::{self, snapshot, SpanCapture};
use obs_runtime::usage::{LlmChunk, LlmUsage, TokenUsage};
use obs_runtime::{ledger, track_execution, track_tool};
use obs_tests::openai_server::{OpenAiServer, Reply, Served, Usage};
use rig_agent::agent::{Agent, AgentBuilder, MultiTurnStreamItem, PromptResponse};
use rig_agent::completion::PromptError;
use rig_core::providers::openai::{OpenAIConfig, Route};
use rig_core::tool::PortableTool;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

/// The time the `lookup` tool takes: model-call durations must not contain it.
const TOOL_TIME: Duration = Duration::from_millis(250);

#[derive(Debug)]
struct ToolError;
impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tool failed")
    }
}
impl std::error::Error for ToolError {}

#[derive(Deserialize)]
struct AddArgs {
    a: i64,
    b: i64,
}

struct Add;

impl PortableTool for Add {
    const NAME: &'static str = "add";
    type Args = AddArgs;
    type Output = i64;
    type Error = ToolError;
    fn description(&self) -> String {
        "Adds two integers".into()
    }
    fn parameters(&self) -> serde_json::Value {
        json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]})
    }
    #[track_tool(name = "add")]
    async fn call(&self, args: AddArgs) -> Result<i64, ToolError> {
        Ok(args.a + args.b)
    }
}

#[derive(Deserialize)]
struct LookupArgs {
    topic: String,
}

struct Lookup;

impl PortableTool for Lookup {
    const NAME: &'static str = "lookup";
    type Args = LookupArgs;
    type Output = String;
    type Error = ToolError;
    fn description(&self) -> String {
        "Looks a topic up".into()
    }
    fn parameters(&self) -> serde_json::Value {
        json!({"type": "object", "properties": {"topic": {"type": "string"}}, "required": ["topic"]})
    }
    #[track_tool(name = "lookup")]
    async fn call(&self, args: LookupArgs) -> Result<String, ToolError> {
        tokio::time::sleep(TOOL_TIME).await;
        Ok(format!("{}: first stable release in 2015", args.topic))
    }
}

fn agent(server: &OpenAiServer, name: &str, model: &str) -> Agent {
    let model = OpenAIConfig::new("sk-test")
        .with_base_url(server.base_url())
        .with_route(Route::Chat)
        .client()
        .completion(model);
    AgentBuilder::new(model).name(name).preamble("Answer briefly.").tool(Add).tool(Lookup).build()
}

#[track_execution(agent = "researcher")]
async fn research(agent: &Agent) -> Result<PromptResponse, PromptError> {
    agent.prompt("When was Rust 1.0 released, and what is 2 + 3?").max_turns(3).await
}

#[track_execution(agent = "streamer")]
async fn stream_answer(agent: &Agent) -> (String, Vec<MultiTurnStreamItem>) {
    let mut stream = agent.prompt("What is 1 + 1?").max_turns(3).stream();
    let (mut text, mut items) = (String::new(), Vec::new());
    while let Some(item) = stream.next().await {
        let item = item.expect("stream item");
        if let MultiTurnStreamItem::StreamAssistantItem(rig_core::streaming::Item::Event(
            rig_core::streaming::StreamEvent::Text { text: t, .. },
        )) = &item
        {
            text.push_str(t);
        }
        items.push(item);
    }
    (text, items)
}

#[track_execution(agent = "flaky")]
async fn fail(agent: &Agent) -> Result<PromptResponse, PromptError> {
    agent.prompt("Anything?").await
}

/// Cost in picodollars at the catalogue's rates (per 1M tokens: gpt-4o
/// $2.50 input, $1.25 cached, $10 output; gpt-4o-mini $0.15, $0.075, $0.60;
/// their dated snapshots the same): cached tokens at the cache rate only,
/// reasoning inside output.
fn cost_pico(model: &str, u: Usage) -> u64 {
    let (input, cached, output) = match model {
        "gpt-4o-2024-08-06" => (2_500_000, 1_250_000, 10_000_000),
        "gpt-4o-mini-2024-07-18" => (150_000, 75_000, 600_000),
        other => panic!("no rate for {other}"),
    };
    (u.prompt - u.cached) * input + u.cached * cached + u.completion * output
}

fn token_usage(u: Usage) -> TokenUsage {
    TokenUsage::openai(u.prompt, u.completion, Some(u.cached), Some(u.reasoning))
}

fn server_usage(s: &Served) -> TokenUsage {
    token_usage(s.usage.expect("the server reported usage"))
}

#[tokio::test(flavor = "current_thread")]
async fn rig_agents_tools_stream_and_failure_match_the_server() {
    testing::enable();
    ledger::clear();
    let spans = SpanCapture::new();
    // What an application has: obs's layer (the GenAI bridge in it); and a
    // span capture beside it, to compare with what rig put on its spans.
    let _g =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(obs_runtime::layer()).with(spans.layer()));
    let server = OpenAiServer::start(vec![
        // researcher: a tool turn (both tools), then the answer.
        Reply::tools(
            "gpt-4o-2024-08-06",
            &[("lookup", r#"{"topic":"rust"}"#), ("add", r#"{"a":2,"b":3}"#)],
            Usage::new(1_200, 80).cached(1_024).reasoning(30),
        )
        .delay(Duration::from_millis(20)),
        Reply::text(
            "gpt-4o-2024-08-06",
            "Rust 1.0: 2015. 2 + 3 = 5.",
            Usage::new(1_500, 60).cached(1_024).reasoning(20),
        )
        .delay(Duration::from_millis(20)),
        // streamer: a streamed tool turn, then a streamed answer.
        Reply::tools("gpt-4o-mini-2024-07-18", &[("add", r#"{"a":1,"b":1}"#)], Usage::new(900, 40).reasoning(10))
            .chunk_delay(Duration::from_millis(20)),
        Reply::chunks("gpt-4o-mini-2024-07-18", &["Two", ", it is."], Usage::new(1_000, 30).cached(512))
            .delay(Duration::from_millis(30))
            .chunk_delay(Duration::from_millis(30)),
        // flaky: the provider fails.
        Reply::error(500, "upstream overloaded"),
    ])
    .await;

    let researcher = agent(&server, "researcher", "gpt-4o");
    let streamer = agent(&server, "streamer", "gpt-4o-mini");
    let flaky = agent(&server, "flaky", "gpt-4o-mini");

    let started = std::time::Instant::now();
    let research = research(&researcher).await.expect("research run");
    let research_took = started.elapsed();
    assert_eq!(research.output(), "Rust 1.0: 2015. 2 + 3 = 5.");
    let (text, items) = stream_answer(&streamer).await;
    assert_eq!(text, "Two, it is.");
    let err = fail(&flaky).await.expect_err("the provider answered 500");
    assert!(err.to_string().contains("upstream overloaded"), "{err}");

    let served = server.served();
    assert_eq!(
        served.iter().map(|s| (s.request_model.as_str(), s.stream, s.status)).collect::<Vec<_>>(),
        [
            ("gpt-4o", false, 200),
            ("gpt-4o", false, 200),
            ("gpt-4o-mini", true, 200),
            ("gpt-4o-mini", true, 200),
            ("gpt-4o-mini", false, 500)
        ],
        "one request per model call, no retry"
    );
    assert_eq!(served[3].request["stream_options"]["include_usage"], true);
    // The second turn carries both tool results back to the model.
    let results: Vec<_> = served[1].request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].to_string())
        .collect();
    assert_eq!(results.len(), 2, "{results:?}");

    // rig's per-call records, read through obs's `LlmUsage`: exactly the
    // server's usage, cached and reasoning tokens included.
    let calls: Vec<_> = research.completion_calls.iter().map(LlmUsage::usage).collect();
    assert_eq!(calls, [Some(server_usage(&served[0])), Some(server_usage(&served[1]))]);
    // `PromptResponse` is the run's aggregate.
    let sum = |a: TokenUsage, b: TokenUsage| TokenUsage {
        input: Some(a.input.unwrap() + b.input.unwrap()),
        output: Some(a.output.unwrap() + b.output.unwrap()),
        cache_read: Some(a.cache_read.unwrap() + b.cache_read.unwrap()),
        cache_creation: None,
        cache_creation_1h: None,
        reasoning: Some(a.reasoning.unwrap() + b.reasoning.unwrap()),
    };
    assert_eq!(LlmUsage::usage(&research), Some(sum(server_usage(&served[0]), server_usage(&served[1]))));
    // The streamed run: one `CompletionCall` item per model call, then the
    // final response with the aggregate (`LlmChunk` reads it there only).
    let streamed_calls: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            MultiTurnStreamItem::CompletionCall(c) => Some(c.usage()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed_calls, [Some(server_usage(&served[2])), Some(server_usage(&served[3]))]);
    let finals: Vec<_> = items.iter().filter_map(LlmChunk::usage).collect();
    assert_eq!(finals, [sum(server_usage(&served[2]), server_usage(&served[3]))]);
    assert!(items.iter().any(LlmChunk::has_content));

    // rig's own GenAI spans, one `chat` span per model call (what the span
    // bridge reads): usage on the successful ones, as the server reported it.
    let chats: Vec<_> = spans.spans().into_iter().filter(|s| s.name == "chat" && s.target.starts_with("rig")).collect();
    assert_eq!(chats.len(), 5, "{chats:#?}");
    for (span, s) in chats.iter().zip(&served) {
        assert_eq!(span.field("gen_ai.operation.name"), Some("chat"));
        assert_eq!(span.field("gen_ai.provider.name"), Some("openai"));
        assert_eq!(span.field("gen_ai.request.model"), Some(s.request_model.as_str()));
        let field = |f: &str| span.field(f).map(|v| v.parse::<u64>().expect("a count"));
        let reported = s.usage.map(|u| (Some(u.prompt), Some(u.completion), Some(u.cached), Some(u.reasoning)));
        let on_span = (
            field("gen_ai.usage.input_tokens"),
            field("gen_ai.usage.output_tokens"),
            field("gen_ai.usage.cache_read.input_tokens"),
            field("gen_ai.usage.reasoning_tokens"),
        );
        match reported {
            Some(r) => {
                assert_eq!(on_span, r, "{span:?}");
                assert_eq!(span.field("gen_ai.response.model"), s.response_model.as_deref());
                assert!(span.field("gen_ai.response.id").is_some());
            }
            // rig 0.44 marks a failed call's span with nothing: no usage, no
            // response id or model, no error.type, no otel.status_code. Only
            // the absence of every response field tells it from a success.
            None => {
                assert_eq!(on_span, (None, None, None, None));
                assert_eq!((span.field("gen_ai.response.id"), span.field("gen_ai.response.model")), (None, None));
                assert_eq!((span.field("error.type"), span.field("otel.status_code")), (None, None));
            }
        }
        assert_eq!(span.field("gen_ai.request.stream"), Some(if s.stream { "true" } else { "false" }));
        // Under obs's agent span: rig adopts the ambient span as its agent
        // span instead of opening its own `invoke_agent`.
        let mut up = spans.parent_of(span);
        while let Some(p) = &up {
            if p.name.starts_with("invoke_agent") {
                break;
            }
            up = spans.parent_of(p);
        }
        let agent = up.expect("an agent span above the chat span");
        assert!(agent.target.starts_with("rig_e2e"), "rig's own agent span: {agent:?}");
        assert!(span.closed);
        // rig records no time to first chunk on its spans.
        assert_eq!(span.field("gen_ai.response.time_to_first_chunk"), None);
    }

    // obs: one model call per request the server answered, through the
    // bridge, with no glue. Per call (the ledger, in order): agent, model
    // (the priced response model; the request's for the failure), status,
    // tokens by type, cost, duration.
    let mut calls = ledger::recent();
    calls.sort_by_key(|r| r.timestamp_ms);
    assert_eq!(calls.len(), served.len(), "{calls:#?}");
    let agents = ["researcher", "researcher", "streamer", "streamer", "flaky"];
    for ((r, s), agent) in calls.iter().zip(&served).zip(agents) {
        assert_eq!((r.agent, r.provider), (agent, "openai"), "{r:?}");
        match s.usage {
            Some(u) => {
                let model = s.response_model.as_deref().unwrap();
                assert_eq!((r.model, r.status), (model, "success"), "{r:?}");
                assert_eq!(
                    (r.input_tokens, r.output_tokens, r.cache_read_tokens, r.reasoning_tokens),
                    (Some(u.prompt), Some(u.completion), Some(u.cached), Some(u.reasoning)),
                    "{r:?}"
                );
                assert_eq!(r.cost_pico, Some(cost_pico(model, u)), "{r:?}");
            }
            None => {
                assert_eq!((r.model, r.status), ("gpt-4o-mini", "error"), "{r:?}");
                assert_eq!((r.input_tokens, r.output_tokens, r.cost_pico), (None, None, None));
            }
        }
        // The call contains the server's answer.
        assert!(r.duration_seconds >= s.duration.as_secs_f64(), "{r:?} vs {s:?}");
    }
    // ..and not the tools that ran after it: the researcher's two calls and
    // `lookup` between them (250 ms at least) ran one after the other within
    // the run, so they fit in it; a call that also timed the tool would
    // count those 250 ms twice. (No threshold: a slower machine only makes
    // the run longer.)
    let (first, second) = (calls[0].duration_seconds, calls[1].duration_seconds);
    assert!(
        first + second + TOOL_TIME.as_secs_f64() <= research_took.as_secs_f64(),
        "tool time in a model call: {first} s + {second} s + the tool's {TOOL_TIME:?} > the run's {research_took:?}"
    );
    let m = snapshot();
    let llm = |agent: &str, model: &str, status: &str| {
        m.counter("llm_calls_total", &[("agent", agent), ("model", model), ("provider", "openai"), ("status", status)])
    };
    assert_eq!(llm("researcher", "gpt-4o-2024-08-06", "success"), Some(2));
    assert_eq!(llm("streamer", "gpt-4o-mini-2024-07-18", "success"), Some(2));
    assert_eq!(llm("flaky", "gpt-4o-mini", "error"), Some(1));
    let errors = m.histogram(
        "llm_call_duration_seconds",
        &[("model", "gpt-4o-mini"), ("provider", "openai"), ("status", "error")],
    );
    assert_eq!(errors.map(|h| h.count), Some(1));

    // rig 0.44 reports no time to first token (none on its spans, and its
    // hooks cannot name the model at a call's start): obs invents none.
    let ttft =
        m.histogram("llm_time_to_first_token_seconds", &[("model", "gpt-4o-mini-2024-07-18"), ("provider", "openai")]);
    assert_eq!(ttft.map_or(0, |h| h.count), 0);

    // The agents' tools: obs's own #[track_tool] inside rig's execute_tool
    // spans, counted once.
    let tool = |agent: &str, tool: &str| {
        m.counter("tool_calls_total", &[("agent", agent), ("tool", tool), ("status", "success")])
    };
    assert_eq!(
        (tool("researcher", "lookup"), tool("researcher", "add"), tool("streamer", "add")),
        (Some(1), Some(1), Some(1))
    );
}

/// A tool with no obs code: rig's `execute_tool` span is all obs sees.
struct Mul;

impl PortableTool for Mul {
    const NAME: &'static str = "mul";
    type Args = AddArgs;
    type Output = i64;
    type Error = ToolError;
    fn description(&self) -> String {
        "Multiplies two integers".into()
    }
    fn parameters(&self) -> serde_json::Value {
        json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]})
    }
    async fn call(&self, args: AddArgs) -> Result<i64, ToolError> {
        Ok(args.a * args.b)
    }
}

/// No obs code at all, only `obs_runtime::layer()`: rig's own
/// `invoke_agent`, `chat` and `execute_tool` spans become the agent, its
/// model calls (one failed) and its tool call.
#[tokio::test(flavor = "current_thread")]
async fn a_rig_agent_with_no_obs_code_is_counted_from_its_spans() {
    testing::enable();
    ledger::clear();
    let _g = tracing::subscriber::set_default(tracing_subscriber::registry().with(obs_runtime::layer()));
    let server = OpenAiServer::start(vec![
        Reply::tools("gpt-4o-mini-2024-07-18", &[("mul", r#"{"a":6,"b":7}"#)], Usage::new(700, 20).cached(256)),
        Reply::text("gpt-4o-mini-2024-07-18", "42", Usage::new(760, 5).reasoning(2)),
        Reply::error(429, "rate limited"),
    ])
    .await;
    let model = OpenAIConfig::new("sk-test")
        .with_base_url(server.base_url())
        .with_route(Route::Chat)
        .client()
        .completion("gpt-4o-mini");
    let bare = AgentBuilder::new(model).name("bare").tool(Mul).build();
    let answer = bare.prompt("6 * 7?").max_turns(3).await.expect("run");
    assert_eq!(answer.output(), "42");
    bare.prompt("again?").await.expect_err("429");

    let served = server.served();
    assert_eq!(served.iter().map(|s| s.status).collect::<Vec<_>>(), [200, 200, 429]);
    let mut calls = ledger::recent();
    calls.sort_by_key(|r| r.timestamp_ms);
    let got: Vec<_> = calls.iter().map(|r| (r.agent, r.model, r.status, r.input_tokens, r.output_tokens)).collect();
    assert_eq!(
        got,
        [
            ("bare", "gpt-4o-mini-2024-07-18", "success", Some(700), Some(20)),
            ("bare", "gpt-4o-mini-2024-07-18", "success", Some(760), Some(5)),
            ("bare", "gpt-4o-mini", "error", None, None),
        ]
    );
    assert_eq!((calls[0].cache_read_tokens, calls[1].reasoning_tokens), (Some(256), Some(2)));
    assert_eq!(calls[0].cost_pico, Some(cost_pico("gpt-4o-mini-2024-07-18", Usage::new(700, 20).cached(256))));
    let m = snapshot();
    assert_eq!(m.counter("tool_calls_total", &[("agent", "bare"), ("tool", "mul"), ("status", "success")]), Some(1));
    // rig 0.44 marks no failure on its `invoke_agent` span: the failed run
    // counts as a run (its model call is the error).
    let runs = |status: &str| m.counter("agent_executions_total", &[("agent", "bare"), ("status", status)]);
    assert_eq!(runs("success"), Some(2));
}
