//! obs's cost against LiteLLM's own (`litellm.cost_calculator.cost_per_token`
//! and `batch_cost_calculator`, the functions `completion_cost` calls) over
//! every model of the built-in table and a set of usage shapes: plain,
//! cached, reasoning, cache writes, batch (cached too), at and above each
//! context tier, batch above a tier. LiteLLM is the source obs's table is
//! generated from, so the two agree except where a provider's billing rule
//! says otherwise; each such disagreement is listed with its rule, and says
//! which side is wrong. Any other disagreement fails the test.
//!
//! Needs Python with `litellm==1.109.1` (the version the table was
//! generated from): `.ci/run` installs it into `.ci/venv-litellm`; set
//! `OBS_LITELLM_PYTHON` to use another interpreter.

use obs_runtime::pricing::{price, CostOptions, PICO_PER_USD};
use obs_runtime::TokenUsage;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace").to_path_buf()
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("OBS_LITELLM_PYTHON") {
        return p.into();
    }
    let venv = workspace().join(".ci/venv-litellm/bin/python");
    assert!(
        venv.exists(),
        "LiteLLM is not installed for the cross-check: run `python3 -m venv .ci/venv-litellm && \
         .ci/venv-litellm/bin/pip install litellm==1.109.1` (as .ci/run does), or set OBS_LITELLM_PYTHON \
         to a Python that has litellm 1.109.1"
    );
    venv
}

/// Why obs and LiteLLM disagree on a row, when a provider's billing rule
/// decides it; `None`: unexplained.
fn rule(row: &Value, obs_usd: f64, ll_usd: f64) -> Option<&'static str> {
    let shape = row["shape"].as_str().unwrap_or_default();
    let f = &row["flags"];
    let provider = f["provider"].as_str().unwrap_or_default();
    let flag = |k: &str| f[k].as_bool().unwrap_or(false);
    let half_batch = matches!(provider, "openai" | "anthropic" | "text-completion-openai");
    if (obs_usd - ll_usd).abs() <= 1e-5 * ll_usd.abs() {
        return Some(
            "a rate with more than 6 decimals per 1M tokens (currency-converted prices): obs's exact engine keeps rates to the picodollar per token, LiteLLM's float keeps all digits (relative difference below 1e-5)",
        );
    }
    if shape.contains("cached") && !flag("cache_read") && obs_usd > ll_usd && row["batch"].as_bool() == Some(true) {
        return Some(
            "the model has no prompt-cache rate: LiteLLM's batch calculator bills its cached tokens at $0, obs at the (batch) input rate (LiteLLM is wrong)",
        );
    }
    if shape.starts_with("batch_above_tier_") && !flag("tier_batch") && obs_usd > ll_usd {
        return Some(
            "a batch call above a context tier: obs bills the tier's rate with the batch discount, LiteLLM's batch calculator ignores the tier and bills the base batch rate (LiteLLM is wrong)",
        );
    }
    if provider == "perplexity" && !shape.starts_with("batch") && !shape.starts_with("plain") {
        return Some(
            "Perplexity: LiteLLM's Perplexity calculator ignores the map's cache-read rate and reads reasoning from Perplexity's own usage fields (reported beside completion tokens, with citation tokens); obs applies the map's rates to OpenAI-shaped counts (undecided: depends on the usage shape the caller reports)",
        );
    }
    if shape.starts_with("above_tier_") && obs_usd < ll_usd {
        return Some(
            "a context tier without its own cache-read rate: obs keeps the base cache-read rate for cached tokens, LiteLLM scales it with the tier's input rate; the map does not say (undecided)",
        );
    }
    if row["model"].as_str().is_some_and(|m| m.starts_with("gemini") && !m.contains('/')) {
        return Some(
            "a bare Gemini name: obs prices the Gemini API's entry (`gemini/<name>`) first, LiteLLM the Vertex AI entry under the bare key; which applies depends on the endpoint, which the name does not say (write `vertex_ai/<name>` for Vertex)",
        );
    }
    if shape.starts_with("at_tier_") && provider == "xai" {
        return Some(
            "xAI bills \"200k tokens and above\" at the tier rate: a prompt of exactly the bound is in the tier (LiteLLM applies it only above: LiteLLM is wrong)",
        );
    }
    if shape.contains("cached") && provider == "fireworks_ai" && !flag("cache_read") && obs_usd < ll_usd {
        return Some(
            "Fireworks bills cached prompt tokens at 50% of the input rate; LiteLLM's map has no cache rate for this model and bills them as fresh input (LiteLLM is wrong)",
        );
    }
    if shape.starts_with("batch") && half_batch && !flag("batch_input") && obs_usd < ll_usd {
        return Some(
            "OpenAI's and Anthropic's batch APIs halve every rate; LiteLLM's map has no batch rates for this model and bills batch calls at full price (LiteLLM is wrong)",
        );
    }
    if shape == "batch_cached" && half_batch && !flag("batch_cache_read") && obs_usd < ll_usd {
        return Some(
            "OpenAI's and Anthropic's batch APIs halve cached-token rates too; LiteLLM bills them at the interactive cache rate (LiteLLM is wrong)",
        );
    }
    if shape.starts_with("batch") && !half_batch && !flag("batch_input") && obs_usd > ll_usd {
        return Some(
            "no batch rates in the map and no batch discount published by the provider that obs knows of: obs bills a batch call at the interactive rates, LiteLLM assumes half price for every model (\"batch cost is usually half\"): LiteLLM guesses",
        );
    }
    if (shape == "batch_cached" || shape.starts_with("batch_above_tier_"))
        && flag("batch_input")
        && !flag("batch_cache_read")
    {
        return Some(
            "batch input rates but no batch cache rate in the map: LiteLLM bills a batch call's cached tokens at the batch input rate (losing the cache discount), obs at the interactive cache rate; the provider publishes neither (undecided: obs's is the lower bound)",
        );
    }
    if shape.starts_with("batch_above_tier_") && !flag("tier_batch") && obs_usd < ll_usd {
        return Some(
            "the batch discount still applies above a context tier (OpenAI, Anthropic, Google); LiteLLM's map has no tier batch rates and bills the tier at its interactive rate (LiteLLM is wrong)",
        );
    }
    None
}

