//! A peer that sends hostile `_meta` (huge, malformed, of the wrong types,
//! lines that are not UTF-8) to an MCP server wrapped by
//! `obs_runtime::mcp::rmcp3::server`: every request is still answered (a
//! request after each hostile one gets its answer on the same session), and
//! nothing it sent is kept unbounded: the request context a handler runs in
//! has a request id of at most 128 visible ASCII characters and ids of at
//! most 256 bytes (and the 3 of the cut mark `…`), and the MCP metrics gain no series beyond the methods and
//! tools the server has. A property test, over one in-process session.

use obs_runtime::mcp::rmcp3;
use obs_runtime::RequestContext;
use proptest::prelude::*;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler, ServiceExt};
use serde_json::{json, Value};
use std::sync::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, ReadHalf, WriteHalf};

/// A request context the handler ran in: request id, user id, conversation id.
type Seen = (String, Option<String>, Option<String>);

/// The request contexts the handler ran in.
static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    text: String,
}

#[derive(Clone)]
struct Echo {
    #[allow(dead_code)] // read by `#[tool_handler]`
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Echo {
    #[tool(description = "Echoes its text")]
    async fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> Result<CallToolResult, ErrorData> {
        if let Some(rc) = RequestContext::current() {
            let own = |s: Option<&str>| s.map(str::to_string);
            SEEN.lock().unwrap().push((rc.request_id().to_string(), own(rc.user_id()), own(rc.conversation_id())));
        }
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
    }
}

#[tool_handler]
impl ServerHandler for Echo {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("echo", "1.0.0"))
    }
}

/// A raw JSON-RPC peer on one end of a duplex pipe.
struct Peer {
    lines: Lines<BufReader<ReadHalf<DuplexStream>>>,
    out: WriteHalf<DuplexStream>,
    next_id: u64,
}

impl Peer {
    async fn send_raw(&mut self, bytes: &[u8]) {
        self.out.write_all(bytes).await.expect("write");
        self.out.write_all(b"\n").await.expect("write");
    }

    /// Sends a request and reads lines until its answer (others are skipped).
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(msg.to_string().as_bytes()).await;
        self.answer(id).await
    }

    async fn answer(&mut self, id: u64) -> Value {
        loop {
            let line = self.lines.next_line().await.expect("read").expect("the server closed the session");
            let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    /// A normal call, after a hostile one: answered, with the echo.
    async fn still_answers(&mut self) {
        let r = self.call("tools/call", json!({"name": "echo", "arguments": {"text": "ok"}})).await;
        assert_eq!(r["result"]["content"][0]["text"], "ok", "{r}");
    }
}

fn session(rt: &tokio::runtime::Runtime) -> Peer {
    rt.block_on(async {
        let (ours, theirs) = tokio::io::duplex(1 << 20);
        let (server_in, server_out) = tokio::io::split(theirs);
        tokio::spawn(async move {
            let echo = Echo { tool_router: Echo::tool_router() };
            let running = rmcp3::server(echo).serve((server_in, server_out)).await.expect("serve");
            let _ = running.waiting().await;
        });
        let (r, w) = tokio::io::split(ours);
        let mut peer = Peer { lines: BufReader::new(r).lines(), out: w, next_id: 0 };
        let init = peer
            .call(
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "hostile", "version": "0"}}),
            )
            .await;
        assert!(init["result"]["serverInfo"]["name"] == "echo", "{init}");
        peer.send_raw(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
        peer.still_answers().await;
        peer
    })
}

/// Strings a peer may put in `_meta`: W3C-looking, huge, control
/// characters, `obs.request_id` baggage with what a request id must not hold.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]",
        "00-[0-9a-fA-Z]{0,40}-[0-9a-f]{0,20}-[0-9]{0,3}",
        (1usize..200_000).prop_map(|n| "a".repeat(n)),
        (1usize..20_000).prop_map(|n| format!("00-{}-{}-01", "f".repeat(n), "1".repeat(16))),
        "[\\x00-\\x1f\\u{7f}\\u{2028}\\u{fffd}]{1,64}",
        (0usize..5000, ".{0,16}").prop_map(|(n, v)| format!(
            "obs.request_id={}{v},user.id={}",
            "r".repeat(n),
            "u".repeat(n * 3)
        )),
        (1usize..400).prop_map(|n| (0..n).map(|i| format!("k{i}=v{i}")).collect::<Vec<_>>().join(",")),
        "obs\\.request_id=[ -~\\n\\r]{0,300}",
    ]
}

