//! Exact token and cost accounting, through the macros and the metrics:
//! cached tokens never billed twice, reasoning inside output, context tiers,
//! dated snapshots, provider prefixes, unknown models never priced at $0.

use obs_runtime::testing::{self, snapshot};
use obs_runtime::{track_execution, track_llm_call, TokenUsage};

#[derive(Debug)]
struct E;

struct Resp(TokenUsage);

impl obs_runtime::LlmUsage for Resp {
    fn usage(&self) -> Option<TokenUsage> {
        Some(self.0)
    }
}

#[track_llm_call(model = "o4-mini")]
fn openai_reasoning(u: TokenUsage) -> Result<Resp, E> {
    Ok(Resp(u))
}

#[track_llm_call(model = "claude-sonnet-4-5")]
fn anthropic(u: TokenUsage) -> Resp {
    Resp(u)
}

#[track_llm_call(model = "gemini-2.5-pro")]
fn gemini(u: TokenUsage) -> Resp {
    Resp(u)
}

#[track_llm_call(model = model)]
fn any_model(model: &'static str, u: TokenUsage) -> Resp {
    Resp(u)
}

#[track_llm_call(model = "gpt-4o-mini", batch)]
fn batched(u: TokenUsage) -> Resp {
    Resp(u)
}

#[track_execution(agent = "cost_agent")]
fn agent(u: TokenUsage) -> Result<Resp, E> {
    openai_reasoning(u)
}

fn cost_pico(agent: &str, model: &str, provider: &str) -> Option<u64> {
    snapshot().raw("llm_cost_usd_total", &[("agent", agent), ("model", model), ("provider", provider)])
}

fn tokens(agent: &str, model: &str, provider: &str, ty: &str) -> Option<u64> {
    snapshot().counter("llm_tokens_total", &[("agent", agent), ("model", model), ("provider", provider), ("type", ty)])
}

#[test]
fn openai_cached_and_reasoning_tokens() {
    testing::enable();
    // o4-mini: input $1.10/M, cached $0.275/M, output $4.40/M (reasoning at the output rate).
    // 2,000 uncached * 1.10 + 8,000 cached * 0.275 + 2,000 output * 4.40 (1,500 of them reasoning)
    // = 0.0022 + 0.0022 + 0.0088 = $0.0132 = 13,200,000,000 pico-USD.
    agent(TokenUsage::openai(10_000, 2_000, Some(8_000), Some(1_500))).unwrap();
    assert_eq!(cost_pico("cost_agent", "o4-mini", "openai"), Some(13_200_000_000));
    assert_eq!(tokens("cost_agent", "o4-mini", "openai", "input"), Some(10_000));
    assert_eq!(tokens("cost_agent", "o4-mini", "openai", "output"), Some(2_000));
    assert_eq!(tokens("cost_agent", "o4-mini", "openai", "cache_read"), Some(8_000));
    assert_eq!(tokens("cost_agent", "o4-mini", "openai", "reasoning"), Some(1_500));
    assert_eq!(tokens("cost_agent", "o4-mini", "openai", "cache_creation"), Some(0));
    let m = snapshot();
    let h = m
        .histogram(
            "gen_ai_client_token_usage",
            &[
                ("gen_ai_operation_name", "chat"),
                ("gen_ai_provider_name", "openai"),
                ("gen_ai_request_model", "o4-mini"),
                ("gen_ai_token_type", "input"),
            ],
        )
        .unwrap();
    assert_eq!((h.count, h.sum), (1, 10_000.0));
    // 10,000 falls in the (4096, 16384] bucket of the semconv boundaries.
    assert_eq!(h.bounds[6..8], [4096.0, 16384.0]);
    assert_eq!(h.buckets[7], 1);
    let page = obs_runtime::export::prometheus::render(None);
    assert!(
        page.contains("llm_cost_usd_total{agent=\"cost_agent\",model=\"o4-mini\",provider=\"openai\"} 0.0132\n"),
        "{page}"
    );
}

#[test]
fn anthropic_cache_read_and_creation() {
    testing::enable();
    // Anthropic reports input without cache: 1,000 + 20,000 read + 5,000 written (2,000 of them 1 h).
    // claude-sonnet-4-5: input $3, cache read $0.30, write $3.75 (5 min) / $6 (1 h), output $15.
    // 1,000*3 + 20,000*0.3 + 3,000*3.75 + 2,000*6 + 500*15 = 3,000+6,000+11,250+12,000+7,500 = 39,750 µ$.
    let mut u = TokenUsage::anthropic(1_000, 500, Some(20_000), Some(5_000));
    u.cache_creation_1h = Some(2_000);
    assert_eq!(u.input, Some(26_000));
    anthropic(u);
    assert_eq!(cost_pico("none", "claude-sonnet-4-5", "anthropic"), Some(39_750_000_000));
    assert_eq!(tokens("none", "claude-sonnet-4-5", "anthropic", "input"), Some(26_000));
    assert_eq!(tokens("none", "claude-sonnet-4-5", "anthropic", "cache_creation"), Some(5_000));
}

