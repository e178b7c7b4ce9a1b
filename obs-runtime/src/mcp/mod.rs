//! Model Context Protocol: an agent's calls into MCP servers traced across
//! the process boundary and measured on both sides, per the OpenTelemetry
//! MCP semantic conventions, for clients and servers built on `rmcp` (the
//! official Rust SDK): [`rmcp3`] (feature `rmcp-3`, rmcp 3.11 and later 3.x)
//! and [`rmcp2`] (feature `rmcp-2`, rmcp 2.2 and later 2.x: the rmcp rig's
//! MCP tools, `rig-rmcp` 0.44, are built on).
//!
//! * **Client**: wrap the transport ([`rmcp3::client`]) before `serve`; every
//!   request and notification the session sends, whoever sends it (the
//!   application, rig's `McpTool`, rmcp itself), gets a CLIENT span named
//!   `{mcp.method.name} {target}` (`tools/call get_weather`, `tools/list`),
//!   `traceparent`, `tracestate` and `baggage` in its `params._meta`, and
//!   its duration in `mcp_client_operation_duration_seconds`. A `tools/call`
//!   is also an obs tool call (`tool_calls_total{agent, tool, status}`)
//!   under the calling agent, unless a tool span already covers it (a
//!   `#[track_tool]` function, `track::tool`, rig's `execute_tool` span):
//!   that span then takes the MCP attributes and is the parent the server
//!   sees, and the call is not counted twice.
//! * **Server**: wrap the handler ([`rmcp3::server`]) where it is served;
//!   every request and notification it handles gets a SERVER span whose
//!   parent is the caller's span from `_meta` (a request without one starts
//!   a trace of its own: never one trace per session), runs inside the
//!   caller's request context from `baggage` (its log lines carry the
//!   caller's request id), and is measured in
//!   `mcp_server_operation_duration_seconds`; a `tools/call` is an obs tool
//!   call under the agent label `mcp:{server name}`.
//!
//! Where the call's own span is (the parent of a client's CLIENT span), in
//! order: a `traceparent` the request already carries in `_meta` (set by
//! the caller, e.g. with [`rmcp3::context_meta`]); the tool span covering a
//! `tools/call` (above); else the span current where the session was
//! started (rmcp's session span), since rmcp sends from its own task.
//!
//! Errors, per the conventions: a JSON-RPC error gives `error.type` and
//! `rpc.response.status_code` = its code; a tool result with `isError` gives
//! `error.type = tool_error`; the span's status is ERROR, except on a
//! server for the caller's mistakes (-32700, -32600, -32601, -32602,
//! -32002). Tool arguments and results are captured as
//! `gen_ai.tool.call.arguments` / `.result` only when content capture is on
//! ([`crate::redact::set_capture`], `OBS_CAPTURE_CONTENT`), through the
//! detectors and cut, as model messages are.
//!
//! What a peer sends is bounded here: `_meta` values are read only when
//! they are strings under their W3C limits (anything else is ignored),
//! names and ids are cut, request ids and user ids from `baggage` are
//! validated as [`RequestContext`] validates them, and label values go
//! through the metric registry's cardinality limits.

pub(crate) mod covering;

use crate::call::Call;
use crate::context::{Agent, AgentScope, RequestContext, RequestSwap};
use crate::status::Outcome;
use opentelemetry::trace::TraceContextExt as _;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

#[cfg(feature = "rmcp-2")]
pub mod rmcp2;
#[cfg(feature = "rmcp-3")]
pub mod rmcp3;

/// `mcp.method.name`.
pub(crate) const MCP_METHOD_NAME: &str = "mcp.method.name";

/// Longest method, tool, prompt or request id kept, in bytes.
const NAME_MAX_BYTES: usize = covering::NAME_MAX_BYTES;
/// Longest resource URI kept, in bytes.
const URI_MAX_BYTES: usize = 1024;
/// Longest `traceparent` read from `_meta` (version 00 is 55 bytes; later
/// versions may append fields).
const TRACEPARENT_MAX_BYTES: usize = 256;
/// Longest `tracestate` read (W3C: 32 members, 512 characters).
const TRACESTATE_MAX_BYTES: usize = 512;
/// Longest `baggage` read (W3C: 8192 bytes).
const BAGGAGE_MAX_BYTES: usize = 8192;
/// Longest error message put on a span, in bytes.
const MESSAGE_MAX_BYTES: usize = 512;

