//! The real genai 0.7 client (with its `otel` feature) against the
//! OpenAI-compatible server of `obs_tests::openai_server`: a plain call, a
//! streamed call (`ChatStreamEvent`, usage in its `End` event) and a provider
//! failure, twice: in agent `writer` through `#[track_llm_call]` (genai's own
//! spans inside are not counted again), and in agent `reader` with no glue
//! (genai's spans through the bridge in `obs_runtime::layer()`). obs's
//! per-call figures (ledger, metrics) must equal what the server reported.

use futures::StreamExt;
use genai::adapter::AdapterKind;
use genai::chat::{ChatMessage, ChatOptions, ChatRequest, ChatResponse, ChatStreamEvent};
use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
use genai::{Client, ModelIden, ServiceTarget};
use obs_runtime::testing::{self, snapshot, SpanCapture};
use obs_runtime::{ledger, track_execution, track_llm_call, BoxedStream};
use obs_tests::openai_server::{OpenAiServer, Reply, Served, Usage};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

/// Every model of this client goes to the test server as an OpenAI chat model.
fn client(server: &OpenAiServer) -> Client {
    let base = format!("{}/", server.base_url());
    let resolver = ServiceTargetResolver::from_resolver_fn(
        move |st: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(base.clone()),
                auth: AuthData::from_single("sk-test"),
                model: ModelIden::new(AdapterKind::OpenAI, st.model.model_name),
            })
        },
    );
    Client::builder().with_service_target_resolver(resolver).build().expect("genai client")
}

fn request(q: &str) -> ChatRequest {
    ChatRequest::new(vec![ChatMessage::user(q)])
}

#[track_llm_call(model = "gpt-4o", provider = "openai")]
async fn ask(client: &Client, q: &str) -> Result<ChatResponse, genai::Error> {
    client.exec_chat("gpt-4o", request(q), None).await
}

/// genai's stream as is (boxed): `ChatStreamEvent` is an `LlmChunk`, usage
/// comes from its `End` event when the request captures usage.
#[track_llm_call(model = "gpt-4o-mini", provider = "openai", stream)]
async fn ask_streaming(
    client: &Client,
    q: &str,
) -> Result<BoxedStream<'static, genai::Result<ChatStreamEvent>>, genai::Error> {
    let options = ChatOptions::default().with_capture_usage(true);
    let res = client.exec_chat_stream("gpt-4o-mini", request(q), Some(&options)).await?;
    Ok(Box::pin(res.stream))
}

#[track_execution(agent = "writer")]
async fn write(client: &Client) -> (Result<String, genai::Error>, String, Result<ChatResponse, genai::Error>) {
    let plain = ask(client, "What is Rust?").await.map(|r| r.first_text().unwrap_or_default().to_string());
    let mut text = String::new();
    let mut stream = ask_streaming(client, "Say hello").await.expect("stream opens");
    while let Some(event) = stream.next().await {
        if let ChatStreamEvent::Chunk(c) = event.expect("stream event") {
            text.push_str(&c.content);
        }
    }
    drop(stream);
    let failed = ask(client, "And now?").await;
    (plain, text, failed)
}

fn server_script_again() -> Vec<Reply> {
    vec![
        Reply::text(
            "gpt-4o-2024-08-06",
            "Rust is a systems language.",
            Usage::new(1_800, 200).cached(1_024).reasoning(64),
        )
        .delay(Duration::from_millis(30)),
        Reply::chunks("gpt-4o-mini-2024-07-18", &["Hel", "lo", " there"], Usage::new(900, 40).cached(128).reasoning(8))
            .delay(Duration::from_millis(30))
            .chunk_delay(Duration::from_millis(40)),
        Reply::error(500, "upstream overloaded"),
    ]
}

/// The same three calls with no obs code around them.
#[track_execution(agent = "reader")]
async fn read(client: &Client) -> (Result<ChatResponse, genai::Error>, String, Result<ChatResponse, genai::Error>) {
    let plain = client.exec_chat("gpt-4o", request("What is Rust?"), None).await;
    let options = ChatOptions::default().with_capture_usage(true);
    let mut stream = client.exec_chat_stream("gpt-4o-mini", request("Say hello"), Some(&options)).await.unwrap().stream;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        if let ChatStreamEvent::Chunk(c) = event.expect("stream event") {
            text.push_str(&c.content);
        }
    }
    drop(stream);
    let failed = client.exec_chat("gpt-4o", request("And now?"), None).await;
    (plain, text, failed)
}

