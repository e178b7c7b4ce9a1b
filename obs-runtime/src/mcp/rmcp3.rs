//! MCP through rmcp 3 (feature `rmcp-3`; rmcp 3.11 or a later 3.x): a
//! transport wrapper for clients ([`client`]) and a service wrapper for
//! servers ([`server`]). See [the `mcp` module](super) for what they record.
//!
//! ```no_run
//! use obs_runtime::mcp::rmcp3::{self, rmcp};
//! use rmcp::model::CallToolRequestParams;
//! use rmcp::service::{RoleClient, RoleServer};
//! use rmcp::transport::Transport;
//! use rmcp::ServiceExt as _;
//!
//! /// A client: every request and notification of the session is traced.
//! async fn ask<T: Transport<RoleClient> + 'static>(transport: T) -> Result<(), Box<dyn std::error::Error>> {
//!     let client = ().serve(rmcp3::client(transport)).await?;
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
//!     let running = rmcp3::server(handler).serve(transport).await?;
//!     running.waiting().await?;
//!     Ok(())
//! }
//! ```

/// The rmcp this module is built against (3.x), so the application and obs
/// agree on one version.
pub use ::rmcp_3 as rmcp;

use rmcp::model::{JsonObject, MetaObject, NotificationMetaObject, RequestMetaObject};

macro_rules! v3 {
    ($($t:tt)*) => { $($t)* };
}

/// A `_meta` map as JSON.
trait AsJsonObject {
    fn as_json_object(&self) -> &JsonObject;
    fn as_json_object_mut(&mut self) -> &mut JsonObject;
}

impl AsJsonObject for RequestMetaObject {
    fn as_json_object(&self) -> &JsonObject {
        &self.0 .0
    }
    fn as_json_object_mut(&mut self) -> &mut JsonObject {
        &mut self.0 .0
    }
}