/// Baggage keys of obs's request context.
const BAGGAGE_REQUEST_ID: &str = "obs.request_id";
const BAGGAGE_USER_ID: &str = "user.id";
const BAGGAGE_TENANT_ID: &str = "obs.tenant_id";
const BAGGAGE_CONVERSATION_ID: &str = "gen_ai.conversation.id";

/// How a session's messages travel (`network.transport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetworkTransport {
    /// stdio (a child process's pipes): `pipe`.
    Pipe,
    /// Streamable HTTP: `tcp`.
    Tcp,
}

impl NetworkTransport {
    /// The `network.transport` value.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkTransport::Pipe => "pipe",
            NetworkTransport::Tcp => "tcp",
        }
    }
}

/// The side of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

/// `s` cut to `max` bytes, as a label or attribute value.
fn cut(s: &str, max: usize) -> String {
    crate::metrics::registry::cut(s, max).into_owned()
}

/// What one MCP message is, read from it by a wrapper.
#[derive(Clone, Debug, Default)]
pub(crate) struct Message {
    /// `mcp.method.name`.
    pub(crate) method: String,
    /// `gen_ai.tool.name` of a `tools/call`.
    pub(crate) tool: Option<String>,
    /// `gen_ai.prompt.name` of a `prompts/get`.
    pub(crate) prompt: Option<String>,
    /// `mcp.resource.uri` of a `resources/*` request.
    pub(crate) resource: Option<String>,
    /// `jsonrpc.request.id` (requests only).
    pub(crate) request_id: Option<String>,
    /// The tool call's arguments as captured content (capture on only).
    pub(crate) arguments: Option<String>,
}

impl Message {
    /// A message of method `method`.
    pub(crate) fn new(method: &str) -> Message {
        Message { method: cut(method, NAME_MAX_BYTES), ..Message::default() }
    }

    /// With the JSON-RPC id (a request).
    pub(crate) fn id(mut self, id: impl std::fmt::Display) -> Message {
        self.request_id = Some(cut(&id.to_string(), NAME_MAX_BYTES));
        self
    }

    /// A `tools/call` of `name` with `arguments`.
    pub(crate) fn tool(mut self, name: &str, arguments: Option<&Map<String, Value>>) -> Message {
        self.tool = Some(cut(name, NAME_MAX_BYTES));
        if crate::redact::capture_enabled() {
            self.arguments = arguments.and_then(crate::redact::capture);
        }
        self
    }

    /// A `prompts/get` of `name`.
    pub(crate) fn prompt(mut self, name: &str) -> Message {
        self.prompt = Some(cut(name, NAME_MAX_BYTES));
        self
    }

    /// A request about the resource `uri`.
    pub(crate) fn resource(mut self, uri: &str) -> Message {
        self.resource = Some(cut(uri, URI_MAX_BYTES));
        self
    }

    fn is_tool_call(&self) -> bool {
        self.tool.is_some()
    }

    /// `{method} {target}`: the tool or prompt, else the method alone.
    fn span_name(&self) -> String {
        match self.tool.as_deref().or(self.prompt.as_deref()) {
            Some(t) => format!("{} {t}", self.method),
            None => self.method.clone(),
        }
    }
}

/// What a wrapper knows of the session a message belongs to.
#[derive(Clone, Debug)]
pub(crate) struct Network {
    pub(crate) transport: NetworkTransport,
    /// `mcp.protocol.version`, once negotiated.
    pub(crate) protocol: Option<String>,
    /// `mcp.session.id` (the `Mcp-Session-Id` of Streamable HTTP; never for
    /// protocol 2026-07-28, which has no sessions).
    pub(crate) session_id: Option<String>,
}

impl Network {
    fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }
}

