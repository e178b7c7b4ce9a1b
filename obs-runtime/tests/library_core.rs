//! What a library gets with `default-features = false`: every macro compiles
//! and records, with no exporter, no subscriber crate and no HTTP stack.
//! CI runs it as `cargo test -p obs-runtime --no-default-features --test library_core`.

use obs_runtime::{traced, track_execution, track_llm_call, track_tool, LlmUsage, Redact, TokenUsage};

#[derive(Debug)]
struct LibError;

#[derive(Redact)]
struct Query {
    text: String,
    #[redact]
    api_key: String,
}

struct Reply {
    tokens: (u64, u64),
}

impl LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(self.tokens.0, self.tokens.1))
    }
}

#[track_tool(name = "lib_lookup")]
fn lookup(q: &Query) -> Result<usize, LibError> {
    Ok(q.text.len())
}

#[track_llm_call(model = "gpt-4o-mini", provider = "openai")]
async fn complete(prompt: &str) -> Result<Reply, LibError> {
    Ok(Reply { tokens: (prompt.len() as u64, 2) })
}

#[traced(metrics)]
fn helper(n: usize) -> usize {
    n * 2
}

#[track_execution(agent = "lib_agent")]
async fn agent(q: Query) -> Result<usize, LibError> {
    let n = lookup(&q)?;
    let reply = complete(&q.text).await?;
    Ok(helper(n) + reply.tokens.1 as usize)
}

#[test]
fn every_macro_records_without_the_default_features() {
    obs_runtime::testing::enable();
    let q = Query { text: "rust".into(), api_key: "sk-live-123456".into() };
    assert!(!format!("{q:?}").contains("sk-live") && q.api_key.starts_with("sk-live"), "redacted Debug: {q:?}");
    let out = block_on(agent(q));
    assert_eq!(out.ok(), Some(10));
    let m = obs_runtime::testing::snapshot();
    assert_eq!(m.counter("agent_executions_total", &[("agent", "lib_agent"), ("status", "success")]), Some(1));
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "lib_agent"), ("tool", "lib_lookup"), ("status", "success")]),
        Some(1)
    );
    let input = [("agent", "lib_agent"), ("model", "gpt-4o-mini"), ("provider", "openai"), ("type", "input")];
    assert_eq!(m.counter("llm_tokens_total", &input), Some(4));
}

/// A minimal executor: the library build has no tokio, and these futures
/// never wait.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
