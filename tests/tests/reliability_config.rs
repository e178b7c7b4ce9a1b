//! Configuration and price files from a careless operator or an attacker
//! (issue 13): every size has an upper bound checked at `init()`, a bad
//! namespace is refused, and errors name the problem without repeating a
//! huge or secret value.

use obs_runtime::{Builder, InitError};

fn errors(r: Result<obs_runtime::ObsGuard, InitError>) -> Vec<String> {
    match r {
        Err(InitError::Invalid(e)) => e.iter().map(ToString::to_string).collect(),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("init() accepted it"),
    }
}

#[test]
fn sizes_are_bounded_and_errors_do_not_echo_values() {
    // Values each of which once allocated gigabytes or panicked.
    std::env::set_var("OBS_LOG_QUEUE", "100000000");
    std::env::set_var("OBS_LEDGER_CAPACITY", "18446744073709551615");
    std::env::set_var("OBS_CARDINALITY_LIMIT", "1000000000000");
    std::env::set_var("OBS_NAMESPACE", "my-app");
    std::env::set_var("OBS_LABEL_VALUE_MAX_BYTES", "4");
    std::env::set_var("OBS_LOG_QUEUE_BYTES", "99999999999");
    std::env::set_var("OBS_PROMETHEUS_MAX_CONNECTIONS", "0");
    std::env::set_var("OBS_PROMETHEUS_TIMEOUT_SECS", "86400");
    std::env::set_var("OBS_PROMETHEUS_TOKEN", "hunter2");
    // 1 MiB of nonsense, and a secret pasted into the wrong variable.
    std::env::set_var("OBS_HIGH_COST_USD", "9".repeat(1 << 20) + "x");
    std::env::set_var("OBS_CAPTURE_MAX_BYTES", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD");
    let lines = errors(Builder::from_env().exporters(&[]).init());
    let expected_prefixes = [
        "OBS_NAMESPACE=`my-app` cannot be used: expected a metric name prefix: letters, digits and `_`, not starting with a digit, at most 64 characters (e.g. my_app)",
        "OBS_CARDINALITY_LIMIT=`1000000000000` cannot be used: expected a positive number of series per metric, at most 100000",
        "OBS_LOG_QUEUE=`100000000` cannot be used: expected a positive number of lines, at most 1000000",
        "OBS_LOG_QUEUE_BYTES=`99999999999` cannot be used: expected a number of bytes from 65536 to 1073741824 (1 GiB), e.g. 16777216",
        "OBS_HIGH_COST_USD=`99999999999999999999999999999999999999999999999999999999999999999999999999999999…` cannot be used: expected a cost in US dollars, e.g. 1.5",
        "OBS_LEDGER_CAPACITY=`18446744073709551615` cannot be used: expected a positive number of model calls to keep, at most 1000000",
        "OBS_CAPTURE_MAX_BYTES=`[REDACTED:openai_key]` cannot be used: expected a positive number of bytes, at most 1048576 (1 MiB; at least 16 are kept)",
        "OBS_LABEL_VALUE_MAX_BYTES=`4` cannot be used: expected a number of bytes from 16 to 65536",
        "OBS_PROMETHEUS_TOKEN=`<7 bytes, not shown>` cannot be used: expected 16 to 4096 visible ASCII characters (e.g. `openssl rand -hex 32`)",
        "OBS_PROMETHEUS_MAX_CONNECTIONS=`0` cannot be used: expected a number of connections from 1 to 4096",
        "OBS_PROMETHEUS_TIMEOUT_SECS=`86400` cannot be used: expected a number of seconds from 1 to 3600",
    ];
    let mut sorted = lines.clone();
    sorted.sort();
    let mut want: Vec<String> = expected_prefixes.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(sorted, want);
    assert!(lines.iter().all(|l| !l.contains("hunter2") && !l.contains("sk-proj") && l.len() < 300));
    for v in [
        "OBS_LOG_QUEUE",
        "OBS_LEDGER_CAPACITY",
        "OBS_CARDINALITY_LIMIT",
        "OBS_NAMESPACE",
        "OBS_LABEL_VALUE_MAX_BYTES",
        "OBS_LOG_QUEUE_BYTES",
        "OBS_PROMETHEUS_MAX_CONNECTIONS",
        "OBS_PROMETHEUS_TIMEOUT_SECS",
        "OBS_PROMETHEUS_TOKEN",
        "OBS_HIGH_COST_USD",
        "OBS_CAPTURE_MAX_BYTES",
    ] {
        std::env::remove_var(v);
    }

    // The builder checks the same bounds.
    let lines = errors(
        Builder::new()
            .exporters(&[])
            .namespace("9lives")
            .log_queue(usize::MAX)
            .ledger_capacity(usize::MAX)
            .label_value_max_bytes(1 << 30)
            .prometheus_token("a b c d e f g h i j")
            .init(),
    );
    assert_eq!(
        lines,
        [
            "Builder::namespace(`9lives`) cannot be used: expected a metric name prefix: letters, digits and `_`, not starting with a digit, at most 64 characters (e.g. my_app)",
            "Builder::log_queue(`18446744073709551615`) cannot be used: expected a positive number of lines, at most 1000000",
            "Builder::ledger_capacity(`18446744073709551615`) cannot be used: expected a positive number of model calls to keep, at most 1000000",
            "Builder::label_value_max_bytes(`1073741824`) cannot be used: expected a number of bytes from 16 to 65536",
            "Builder::prometheus_token(`<19 bytes, not shown>`) cannot be used: expected 16 to 4096 visible ASCII characters (e.g. `openssl rand -hex 32`)",
        ]
    );
    assert!(!obs_runtime::enabled());
}

#[test]
fn price_file_errors_name_the_problem_without_the_value() {
    use obs_runtime::pricing;
    // A 50 MB value: the error stays short.
    let big =
        format!(r#"{{"m": {{"input_cost_per_token": "{}", "output_cost_per_token": 1e-6}}}}"#, "7".repeat(50 << 20));
    let e = pricing::load_str(&big, "big.json").unwrap_err().to_string();
    assert_eq!(
        e,
        "pricing file `big.json`, entry `m`, field `input_cost_per_token`: inf USD per 1M tokens is out of range: expected 0 to 100000 (the prices in force are unchanged)"
    );
    assert!(e.len() < 300, "{} bytes", e.len());
    let big =
        format!(r#"{{"m": {{"input_cost_per_token": "{}", "output_cost_per_token": 1e-6}}}}"#, "x".repeat(50 << 20));
    let e = pricing::load_str(&big, "big.json").unwrap_err().to_string();
    assert_eq!(e, "pricing file `big.json`, entry `m`, field `input_cost_per_token`: expected a number of USD, got a string of 52428800 bytes (the prices in force are unchanged)");
    // A secret pasted as a price is not repeated.
    let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    let secret = format!(r#"{{"format": "obs-pricing/1", "models": {{"m": {{"input": "{key}", "output": 1}}}}}}"#);
    let e = pricing::load_str(&secret, "p.json").unwrap_err().to_string();
    assert_eq!(e, "pricing file `p.json`, entry `m`, field `input`: expected a number of USD, got a string of 49 bytes (the prices in force are unchanged)");
    // A huge model name or field name is cut.
    let name = "n".repeat(1 << 20);
    let e = pricing::load_str(&format!(r#"{{"format": "obs-pricing/1", "models": {{"{name}": 1}}}}"#), "p.json")
        .unwrap_err()
        .to_string();
    assert!(e.len() < 300 && e.contains(&format!("entry `{}…`", "n".repeat(64))), "{}", &e[..e.len().min(300)]);
    // LiteLLM tier keys past u64 are not tiers, and no panic (item 6).
    let json = r#"{"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
        "input_cost_per_token_above_99999999999999999999k_tokens": 3e-6,
        "input_cost_per_token_above_18446744073709552k_tokens": 3e-6}}"#;
    assert_eq!(pricing::load_str(json, "tiers.json"), Ok(1));
    assert_eq!(pricing::price("m").unwrap().tiers, vec![]);
}

/// Bad histogram buckets: the error names the histogram (cut like every
/// echoed value), the first bad bound (not the whole list) and the fix.
#[test]
fn invalid_buckets_name_the_histogram_cut_and_the_first_bad_bound() {
    use obs_runtime::metrics::histogram_with_buckets;
    let name = format!("h{}", "n".repeat(1 << 20));
    let e = histogram_with_buckets(&name, "h", &[1.0, 0.5], &[]).err().unwrap().to_string();
    assert_eq!(
        e,
        format!(
            "histogram `h{}…`: bucket 1 of 2 (0.5) is not above the one before it (1); give its bucket upper bounds finite and strictly increasing, e.g. [0.1, 0.5, 1.0]",
            "n".repeat(99)
        )
    );
    let many: &'static [f64] = Box::leak((0..100_000).map(|i| if i == 99_999 { f64::NAN } else { i as f64 }).collect());
    let e = histogram_with_buckets("latency_seconds", "h", many, &[]).err().unwrap().to_string();
    assert_eq!(
        e,
        "histogram `latency_seconds`: bucket 99999 of 100000 is NaN; give its bucket upper bounds finite and strictly increasing, e.g. [0.1, 0.5, 1.0]"
    );
    let e = histogram_with_buckets("empty_seconds", "h", &[], &[]).err().unwrap().to_string();
    assert!(e.starts_with("histogram `empty_seconds`: no buckets; give"), "{e}");
}
