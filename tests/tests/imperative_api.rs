//! `obs_runtime::track`: model calls, tools and agents started and ended by
//! code (a framework's callbacks). Success, failure, cancellation and a
//! budget refusal, with the exact series, span attributes and ledger entry
//! `#[track_llm_call]` would record.

use obs_runtime::budget::{self, Budget, Period};
use obs_runtime::testing::{self, SpanCapture};
use obs_runtime::{track, TokenUsage};

fn labels<'a>(agent: &'a str, model: &'a str, status: &'a str) -> [(&'a str, &'a str); 4] {
    [("agent", agent), ("model", model), ("provider", "openai"), ("status", status)]
}

fn ledger_of(model: &str) -> Vec<obs_runtime::ledger::CallRecord> {
    obs_runtime::ledger::recent().into_iter().filter(|r| r.model == model).collect()
}

/// gpt-4o-mini: $0.15 / $0.60 per 1M, cache read $0.075: 1,200 in (200
/// cached) and 300 out cost 1,000 × 0.15 + 200 × 0.075 + 300 × 0.6 =
/// $0.000345 = 345,000,000 picodollars.
#[test]
fn a_successful_call_records_what_the_macro_records() {
    testing::enable();
    let spans = SpanCapture::new();
    let _g = spans.set_default();
    track::agent("imp_planner").in_scope(|| {
        let call = track::llm("gpt-4o-mini").provider("openai").start().expect("no budget");
        call.first_token();
        call.first_token(); // only the first counts
        call.finish(TokenUsage::openai(1_200, 300, Some(200), None));
    });
    let m = testing::snapshot();
    assert_eq!(m.counter("llm_calls_total", &labels("imp_planner", "gpt-4o-mini", "success")), Some(1));
    assert_eq!(m.counter("agent_executions_total", &[("agent", "imp_planner"), ("status", "cancelled")]), Some(1));
    let tokens = |ty| {
        m.counter(
            "llm_tokens_total",
            &[("agent", "imp_planner"), ("model", "gpt-4o-mini"), ("provider", "openai"), ("type", ty)],
        )
    };
    assert_eq!((tokens("input"), tokens("output"), tokens("cache_read")), (Some(1_200), Some(300), Some(200)));
    assert_eq!(
        m.raw("llm_cost_usd_total", &[("agent", "imp_planner"), ("model", "gpt-4o-mini"), ("provider", "openai")]),
        Some(345_000_000)
    );
    let ttft = m
        .histogram("llm_time_to_first_token_seconds", &[("model", "gpt-4o-mini"), ("provider", "openai")])
        .expect("ttft");
    assert_eq!(ttft.count, 1);

    let span = spans.find("chat").expect("the model call's span");
    for (k, v) in [
        ("otel.name", "chat gpt-4o-mini"),
        ("otel.kind", "client"),
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "openai"),
        ("gen_ai.request.model", "gpt-4o-mini"),
        ("gen_ai.usage.input_tokens", "1200"),
        ("gen_ai.usage.output_tokens", "300"),
        ("gen_ai.usage.cache_read.input_tokens", "200"),
        ("obs.cost.usd", "0.000345"),
        ("obs.status", "success"),
    ] {
        assert_eq!(span.field(k), Some(v), "{k}");
    }
    assert!(span.field("gen_ai.response.time_to_first_chunk").is_some());
    assert_eq!(span.field("error.type"), None);
    let parent = spans.parent_of(&span).expect("a child of the agent's span");
    assert_eq!(parent.name, "invoke_agent");
    assert_eq!(parent.field("gen_ai.agent.name"), Some("imp_planner"));

    let rec = ledger_of("gpt-4o-mini");
    assert_eq!(rec.len(), 1);
    assert_eq!((rec[0].agent, rec[0].provider, rec[0].status), ("imp_planner", "openai", "success"));
    assert_eq!(
        (rec[0].input_tokens, rec[0].output_tokens, rec[0].cache_read_tokens),
        (Some(1_200), Some(300), Some(200))
    );
    assert_eq!(rec[0].cost_pico, Some(345_000_000));
}

#[test]
fn a_failed_call_is_an_error_with_its_error_type() {
    testing::enable();
    let spans = SpanCapture::new();
    let _g = spans.set_default();
    let call = track::llm("gpt-4.1-mini").start().expect("no budget");
    call.fail("429");
    let m = testing::snapshot();
    assert_eq!(m.counter("llm_calls_total", &labels("none", "gpt-4.1-mini", "error")), Some(1));
    let d = m
        .histogram(
            "gen_ai_client_operation_duration_seconds",
            &[
                ("gen_ai_operation_name", "chat"),
                ("gen_ai_provider_name", "openai"),
                ("gen_ai_request_model", "gpt-4.1-mini"),
                ("error_type", "429"),
            ],
        )
        .expect("duration by error type");
    assert_eq!(d.count, 1);
    let span = spans.find("chat").unwrap();
    assert_eq!(span.field("error.type"), Some("429"));
    assert_eq!(span.field("otel.status_code"), Some("ERROR"));
    assert_eq!(span.field("obs.status"), Some("error"));
    let rec = ledger_of("gpt-4.1-mini");
    assert_eq!((rec.len(), rec[0].status, rec[0].input_tokens), (1, "error", None));
}

