//! The spans each macro creates: names, attributes at creation, late
//! attributes, and the parent chain of one run.

use obs_runtime::testing::SpanCapture;
use obs_runtime::{traced, track_execution, track_llm_call, track_tool};

#[derive(Debug)]
struct E;

struct Reply;

impl obs_runtime::LlmUsage for Reply {
    fn usage(&self) -> Option<obs_runtime::TokenUsage> {
        Some(obs_runtime::TokenUsage::openai(1200, 300, Some(1000), Some(100)))
    }
    fn response_model(&self) -> Option<&str> {
        Some("gpt-4o-2024-08-06")
    }
    fn finish_reasons(&self) -> Vec<&str> {
        vec!["stop"]
    }
}

#[track_llm_call(model = "gpt-4o", provider = "openai", server_address = "api.openai.com", server_port = 443)]
async fn chat(ok: bool) -> Result<Reply, E> {
    if ok {
        Ok(Reply)
    } else {
        Err(E)
    }
}

#[track_llm_call(model = "text-embedding-3-small", operation = "embeddings", usage = none)]
fn embed() -> Vec<f32> {
    vec![0.0; 4]
}

#[track_tool(name = "span_search")]
async fn search() -> Result<u32, E> {
    chat(true).await.map(|_| 1)
}

#[traced(fields(n = n, doubled = n * 2))]
fn helper(n: u32) -> u32 {
    n + 1
}

#[track_execution(agent = "span_agent")]
async fn run() -> Result<u32, E> {
    helper(1);
    let _ = chat(false).await;
    search().await
}

#[tokio::test(flavor = "current_thread")]
async fn spans_follow_the_genai_conventions_and_nest() {
    // Late attributes (usage, cost) are recorded once obs is enabled.
    obs_runtime::testing::enable();
    let cap = SpanCapture::new();
    let _g = cap.set_default();
    run().await.unwrap();
    embed();

    let agent = cap.find("invoke_agent span_agent").expect("agent span");
    assert_eq!(agent.field("gen_ai.operation.name"), Some("invoke_agent"));
    assert_eq!(agent.field("gen_ai.agent.name"), Some("span_agent"));
    assert_eq!(agent.field("otel.kind"), Some("internal"));
    assert_eq!(agent.field("obs.status"), Some("success"));
    assert_eq!(agent.target, "spans");
    assert_eq!(agent.level, tracing::Level::INFO);
    assert_eq!(agent.parent, None);

    let chats = cap.find_all("chat gpt-4o");
    assert_eq!(chats.len(), 2);
    let failed = &chats[0];
    assert_eq!(failed.field("gen_ai.operation.name"), Some("chat"));
    assert_eq!(failed.field("gen_ai.provider.name"), Some("openai"));
    assert_eq!(failed.field("gen_ai.request.model"), Some("gpt-4o"));
    assert_eq!(failed.field("server.address"), Some("api.openai.com"));
    assert_eq!(failed.field("server.port"), Some("443"));
    assert_eq!(failed.field("otel.kind"), Some("client"));
    assert_eq!(failed.field("error.type"), Some("E"));
    assert_eq!(failed.field("otel.status_code"), Some("ERROR"));
    assert_eq!(failed.field("obs.status"), Some("error"));
    assert_eq!(failed.parent, Some(agent.id));
    assert!(failed.closed);

    let tool = cap.find("execute_tool span_search").unwrap();
    assert_eq!(tool.field("gen_ai.operation.name"), Some("execute_tool"));
    assert_eq!(tool.field("gen_ai.tool.name"), Some("span_search"));
    assert_eq!(tool.field("error.type"), None);
    assert_eq!(tool.parent, Some(agent.id));
    assert_eq!(chats[1].parent, Some(tool.id), "the tool's model call nests under the tool");
    assert_eq!(chats[1].field("obs.status"), Some("success"));
    // Late attributes: usage (OpenAI semantics: cached inside input), response, cost.
    // gpt-4o: 200 uncached input at $2.50/M, 1000 cached at $1.25/M, 300 output at $10/M
    // = 0.0005 + 0.00125 + 0.003 = $0.00475.
    let ok = &chats[1];
    assert_eq!(ok.field("gen_ai.usage.input_tokens"), Some("1200"));
    assert_eq!(ok.field("gen_ai.usage.output_tokens"), Some("300"));
    assert_eq!(ok.field("gen_ai.usage.cache_read.input_tokens"), Some("1000"));
    assert_eq!(ok.field("gen_ai.usage.reasoning.output_tokens"), Some("100"));
    assert_eq!(ok.field("gen_ai.usage.cache_creation.input_tokens"), None);
    assert_eq!(ok.field("gen_ai.response.model"), Some("gpt-4o-2024-08-06"));
    assert_eq!(ok.field("gen_ai.response.finish_reasons"), Some("[\"stop\"]"));
    assert_eq!(ok.field("obs.cost.usd"), Some("0.00475"));
    assert_eq!(failed.field("gen_ai.usage.input_tokens"), None);

    let h = cap.find("helper").unwrap();
    assert_eq!(h.field("code.function"), Some("helper"));
    assert_eq!(h.field("code.namespace"), Some("spans"));
    assert_eq!(h.field("n"), Some("1"));
    assert_eq!(h.field("doubled"), Some("2"));
    assert_eq!(h.parent, Some(agent.id));

    let e = cap.find("embeddings text-embedding-3-small").unwrap();
    assert_eq!(e.field("gen_ai.operation.name"), Some("embeddings"));
    assert_eq!(e.field("gen_ai.provider.name"), Some("openai"));
    assert_eq!(e.parent, None);
}