/// Any JSON value, strings hostile, nested a little.
fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        hostile_string().prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
    ];
    leaf.prop_recursive(3, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A `_meta` object: the W3C keys with hostile values, and other keys.
fn hostile_meta() -> impl Strategy<Value = Value> {
    (
        prop::option::of(hostile_value()),
        prop::option::of(hostile_value()),
        prop::option::of(hostile_value()),
        prop::collection::btree_map(".{0,12}", hostile_value(), 0..6),
    )
        .prop_map(|(tp, ts, bg, rest)| {
            let mut m: serde_json::Map<String, Value> = rest.into_iter().collect();
            for (k, v) in [("traceparent", tp), ("tracestate", ts), ("baggage", bg)] {
                if let Some(v) = v {
                    m.insert(k.to_string(), v);
                }
            }
            Value::Object(m)
        })
}

fn series(name: &str) -> usize {
    obs_runtime::testing::snapshot().series(name, &[]).len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_meta_is_answered_and_bounded(metas in prop::collection::vec(hostile_meta(), 1..6), junk in prop::collection::vec(any::<u8>(), 0..4096)) {
        use std::sync::OnceLock;
        static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        static PEER: OnceLock<tokio::sync::Mutex<Peer>> = OnceLock::new();
        let rt = RT.get_or_init(|| {
            obs_runtime::testing::enable();
            // Spans exist (extraction, parents, links all run), with ids.
            use tracing_subscriber::layer::SubscriberExt as _;
            let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(obs_runtime::layer()));
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
        });
        let peer = PEER.get_or_init(|| tokio::sync::Mutex::new(session(rt)));
        rt.block_on(async {
            let mut peer = peer.lock().await;
            for meta in &metas {
                // On a request, on a notification, and on the params' own `_meta`.
                let r = peer.call("tools/call", json!({"name": "echo", "arguments": {"text": "x"}, "_meta": meta})).await;
                prop_assert!(r.get("result").is_some() || r.get("error").is_some(), "{}", r);
                let n = json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1, "_meta": meta}});
                peer.send_raw(n.to_string().as_bytes()).await;
                let r = peer.call("tools/list", json!({"_meta": meta})).await;
                prop_assert!(r.get("result").is_some() || r.get("error").is_some(), "{}", r);
                peer.still_answers().await;
            }
            // A line that is not UTF-8 (nor JSON), then a normal call.
            let mut line: Vec<u8> = b"{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"_meta\":{\"baggage\":\"".to_vec();
            line.extend(junk.iter().map(|b| if *b == b'\n' { 0xff } else { *b }));
            line.extend(b"\xff\xfe\"}}}");
            peer.send_raw(&line).await;
            peer.still_answers().await;
            Ok(())
        })?;
        // What the handler ran in: bounded, whatever the baggage said.
        prop_assert!(!SEEN.lock().unwrap().is_empty());
        for (id, user, conv) in SEEN.lock().unwrap().iter() {
            prop_assert!(!id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()), "{id:?}");
            prop_assert!(user.as_ref().is_none_or(|u| u.len() <= 256 + 3), "{user:?}");
            prop_assert!(conv.as_ref().is_none_or(|c| c.len() <= 256 + 3), "{conv:?}");
        }
        // No series from what the peer sent: two methods with the echo tool,
        // their two transports at most, the notifications.
        prop_assert!(series("mcp_server_operation_duration_seconds") <= 8, "{}", series("mcp_server_operation_duration_seconds"));
        prop_assert!(series("mcp_server_operation_duration_seconds") >= 3, "the calls were measured");
        prop_assert!(series("tool_calls_total") <= 8);
    }
}
