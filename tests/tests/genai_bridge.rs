//! The GenAI span bridge in `obs_runtime::layer()`: spans of a library that
//! only follows the GenAI conventions (`obs_tests::genai_emitter`) become
//! obs's model, tool and agent calls, with exact metrics, cost, ledger and
//! agent; nested in an obs call of the same kind they are not counted again.

use obs_runtime::testing;
use obs_runtime::{track, track_llm_call, track_tool, TokenUsage};
use obs_tests::genai_emitter::{self as emitter, Chat};
use tracing_subscriber::layer::SubscriberExt;

fn subscriber() -> tracing::dispatcher::DefaultGuard {
    testing::enable();
    tracing::subscriber::set_default(tracing_subscriber::registry().with(obs_runtime::layer()))
}

fn llm_calls(agent: &str, model: &str, provider: &str, status: &str) -> Option<u64> {
    testing::snapshot()
        .counter("llm_calls_total", &[("agent", agent), ("model", model), ("provider", provider), ("status", status)])
}

fn tokens(agent: &str, model: &str, ty: &str) -> Option<u64> {
    testing::snapshot()
        .counter("llm_tokens_total", &[("agent", agent), ("model", model), ("provider", "openai"), ("type", ty)])
}

/// gpt-4o-mini-2024-07-18 (the response model, priced): $0.15 / $0.60 per
/// 1M, cache read $0.075; 1,000 in (200 cached) and 500 out (100 of them
/// reasoning, billed as output): 800 × 0.15 + 200 × 0.075 + 500 × 0.6 =
/// $0.000435.
#[test]
fn model_tool_and_agent_spans_become_obs_calls() {
    let _s = subscriber();
    let agent_seen = emitter::agent("em_agent", || {
        emitter::chat(
            "gpt-4o-mini",
            "openai",
            &Chat {
                response_model: Some("gpt-4o-mini-2024-07-18"),
                input: Some(1_000),
                output: Some(500),
                cache_read: Some(200),
                reasoning: Some(100),
                ttft_secs: Some(0.25),
                error: None,
            },
        );
        emitter::tool("em_search", None, || ());
        emitter::tool("em_search", Some("timeout"), || ());
        emitter::chat("gpt-4o-mini", "openai", &Chat { error: Some("429"), ..Chat::default() });
        obs_runtime::current_agent().name()
    });
    assert_eq!(agent_seen, "em_agent", "a foreign agent span makes its agent current");
    assert_eq!(obs_runtime::current_agent().name(), "none");

    let dated = "gpt-4o-mini-2024-07-18";
    assert_eq!(llm_calls("em_agent", dated, "openai", "success"), Some(1));
    // The failed call reports no response model: labelled by the request's.
    assert_eq!(llm_calls("em_agent", "gpt-4o-mini", "openai", "error"), Some(1));
    assert_eq!((tokens("em_agent", dated, "input"), tokens("em_agent", dated, "output")), (Some(1_000), Some(500)));
    assert_eq!(
        (tokens("em_agent", dated, "cache_read"), tokens("em_agent", dated, "reasoning")),
        (Some(200), Some(100))
    );
    let m = testing::snapshot();
    assert_eq!(
        m.raw("llm_cost_usd_total", &[("agent", "em_agent"), ("model", dated), ("provider", "openai")]),
        Some(435_000_000)
    );
    let ttft = m.histogram("llm_time_to_first_token_seconds", &[("model", dated), ("provider", "openai")]).unwrap();
    assert_eq!((ttft.count, ttft.sum), (1, 0.25));
    let failed = m
        .histogram(
            "gen_ai_client_operation_duration_seconds",
            &[
                ("gen_ai_operation_name", "chat"),
                ("gen_ai_provider_name", "openai"),
                ("gen_ai_request_model", "gpt-4o-mini"),
                ("error_type", "429"),
            ],
        )
        .unwrap();
    assert_eq!(failed.count, 1);
    let tool =
        |status| m.counter("tool_calls_total", &[("agent", "em_agent"), ("tool", "em_search"), ("status", status)]);
    assert_eq!((tool("success"), tool("error")), (Some(1), Some(1)));
    assert_eq!(m.counter("agent_executions_total", &[("agent", "em_agent"), ("status", "success")]), Some(1));
    // The agent span's own usage (an aggregate) is not a model call.
    let outside: u64 = m
        .series("llm_calls_total", &[("agent", "none")])
        .into_iter()
        .map(|(_, v)| match v {
            obs_runtime::metrics::Value::Counter(n) => *n,
            _ => 0,
        })
        .sum();
    assert_eq!(outside, 0);

    let ledger: Vec<_> = obs_runtime::ledger::recent().into_iter().filter(|r| r.agent == "em_agent").collect();
    assert_eq!(ledger.len(), 2);
    assert_eq!((ledger[0].model, ledger[0].status, ledger[0].cost_pico), (dated, "success", Some(435_000_000)));
    assert_eq!(
        (ledger[0].input_tokens, ledger[0].output_tokens, ledger[0].cache_read_tokens, ledger[0].reasoning_tokens),
        (Some(1_000), Some(500), Some(200), Some(100))
    );
    assert_eq!((ledger[1].model, ledger[1].status, ledger[1].input_tokens), ("gpt-4o-mini", "error", None));
}

