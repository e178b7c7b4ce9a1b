//! One configuration model: defaults, then the environment, then builder
//! calls; every bad value reported at once; `init()` all or nothing.
//!
//! Each test runs in its own process (nextest), so environment variables
//! and obs's process-wide state do not leak between them.

use obs_runtime::redact::{capture_enabled, capture_max_bytes, hash_key_source, keyed_hash, KeySource};
use obs_runtime::{Builder, ConfigOrigin, InitError};

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn invalid(e: Option<InitError>) -> Vec<obs_runtime::ConfigError> {
    match e {
        Some(InitError::Invalid(errors)) => errors,
        other => panic!("expected InitError::Invalid, got {other:?}"),
    }
}

#[test]
fn a_failed_init_changes_nothing_and_a_corrected_one_succeeds() {
    let dir = std::env::temp_dir().join(format!("obs-init-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prices = dir.join("prices.json");
    std::fs::write(
        &prices,
        r#"{"format": "obs-pricing/1", "models": {"all-or-nothing-model": {"input": 1.0, "output": 2.0, "provider": "openai"}}}"#,
    )
    .unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let builder = || {
        Builder::new()
            .exporters(&["prometheus"])
            .pricing_file(&prices)
            .capture_content(true)
            .capture_max_bytes(100)
            .redact_key(KEY)
    };
    let err = builder().prometheus_addr(taken.local_addr().unwrap().to_string()).init().err().unwrap();
    assert!(matches!(err, InitError::Exporter(_)), "{err}");
    // Nothing of the configuration is in force.
    assert_eq!(obs_runtime::pricing::price("all-or-nothing-model"), None);
    assert!(!capture_enabled());
    assert_eq!(capture_max_bytes(), 16 * 1024);
    assert!(!obs_runtime::enabled());

    let guard = builder().prometheus_addr("127.0.0.1:0").init().expect("corrected init");
    assert!(guard.prometheus_addr().is_some());
    let p = obs_runtime::pricing::price("all-or-nothing-model").expect("priced after a successful init");
    assert_eq!((p.rates.input, p.rates.output), (1_000_000, 2_000_000));
    assert!(capture_enabled());
    assert_eq!(capture_max_bytes(), 100);
    assert_eq!(hash_key_source(), KeySource::Explicit);
    assert!(obs_runtime::enabled());
    drop(taken);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_invalid_value_is_reported_at_once() {
    std::env::set_var("OBS_LEDGER_CAPACITY", "0");
    std::env::set_var("OBS_CAPTURE_MAX_BYTES", "abc");
    std::env::set_var("OBS_REDACT_KEY", "short");
    let errors = invalid(Builder::from_env().exporters(&[]).init().err());
    let got: Vec<(&str, &str, ConfigOrigin, &str)> =
        errors.iter().map(|e| (e.var, e.method, e.origin, e.value.as_str())).collect();
    assert_eq!(
        got,
        [
            ("OBS_LEDGER_CAPACITY", "ledger_capacity", ConfigOrigin::Env, "0"),
            ("OBS_CAPTURE_MAX_BYTES", "capture_max_bytes", ConfigOrigin::Env, "abc"),
            ("OBS_REDACT_KEY", "redact_key", ConfigOrigin::Env, "<5 bytes, not shown>"),
        ]
    );
    assert_eq!(
        InitError::Invalid(errors).to_string(),
        "OBS_LEDGER_CAPACITY=`0` cannot be used: expected a positive number of model calls to keep, at most 1000000\n\
         OBS_CAPTURE_MAX_BYTES=`abc` cannot be used: expected a positive number of bytes, at most 1048576 (1 MiB; at least 16 are kept)\n\
         OBS_REDACT_KEY=`<5 bytes, not shown>` cannot be used: expected at least 16 bytes, random and kept secret (e.g. `openssl rand -hex 32`)"
    );
    // The key itself never appears, not even in the builder's Debug.
    assert!(!format!("{:?}", Builder::new().redact_key(KEY)).contains(KEY));
    assert!(!obs_runtime::enabled());
}

#[test]
fn builder_values_are_checked_like_the_environment() {
    let errors = invalid(
        Builder::new().exporters(&["zipkin"]).cardinality_limit(0).log_queue(0).high_cost_usd(f64::NAN).init().err(),
    );
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "Builder::cardinality_limit(`0`) cannot be used: expected a positive number of series per metric, at most 100000",
            "Builder::log_queue(`0`) cannot be used: expected a positive number of lines, at most 1000000",
            "Builder::high_cost_usd(`NaN`) cannot be used: expected a cost in US dollars, e.g. 1.5",
            "Builder::exporters(`zipkin`) cannot be used: expected one of the exporters in this binary: logs, otlp, prometheus",
        ]
    );
}

#[test]
fn defaults_then_environment_then_builder() {
    // Not read lazily any more: the environment counts once init() reads it.
    std::env::set_var("OBS_CAPTURE_CONTENT", "true");
    std::env::set_var("OBS_CAPTURE_MAX_BYTES", "100");
    std::env::set_var("OBS_REDACT_KEY", KEY);
    std::env::set_var("OBS_LOG_QUEUE", "0");
    assert!(!capture_enabled());
    assert_eq!(capture_max_bytes(), 16 * 1024);
    // A builder call replaces the variable, and so its error (OBS_LOG_QUEUE=0).
    let _obs = Builder::from_env().exporters(&[]).capture_max_bytes(200).log_queue(5).init().expect("init");
    assert!(capture_enabled());
    assert_eq!(capture_max_bytes(), 200);
    assert_eq!(hash_key_source(), KeySource::Env);
    let under_env_key = keyed_hash("alice@example.com");
    assert_eq!(under_env_key.len(), 18);
    assert_eq!(obs_runtime::redact::set_hash_key(KEY.as_bytes()), Ok(()), "the same key again is accepted");
    assert_eq!(keyed_hash("alice@example.com"), under_env_key);
}

#[test]
fn a_redact_key_after_values_were_hashed_is_an_init_error() {
    let _ = keyed_hash("hashed before init");
    assert_eq!(hash_key_source(), KeySource::Random);
    std::env::set_var("OBS_REDACT_KEY", KEY);
    let errors = invalid(Builder::from_env().exporters(&[]).init().err());
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "OBS_REDACT_KEY=`<32 bytes, not shown>` cannot be used: expected the key already in use: a different redaction hash key is already in use (Random); set the key once, before the first value is hashed"
        ]
    );
}

