//! A tower layer for HTTP services (feature `tower`; made for axum): request
//! ids, W3C trace context, a server span and HTTP metrics for every request.
//!
//! For each request, [`ObsLayer`]:
//! - takes the `X-Request-ID` header as the request id when it is usable (1 to
//!   128 visible ASCII characters), or generates one (a UUID v7), makes it the
//!   [`RequestContext`] of the handler (also in the request's extensions) and
//!   echoes it in the response's `X-Request-ID`;
//! - opens a server span named `{method} {route}` (`otel.name`) that continues
//!   the caller's trace when `traceparent`/`tracestate` are present;
//! - records `http_requests_total{method,route,status}` and
//!   `http_request_duration_seconds{method,route}` (buckets of the HTTP
//!   semantic conventions), where `route` is axum's route template
//!   (`/agents/{name}`), never the raw path, and `unmatched` when no route
//!   matched (a 404 from the fallback): the label stays low-cardinality.
//!
//! Add it with `Router::layer`, so that axum has matched the route first:
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! let app: Router = Router::new()
//!     .route("/agents/{name}", get(|| async { "ok" }))
//!     .layer(obs_runtime::tower::ObsLayer::new());
//! ```
//!
//! For outgoing calls, [`inject_headers`] writes `traceparent` (and
//! `tracestate`) and `X-Request-ID` into a [`HeaderMap`], e.g. for `reqwest`.

use crate::context::{RequestContext, RequestSwap};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// The request id header.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The `route` label of requests no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

pub use crate::metrics::names::HTTP_DURATION_BUCKETS;

/// The layer; see the [module documentation](self).
#[derive(Clone, Copy, Debug, Default)]
pub struct ObsLayer {
    _private: (),
}

impl ObsLayer {
    /// The layer.
    pub fn new() -> ObsLayer {
        ObsLayer::default()
    }
}

impl<S> tower_layer::Layer<S> for ObsLayer {
    type Service = ObsService<S>;
    fn layer(&self, inner: S) -> ObsService<S> {
        ObsService { inner }
    }
}

/// The service [`ObsLayer`] wraps around an inner service.
#[derive(Clone, Debug)]
pub struct ObsService<S> {
    inner: S,
}

/// A method label: the standard methods, or `_OTHER` (as the HTTP semantic
/// conventions say), so a client cannot create series at will.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(key.as_bytes()), HeaderValue::from_str(&value)) {
            self.0.insert(k, v);
        }
    }
}

/// Writes `traceparent` (and `tracestate`) of the current span and
/// `X-Request-ID` of the current [`RequestContext`] into `headers`, for an
/// outgoing call. Writes only what exists.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// obs_runtime::RequestContext::from_request_id("req-1").in_scope(|| obs_runtime::tower::inject_headers(&mut headers));
/// assert_eq!(headers["x-request-id"], "req-1");
/// ```
pub fn inject_headers(headers: &mut HeaderMap) {
    crate::trace::inject(&mut HeaderInjector(headers));
    if let Some(rc) = RequestContext::current() {
        if let Ok(v) = HeaderValue::from_str(rc.request_id()) {
            headers.insert(REQUEST_ID_HEADER, v);
        }
    }
}

/// Makes `span` continue the trace of `headers` (`traceparent`); see
/// [`crate::trace::continue_trace`].
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) -> bool {
    crate::trace::continue_trace(span, &HeaderExtractor(headers))
}

impl<S, B, R> tower_service::Service<Request<B>> for ObsService<S>
where
    S: tower_service::Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let start = Instant::now();
        let method = method_label(req.method());
        let route = req.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
        let request = match req.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()) {
            Some(id) => RequestContext::from_request_id(id),
            None => RequestContext::new(),
        };
        req.extensions_mut().insert(request.clone());
        let name = match &route {
            Some(r) => format!("{method} {r}"),
            None => method.to_string(),
        };
        let span = tracing::info_span!(
            target: "obs_runtime::http",
            "http_request",
            otel.name = %name,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            http.request.method = method,
            http.route = route.as_deref(),
            url.path = req.uri().path(),
            http.response.status_code = tracing::field::Empty,
        );
        continue_trace(&span, req.headers());
        // For an MCP server behind this layer: the HTTP span to link.
        #[cfg(any(feature = "rmcp-3", feature = "rmcp-2"))]
        if !span.is_disabled() {
            use opentelemetry::trace::TraceContextExt as _;
            use tracing_opentelemetry::OpenTelemetrySpanExt as _;
            let sc = span.context().span().span_context().clone();
            if sc.is_valid() {
                req.extensions_mut().insert(crate::trace::HttpSpan(sc));
            }
        }
        let fut = {
            let _entered = span.enter();
            request.in_scope(|| self.inner.call(req))
        };
        ResponseFuture { fut, span, request: Some(request), start, method, route }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`ObsService`].
    pub struct ResponseFuture<F> {
        #[pin]
        fut: F,
        span: tracing::Span,
        request: Option<RequestContext>,
        start: Instant,
        method: &'static str,
        route: Option<String>,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<R>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = {
            let _entered = this.span.enter();
            let _request = RequestSwap::new(this.request);
            match this.fut.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(out) => out,
            }
        };
        let elapsed = this.start.elapsed();
        let route = this.route.as_deref().unwrap_or(UNMATCHED_ROUTE);
        let status = match &out {
            Ok(resp) => {
                let code = resp.status().as_u16();
                this.span.record("http.response.status_code", code);
                if code >= 500 {
                    this.span.record(crate::semconv::OTEL_STATUS_CODE, "ERROR");
                }
                Some(code)
            }
            Err(_) => {
                this.span.record(crate::semconv::OTEL_STATUS_CODE, "ERROR");
                None
            }
        };
        record(this.method, route, status, elapsed);
        let mut out = out;
        if let (Ok(resp), Some(rc)) = (&mut out, this.request.as_ref()) {
            if let Ok(v) = HeaderValue::from_str(rc.request_id()) {
                resp.headers_mut().insert(REQUEST_ID_HEADER, v);
            }
        }
        Poll::Ready(out)
    }
}

/// Status label: the code (`"200"`), or `error` when the service failed
/// without a response.
fn record(method: &'static str, route: &str, status: Option<u16>, elapsed: std::time::Duration) {
    let digits;
    let status: &str = match status {
        Some(code) if (100..1000).contains(&code) => {
            digits = [b'0' + (code / 100) as u8, b'0' + (code / 10 % 10) as u8, b'0' + (code % 10) as u8];
            std::str::from_utf8(&digits).unwrap_or("error")
        }
        _ => "error",
    };
    use crate::metrics::names::{HTTP_DURATION, HTTP_REQUESTS};
    crate::metrics::builtin_counter(&HTTP_REQUESTS, &[("method", method), ("route", route), ("status", status)])
        .increment(1);
    crate::metrics::builtin_histogram(&HTTP_DURATION, &[("method", method), ("route", route)])
        .record(elapsed.as_secs_f64());
}