#[test]
fn fields_recorded_after_creation_count_as_rig_records_them() {
    let _s = subscriber();
    emitter::agent("em_rig", || emitter::chat_rig_style("gpt-4.1-mini", "openai", 300, 120, 20));
    assert_eq!(llm_calls("em_rig", "gpt-4.1-mini", "openai", "success"), Some(1));
    assert_eq!(tokens("em_rig", "gpt-4.1-mini", "reasoning"), Some(20));
    // gpt-4.1-mini: $0.40 / $1.60 per 1M: 300 × 0.4 + 120 × 1.6 = $0.000312.
    assert_eq!(
        testing::snapshot()
            .raw("llm_cost_usd_total", &[("agent", "em_rig"), ("model", "gpt-4.1-mini"), ("provider", "openai")]),
        Some(312_000_000)
    );
}

struct Reply;

impl obs_runtime::LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(7, 3))
    }
}

/// The application wraps a client call that emits its own GenAI span.
#[track_llm_call(model = "gpt-4.1-nano", provider = "openai")]
fn wrapped(input: u64) -> Reply {
    emitter::chat("gpt-4.1-nano", "openai", &Chat { input: Some(input), output: Some(1), ..Chat::default() });
    Reply
}

/// A tool obs instruments, run by a library inside its `execute_tool` span.
#[track_tool(name = "em_lookup")]
fn lookup() -> usize {
    // A model call made by the tool: the innermost obs call is the tool,
    // so the foreign model span counts.
    emitter::chat("gpt-4.1-nano", "openai", &Chat { input: Some(1_000), output: Some(1_000), ..Chat::default() });
    1
}

#[track_llm_call(model = "gpt-4.1-nano", provider = "openai")]
fn wraps_a_tool() -> Reply {
    lookup();
    Reply
}

#[test]
fn nested_spans_are_not_counted_again_and_siblings_are() {
    let _s = subscriber();
    // Nested in #[track_llm_call]: only the macro's call (7 in, 3 out) counts.
    wrapped(500);
    assert_eq!(llm_calls("none", "gpt-4.1-nano", "openai", "success"), Some(1));
    assert_eq!(tokens("none", "gpt-4.1-nano", "input"), Some(7));
    // A sibling span (after the call returned) counts.
    emitter::chat("gpt-4.1-nano", "openai", &Chat { input: Some(40), output: Some(2), ..Chat::default() });
    assert_eq!(llm_calls("none", "gpt-4.1-nano", "openai", "success"), Some(2));
    assert_eq!(tokens("none", "gpt-4.1-nano", "input"), Some(47));

    // Nested in an entered track::llm call: not counted; its sibling is.
    let call = track::llm("gpt-4.1-nano").provider("openai").start().unwrap();
    call.in_scope(|| emitter::chat("gpt-4.1-nano", "openai", &Chat { input: Some(900), ..Chat::default() }));
    emitter::chat("gpt-4.1-nano", "openai", &Chat { input: Some(3), output: Some(1), ..Chat::default() });
    call.finish(TokenUsage::new(100, 10));
    assert_eq!(llm_calls("none", "gpt-4.1-nano", "openai", "success"), Some(4));
    assert_eq!(tokens("none", "gpt-4.1-nano", "input"), Some(150));

    // A foreign tool span around an obs tool: the obs tool counts, once;
    // the model span inside that tool counts (the tool is innermost).
    emitter::tool("em_lookup", None, lookup);
    let m = testing::snapshot();
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "none"), ("tool", "em_lookup"), ("status", "success")]),
        Some(1)
    );
    assert_eq!(llm_calls("none", "gpt-4.1-nano", "openai", "success"), Some(5));
    assert_eq!(tokens("none", "gpt-4.1-nano", "input"), Some(1_150));

    // Model call -> tool -> foreign model span: counted once each.
    wraps_a_tool();
    assert_eq!(llm_calls("none", "gpt-4.1-nano", "openai", "success"), Some(7));
    assert_eq!(tokens("none", "gpt-4.1-nano", "input"), Some(2_157));
}