#[test]
fn bad_capture_values_are_errors_not_ignored() {
    for (var, value, expected) in [
        ("OBS_CAPTURE_CONTENT", "yes", "true or false (1 or 0)"),
        ("OBS_CAPTURE_MAX_BYTES", "abc", "a positive number of bytes, at most 1048576 (1 MiB; at least 16 are kept)"),
        ("OBS_CAPTURE_MAX_BYTES", "0", "a positive number of bytes, at most 1048576 (1 MiB; at least 16 are kept)"),
        ("OBS_HIGH_COST_USD", "-1", "a cost in US dollars, e.g. 1.5"),
    ] {
        std::env::set_var(var, value);
        let errors = invalid(Builder::from_env().exporters(&[]).init().err());
        std::env::remove_var(var);
        assert_eq!(errors.len(), 1, "{var}={value}");
        assert_eq!(errors[0].to_string(), format!("{var}=`{value}` cannot be used: expected {expected}"));
    }
}

#[test]
fn otlp_variables_are_checked_and_their_values_cut_like_the_others() {
    let long = format!("https://{}", "x".repeat(10_000));
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &long);
    std::env::set_var(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "authorization=Bearer sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789,bad",
    );
    let errors = invalid(obs_runtime::Builder::from_env().init().err());
    let endpoint = errors.iter().find(|e| e.var == "OTEL_EXPORTER_OTLP_ENDPOINT").expect("endpoint error");
    assert_eq!(endpoint.method, "otlp_endpoint");
    assert!(endpoint.value.starts_with("https://xxx") && endpoint.value.len() <= 84, "{}", endpoint.value);
    let headers = errors.iter().find(|e| e.var == "OTEL_EXPORTER_OTLP_HEADERS").expect("headers error");
    assert_eq!(headers.value, "<69 bytes, not shown>");
}

