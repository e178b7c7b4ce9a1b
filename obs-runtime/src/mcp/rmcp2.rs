//! MCP through rmcp 2 (feature `rmcp-2`; rmcp 2.2 or a later 2.x, the rmcp of
//! rig's MCP tools, `rig-rmcp` 0.44): a
//! transport wrapper for clients ([`client`]) and a service wrapper for
//! servers ([`server`]). See [the `mcp` module](super) for what they record.
//!
//! ```no_run
//! use obs_runtime::mcp::rmcp2::{self, rmcp};
//! use rmcp::model::CallToolRequestParams;
//! use rmcp::service::{RoleClient, RoleServer};
//! use rmcp::transport::Transport;
//! use rmcp::ServiceExt as _;
//!
//! /// A client: every request and notification of the session is traced.
//! async fn ask<T: Transport<RoleClient> + 'static>(transport: T) -> Result<(), Box<dyn std::error::Error>> {
//!     let client = ().serve(rmcp2::client(transport)).await?;
//!     let weather = client.call_tool(CallToolRequestParams::new("get_weather")).await?;
//!     println!("{weather:?}");
//!     client.cancel().await?;
//!     Ok(())
//! }
//!
//! /// A server: any `ServerHandler`, one wrapper line.
//! async fn serve<H, T>(handler: H, transport: T) -> Result<(), Box<dyn std::error::Error>>
//! where
//!     H: rmcp::ServerHandler,
//!     T: Transport<RoleServer> + 'static,
//! {
//!     let running = rmcp2::server(handler).serve(transport).await?;
//!     running.waiting().await?;
//!     Ok(())
//! }
//! ```

/// The rmcp this module is built against (2.x), so the application and obs
/// agree on one version.
pub use ::rmcp_2 as rmcp;

use rmcp::model::{JsonObject, Meta};

macro_rules! v3 {
    ($($t:tt)*) => {};
}

/// A `_meta` map as JSON.
trait AsJsonObject {
    fn as_json_object(&self) -> &JsonObject;
    fn as_json_object_mut(&mut self) -> &mut JsonObject;
}

impl AsJsonObject for Meta {
    fn as_json_object(&self) -> &JsonObject {
        &self.0
    }
    fn as_json_object_mut(&mut self) -> &mut JsonObject {
        &mut self.0
    }
}

include!("rmcp_impl.rs");

/// The `_meta` entries that make a request continue the current span's
/// trace and carry the current request context (`traceparent`,
/// `tracestate`, `baggage`); empty outside a span with trace ids. Give them
/// to a request whose caller should be its parent when no tool span covers
/// it: the client's transport makes its CLIENT span a child of that span,
/// counts a `tools/call` under the agent current here, and sends its own
/// span in their place.
///
/// ```no_run
/// use obs_runtime::mcp::rmcp2::{self, rmcp};
/// let mut params = rmcp::model::CallToolRequestParams::new("get_weather");
/// params.meta = Some(rmcp2::context_meta());
/// ```
pub fn context_meta() -> Meta {
    Meta(super::current_meta())
}

/// Wraps an MCP server (any `ServerHandler`, or any `Service<RoleServer>`)
/// where it is served: `rmcp2::server(handler).serve(stdio())`, or inside
/// the Streamable HTTP service's factory. Each request and notification
/// gets a SERVER span (the caller's span from `_meta` as its parent; a
/// request without one starts a trace of its own, never the session's),
/// runs in the caller's request context from `baggage`, and is measured in
/// `mcp_server_operation_duration_seconds`; a `tools/call` is an obs tool
/// call under the agent label `mcp:{name}`, the name being the server's own
/// (`get_info().server_info.name`) unless [`Server::name`] gives one.
pub fn server<S: rmcp::Service<rmcp::RoleServer>>(service: S) -> Server<S> {
    let name = service.get_info().server_info.name;
    Server::wrap(service, &name)
}

/// How a server answered, for [`McpCall::end`].
fn end_of(result: &Result<ServerResult, ErrorData>) -> End<'_> {
    match result {
        Ok(ServerResult::CallToolResult(r)) => end_tool(r),
        _ => end_plain(result),
    }
}

impl<S: rmcp::Service<rmcp::RoleServer>> rmcp::Service<rmcp::RoleServer> for Server<S> {
    fn handle_request(
        &self,
        request: ClientRequest,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> impl Future<Output = Result<ServerResult, ErrorData>> + Send + '_ {
        let protocol = context.peer.peer_info().map(|i| i.protocol_version.to_string());
        let msg = message_of(&request).id(&context.id);
        let (call, net) = self.begin(msg, &context.meta.0, &context.extensions, protocol);
        finish(call, net, self.inner.handle_request(request, context), end_of)
    }

    fn handle_notification(
        &self,
        notification: ClientNotification,
        context: rmcp::service::NotificationContext<rmcp::RoleServer>,
    ) -> impl Future<Output = Result<(), ErrorData>> + Send + '_ {
        let protocol = context.peer.peer_info().map(|i| i.protocol_version.to_string());
        let msg = Message::new(&notification_method(&notification));
        let (call, net) = self.begin(msg, &context.meta.0, &context.extensions, protocol);
        finish(call, net, self.inner.handle_notification(notification, context), end_plain)
    }

    fn get_info(&self) -> rmcp::model::ServerInfo {
        self.inner.get_info()
    }
}
