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
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHAT_BODY: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1763700000,"model":"gpt-4o-2024-08-06",
"choices":[{"index":0,"message":{"role":"assistant","content":"Rust is a systems language.","refusal":null},"logprobs":null,"finish_reason":"stop"}],
"usage":{"prompt_tokens":2000,"completion_tokens":300,"total_tokens":2300,
"prompt_tokens_details":{"cached_tokens":1500,"audio_tokens":0},
"completion_tokens_details":{"reasoning_tokens":120,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},
"service_tier":"default","system_fingerprint":"fp_1"}"#;

fn sse_chunks() -> Vec<String> {
    let chunk = |delta: &str, finish: &str| {
        format!(
            r#"{{"id":"chatcmpl-2","object":"chat.completion.chunk","created":1763700001,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_2","choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}],"usage":null}}"#
        )
    };
    vec![
        chunk(r#"{"role":"assistant","content":""}"#, "null"),
        chunk(r#"{"content":"Hel"}"#, "null"),
        chunk(r#"{"content":"lo"}"#, "null"),
        chunk("{}", r#""stop""#),
        r#"{"id":"chatcmpl-2","object":"chat.completion.chunk","created":1763700001,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_2","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":50,"total_tokens":1050,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#.to_string(),
    ]
}

/// Serves /v1/chat/completions: JSON, or SSE when the request streams.
async fn serve(listener: tokio::net::TcpListener) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else { return };
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut tmp = [0u8; 4096];
            // Read headers, then the body by Content-Length.
            let (head_end, content_length) = loop {
                let n = sock.read(&mut tmp).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&tmp[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (i + 4, len);
                }
            };
            while buf.len() < head_end + content_length {
                let n = sock.read(&mut tmp).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            let body: serde_json::Value = serde_json::from_slice(&buf[head_end..]).unwrap_or_default();
            let stream = body["stream"] == serde_json::json!(true);
            if stream {
                assert_eq!(body["stream_options"]["include_usage"], serde_json::json!(true));
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n")
                    .await;
                for c in sse_chunks() {
                    let _ = sock.write_all(format!("data: {c}\n\n").as_bytes()).await;
                    let _ = sock.flush().await;
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                let _ = sock.write_all(b"data: [DONE]\n\n").await;
            } else {
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{CHAT_BODY}",
                    CHAT_BODY.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            }
            let _ = sock.shutdown().await;
        });
    }
}

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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener));
    let client =
        Client::with_config(OpenAIConfig::new().with_api_base(format!("http://{addr}/v1")).with_api_key("sk-test"));

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
    server.abort();
}
