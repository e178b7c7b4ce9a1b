//! The real `async-openai` client against an OpenAI-compatible server that
//! this test runs on 127.0.0.1, answering with realistic bodies: usage with
//! cached and reasoning tokens, and a stream with `include_usage`.

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, ChatCompletionResponseStream, ChatCompletionStreamOptions,
    CreateChatCompletionRequest, CreateChatCompletionRequestArgs, CreateChatCompletionResponse,
};
use async_openai::Client;
use futures::StreamExt;
use obs_runtime::testing::{self, snapshot, SpanCapture};
use obs_runtime::track_llm_call;
use obs_tests::openai_server::{OpenAiServer, Reply, Usage};
use std::time::Duration;

fn request(model: &str, stream: bool) -> CreateChatCompletionRequest {
    let mut b = CreateChatCompletionRequestArgs::default();
    b.model(model).messages([ChatCompletionRequestUserMessageArgs::default()
        .content("What is Rust?")
        .build()
        .unwrap()
        .into()]);
    if stream {
        b.stream_options(ChatCompletionStreamOptions { include_usage: Some(true), ..Default::default() });
    }
    b.build().unwrap()
}

#[track_llm_call(model = "gpt-4o", server_address = "127.0.0.1")]
async fn ask(client: &Client<OpenAIConfig>) -> Result<CreateChatCompletionResponse, OpenAIError> {
    client.chat().create(request("gpt-4o", false)).await
}

#[track_llm_call(model = "gpt-4o-mini", stream)]
async fn ask_streaming(client: &Client<OpenAIConfig>) -> Result<ChatCompletionResponseStream, OpenAIError> {
    client.chat().create_stream(request("gpt-4o-mini", true)).await
}

#[tokio::test(flavor = "current_thread")]
async fn async_openai_calls_record_exact_tokens_and_cost() {
    testing::enable();
    let spans = SpanCapture::new();
    let _g = spans.set_default();
    let server = OpenAiServer::start(vec![
        Reply::text(
            "gpt-4o-2024-08-06",
            "Rust is a systems language.",
            Usage::new(2_000, 300).cached(1_500).reasoning(120),
        ),
        Reply::chunks("gpt-4o-mini-2024-07-18", &["Hel", "lo"], Usage::new(1_000, 50))
            .chunk_delay(Duration::from_millis(10)),
    ])
    .await;
    let client = Client::with_config(OpenAIConfig::new().with_api_base(server.base_url()).with_api_key("sk-test"));

    // Plain call: 2,000 input (1,500 cached), 300 output (120 reasoning).
    let resp = ask(&client).await.expect("chat completion");
    assert_eq!(resp.choices[0].message.content.as_deref(), Some("Rust is a systems language."));
    let m = snapshot();
    let tok = |model: &str, t: &str| {
        m.counter("llm_tokens_total", &[("agent", "none"), ("model", model), ("provider", "openai"), ("type", t)])
    };
    assert_eq!(tok("gpt-4o", "input"), Some(2_000));
    assert_eq!(tok("gpt-4o", "cache_read"), Some(1_500));
    assert_eq!(tok("gpt-4o", "output"), Some(300));
    assert_eq!(tok("gpt-4o", "reasoning"), Some(120));
    // 500 * $2.50 + 1,500 * $1.25 + 300 * $10 per 1M = $0.006125: cached tokens billed once.
    assert_eq!(
        m.raw("llm_cost_usd_total", &[("agent", "none"), ("model", "gpt-4o"), ("provider", "openai")]),
        Some(6_125_000_000)
    );
    let span = spans.find("chat gpt-4o").unwrap();
    assert_eq!(span.field("gen_ai.response.model"), Some("gpt-4o-2024-08-06"));
    assert_eq!(span.field("gen_ai.response.finish_reasons"), Some("[\"stop\"]"));
    assert_eq!(span.field("server.address"), Some("127.0.0.1"));
    assert_eq!(span.field("obs.cost.usd"), Some("0.006125"));

    // Streamed call, usage in the last chunk (stream_options.include_usage).
    let stream = ask_streaming(&client).await.expect("stream");
    let text: String = stream
        .filter_map(|c| async move { c.ok() })
        .map(|c| c.choices.iter().filter_map(|ch| ch.delta.content.clone()).collect::<String>())
        .collect::<Vec<_>>()
        .await
        .concat();
    assert_eq!(text, "Hello");
    let m = snapshot();
    let tok = |t: &str| {
        m.counter(
            "llm_tokens_total",
            &[("agent", "none"), ("model", "gpt-4o-mini"), ("provider", "openai"), ("type", t)],
        )
    };
    assert_eq!((tok("input"), tok("output")), (Some(1_000), Some(50)));
    // 1,000 * $0.15 + 50 * $0.60 per 1M = $0.00018.
    assert_eq!(
        m.raw("llm_cost_usd_total", &[("agent", "none"), ("model", "gpt-4o-mini"), ("provider", "openai")]),
        Some(180_000_000)
    );
    let ttft =
        m.histogram("llm_time_to_first_token_seconds", &[("model", "gpt-4o-mini"), ("provider", "openai")]).unwrap();
    assert_eq!(ttft.count, 1);
    assert!(ttft.sum >= 0.010, "the first content chunk comes after the role chunk: {}", ttft.sum);
    let s = spans.find("chat gpt-4o-mini").unwrap();
    assert!(s.closed);
    assert_eq!(s.field("gen_ai.response.model"), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(s.field("gen_ai.response.finish_reasons"), Some("[\"stop\"]"));
    assert_eq!(s.field("obs.status"), Some("success"));
    let served = server.served();
    assert_eq!(served.len(), 2);
    assert!(served[1].stream && served[1].request["stream_options"]["include_usage"] == true);
    assert_eq!(served[1].usage, Some(Usage::new(1_000, 50)));
}