/// How a call ended, as a wrapper read it.
#[derive(Debug)]
pub(crate) enum End<'a> {
    /// A result; `tool_error` for a tool result with `isError: true`;
    /// `result` is the captured tool result (capture on only).
    Ok { tool_error: bool, result: Option<String> },
    /// A JSON-RPC error.
    Rpc { code: i32, message: &'a str },
    /// No response: the transport failed or closed, or the call was
    /// cancelled; the value is the `error.type`.
    Failed(&'static str),
}

impl End<'_> {
    /// `error.type`, `rpc.response.status_code`, and whether the span's status is ERROR.
    fn error(&self, side: Side) -> Option<(Cow<'static, str>, Option<String>, bool)> {
        match self {
            End::Ok { tool_error: false, .. } => None,
            End::Ok { tool_error: true, .. } => Some((Cow::Borrowed("tool_error"), None, true)),
            End::Rpc { code, .. } => {
                let c = code.to_string();
                let status = !(side == Side::Server && crate::ops::mcp_caller_error(*code));
                Some((Cow::Owned(c.clone()), Some(c), status))
            }
            End::Failed(kind) => Some((Cow::Borrowed(*kind), None, true)),
        }
    }
}

// ------------------------------------------------------------- metrics

/// Up to eight labels on the stack.
struct Labels<'a> {
    buf: [(&'static str, &'a str); 8],
    n: usize,
}

impl<'a> Labels<'a> {
    fn new() -> Self {
        Labels { buf: [("", ""); 8], n: 0 }
    }
    fn push(&mut self, k: &'static str, v: &'a str) {
        if let Some(slot) = self.buf.get_mut(self.n) {
            *slot = (k, v);
            self.n += 1;
        }
    }
    fn get(&self) -> &[(&'static str, &'a str)] {
        &self.buf[..self.n]
    }
}

/// Records one operation in `mcp_{side}_operation_duration_seconds`.
fn record_operation(side: Side, msg: &Message, net: &Network, error: Option<(&str, Option<&str>)>, ns: u64) {
    let b = match side {
        Side::Client => &crate::metrics::names::MCP_CLIENT_DURATION,
        Side::Server => &crate::metrics::names::MCP_SERVER_DURATION,
    };
    let mut l = Labels::new();
    l.push("mcp_method_name", &msg.method);
    if let Some(t) = &msg.tool {
        l.push("gen_ai_tool_name", t);
        l.push("gen_ai_operation_name", "execute_tool");
    }
    if let Some(p) = &msg.prompt {
        l.push("gen_ai_prompt_name", p);
    }
    if let Some((e, code)) = error {
        l.push("error_type", e);
        if let Some(c) = code {
            l.push("rpc_response_status_code", c);
        }
    }
    if let Some(p) = net.protocol() {
        l.push("mcp_protocol_version", p);
    }
    l.push("network_transport", net.transport.as_str());
    b.family().series(l.get()).histogram().record_int(crate::metrics::cells::shard(), ns);
}

/// Records one session in `mcp_{side}_session_duration_seconds`.
fn record_session(side: Side, net: &Network, ns: u64) {
    let b = match side {
        Side::Client => &crate::metrics::names::MCP_CLIENT_SESSION,
        Side::Server => &crate::metrics::names::MCP_SERVER_SESSION,
    };
    let mut l = Labels::new();
    if let Some(p) = net.protocol() {
        l.push("mcp_protocol_version", p);
    }
    l.push("network_transport", net.transport.as_str());
    b.family().series(l.get()).histogram().record_int(crate::metrics::cells::shard(), ns);
}

fn elapsed_ns(start: quanta::Instant) -> u64 {
    let d = quanta::Instant::now().saturating_duration_since(start);
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A session being timed: recorded once, when [`SessionClock::end`] runs
/// (or the clock is dropped).
pub(crate) struct SessionClock {
    side: Side,
    start: Option<quanta::Instant>,
}

impl SessionClock {
    pub(crate) fn start(side: Side) -> SessionClock {
        SessionClock { side, start: crate::call::enabled().then(quanta::Instant::now) }
    }

    /// Records the session's duration (once).
    pub(crate) fn end(&mut self, net: &Network) {
        if let Some(start) = self.start.take() {
            record_session(self.side, net, elapsed_ns(start));
        }
    }
}

// ------------------------------------------------------------- propagation

/// A `_meta` map read as a W3C carrier: only `traceparent`, `tracestate`
/// and `baggage`, only as strings, only under their limits.
struct MetaCarrier<'a>(&'a Map<String, Value>);

