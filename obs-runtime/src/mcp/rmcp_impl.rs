// The rmcp wrappers, one source for every rmcp major version obs supports:
// `rmcp3.rs` and `rmcp2.rs` include this file after naming their rmcp crate
// `rmcp` and defining `v3!` / `v2!` (each expands its tokens for its own
// version only). The two APIs differ only where those macros are used.

use super::{covering, network_of, End, McpCall, Message, Network, NetworkTransport, SessionClock, Side};
use crate::context::Agent;
use rmcp::model::{
    ClientNotification, ClientRequest, ErrorData, GetMeta as _, JsonRpcMessage, JsonRpcRequest,
    ServerResult,
};
use rmcp::service::{RoleClient, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::{IntoTransport, Transport};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Calls a client has sent and not seen answered yet; past it, the oldest
/// is ended (`error.type` `_OTHER`) to keep memory bounded.
const MAX_PENDING: usize = 4096;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `_meta` of a request's typed params, for the requests whose params
/// the caller fills in itself.
fn typed_meta(request: &ClientRequest) -> Option<&JsonObject> {
    match request {
        ClientRequest::CallToolRequest(r) => r.params.meta.as_ref().map(AsJsonObject::as_json_object),
        ClientRequest::GetPromptRequest(r) => r.params.meta.as_ref().map(AsJsonObject::as_json_object),
        ClientRequest::ReadResourceRequest(r) => r.params.meta.as_ref().map(AsJsonObject::as_json_object),
        _ => None,
    }
}

/// What a client request is: method, target, id (added by the caller).
fn message_of(request: &ClientRequest) -> Message {
    let msg = Message::new(request.method());
    match request {
        ClientRequest::CallToolRequest(r) => msg.tool(&r.params.name, r.params.arguments.as_ref()),
        ClientRequest::GetPromptRequest(r) => msg.prompt(&r.params.name),
        ClientRequest::ReadResourceRequest(r) => msg.resource(&r.params.uri),
        _ => msg,
    }
}

/// The method of a notification (its wire name, as rmcp serializes it).
fn notification_method(n: &ClientNotification) -> String {
    match serde_json::to_value(n) {
        Ok(v) => v.get("method").and_then(serde_json::Value::as_str).unwrap_or("notifications/unknown").to_string(),
        Err(_) => "notifications/unknown".to_string(),
    }
}

// ---------------------------------------------------------------- client

/// A client transport that traces and measures every message of its
/// session: see [`client`].
pub struct ClientTransport<T> {
    inner: T,
    state: Arc<ClientState>,
}

impl<T> std::fmt::Debug for ClientTransport<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTransport").field("network", &lock(&self.state.net).transport).finish_non_exhaustive()
    }
}

struct ClientState {
    net: Mutex<Network>,
    /// Requests sent and not answered, by JSON-RPC id.
    pending: Mutex<HashMap<String, McpCall>>,
    session: Mutex<SessionClock>,
}

impl ClientState {
    fn network(&self) -> Network {
        lock(&self.net).clone()
    }

    /// Starts the call of an outgoing message and writes its `_meta`;
    /// returns the call of a notification (ended once it is sent) or the id
    /// of a request (ended by its response).
    fn on_send(&self, item: &mut TxJsonRpcMessage<RoleClient>) -> Sent {
        match item {
            JsonRpcMessage::Request(JsonRpcRequest { id, request, .. }) => {
                v3! {
                    if let Some(p) = request.get_meta().protocol_version() {
                        let mut net = lock(&self.net);
                        if net.protocol.is_none() {
                            net.protocol = Some(p.to_string());
                        }
                    }
                }
                let msg = message_of(request).id(&*id);
                let net = self.network();
                let given: Option<JsonObject> = typed_meta(request).map(super::trace_entries);
                let meta = request.get_meta_mut().as_json_object_mut();
                if let Some(given) = given {
                    if !meta.contains_key("traceparent") {
                        meta.extend(given);
                    }
                }
                let call = McpCall::client(msg, &net, meta);
                let key = id.to_string();
                let mut pending = lock(&self.pending);
                if pending.len() >= MAX_PENDING {
                    if let Some(k) = pending.keys().next().cloned() {
                        if let Some(old) = pending.remove(&k) {
                            old.end(End::Failed("_OTHER"), &net);
                        }
                    }
                }
                pending.insert(key.clone(), call);
                Sent::Request(key)
            }
            JsonRpcMessage::Notification(n) => {
                let method = notification_method(&n.notification);
                if let ClientNotification::CancelledNotification(c) = &n.notification {
                    if let Some(id) = &c.params.request_id {
                        let call = lock(&self.pending).remove(&id.to_string());
                        if let Some(call) = call {
                            call.end(End::Failed("cancelled"), &self.network());
                        }
                    }
                }
                let net = self.network();
                let meta = n.notification.get_meta_mut().as_json_object_mut();
                Sent::Notification(Box::new(McpCall::client(Message::new(&method), &net, meta)))
            }
            // Answers to the server's requests (sampling, roots, elicitation).
            _ => Sent::Other,
        }
    }

