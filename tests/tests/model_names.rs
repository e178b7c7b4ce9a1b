//! The model names Rust agent code writes, priced at the rate of the
//! provider that serves them (issue 12): every one of them compiles
//! (`ui-tests/pass/model_names.rs`), and here each resolves to its
//! provider's price, or, when the table has no price that is certainly the
//! provider's, to none (counted as unpriced, never guessed).

use obs_runtime::pricing::{self, price, price_for};
use obs_runtime::testing::{self, snapshot};
use obs_runtime::{track_llm_call, TokenUsage};

/// (name, provider given at the call site, expected (provider, USD per 1M
/// input, output)); `None`: unpriced, for the reason in the comment.
type Expected = Option<(&'static str, f64, f64)>;

#[rustfmt::skip]
const NAMES: &[(&str, Option<&str>, Expected)] = &[
    // OpenAI, including the names that were compile errors.
    ("gpt-4", None, Some(("openai", 30.0, 60.0))),
    ("gpt-4-turbo", None, Some(("openai", 10.0, 30.0))),
    ("gpt-3.5-turbo", None, Some(("openai", 0.5, 1.5))),
    ("gpt-4o", None, Some(("openai", 2.5, 10.0))),
    ("gpt-4o-mini", None, Some(("openai", 0.15, 0.6))),
    ("gpt-4.1", None, Some(("openai", 2.0, 8.0))),
    ("gpt-4.1-nano", None, Some(("openai", 0.1, 0.4))),
    ("o1", None, Some(("openai", 15.0, 60.0))),
    ("o3", None, Some(("openai", 2.0, 8.0))),
    ("o3-pro", None, Some(("openai", 20.0, 80.0))),
    ("o4-mini", None, Some(("openai", 1.1, 4.4))),
    ("gpt-5", None, Some(("openai", 1.25, 10.0))),
    ("gpt-5-codex", None, Some(("openai", 1.25, 10.0))),
    ("gpt-5.4-mini", None, Some(("openai", 0.75, 4.5))),
    ("gpt-5.5", None, Some(("openai", 5.0, 30.0))),
    ("openai/gpt-4o", None, Some(("openai", 2.5, 10.0))),
    ("text-embedding-3-small", None, Some(("openai", 0.02, 0.0))),
    // A fine-tune at its base model's fine-tune rate ($0.30 / $1.20), not the base rate.
    ("ft:gpt-4o-mini-2024-07-18:acme::abc123", None, Some(("openai", 0.3, 1.2))),
    // Anthropic.
    ("claude-sonnet-4-5-20250929", None, Some(("anthropic", 3.0, 15.0))),
    ("claude-haiku-4-5", None, Some(("anthropic", 1.0, 5.0))),
    ("claude-opus-4-7", None, Some(("anthropic", 5.0, 25.0))),
    ("anthropic/claude-sonnet-4-6", None, Some(("anthropic", 3.0, 15.0))),
    // Retired by Anthropic (absent from LiteLLM 1.109.1's first-party list):
    // compiles, unpriced; never priced at Vertex's or Snowflake's rate.
    ("claude-3-5-sonnet-20241022", None, None),
    ("claude-sonnet-4-20250514", None, None),
    // Google: the Gemini API's own price before Vertex's.
    ("gemini-2.5-pro", None, Some(("gcp.gemini", 1.25, 10.0))),
    ("gemini-2.5-flash", None, Some(("gcp.gemini", 0.3, 2.5))),
    ("gemini-3.1-pro-preview", None, Some(("gcp.gemini", 2.0, 12.0))),
    // xAI: bare names are xAI's (`xai/..` keys).
    ("grok-4.3", None, Some(("x_ai", 1.25, 2.5))),
    ("grok-4.6", None, Some(("x_ai", 2.0, 6.0))),
    // Retired by xAI: only resellers (Azure AI, OCI) list it.
    ("grok-4", None, None),
    // Mistral, DeepSeek.
    ("mistral-large-latest", None, Some(("mistral_ai", 0.5, 1.5))),
    ("codestral-latest", None, Some(("mistral_ai", 0.3, 0.9))),
    ("mistral-small-2501", None, None),
    ("deepseek-chat", None, Some(("deepseek", 0.28, 0.42))),
    ("deepseek-v4-flash", None, Some(("deepseek", 0.3, 1.2))),
    // Bedrock ids keep Bedrock's price; regional profiles their uplift.
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", None, Some(("aws.bedrock", 3.0, 15.0))),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", None, Some(("aws.bedrock", 3.3, 16.5))),
    ("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", None, Some(("aws.bedrock", 3.0, 15.0))),
    ("anthropic.claude-opus-4-6", None, Some(("aws.bedrock", 5.0, 25.0))),
    // Azure's names: with the Azure provider, or host-qualified.
    ("gpt-35-turbo", Some("azure"), Some(("azure.ai.openai", 0.5, 1.5))),
    ("azure/gpt-4o", None, Some(("azure.ai.openai", 2.5, 10.0))),
    // Hosts' own API names.
    ("meta-llama/Llama-3.3-70B-Instruct-Turbo", Some("together_ai"), Some(("together_ai", 1.04, 1.04))),
    ("accounts/fireworks/models/llama-v3p3-70b-instruct", None, Some(("fireworks_ai", 0.9, 0.9))),
    ("ollama/llama3.1", None, Some(("ollama", 0.0, 0.0))),
    // Served by several hosts at different prices: no host guessed.
    ("meta-llama/Llama-3.3-70B-Instruct-Turbo", None, None),
    ("deepseek-ai/DeepSeek-V3.2", None, None),
    // Groq's name, listed only under a reseller in this map: not guessed.
    ("llama-3.3-70b-versatile", None, None),
    // Ollama tags the map does not list.
    ("llama3.1:8b", Some("ollama"), None),
];