impl opentelemetry::propagation::Extractor for MetaCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let max = match key {
            "traceparent" => TRACEPARENT_MAX_BYTES,
            "tracestate" => TRACESTATE_MAX_BYTES,
            "baggage" => BAGGAGE_MAX_BYTES,
            _ => return None,
        };
        self.0.get(key)?.as_str().filter(|v| v.len() <= max)
    }
    fn keys(&self) -> Vec<&str> {
        ["traceparent", "tracestate", "baggage"].into_iter().filter(|k| self.0.contains_key(*k)).collect()
    }
}

/// The remote parent and baggage a `_meta` map carries (an empty context
/// when it carries none, or only malformed values).
pub(crate) fn extract(meta: &Map<String, Value>) -> opentelemetry::Context {
    crate::trace::extract(&MetaCarrier(meta))
}

/// The W3C entries of a `_meta` map (`traceparent`, `tracestate`,
/// `baggage`), the string ones under their limits only.
pub(crate) fn trace_entries(meta: &Map<String, Value>) -> Map<String, Value> {
    use opentelemetry::propagation::Extractor as _;
    let carrier = MetaCarrier(meta);
    ["traceparent", "tracestate", "baggage"]
        .into_iter()
        .filter_map(|k| carrier.get(k).map(|v| (k.to_string(), Value::String(v.to_string()))))
        .collect()
}

/// The request context a caller's baggage names; `None` without a request id.
fn request_from_baggage(cx: &opentelemetry::Context) -> Option<RequestContext> {
    use opentelemetry::baggage::BaggageExt as _;
    let b = cx.baggage();
    let id = b.get(BAGGAGE_REQUEST_ID)?.as_str();
    let mut rc = RequestContext::from_request_id(id);
    if let Some(v) = b.get(BAGGAGE_USER_ID) {
        rc = rc.with_user_id(v.as_str().to_string());
    }
    if let Some(v) = b.get(BAGGAGE_TENANT_ID) {
        rc = rc.with_tenant_id(v.as_str().to_string());
    }
    if let Some(v) = b.get(BAGGAGE_CONVERSATION_ID) {
        rc = rc.with_conversation_id(v.as_str().to_string());
    }
    Some(rc)
}

/// Writes `traceparent`, `tracestate` (when not empty) and `baggage` (obs's
/// request context, when there is one and the map has no baggage yet) of
/// `cx` into `meta`.
fn inject(cx: &opentelemetry::Context, request: Option<&RequestContext>, meta: &mut Map<String, Value>) {
    let span = cx.span();
    let sc = span.span_context();
    if let Some(ids) = crate::trace::TraceIds::of_context(cx) {
        meta.insert("traceparent".into(), Value::String(ids.traceparent()));
        let state = sc.trace_state().header();
        if !state.is_empty() {
            meta.insert("tracestate".into(), Value::String(state));
        } else {
            meta.remove("tracestate");
        }
    }
    if let (Some(rc), false) = (request, meta.contains_key("baggage")) {
        if let Some(b) = baggage_of(rc) {
            meta.insert("baggage".into(), Value::String(b));
        }
    }
}

/// The `baggage` header of a request context.
fn baggage_of(rc: &RequestContext) -> Option<String> {
    use opentelemetry::baggage::BaggageExt as _;
    use opentelemetry::propagation::TextMapPropagator as _;
    let kvs = rc.fields().filter_map(|(k, v)| {
        let key = match k {
            "request_id" => BAGGAGE_REQUEST_ID,
            "user_id" => BAGGAGE_USER_ID,
            "tenant_id" => BAGGAGE_TENANT_ID,
            "conversation_id" => BAGGAGE_CONVERSATION_ID,
            _ => return None,
        };
        Some(opentelemetry::KeyValue::new(key, v.to_string()))
    });
    let cx = opentelemetry::Context::new().with_baggage(kvs);
    let mut out = std::collections::HashMap::new();
    opentelemetry_sdk::propagation::BaggagePropagator::new().inject_context(&cx, &mut out);
    out.remove("baggage").filter(|b| !b.is_empty())
}