/// Cost in picodollars at the catalogue's rates (per 1M tokens: gpt-4o $2.50
/// input, $1.25 cached, $10 output; gpt-4o-mini $0.15, $0.075, $0.60):
/// cached tokens at the cache rate only, reasoning inside output.
fn cost_pico(model: &str, u: Usage) -> u64 {
    let (input, cached, output) = match model {
        "gpt-4o" | "gpt-4o-2024-08-06" => (2_500_000, 1_250_000, 10_000_000),
        "gpt-4o-mini" | "gpt-4o-mini-2024-07-18" => (150_000, 75_000, 600_000),
        other => panic!("no rate for {other}"),
    };
    (u.prompt - u.cached) * input + u.cached * cached + u.completion * output
}

fn assert_record(r: &ledger::CallRecord, agent: &str, model: &str, served: &Served) {
    let u = served.usage.expect("the server reported usage");
    assert_eq!((r.agent, r.model, r.provider, r.status), (agent, model, "openai", "success"));
    assert_eq!(
        (r.input_tokens, r.output_tokens, r.cache_read_tokens, r.reasoning_tokens),
        (Some(u.prompt), Some(u.completion), Some(u.cached), Some(u.reasoning)),
        "{model}: tokens by type as the server reported them"
    );
    assert_eq!(r.cost_pico, Some(cost_pico(model, u)), "{model}: cost");
    // The client's call contains the server's whole answer.
    assert!(
        r.duration_seconds >= served.duration.as_secs_f64(),
        "{model}: {} s < the server's {:?}",
        r.duration_seconds,
        served.duration
    );
}

