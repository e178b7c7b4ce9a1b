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
//! /// A server: any `ServerHandler` (here `()`), one wrapper line.
//! async fn serve<T: Transport<RoleServer> + 'static>(transport: T) -> Result<(), Box<dyn std::error::Error>> {
//!     let handler = rmcp::model::ServerInfo::default(); // stands for your `ServerHandler`
//!     # let _ = handler;
//!     let running = rmcp3::server(()).serve(transport).await?;
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