/// The `_meta` entries that make a request continue the current span's
/// trace and carry the current request context: what [`rmcp3::context_meta`]
/// returns. Empty outside a span with ids.
pub(crate) fn current_meta() -> Map<String, Value> {
    let mut meta = Map::new();
    let span = tracing::Span::current();
    if span.is_disabled() {
        return meta;
    }
    let cx = span.context();
    if cx.span().span_context().is_valid() {
        callers::note(cx.span().span_context().span_id(), crate::context::current_agent());
        inject(&cx, RequestContext::current().as_ref(), &mut meta);
    }
    meta
}

/// The agents of callers that put their span in `_meta` themselves
/// ([`current_meta`]), by span id, for the transport to count a call under:
/// bounded, the oldest forgotten first.
mod callers {
    use crate::context::Agent;
    use opentelemetry::trace::SpanId;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    const MAX: usize = 1024;
    static CALLERS: Mutex<VecDeque<(SpanId, Agent)>> = Mutex::new(VecDeque::new());

    pub(super) fn note(span: SpanId, agent: Agent) {
        let mut c = CALLERS.lock().unwrap_or_else(|e| e.into_inner());
        if c.len() >= MAX {
            c.pop_front();
        }
        c.push_back((span, agent));
    }

    pub(super) fn agent_of(span: SpanId) -> Option<Agent> {
        let c = CALLERS.lock().unwrap_or_else(|e| e.into_inner());
        c.iter().rev().find(|(s, _)| *s == span).map(|(_, a)| *a)
    }
}

// ------------------------------------------------------------- spans

fn new_span(side: Side, msg: &Message, net: &Network, parent: Option<&opentelemetry::Context>) -> tracing::Span {
    let kind = match side {
        Side::Client => "client",
        Side::Server => "server",
    };
    let empty = tracing::field::Empty;
    // tracing-opentelemetry parents a span without a `tracing` parent on the
    // current OpenTelemetry context (the entered span's, rmcp's session
    // span in its tasks): an empty one is current while it is created.
    let _root = opentelemetry::Context::new().attach();
    let span = tracing::info_span!(
        target: "obs_runtime::mcp",
        parent: None,
        "mcp",
        otel.name = msg.span_name(),
        otel.kind = kind,
        otel.status_code = empty,
        otel.status_description = empty,
        mcp.method.name = msg.method.as_str(),
        gen_ai.operation.name = msg.is_tool_call().then_some("execute_tool"),
        gen_ai.tool.name = msg.tool.as_deref(),
        gen_ai.prompt.name = msg.prompt.as_deref(),
        jsonrpc.request.id = msg.request_id.as_deref(),
        mcp.resource.uri = msg.resource.as_deref(),
        mcp.protocol.version = net.protocol(),
        mcp.session.id = net.session_id.as_deref(),
        network.transport = net.transport.as_str(),
        network.protocol.name = (net.transport == NetworkTransport::Tcp).then_some("http"),
        gen_ai.tool.call.arguments = msg.arguments.as_deref(),
        gen_ai.tool.call.result = empty,
        rpc.response.status_code = empty,
        error.type = empty,
        obs.status = empty,
    );
    match parent {
        Some(cx) if cx.span().span_context().is_valid() => {
            let _ = span.set_parent(cx.clone());
        }
        Some(_) => {}
        None => {
            // rmcp's session span (or whatever is current where rmcp sends):
            // `parent: None` above, then the contextual parent restored.
            let current = tracing::Span::current();
            if !current.is_disabled() {
                let cx = current.context();
                if cx.span().span_context().is_valid() {
                    let _ = span.set_parent(cx);
                }
            }
        }
    }
    span
}

/// Where the call's telemetry goes: a span of its own (with the obs tool
/// call of a `tools/call`), or a tool span that already covers it.
enum Target {
    Own { span: tracing::Span, call: Option<Call> },
    Covered(opentelemetry::Context),
}

/// One MCP call in progress, on either side.
pub(crate) struct McpCall {
    side: Side,
    msg: Message,
    target: Target,
    request: Option<RequestContext>,
    agent: Agent,
    start: Option<quanta::Instant>,
}

impl std::fmt::Debug for McpCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpCall").field("side", &self.side).field("method", &self.msg.method).finish_non_exhaustive()
    }
}