#[test]
fn every_name_is_priced_at_its_providers_rate_or_not_at_all() {
    let mut wrong = Vec::new();
    for &(name, provider, want) in NAMES {
        let got = price_for(name, provider)
            .map(|p| (p.provider.clone(), p.rates.input as f64 / 1e6, p.rates.output as f64 / 1e6));
        let want = want.map(|(p, i, o)| (p.to_string(), i, o));
        if got != want {
            wrong.push(format!("{name} (provider {provider:?}): got {got:?}, want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[track_llm_call(model = "grok-4.3")]
fn grok(u: TokenUsage) -> Resp {
    Resp(u)
}

#[track_llm_call(model = "meta-llama/Llama-3.3-70B-Instruct-Turbo", provider = "together_ai")]
fn together(u: TokenUsage) -> Resp {
    Resp(u)
}

#[track_llm_call(model = "deepseek-ai/DeepSeek-V3.2")]
fn somewhere(u: TokenUsage) -> Resp {
    Resp(u)
}

#[track_llm_call(model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0")]
fn bedrock(u: TokenUsage) -> Resp {
    Resp(u)
}

struct Resp(TokenUsage);

impl obs_runtime::LlmUsage for Resp {
    fn usage(&self) -> Option<TokenUsage> {
        Some(self.0)
    }
}

fn cost(model: &str, provider: &str) -> Option<u64> {
    snapshot().raw("llm_cost_usd_total", &[("agent", "none"), ("model", model), ("provider", provider)])
}

/// Through the macros and the metrics: provider-aware prices, xAI's
/// reasoning tokens billed, an ambiguous name counted as unpriced.
#[test]
fn calls_are_billed_at_the_serving_providers_rate() {
    testing::enable();
    // xAI reasoning beside completion: 1,000 in, 2,000 completion + 8,000
    // reasoning out at $1.25 / $2.50 = $0.00125 + $0.025.
    grok(TokenUsage::xai(1_000, 2_000, None, Some(8_000)));
    assert_eq!(cost("grok-4.3", "x_ai"), Some(26_250_000_000));
    together(TokenUsage::new(1_000_000, 1_000_000));
    assert_eq!(cost("meta-llama/Llama-3.3-70B-Instruct-Turbo", "together_ai"), Some(2_080_000_000_000));
    // Bedrock cross-region: $3.30 per 1M input (below the 200k tier).
    bedrock(TokenUsage::new(100_000, 0));
    assert_eq!(cost("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws.bedrock"), Some(330_000_000_000));
    somewhere(TokenUsage::new(1_000, 1_000));
    let m = snapshot();
    assert_eq!(
        m.counter("llm_unpriced_calls_total", &[("model", "deepseek-ai/DeepSeek-V3.2"), ("provider", "unknown")]),
        Some(1)
    );
    assert_eq!(cost("deepseek-ai/DeepSeek-V3.2", "unknown"), Some(0));
}

#[test]
fn azure_deployment_names_are_priced_through_an_alias() {
    pricing::alias("acme-prod-4o", "azure/gpt-4o");
    assert_eq!(price("acme-prod-4o"), price("azure/gpt-4o"));
    assert!(price("acme-prod-4o").is_some());
}