impl AsJsonObject for NotificationMetaObject {
    fn as_json_object(&self) -> &JsonObject {
        &self.0 .0
    }
    fn as_json_object_mut(&mut self) -> &mut JsonObject {
        &mut self.0 .0
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
/// use obs_runtime::mcp::rmcp3::{self, rmcp};
/// let mut params = rmcp::model::CallToolRequestParams::new("get_weather");
/// params.meta = Some(rmcp3::context_meta());
/// ```
pub fn context_meta() -> RequestMetaObject {
    RequestMetaObject(MetaObject(super::current_meta()))
}

/// Wraps an MCP server (any `ServerHandler`) where it is served:
/// `rmcp3::server(handler).serve(stdio())`, or inside the factory of a
/// `StreamableHttpService` (which takes a `ServerHandler`: the wrapper is
/// one). Each request and notification the handler is given gets a SERVER
/// span (the caller's span from `_meta` as its parent; a request without
/// one starts a trace of its own, never the session's), runs in the
/// caller's request context from `baggage`, and is measured in
/// `mcp_server_operation_duration_seconds`; a `tools/call` is an obs tool
/// call under the agent label `mcp:{name}`, the name being the server's own
/// (`get_info().server_info.name`) unless [`Server::name`] gives one.
/// Requests rmcp refuses before they reach the handler (an unsupported
/// protocol version, a missing capability) are not seen.
pub fn server<S: rmcp::ServerHandler>(handler: S) -> Server<S> {
    let name = handler.get_info().server_info.name;
    Server::wrap(handler, &name)
}

// Forwards every method, the deprecated ones too: the wrapper must not change
// what a handler answers.
#[allow(deprecated)]
mod handler {
    use super::rmcp;
    use super::{end_plain, end_tool, finish, Server};
    use crate::mcp::{End, Message};
    use rmcp::model::*;
    use rmcp::service::{NotificationContext, RequestContext, RoleServer, SubscriptionContext};
    use rmcp::{ErrorData, ServerHandler};
    use std::borrow::Cow;

    fn end_call_tool(r: &Result<CallToolResponse, ErrorData>) -> End<'_> {
        match r {
            Ok(CallToolResponse::Complete(t)) => end_tool(t),
            _ => end_plain(r),
        }
    }

    impl<S: ServerHandler> Server<S> {
        fn request_call(
            &self,
            msg: Message,
            context: &RequestContext<RoleServer>,
        ) -> (crate::mcp::McpCall, crate::mcp::Network) {
            // The negotiated version; before it (`initialize`, an inline
            // 2026-07-28 request), the one the request names.
            let protocol = context
                .peer
                .peer_info()
                .map(|i| i.protocol_version.clone())
                .or_else(|| context.meta.protocol_version())
                .map(|p| p.to_string());
            self.begin(msg.id(&context.id), &context.meta.0 .0, &context.extensions, protocol)
        }

        async fn notified<F: std::future::Future<Output = ()>>(
            &self,
            method: &str,
            context: &NotificationContext<RoleServer>,
            run: impl FnOnce() -> F,
        ) {
            let protocol = context.peer.peer_info().map(|i| i.protocol_version.to_string());
            let (call, net) = self.begin(Message::new(method), &context.meta.0 .0, &context.extensions, protocol);
            let fut = run();
            let handled = async move {
                fut.await;
                Ok::<(), ErrorData>(())
            };
            let _ = finish(call, net, handled, end_plain).await;
        }
    }

    /// A request method: its span and call around the handler's own.
    macro_rules! request {
        ($name:ident($($p:ident: $P:ty),*) -> $Out:ty, $msg:expr, $end:expr) => {
            async fn $name(&self, $($p: $P,)* context: RequestContext<RoleServer>) -> Result<$Out, ErrorData> {
                let (call, net) = self.request_call($msg, &context);
                finish(call, net, self.inner.$name($($p,)* context), $end).await
            }
        };
    }

    impl<S: ServerHandler> ServerHandler for Server<S> {
        request!(ping() -> (), Message::new("ping"), end_plain);
        async fn initialize(
            &self,
            request: InitializeRequestParams,
            context: RequestContext<RoleServer>,
        ) -> Result<InitializeResult, ErrorData> {
            // The version is the one negotiated: known from the answer.
            let msg = Message::new("initialize").id(&context.id);
            let (mut call, mut net) = self.begin(msg, &context.meta.0 .0, &context.extensions, None);
            let r = call.instrument(self.inner.initialize(request, context)).await;
            if let Ok(init) = &r {
                net.protocol = Some(init.protocol_version.to_string());
            }
            call.end(end_plain(&r), &net);
            r
        }
        request!(discover() -> DiscoverResult, Message::new("server/discover"), end_plain);
        request!(complete(request: CompleteRequestParams) -> CompleteResult, Message::new("completion/complete"), end_plain);
        request!(set_level(request: SetLevelRequestParams) -> (), Message::new("logging/setLevel"), end_plain);
        request!(
            get_prompt(request: GetPromptRequestParams) -> GetPromptResponse,
            Message::new("prompts/get").prompt(&request.name),
            end_plain
        );
        request!(list_prompts(request: Option<PaginatedRequestParams>) -> ListPromptsResult, Message::new("prompts/list"), end_plain);
        request!(list_resources(request: Option<PaginatedRequestParams>) -> ListResourcesResult, Message::new("resources/list"), end_plain);
        request!(
            list_resource_templates(request: Option<PaginatedRequestParams>) -> ListResourceTemplatesResult,
            Message::new("resources/templates/list"),
            end_plain
        );
        request!(
            read_resource(request: ReadResourceRequestParams) -> ReadResourceResponse,
            Message::new("resources/read").resource(&request.uri),
            end_plain
        );
        request!(
            subscribe(request: SubscribeRequestParams) -> (),
            Message::new("resources/subscribe").resource(&request.uri),
            end_plain
        );
        request!(
            unsubscribe(request: UnsubscribeRequestParams) -> (),
            Message::new("resources/unsubscribe").resource(&request.uri),
            end_plain
        );
        request!(
            call_tool(request: CallToolRequestParams) -> CallToolResponse,
            Message::new("tools/call").tool(&request.name, request.arguments.as_ref()),
            end_call_tool
        );
        request!(list_tools(request: Option<PaginatedRequestParams>) -> ListToolsResult, Message::new("tools/list"), end_plain);
        request!(on_custom_request(request: CustomRequest) -> CustomResult, Message::new(&request.method), end_plain);
        request!(get_task(request: GetTaskParams) -> GetTaskResult, Message::new("tasks/get"), end_plain);
        request!(update_task(request: UpdateTaskParams) -> (), Message::new("tasks/update"), end_plain);
        request!(cancel_task(request: CancelTaskParams) -> (), Message::new("tasks/cancel"), end_plain);
        request!(list_skills(request: Option<PaginatedRequestParams>) -> ListSkillsResult, Message::new("skills/list"), end_plain);
        request!(get_skill(request: GetSkillRequestParams) -> GetSkillResult, Message::new("skills/get"), end_plain);
        request!(
            read_resource_directory(request: ReadResourceDirectoryRequestParams) -> ReadResourceDirectoryResult,
            Message::new("resources/directory/read"),
            end_plain
        );

        fn negotiate_initialize(&self, request: &InitializeRequestParams) -> Result<InitializeResult, ErrorData> {
            self.inner.negotiate_initialize(request)
        }

        fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
            self.inner.supported_protocol_versions()
        }

        fn accepted_subscription_filter(&self, requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
            self.inner.accepted_subscription_filter(requested)
        }

        // A subscription lasts as long as the client listens: not an operation.
        async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
            self.inner.listen(context).await
        }

        fn get_tool(&self, name: &str) -> Option<Tool> {
            self.inner.get_tool(name)
        }

        fn get_info(&self) -> ServerConfig {
            self.inner.get_info()
        }

        async fn on_cancelled(
            &self,
            notification: CancelledNotificationParam,
            context: NotificationContext<RoleServer>,
        ) {
            let c = context.clone();
            self.notified("notifications/cancelled", &c, || self.inner.on_cancelled(notification, context)).await
        }

        async fn on_progress(&self, notification: ProgressNotificationParam, context: NotificationContext<RoleServer>) {
            let c = context.clone();
            self.notified("notifications/progress", &c, || self.inner.on_progress(notification, context)).await
        }

        async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
            let c = context.clone();
            self.notified("notifications/initialized", &c, || self.inner.on_initialized(context)).await
        }

        async fn on_roots_list_changed(&self, context: NotificationContext<RoleServer>) {
            let c = context.clone();
            self.notified("notifications/roots/list_changed", &c, || self.inner.on_roots_list_changed(context)).await
        }

        async fn on_custom_notification(
            &self,
            notification: CustomNotification,
            context: NotificationContext<RoleServer>,
        ) {
            let method = notification.method.clone();
            let c = context.clone();
            self.notified(&method, &c, || self.inner.on_custom_notification(notification, context)).await
        }
    }
}