/// Starts the obs tool call of a `tools/call` under `agent`. Its span is the
/// MCP span, which this module records itself (the conventions' status
/// rules differ from a tool call's: a server's caller errors are not
/// ERROR), so the call is given none.
fn tool_call(tool: &str, agent: Agent) -> Call {
    let _agent = AgentScope::enter(agent);
    crate::track::start_tool(tool, Some(tracing::Span::none()))
}

impl McpCall {
    /// A request or notification the client is about to send, with its
    /// `_meta` (written here: the call's trace context and baggage).
    pub(crate) fn client(msg: Message, net: &Network, meta: &mut Map<String, Value>) -> McpCall {
        let start = crate::call::enabled().then(quanta::Instant::now);
        // 1. The caller put its own span in `_meta`.
        let given = extract(meta);
        if given.span().span_context().is_valid() {
            let request = request_from_baggage(&given);
            let agent = callers::agent_of(given.span().span_context().span_id()).unwrap_or(Agent::NONE);
            return McpCall::own(Side::Client, msg, net, Some(&given), request, agent, start, meta);
        }
        // 2. A tool span covers this `tools/call`.
        if let Some(claimed) = msg.tool.as_deref().and_then(covering::claim) {
            let request = claimed.request;
            inject(&claimed.cx, request.as_ref(), meta);
            let covered = McpCall {
                side: Side::Client,
                msg,
                target: Target::Covered(claimed.cx),
                request,
                agent: claimed.agent,
                start,
            };
            covered.annotate_covering(net);
            return covered;
        }
        // 3. rmcp's session span.
        McpCall::own(Side::Client, msg, net, None, None, Agent::NONE, start, meta)
    }

    #[allow(clippy::too_many_arguments)]
    fn own(
        side: Side,
        msg: Message,
        net: &Network,
        parent: Option<&opentelemetry::Context>,
        request: Option<RequestContext>,
        agent: Agent,
        start: Option<quanta::Instant>,
        meta: &mut Map<String, Value>,
    ) -> McpCall {
        let make = || new_span(side, &msg, net, parent);
        // Created inside the request, so the span carries its ids.
        let span = match &request {
            Some(rc) => rc.in_scope(make),
            None => make(),
        };
        if side == Side::Client && !span.is_disabled() {
            inject(&span.context(), request.as_ref(), meta);
        }
        let call = msg.tool.as_deref().map(|t| tool_call(t, agent));
        McpCall { side, msg, target: Target::Own { span, call }, request, agent, start }
    }

    /// A request or notification a server received, with its `_meta` and
    /// what the HTTP layer saw; `label` is the agent label of its tool calls.
    pub(crate) fn server(
        msg: Message,
        net: &Network,
        meta: &Map<String, Value>,
        http: Option<&http::request::Parts>,
        label: Agent,
    ) -> McpCall {
        let start = crate::call::enabled().then(quanta::Instant::now);
        let remote = extract(meta);
        let request = request_from_baggage(&remote)
            .or_else(|| http.and_then(|p| p.extensions.get::<RequestContext>().cloned()))
            .unwrap_or_default();
        let span = request.in_scope(|| new_span(Side::Server, &msg, net, Some(&remote)));
        // The HTTP request that carried the message is linked, not the parent.
        if let Some(link) = http.and_then(ambient_http) {
            if !span.is_disabled() {
                span.add_link(link);
            }
        }
        let call = msg.tool.as_deref().map(|t| tool_call(t, label));
        McpCall {
            side: Side::Server,
            msg,
            target: Target::Own { span, call },
            request: Some(request),
            agent: label,
            start,
        }
    }

    /// The MCP attributes on a covering tool span.
    fn annotate_covering(&self, net: &Network) {
        let Target::Covered(cx) = &self.target else { return };
        use opentelemetry::KeyValue;
        let span = cx.span();
        span.set_attribute(KeyValue::new(MCP_METHOD_NAME, self.msg.method.clone()));
        if let Some(id) = &self.msg.request_id {
            span.set_attribute(KeyValue::new("jsonrpc.request.id", id.clone()));
        }
        if let Some(p) = net.protocol() {
            span.set_attribute(KeyValue::new("mcp.protocol.version", p.to_string()));
        }
        if let Some(s) = &net.session_id {
            span.set_attribute(KeyValue::new("mcp.session.id", s.clone()));
        }
        span.set_attribute(KeyValue::new("network.transport", net.transport.as_str()));
    }