#[tokio::test(flavor = "current_thread")]
async fn genai_calls_plain_streamed_and_failed_are_exact() {
    testing::enable();
    ledger::clear();
    let spans = SpanCapture::new();
    // What an application has: obs's layer (the GenAI bridge in it); and a
    // span capture beside it, to read what genai put on its spans.
    let _g =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(obs_runtime::layer()).with(spans.layer()));
    let server = OpenAiServer::start(vec![
        Reply::text(
            "gpt-4o-2024-08-06",
            "Rust is a systems language.",
            Usage::new(2_000, 300).cached(1_500).reasoning(120),
        )
        .delay(Duration::from_millis(30)),
        Reply::chunks(
            "gpt-4o-mini-2024-07-18",
            &["Hel", "lo", " there"],
            Usage::new(1_000, 50).cached(200).reasoning(10),
        )
        .delay(Duration::from_millis(30))
        .chunk_delay(Duration::from_millis(40)),
        Reply::error(500, "upstream overloaded"),
    ])
    .await;
    // The reader's calls get the same answers.
    server.push(server_script_again());
    let client = client(&server);

    let (plain, text, failed) = write(&client).await;
    assert_eq!(plain.expect("plain call"), "Rust is a systems language.");
    assert_eq!(text, "Hello there");
    let err = failed.expect_err("the server answered 500");
    assert!(err.to_string().contains("500") || format!("{err:?}").contains("500"), "{err:?}");

    let served = server.served();
    assert_eq!(served.len(), 3, "one request per call: {served:?}");
    assert_eq!(
        served.iter().map(|s| (s.request_model.as_str(), s.stream, s.status)).collect::<Vec<_>>(),
        [("gpt-4o", false, 200), ("gpt-4o-mini", true, 200), ("gpt-4o", false, 500)]
    );
    assert_eq!(served[1].request["stream_options"]["include_usage"], true);

    // Per call, in order: the ledger keeps each model call.
    let mut calls = ledger::recent();
    calls.sort_by_key(|r| r.timestamp_ms);
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_record(&calls[0], "writer", "gpt-4o", &served[0]);
    assert_record(&calls[1], "writer", "gpt-4o-mini", &served[1]);
    let f = &calls[2];
    assert_eq!((f.agent, f.model, f.status), ("writer", "gpt-4o", "error"));
    assert_eq!((f.input_tokens, f.output_tokens, f.cost_pico), (None, None, None), "a failure has no tokens");

    let m = snapshot();
    let calls_of = |model: &str, status: &str| {
        m.counter(
            "llm_calls_total",
            &[("agent", "writer"), ("model", model), ("provider", "openai"), ("status", status)],
        )
    };
    assert_eq!(
        (calls_of("gpt-4o", "success"), calls_of("gpt-4o-mini", "success"), calls_of("gpt-4o", "error")),
        (Some(1), Some(1), Some(1))
    );
    // Time to first token: the streamed call only, no sooner than the server
    // wrote its first content chunk, and before the call ended.
    let ttft =
        m.histogram("llm_time_to_first_token_seconds", &[("model", "gpt-4o-mini"), ("provider", "openai")]).unwrap();
    assert_eq!(ttft.count, 1);
    let first = served[1].first_content.unwrap().as_secs_f64();
    assert!(ttft.sum >= first && ttft.sum < calls[1].duration_seconds, "ttft {} vs server {first}", ttft.sum);
    // The plain calls have none (their series exists at zero, from the catalogue).
    let plain = m.histogram("llm_time_to_first_token_seconds", &[("model", "gpt-4o"), ("provider", "openai")]);
    assert_eq!(plain.map_or(0, |h| h.count), 0);

    // genai's own spans (feature `otel`), what the span bridge reads: one per
    // call, with the usage the server reported, the streamed one with its
    // time to first chunk, the failed one with error.type.
    let genai: Vec<_> = spans.find_all("genai.chat");
    assert_eq!(genai.len(), 3, "{genai:?}");
    let g = |i: usize, f: &str| genai[i].field(f).map(str::to_string);
    assert_eq!(g(0, "gen_ai.usage.input_tokens").as_deref(), Some("2000"));
    assert_eq!(g(0, "gen_ai.usage.cache_read.input_tokens").as_deref(), Some("1500"));
    assert_eq!(g(0, "gen_ai.usage.reasoning.output_tokens").as_deref(), Some("120"));
    assert_eq!(g(1, "gen_ai.request.stream").as_deref(), Some("true"));
    assert_eq!(g(1, "gen_ai.usage.output_tokens").as_deref(), Some("50"));
    assert!(g(1, "gen_ai.response.time_to_first_chunk").is_some());
    assert_eq!(g(2, "otel.status_code").as_deref(), Some("error"));
    assert!(g(2, "error.type").is_some());
    // Each sits inside obs's own model-call span: the bridge's rule then
    // counts it once (the innermost obs call is that model call).
    for (i, s) in genai.iter().enumerate() {
        let parent = spans.parent_of(s).expect("a parent span");
        assert!(parent.name.starts_with("chat gpt-4o"), "genai span {i} under {:?}", parent.name);
    }

    // No glue: the same calls, genai's spans alone, through the bridge.
    let (plain, text, failed) = read(&client).await;
    assert_eq!(plain.expect("plain call").first_text(), Some("Rust is a systems language."));
    assert_eq!(text, "Hello there");
    failed.expect_err("the server answered 500");
    let served = server.served();
    assert_eq!(served.len(), 6);
    let mut calls: Vec<_> = ledger::recent().into_iter().filter(|r| r.agent == "reader").collect();
    calls.sort_by_key(|r| r.timestamp_ms);
    assert_eq!(calls.len(), 3, "{calls:?}");
    // Labelled by the response model, which the catalogue prices; genai's
    // stream span records none, so the streamed call keeps the request's.
    assert_record(&calls[0], "reader", "gpt-4o-2024-08-06", &served[3]);
    assert_record(&calls[1], "reader", "gpt-4o-mini", &served[4]);
    let f = &calls[2];
    assert_eq!((f.agent, f.model, f.status), ("reader", "gpt-4o", "error"), "the request's model: no response");
    assert_eq!((f.input_tokens, f.output_tokens, f.cost_pico), (None, None, None));
    assert_eq!(ledger::recent().len(), 6, "the writer's calls were not counted again");
    let m = snapshot();
    let after =
        m.histogram("llm_time_to_first_token_seconds", &[("model", "gpt-4o-mini"), ("provider", "openai")]).unwrap();
    assert_eq!(after.count - ttft.count, 1, "genai's time to first chunk");
    let reader_ttft = after.sum - ttft.sum;
    let first = served[4].first_content.unwrap().as_secs_f64();
    assert!(reader_ttft >= first && reader_ttft < calls[1].duration_seconds, "ttft {reader_ttft} vs server {first}");
}