    /// The message is on its way (or failed to be).
    fn after_send(&self, sent: Sent, failed: bool) {
        match sent {
            Sent::Notification(call) => {
                let end = if failed { End::Failed("transport_error") } else { End::Ok { tool_error: false, result: None } };
                call.end(end, &self.network());
            }
            Sent::Request(key) if failed => {
                let call = lock(&self.pending).remove(&key);
                if let Some(call) = call {
                    call.end(End::Failed("transport_error"), &self.network());
                }
            }
            _ => {}
        }
    }

    /// A message from the server: ends the call it answers.
    fn on_receive(&self, m: &RxJsonRpcMessage<RoleClient>) {
        match m {
            JsonRpcMessage::Response(r) => {
                if let ServerResult::InitializeResult(init) = &r.result {
                    lock(&self.net).protocol = Some(init.protocol_version.to_string());
                }
                let call = lock(&self.pending).remove(&r.id.to_string());
                if let Some(call) = call {
                    let end = end_of_result(&r.result);
                    call.end(end, &self.network());
                }
            }
            JsonRpcMessage::Error(e) => {
                let call = e.id.as_ref().and_then(|id| lock(&self.pending).remove(&id.to_string()));
                if let Some(call) = call {
                    call.end(End::Rpc { code: e.error.code.0, message: &e.error.message }, &self.network());
                }
            }
            _ => {}
        }
    }

    /// The session ended: unanswered calls end as `transport_closed`, and
    /// the session's duration is recorded.
    fn closed(&self) {
        let net = self.network();
        let pending: Vec<McpCall> = lock(&self.pending).drain().map(|(_, c)| c).collect();
        for call in pending {
            call.end(End::Failed("transport_closed"), &net);
        }
        lock(&self.session).end(&net);
    }
}

fn end_of_result(result: &ServerResult) -> End<'static> {
    match result {
        ServerResult::CallToolResult(r) => end_tool(r),
        _ => End::Ok { tool_error: false, result: None },
    }
}

/// What `send` started.
enum Sent {
    Request(String),
    Notification(Box<McpCall>),
    Other,
}

impl Drop for ClientState {
    fn drop(&mut self) {
        self.closed();
    }
}

/// Wraps a client transport (anything rmcp's `serve` takes: a child
/// process, a Streamable HTTP client, a pair of streams) so that every
/// message of the session is traced and measured: a CLIENT span per request
/// and notification with `traceparent`, `tracestate` and `baggage` in its
/// `_meta`, `mcp_client_operation_duration_seconds`, an obs tool call per
/// `tools/call`, and `mcp_client_session_duration_seconds` when the session
/// ends. `network.transport` is `tcp` for an HTTP transport (its type name
/// says `http`), else `pipe`; [`ClientTransport::network_transport`] says
/// otherwise. See the [module documentation](self).
pub fn client<T, E, A>(transport: T) -> ClientTransport<impl Transport<RoleClient, Error = E> + 'static>
where
    T: IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let kind = if std::any::type_name::<T>().to_ascii_lowercase().contains("http") {
        NetworkTransport::Tcp
    } else {
        NetworkTransport::Pipe
    };
    ClientTransport::new(transport.into_transport(), kind)
}

impl<T> ClientTransport<T> {
    fn new(inner: T, transport: NetworkTransport) -> Self {
        covering::activate();
        let state = ClientState {
            net: Mutex::new(Network { transport, protocol: None, session_id: None }),
            pending: Mutex::new(HashMap::new()),
            session: Mutex::new(SessionClock::start(Side::Client)),
        };
        ClientTransport { inner, state: Arc::new(state) }
    }