#[test]
fn obs_agrees_with_litellm_except_where_a_provider_rule_decides() {
    let table = workspace().join("obs-runtime/pricing/models.json");
    let script = workspace().join("tests/tests/data/litellm_costs.py");
    let out = Command::new(python()).arg(&script).arg(&table).output().expect("runs the LiteLLM script");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let (mut rows, mut agree) = (0usize, 0usize);
    let mut explained: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut litellm_errors: Vec<String> = Vec::new();
    let mut unexplained: Vec<String> = Vec::new();
    for line in stdout.lines() {
        let row: Value = serde_json::from_str(line).expect("one JSON object a line");
        rows += 1;
        let model = row["model"].as_str().expect("model");
        let shape = row["shape"].as_str().expect("shape");
        let n = |k: &str| row[k].as_u64().unwrap_or(0);
        let mut u = TokenUsage::new(n("prompt"), n("completion"));
        u.cache_read = Some(n("cached")).filter(|&c| c > 0);
        u.cache_creation = Some(n("creation")).filter(|&c| c > 0);
        u.reasoning = Some(n("reasoning")).filter(|&c| c > 0);
        let p = price(model).unwrap_or_else(|| panic!("the built-in table prices its own key `{model}`"));
        // LiteLLM applies off-peak rates (DeepSeek) at the current time.
        let opts = CostOptions::batch(row["batch"].as_bool().unwrap_or(false)).at(now);
        let obs = p.cost(&u, opts).pico as f64 / PICO_PER_USD as f64;
        let Some(ll) = row["usd"].as_f64() else {
            litellm_errors.push(format!("{model} {shape}: {}", row["error"]));
            continue;
        };
        if (obs - ll).abs() <= 1e-12 + 1e-9 * ll.abs() {
            agree += 1;
            continue;
        }
        let what = format!("{model} [{shape}]: obs ${obs:.9}, LiteLLM ${ll:.9}");
        match rule(&row, obs, ll) {
            Some(r) => explained.entry(r).or_default().push(what),
            None => unexplained.push(what),
        }
    }
    println!("{rows} rows, {agree} agree to 1e-9 (relative), LiteLLM could not price {}", litellm_errors.len());
    for (r, list) in &explained {
        println!("\n{} disagreements: {r}", list.len());
        for w in list.iter().take(5) {
            println!("  {w}");
        }
    }
    for e in litellm_errors.iter().take(10) {
        println!("LiteLLM error: {e}");
    }
    assert!(rows > 20_000, "{rows} rows: the script did not cover the table");
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for u in &unexplained {
        let host = u.split('/').next().unwrap_or_default();
        let shape = u.split('[').nth(1).and_then(|s| s.split(']').next()).unwrap_or_default();
        *kinds.entry(format!("{host} {}", shape.trim_end_matches(char::is_numeric))).or_default() += 1;
    }
    println!("unexplained by host and shape: {kinds:?}");
    assert!(unexplained.is_empty(), "{} unexplained disagreements:\n{}", unexplained.len(), unexplained.join("\n"));
}