#[test]
fn a_dropped_call_is_cancelled_and_tools_count_too() {
    testing::enable();
    let spans = SpanCapture::new();
    let _g = spans.set_default();
    drop(track::llm("gpt-4.1-nano").operation(track::Operation::TextCompletion).start().unwrap());
    let tool = track::tool("imp_search");
    tool.in_scope(|| tracing::info!("inside"));
    tool.finish();
    track::tool("imp_search").fail("Timeout");
    drop(track::tool("imp_search"));
    let m = testing::snapshot();
    assert_eq!(m.counter("llm_calls_total", &labels("none", "gpt-4.1-nano", "cancelled")), Some(1));
    let tool_calls =
        |status| m.counter("tool_calls_total", &[("agent", "none"), ("tool", "imp_search"), ("status", status)]);
    assert_eq!((tool_calls("success"), tool_calls("error"), tool_calls("cancelled")), (Some(1), Some(1), Some(1)));
    let span = spans.find("text_completion").unwrap();
    assert_eq!(span.field("gen_ai.operation.name"), Some("text_completion"));
    assert_eq!(span.field("obs.status"), Some("cancelled"));
    let tools = spans.find_all("execute_tool");
    assert_eq!(tools.len(), 3);
    assert_eq!(tools[0].field("gen_ai.tool.name"), Some("imp_search"));
    assert_eq!(tools[0].field("otel.name"), Some("execute_tool imp_search"));
    assert_eq!(tools[1].field("error.type"), Some("Timeout"));
}

#[test]
fn a_spent_budget_refuses_the_call_and_records_the_refusal() {
    testing::enable();
    budget::register(Budget::new("imp-hard", 0.0001, Period::Total).model("gpt-4o").hard()).unwrap();
    let spans = SpanCapture::new();
    let _g = spans.set_default();
    // gpt-4o, 1,000 in + 1,000 out = $0.0125: spends the budget.
    let first = track::llm("gpt-4o").budget("imp-hard").start().expect("not spent yet");
    first.finish(TokenUsage::new(1_000, 1_000));
    let refused = track::llm("gpt-4o").budget("imp-hard").start().expect_err("spent");
    assert_eq!(refused.budget, "imp-hard");
    let m = testing::snapshot();
    assert_eq!(m.counter("llm_calls_total", &labels("none", "gpt-4o", "success")), Some(1));
    assert_eq!(m.counter("llm_calls_total", &labels("none", "gpt-4o", "error")), Some(1));
    let refused_span = &spans.find_all("chat")[1];
    assert_eq!(refused_span.field("error.type"), Some("BudgetExceeded"));
    let rec = ledger_of("gpt-4o");
    assert_eq!(rec.iter().map(|r| r.status).collect::<Vec<_>>(), ["success", "error"]);
}

#[tokio::test(flavor = "current_thread")]
async fn an_agent_is_current_for_async_code_run_under_it() {
    testing::enable();
    let run = track::agent("imp_async");
    let seen = run
        .instrument(async {
            tokio::task::yield_now().await;
            let call = track::llm("gpt-4o-mini").provider("openai").start().unwrap();
            call.finish(TokenUsage::new(10, 5));
            obs_runtime::current_agent().name()
        })
        .await;
    run.finish();
    assert_eq!(seen, "imp_async");
    assert_eq!(obs_runtime::current_agent().name(), "none");
    let m = testing::snapshot();
    assert_eq!(m.counter("llm_calls_total", &labels("imp_async", "gpt-4o-mini", "success")), Some(1));
    assert_eq!(m.counter("agent_executions_total", &[("agent", "imp_async"), ("status", "success")]), Some(1));
}

#[test]
fn open_calls_can_move_to_another_thread() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<track::ModelCall>();
    send_sync::<track::ToolCall>();
    send_sync::<track::AgentCall>();
    testing::enable();
    let call = track::llm("gpt-4o-mini").provider("openai").start().unwrap();
    std::thread::spawn(move || call.finish(TokenUsage::new(1, 1))).join().unwrap();
    assert_eq!(testing::snapshot().counter("llm_calls_total", &labels("none", "gpt-4o-mini", "success")), Some(1));
}