    /// Sets `network.transport` (`pipe` for stdio, `tcp` for HTTP).
    pub fn network_transport(self, transport: NetworkTransport) -> Self {
        lock(&self.state.net).transport = transport;
        self
    }
}

impl<T: Transport<RoleClient>> Transport<RoleClient> for ClientTransport<T> {
    type Error = T::Error;

    fn name() -> std::borrow::Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        mut item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = self.state.on_send(&mut item);
        let state = self.state.clone();
        let fut = self.inner.send(item);
        async move {
            let r = fut.await;
            state.after_send(sent, r.is_err());
            r
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        let (inner, state) = (&mut self.inner, &self.state);
        async move {
            let m = inner.receive().await;
            match &m {
                Some(m) => state.on_receive(m),
                None => state.closed(),
            }
            m
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let (inner, state) = (&mut self.inner, &self.state);
        async move {
            let r = inner.close().await;
            state.closed();
            r
        }
    }
}

// ---------------------------------------------------------------- server

/// A server that traces and measures every request and notification it
/// handles: see [`server`].
pub struct Server<S> {
    inner: S,
    label: Agent,
    session: Mutex<Option<(SessionClock, Network)>>,
}

impl<S> std::fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("label", &self.label.name()).finish_non_exhaustive()
    }
}

fn label_of(name: &str) -> Agent {
    let name = crate::metrics::registry::cut(name, 64);
    Agent::intern(&format!("mcp:{name}"))
}

impl<S> Server<S> {
    /// The name in the agent label of its tool calls (`mcp:{name}`).
    pub fn name(mut self, name: &str) -> Self {
        self.label = label_of(name);
        self
    }

    /// The wrapped server.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Starts the session's clock at its first message.
    fn session(&self, net: &Network) {
        let mut s = lock(&self.session);
        match &mut *s {
            None => *s = Some((SessionClock::start(Side::Server), net.clone())),
            Some((_, last)) => {
                if last.protocol.is_none() && net.protocol.is_some() {
                    *last = net.clone();
                }
            }
        }
    }
}

impl<S> Drop for Server<S> {
    fn drop(&mut self) {
        if let Some((mut clock, net)) = lock(&self.session).take() {
            clock.end(&net);
        }
    }
}

impl<S: Clone> Clone for Server<S> {
    /// A server for another session (its own session clock).
    fn clone(&self) -> Self {
        Server { inner: self.inner.clone(), label: self.label, session: Mutex::new(None) }
    }
}

impl<S> Server<S> {
    fn wrap(inner: S, name: &str) -> Server<S> {
        Server { inner, label: label_of(name), session: Mutex::new(None) }
    }

    /// Starts the call of a message the server received.
    fn begin(
        &self,
        msg: Message,
        meta: &JsonObject,
        extensions: &rmcp::model::Extensions,
        protocol: Option<String>,
    ) -> (McpCall, Network) {
        let parts = extensions.get::<http::request::Parts>();
        let net = network_of(parts, protocol);
        self.session(&net);
        let call = McpCall::server(msg, &net, meta, parts, self.label);
        (call, net)
    }
}

/// Runs a handler's future inside its call and ends the call with what it returned.
async fn finish<T, F>(mut call: McpCall, net: Network, fut: F, end: fn(&Result<T, ErrorData>) -> End<'_>) -> Result<T, ErrorData>
where
    F: Future<Output = Result<T, ErrorData>>,
{
    let r = call.instrument(fut).await;
    call.end(end(&r), &net);
    r
}

/// Success or the JSON-RPC error, for results without a tool outcome.
fn end_plain<T>(r: &Result<T, ErrorData>) -> End<'_> {
    match r {
        Ok(_) => End::Ok { tool_error: false, result: None },
        Err(e) => End::Rpc { code: e.code.0, message: &e.message },
    }
}

/// A tool's result: `isError`, and the result as captured content.
fn end_tool(r: &rmcp::model::CallToolResult) -> End<'static> {
    End::Ok {
        tool_error: r.is_error == Some(true),
        result: crate::redact::capture_enabled().then(|| crate::redact::capture(r)).flatten(),
    }
}