    /// Runs `fut` inside the call: its span (and obs tool call) entered,
    /// its request context and agent current, on every poll.
    pub(crate) fn instrument<F: Future>(&mut self, fut: F) -> InCall<'_, F> {
        InCall { call: self, fut }
    }

    /// Ends the call: span attributes and status, the obs tool call's
    /// outcome, the operation histogram.
    pub(crate) fn end(self, end: End<'_>, net: &Network) {
        let McpCall { side, msg, target, request, agent, start } = self;
        let error = end.error(side);
        if let Some(start) = start {
            let e = error.as_ref().map(|(t, code, _)| (t.as_ref(), code.as_deref()));
            record_operation(side, &msg, net, e, elapsed_ns(start));
        }
        let message = match &end {
            End::Rpc { message, .. } => Some(crate::redact::scan(&cut(message, MESSAGE_MAX_BYTES)).into_owned()),
            _ => None,
        };
        let finish = || match target {
            Target::Covered(cx) => {
                use opentelemetry::KeyValue;
                if let Some((et, code, _)) = &error {
                    let span = cx.span();
                    if let Some(c) = code {
                        span.set_attribute(KeyValue::new("rpc.response.status_code", c.clone()));
                    }
                    span.set_attribute(KeyValue::new(crate::semconv::ERROR_TYPE, et.to_string()));
                    // A covering span is the client's: every error is one.
                    span.set_status(opentelemetry::trace::Status::error(message.clone().unwrap_or_default()));
                }
            }
            Target::Own { span, call } => {
                // Entered: a failure line of the tool call is its child.
                let _entered = span.enter();
                if let Some(p) = net.protocol() {
                    span.record("mcp.protocol.version", p);
                }
                if let End::Ok { result: Some(r), .. } = &end {
                    span.record(crate::semconv::GEN_AI_TOOL_CALL_RESULT, r.as_str());
                }
                if let Some(call) = call {
                    let outcome = match &error {
                        None => Outcome::Success,
                        Some((et, _, _)) => Outcome::Error(crate::track::error_type(et)),
                    };
                    let _agent = AgentScope::enter(agent);
                    call.finish(outcome);
                }
                span.record(crate::semconv::OBS_STATUS, if error.is_some() { "error" } else { "success" });
                if let Some((et, code, status)) = &error {
                    span.record(crate::semconv::ERROR_TYPE, et.as_ref());
                    if let Some(c) = code {
                        span.record("rpc.response.status_code", c.as_str());
                    }
                    // Not for the caller's mistakes on a server.
                    if *status {
                        match &message {
                            Some(m) => span.record("otel.status_description", m.as_str()),
                            None => span.record(crate::semconv::OTEL_STATUS_CODE, "ERROR"),
                        };
                    }
                }
            }
        };
        // Inside the request, so a failure line carries its ids.
        match &request {
            Some(rc) => rc.in_scope(finish),
            None => finish(),
        }
    }
}

/// The span context of the HTTP request a message came in: the span of
/// obs's tower layer when it served the request, else the HTTP client's
/// span from its `traceparent` header.
fn ambient_http(parts: &http::request::Parts) -> Option<opentelemetry::trace::SpanContext> {
    if let Some(ids) = parts.extensions.get::<crate::trace::HttpSpan>() {
        return Some(ids.0.clone());
    }
    struct Headers<'a>(&'a http::HeaderMap);
    impl opentelemetry::propagation::Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok()).filter(|v| v.len() <= TRACESTATE_MAX_BYTES)
        }
        fn keys(&self) -> Vec<&str> {
            Vec::new()
        }
    }
    let cx = crate::trace::extract(&Headers(&parts.headers));
    let sc = cx.span().span_context().clone();
    sc.is_valid().then_some(sc)
}

/// What the HTTP layer of a Streamable HTTP server saw: `tcp`, and the
/// `Mcp-Session-Id` header.
pub(crate) fn network_of(parts: Option<&http::request::Parts>, protocol: Option<String>) -> Network {
    match parts {
        Some(p) => Network {
            transport: NetworkTransport::Tcp,
            protocol,
            session_id: p.headers.get("mcp-session-id").and_then(|v| v.to_str().ok()).map(|s| cut(s, NAME_MAX_BYTES)),
        },
        None => Network { transport: NetworkTransport::Pipe, protocol, session_id: None },
    }
}