#[test]
fn gemini_tier_above_200k_input_tokens() {
    testing::enable();
    // Below the tier: 100,000 * $1.25 + 10,000 * $10 = $0.225.
    gemini(TokenUsage::new(100_000, 10_000));
    assert_eq!(cost_pico("none", "gemini-2.5-pro", "gcp.gemini"), Some(225_000_000_000));
    // Above 200k every rate is the tier's: 250,000 * $2.50 + 10,000 * $15 = $0.775.
    gemini(TokenUsage::new(250_000, 10_000));
    assert_eq!(cost_pico("none", "gemini-2.5-pro", "gcp.gemini"), Some(225_000_000_000 + 775_000_000_000));
}

#[test]
fn snapshots_prefixes_and_unknown_models() {
    testing::enable();
    let u = TokenUsage::new(1_000, 1_000);
    // gpt-4o-2024-05-13 has its own (older, higher) price: $5 / $15.
    any_model("gpt-4o-2024-05-13", u);
    assert_eq!(cost_pico("none", "gpt-4o-2024-05-13", "openai"), Some(20_000_000_000));
    // A dated snapshot without its own entry resolves to the base model.
    any_model("claude-haiku-4-5-20251001", u);
    assert_eq!(cost_pico("none", "claude-haiku-4-5-20251001", "anthropic"), Some(6_000_000_000));
    // A provider prefix: openai/gpt-4o is gpt-4o ($2.50 / $10).
    any_model("openai/gpt-4o", u);
    assert_eq!(cost_pico("none", "openai/gpt-4o", "openai"), Some(12_500_000_000));
    // Unknown: no cost, counted as unpriced, tokens still counted.
    any_model("my-local-llama", u);
    any_model("my-local-llama", u);
    let m = snapshot();
    assert_eq!(
        m.raw("llm_cost_usd_total", &[("agent", "none"), ("model", "my-local-llama"), ("provider", "unknown")]),
        Some(0)
    );
    assert_eq!(m.counter("llm_unpriced_calls_total", &[("model", "my-local-llama"), ("provider", "unknown")]), Some(2));
    assert_eq!(tokens("none", "my-local-llama", "unknown", "input"), Some(2_000));
    assert_eq!(m.counter("llm_unpriced_calls_total", &[("model", "openai/gpt-4o"), ("provider", "openai")]), Some(0));
}

#[test]
fn batch_rates_apply_to_batch_calls() {
    testing::enable();
    // gpt-4o-mini batch: $0.075 / $0.30 per 1M.
    batched(TokenUsage::new(1_000_000, 1_000_000));
    assert_eq!(cost_pico("none", "gpt-4o-mini", "openai"), Some(375_000_000_000));
}

#[test]
fn ledger_records_calls_with_exact_totals() {
    testing::enable();
    obs_runtime::ledger::clear();
    any_model("deepseek-chat", TokenUsage::new(1_000_000, 1_000_000));
    any_model("not-a-model", TokenUsage::new(10, 10));
    let records = obs_runtime::ledger::recent();
    let mine: Vec<_> = records.iter().filter(|r| r.model == "deepseek-chat" || r.model == "not-a-model").collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].cost_pico, Some(700_000_000_000), "$0.28 + $0.42");
    assert_eq!(mine[0].input_tokens, Some(1_000_000));
    assert_eq!(mine[1].cost_usd, None);
    let stats = obs_runtime::ledger::stats();
    let ds = &stats.by_model["deepseek-chat"];
    assert_eq!((ds.calls, ds.successes, ds.cost_pico()), (1, 1, 700_000_000_000));
    assert_eq!(stats.by_model["not-a-model"].unpriced_calls, 1);
    let jsonl = obs_runtime::ledger::to_jsonl();
    let line = jsonl.lines().find(|l| l.contains("\"model\":\"deepseek-chat\"")).unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["cost_usd"], serde_json::json!(0.7));
    assert_eq!(v["agent"], "none");
    assert_eq!(v["status"], "success");
}
