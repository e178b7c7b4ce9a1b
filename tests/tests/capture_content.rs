//! Content capture through the macros: off by default, on per function
//! (`capture_content = true`) or for the process, secrets scanned out,
//! truncated as valid JSON, and types that cannot serialize skipped.

use obs_runtime::redact::{set_capture, set_capture_max_bytes};
use obs_runtime::testing::SpanCapture;
use obs_runtime::{track_llm_call, track_tool, LlmUsage, TokenUsage};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    role: &'static str,
    content: String,
}

#[derive(Serialize)]
struct Reply {
    text: String,
}

impl LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(10, 5))
    }
}

/// Not `Serialize`: skipped, not a compile error.
struct Client;

#[derive(Debug)]
struct E;

#[track_llm_call(model = "gpt-4o", capture_content = true)]
fn ask(_client: &Client, messages: Vec<Message>) -> Result<Reply, E> {
    Ok(Reply { text: format!("answered {} messages; write to ops@example.com", messages.len()) })
}

#[track_tool(name = "cc_lookup")]
fn lookup(query: &str, limit: u32) -> Vec<String> {
    vec![format!("{query}:{limit}")]
}

#[track_tool(name = "cc_never", capture_content = false)]
fn never(query: &str) -> usize {
    query.len()
}

#[test]
fn content_is_captured_scanned_and_bounded() {
    obs_runtime::testing::enable();
    let cap = SpanCapture::new();
    let _g = cap.set_default();
    let msgs = vec![Message {
        role: "user",
        content: "my key is sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 and mail me at ana@example.org".into(),
    }];
    ask(&Client, msgs).unwrap();
    let s = cap.find("chat gpt-4o").unwrap();
    assert_eq!(
        s.field("gen_ai.input.messages"),
        Some(
            r#"[{"role":"user","parts":[{"type":"text","content":"my key is [REDACTED:openai_key] and mail me at [REDACTED:email]"}]}]"#
        )
    );
    // The GenAI conventions' message schema, which GenAI backends display.
    assert_eq!(
        s.field("gen_ai.output.messages"),
        Some(
            r#"[{"role":"assistant","parts":[{"type":"text","content":"answered 1 messages; write to [REDACTED:email]"}],"finish_reason":"stop"}]"#
        )
    );

    // Not forced: off until the process turns capture on.
    lookup("rust", 3);
    assert_eq!(cap.find("execute_tool cc_lookup").unwrap().field("gen_ai.tool.call.arguments"), None);
    set_capture(true);
    lookup("rust", 3);
    never("x");
    let t = cap.find_all("execute_tool cc_lookup");
    assert_eq!(t[1].field("gen_ai.tool.call.arguments"), Some(r#"{"query":"rust","limit":3}"#));
    assert_eq!(t[1].field("gen_ai.tool.call.result"), Some(r#"["rust:3"]"#));
    assert_eq!(cap.find("execute_tool cc_never").unwrap().field("gen_ai.tool.call.arguments"), None);

    // Bounded, and still valid JSON.
    set_capture_max_bytes(64);
    lookup(&"long text ".repeat(100), 1);
    let t = cap.find_all("execute_tool cc_lookup");
    let args = t[2].field("gen_ai.tool.call.arguments").unwrap();
    assert!(args.len() <= 64, "{} bytes: {args}", args.len());
    serde_json::from_str::<serde_json::Value>(args).expect("truncated content is valid JSON");
    set_capture(false);
}