/// `init()` says which prices costs are computed with: the file, its models
/// and date, and what is in force over the built-in table.
#[test]
fn init_announces_the_prices_in_force() {
    let dir = std::env::temp_dir().join(format!("obs-init-prices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prices = dir.join("prices.json");
    std::fs::write(
        &prices,
        r#"{"format": "obs-pricing/1", "as_of": "2026-11-30", "source": "our contract", "models": {
            "house-model-a": {"input": 1.0, "output": 2.0, "provider": "openai"},
            "house-model-b": {"input": 1.0, "output": 2.0, "provider": "openai", "as_of": "2026-11-02"}}}"#,
    )
    .unwrap();
    let log = dir.join("obs.log");
    let mut obs = Builder::new()
        .exporters(&["logs"])
        .log_format(obs_runtime::export::logs::LogFormat::Json)
        .log_output(obs_runtime::export::logs::LogOutput::File(log.clone()))
        .pricing_file(&prices)
        .init()
        .expect("init");
    obs.flush();
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text.lines().find(|l| l.contains("obs: prices:")).unwrap_or_else(|| panic!("no prices line in {text}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let in_force = obs_runtime::pricing::models().len();
    assert_eq!(
        v["message"].as_str().unwrap(),
        format!(
            "obs: prices: {} (2 models, as of 2026-11-30) over the built-in table; in force: {} models, as of 2026-12-01, \
             from LiteLLM 1.109.1 model_prices_and_context_window_backup.json",
            prices.display(),
            in_force
        )
    );
    assert_eq!(v["level"], "INFO");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `OBS_CAPTURE_MAX_BYTES` has an upper bound: 1 MiB is accepted, a byte
/// more is an error naming the variable and the bound, and the setter
/// without `init()` keeps within it too.
#[test]
fn capture_max_bytes_is_bounded() {
    std::env::set_var("OBS_CAPTURE_MAX_BYTES", "1048577");
    let errors = invalid(Builder::from_env().exporters(&[]).init().err());
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["OBS_CAPTURE_MAX_BYTES=`1048577` cannot be used: expected a positive number of bytes, at most 1048576 (1 MiB; at least 16 are kept)"]
    );
    obs_runtime::redact::set_capture_max_bytes(usize::MAX);
    assert_eq!(capture_max_bytes(), 1 << 20);
    obs_runtime::redact::set_capture_max_bytes(1);
    assert_eq!(capture_max_bytes(), 16);
    std::env::set_var("OBS_CAPTURE_MAX_BYTES", "1048576");
    let _obs = Builder::from_env().exporters(&[]).init().expect("1 MiB is within the bound");
    assert_eq!(capture_max_bytes(), 1 << 20);
}

/// Without a price file, `init()` parses the built-in table on a thread of
/// its own: a priced call made at once is still priced exactly (it waits
/// for the table, never sees it half built), and the prices line is
/// written by the time the guard's `flush` returns.
#[test]
fn the_built_in_prices_are_parsed_off_the_callers_thread_without_a_race() {
    use obs_runtime::export::logs::{LogBuffer, LogFormat, LogOutput};
    struct Reply;
    impl obs_runtime::LlmUsage for Reply {
        fn usage(&self) -> Option<obs_runtime::TokenUsage> {
            Some(obs_runtime::TokenUsage::new(1_000_000, 0))
        }
    }
    #[obs_runtime::track_llm_call(model = "gpt-4o", provider = "openai")]
    fn ask() -> Result<Reply, std::io::Error> {
        Ok(Reply)
    }
    let buf = LogBuffer::new();
    let mut obs = Builder::new()
        .exporters(&["logs"])
        .log_format(LogFormat::Json)
        .log_output(LogOutput::Buffer(buf.clone()))
        .init()
        .expect("init");
    ask().unwrap();
    let cost = obs_runtime::metrics::snapshot()
        .value("llm_cost_usd_total", &[("agent", "none"), ("model", "gpt-4o"), ("provider", "openai")]);
    assert_eq!(cost, Some(2.5), "1M input tokens of gpt-4o at the built-in $2.50");
    obs.flush();
    let lines = buf.lines();
    let prices = lines.iter().filter(|l| l.contains("obs: prices: built-in table, ")).count();
    assert_eq!(prices, 1, "{lines:#?}");
}
