//! Content capture, runtime half: `prepare_content` runs the detectors, masks
//! secret-named JSON keys, and cuts to the size limit while keeping JSON
//! valid; capture is off unless turned on.

use obs_runtime::redact::{capture, capture_enabled, prepare_content, set_capture};
use proptest::prelude::*;

#[test]
fn messages_are_scanned_and_stay_json() {
    let input = r#"[{"role":"system","parts":[{"type":"text","content":"You help with billing."}]},
        {"role":"user","parts":[{"type":"text","content":"My card is 4111 1111 1111 1111 and my mail bob@example.com"}]},
        {"role":"tool","parts":[{"type":"tool_call_response","response":{"api_key":"k-123","authorization":"Bearer abc123def456ghi","ok":true,"n":4111111111111111}}]}]"#;
    let out = prepare_content(input, 4096);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[1]["parts"][0]["content"], "My card is [REDACTED:card] and my mail [REDACTED:email]");
    let resp = &v[2]["parts"][0]["response"];
    assert_eq!(resp["api_key"], "[REDACTED:secret]");
    assert_eq!(resp["authorization"], "[REDACTED:secret]");
    assert_eq!(resp["ok"], true);
    assert_eq!(resp["n"], "[REDACTED:card]");
    // Members keep their order.
    assert!(out.starts_with(r#"[{"role":"system","parts""#), "{out}");
}

#[test]
fn long_content_is_cut_evenly_then_from_the_end() {
    let big = format!(r#"{{"a":"{}","b":"{}","c":[1,2,3]}}"#, "x".repeat(5000), "y".repeat(50));
    let out = prepare_content(&big, 200);
    assert!(out.len() <= 200, "{} bytes", out.len());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["a"].as_str().unwrap().ends_with('…'));
    assert_eq!(v["b"], "y".repeat(50), "short strings are kept whole when they fit");
    assert_eq!(v["c"], serde_json::json!([1, 2, 3]));

    let many: Vec<String> = (0..500).map(|i| format!("item {i}")).collect();
    let out = prepare_content(&serde_json::to_string(&many).unwrap(), 64);
    assert!(out.len() <= 64, "{out}");
    let v: Vec<String> = serde_json::from_str(&out).unwrap();
    assert_eq!(v.last().map(String::as_str), Some("…"), "{out}");

    let text = "é".repeat(100);
    let out = prepare_content(&text, 21);
    assert!(out.len() <= 21 && out.ends_with('…'), "{out}");
}

#[test]
fn capture_is_off_unless_turned_on() {
    // The environment decides first (off here), then `set_capture`.
    if std::env::var_os("OBS_CAPTURE_CONTENT").is_none() {
        assert!(!capture_enabled());
        assert_eq!(capture("anything"), None);
    }
    set_capture(true);
    assert_eq!(capture("mail bob@example.com").as_deref(), Some(r#""mail [REDACTED:email]""#));
    set_capture(false);
    assert_eq!(capture("x"), None);
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        "\\PC{0,40}".prop_map(serde_json::Value::String),
        "[a-z]{1,8}@example\\.com".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn output_is_valid_json_within_the_limit(v in json(), max in 16usize..600) {
        let input = serde_json::to_string(&v).unwrap();
        let out = prepare_content(&input, max);
        prop_assert!(out.len() <= max.max(input.len().min(max)), "{} > {max}: {out}", out.len());
        prop_assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "not JSON: {out}");
        prop_assert!(!out.contains("@example.com"), "an email survived: {out}");
    }
}
