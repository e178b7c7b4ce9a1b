//! Price files: obs's format and LiteLLM's, merged over the built-in table;
//! a malformed file is an error naming the file, entry and field, and
//! changes nothing.

use obs_runtime::pricing::{self, CostOptions};
use obs_runtime::TokenUsage;
use std::io::Write;

fn file(content: &str) -> tempfile_path::TempPath {
    tempfile_path::write(content)
}

/// A file in the temp dir, removed on drop.
mod tempfile_path {
    pub struct TempPath(pub std::path::PathBuf);
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    pub fn write(content: &str) -> TempPath {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("obs-prices-{}-{n}.json", std::process::id()));
        let mut f = std::fs::File::create(&p).unwrap();
        super::Write::write_all(&mut f, content.as_bytes()).unwrap();
        TempPath(p)
    }
}

struct Resp;

impl obs_runtime::LlmUsage for Resp {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(1_000_000, 0))
    }
}

#[obs_runtime::track_llm_call(model = "gpt-4o")]
fn call_gpt_4o() -> Resp {
    Resp
}

fn recorded_cost() -> Option<u64> {
    obs_runtime::metrics::snapshot()
        .raw("llm_cost_usd_total", &[("agent", "none"), ("model", "gpt-4o"), ("provider", "openai")])
}

fn usd(model: &str, input: u64, output: u64) -> Option<u64> {
    pricing::price(model).map(|p| p.cost(&TokenUsage::new(input, output), CostOptions::default()).pico)
}

#[test]
fn override_files_in_both_formats_and_malformed_files() {
    // Built-in: gpt-4o is $2.50 / $10.
    assert_eq!(usd("gpt-4o", 1_000_000, 0), Some(2_500_000_000_000));
    obs_runtime::testing::enable();
    call_gpt_4o();
    assert_eq!(recorded_cost(), Some(2_500_000_000_000));

    // Malformed files change nothing and say exactly where the problem is.
    let bad = file(
        r#"{"format": "obs-pricing/1", "models": {"gpt-4o": {"input": 1.0, "output": 4.0}, "x-model": {"input": "cheap", "output": 1}}}"#,
    );
    let err = pricing::load_file(&bad.0).unwrap_err();
    assert_eq!(err.file, bad.0.display().to_string());
    assert_eq!((err.entry.as_deref(), err.field.as_deref()), (Some("x-model"), Some("input")));
    assert_eq!(
        err.to_string(),
        format!("pricing file `{}`, entry `x-model`, field `input`: expected a number of USD, got a string of 5 bytes (the prices in force are unchanged)", bad.0.display())
    );
    assert_eq!(usd("gpt-4o", 1_000_000, 0), Some(2_500_000_000_000), "all or nothing: gpt-4o unchanged");
    let typo = file(r#"{"format": "obs-pricing/1", "models": {"y": {"inptu": 1, "input": 1, "output": 1}}}"#);
    let e = pricing::load_file(&typo.0).unwrap_err();
    assert_eq!((e.entry.as_deref(), e.field.as_deref()), (Some("y"), Some("inptu")));
    let per_token = file(r#"{"format": "obs-pricing/1", "models": {"z": {"input": 2.5e6, "output": 1}}}"#);
    assert!(pricing::load_file(&per_token.0).unwrap_err().to_string().contains("out of range"));
    let not_json = file("{\"format\": \"obs-pricing/1\",\n \"models\": {,}}");
    assert!(pricing::load_file(&not_json.0).unwrap_err().message.starts_with("not valid JSON at line 2"));
    let missing = pricing::load_file("/nonexistent/prices.json").unwrap_err();
    assert_eq!(
        missing.to_string(),
        "pricing file `/nonexistent/prices.json`: no such file (the prices in force are unchanged)"
    );

    // Our format: override gpt-4o, add a local model.
    let ours = file(
        r#"{"format": "obs-pricing/1", "as_of": "2026-11-01", "models": {
            "gpt-4o": {"provider": "openai", "input": 2.0, "output": 8.0, "source": "negotiated"},
            "my-local-model": {"provider": "vllm", "input": 0.1, "output": 0.2, "tiers": [{"above_input_tokens": 1000, "input": 0.5}]}
        }}"#,
    );
    assert_eq!(pricing::load_file(&ours.0), Ok(2));
    assert_eq!(usd("gpt-4o", 1_000_000, 1_000_000), Some(10_000_000_000_000));
    // A call site that already cached gpt-4o's price picks up the new one.
    call_gpt_4o();
    assert_eq!(recorded_cost(), Some(2_500_000_000_000 + 2_000_000_000_000));
    assert_eq!(usd("my-local-model", 1_000, 1_000), Some(100_000_000 + 200_000_000));
    assert_eq!(usd("my-local-model", 2_000, 0), Some(1_000_000_000), "tier above 1000 input tokens");
    let p = pricing::price("my-local-model").unwrap();
    assert_eq!((p.provider.as_str(), p.as_of.as_str()), ("vllm", "2026-11-01"));

    // LiteLLM's format, as downloaded: per-token USD, non-token entries skipped.
    let litellm = file(
        r#"{"sample_spec": {"max_tokens": "LEN"},
            "ft:gpt-4o-mini:acme": {"litellm_provider": "openai", "mode": "chat",
                "input_cost_per_token": 3e-07, "output_cost_per_token": 1.2e-06, "cache_read_input_token_cost": 1.5e-07},
            "long-ctx": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
                "input_cost_per_token_above_128k_tokens": 2e-06},
            "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04}}"#,
    );
    assert_eq!(pricing::load_file(&litellm.0), Ok(2));
    let ft = pricing::price("ft:gpt-4o-mini:acme").unwrap();
    assert_eq!(ft.rates.input, 300_000);
    assert_eq!(ft.rates.cache_read, Some(150_000));
    assert_eq!(usd("long-ctx", 200_000, 0), Some(400_000_000_000), "above 128k: $2/M on all input");
    assert!(pricing::price("dall-e-3").is_none());
}