pin_project_lite::pin_project! {
    /// A future run inside an [`McpCall`] (see [`McpCall::instrument`]).
    pub(crate) struct InCall<'a, F> {
        call: &'a mut McpCall,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for InCall<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let call = &mut **this.call;
        let mut slot = call.request.clone();
        let _swap = RequestSwap::new(&mut slot);
        let _agent = AgentScope::enter(call.agent);
        match &call.target {
            Target::Own { span, call } => {
                let _span = span.enter();
                // The tool call is the innermost obs call (a foreign tool
                // span inside is not counted again by the GenAI bridge).
                let _call = call.as_ref().map(Call::enter);
                this.fut.poll(cx)
            }
            Target::Covered(_) => this.fut.poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn only_bounded_w3c_strings_are_read_from_meta() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let meta = map(json!({
            "traceparent": tp,
            "tracestate": "x".repeat(TRACESTATE_MAX_BYTES + 1),
            "baggage": 42,
            "progressToken": 7,
        }));
        assert_eq!(trace_entries(&meta), map(json!({ "traceparent": tp })));
        let cx = extract(&meta);
        assert_eq!(cx.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        // Nothing usable: an empty context, never the current one.
        let cx = extract(&map(json!({ "traceparent": ["00-.."], "baggage": { "a": 1 } })));
        assert!(!cx.span().span_context().is_valid());
    }

    #[test]
    fn the_request_context_rides_in_baggage_and_is_validated_on_the_way_in() {
        let rc = RequestContext::from_request_id("req-7").with_user_id("u, 1").with_conversation_id("c=2");
        let baggage = baggage_of(&rc).expect("baggage");
        let back = request_from_baggage(&extract(&map(json!({ "baggage": baggage })))).expect("a request");
        assert_eq!(back.fields().collect::<Vec<_>>(), rc.fields().collect::<Vec<_>>());
        // A request id no log line should hold is replaced; long ids are cut.
        let hostile = format!("obs.request_id=has%20space%0A,user.id={}", "u".repeat(3000));
        let back = request_from_baggage(&extract(&map(json!({ "baggage": hostile })))).expect("a request");
        assert_ne!(back.request_id(), "has space\n");
        assert!(crate::context::is_valid_request_id(back.request_id()));
        let cut_max = crate::context::MAX_CONTEXT_ID_BYTES + crate::metrics::registry::CUT_MARKER.len();
        assert!(back.user_id().is_some_and(|u| u.len() <= cut_max), "{:?}", back.user_id().map(str::len));
        assert!(request_from_baggage(&extract(&map(json!({ "baggage": "other=1" })))).is_none());
    }

    #[test]
    fn names_and_errors_follow_the_conventions() {
        let m = Message::new("tools/call").id(3).tool(&"t".repeat(500), None);
        assert_eq!(m.request_id.as_deref(), Some("3"));
        let cut_max = NAME_MAX_BYTES + crate::metrics::registry::CUT_MARKER.len();
        assert!(m.tool.as_ref().is_some_and(|t| t.len() <= cut_max));
        assert!(m.span_name().starts_with("tools/call ttt"));
        assert_eq!(Message::new("tools/list").span_name(), "tools/list");
        assert_eq!(Message::new("prompts/get").prompt("greet").span_name(), "prompts/get greet");
        let rpc = End::Rpc { code: -32602, message: "bad" };
        assert_eq!(rpc.error(Side::Client).map(|e| e.2), Some(true));
        assert_eq!(
            rpc.error(Side::Server).map(|e| (e.0.into_owned(), e.1, e.2)),
            Some(("-32602".into(), Some("-32602".into()), false))
        );
        assert_eq!(End::Rpc { code: -32603, message: "" }.error(Side::Server).map(|e| e.2), Some(true));
        assert_eq!(
            End::Ok { tool_error: true, result: None }.error(Side::Server).map(|e| e.0),
            Some("tool_error".into())
        );
        assert!(End::Ok { tool_error: false, result: None }.error(Side::Client).is_none());
    }
}