#[test]
fn a_foreign_agent_run_is_in_flight_while_its_span_is_open() {
    let _s = subscriber();
    let in_flight = || testing::snapshot().gauge("agent_executions_in_flight", &[("agent", "em_flight")]);
    let inside = emitter::agent("em_flight", in_flight);
    assert_eq!(inside, Some(1.0), "in flight while its invoke_agent span is open");
    assert_eq!(in_flight(), Some(0.0));
    assert_eq!(
        testing::snapshot().counter("agent_executions_total", &[("agent", "em_flight"), ("status", "success")]),
        Some(1)
    );

    // Named after its creation (recorded later): in flight from then on.
    let span = tracing::info_span!(
        target: "genai_emitter",
        "invoke_agent",
        gen_ai.operation.name = "invoke_agent",
        gen_ai.agent.name = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let late = || testing::snapshot().gauge("agent_executions_in_flight", &[("agent", "em_late")]);
    span.record("gen_ai.agent.name", "em_late");
    assert_eq!(span.in_scope(late), Some(1.0));
    span.record("error.type", "timeout");
    drop(span);
    assert_eq!(late(), Some(0.0));
    assert_eq!(
        testing::snapshot().counter("agent_executions_total", &[("agent", "em_late"), ("status", "error")]),
        Some(1)
    );

    // Inside an obs agent of the same name it is that agent: not counted again.
    let run = track::agent("em_same");
    run.in_scope(|| emitter::agent("em_same", || ()));
    run.finish();
    assert_eq!(
        testing::snapshot().counter("agent_executions_total", &[("agent", "em_same"), ("status", "success")]),
        Some(1)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_async_foreign_agent_labels_the_calls_made_inside_it() {
    let _s = subscriber();
    let seen = emitter::agent_async("em_async", async {
        tokio::task::yield_now().await;
        let call = track::llm("gpt-4o").provider("openai").start().unwrap();
        call.finish(TokenUsage::new(10, 10));
        emitter::chat("gpt-4o", "openai", &Chat { input: Some(5), output: Some(5), ..Chat::default() });
        obs_runtime::current_agent().name()
    })
    .await;
    assert_eq!(seen, "em_async");
    assert_eq!(llm_calls("em_async", "gpt-4o", "openai", "success"), Some(2));
    assert_eq!(
        testing::snapshot().counter("agent_executions_total", &[("agent", "em_async"), ("status", "success")]),
        Some(1)
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever a library writes into the GenAI fields (negative, huge,
    /// fractional or textual counts, any names), closing its span never
    /// panics.
    #[test]
    fn any_field_values_never_panic(
        op in proptest::prop_oneof![
            proptest::strategy::Just("chat".to_string()),
            proptest::strategy::Just("execute_tool".to_string()),
            proptest::strategy::Just("invoke_agent".to_string()),
            ".{0,40}",
        ],
        model in ".{0,300}",
        input in proptest::num::i64::ANY,
        output in ".{0,20}",
        ttft in proptest::num::f64::ANY,
        err in proptest::option::of(".{0,200}"),
    ) {
        let _s = subscriber();
        let span = tracing::info_span!(
            "fuzz",
            gen_ai.operation.name = op.as_str(),
            gen_ai.request.model = model.as_str(),
            gen_ai.agent.name = model.as_str(),
            gen_ai.tool.name = model.as_str(),
            gen_ai.usage.input_tokens = input,
            gen_ai.usage.output_tokens = output.as_str(),
            gen_ai.response.time_to_first_chunk = ttft,
            error.type = tracing::field::Empty,
        );
        if let Some(e) = &err {
            span.record("error.type", e.as_str());
        }
        span.in_scope(|| ());
        drop(span);
    }
}
