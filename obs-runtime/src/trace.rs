//! Trace context: W3C trace and span ids for `tracing` spans, and
//! `traceparent`/`tracestate` propagation.
//!
//! The ids come from the OpenTelemetry SDK: [`crate::layer()`] bridges
//! `tracing` spans into one [`SdkTracerProvider`] with `tracing-opentelemetry`,
//! so the `trace_id`/`span_id` of a log line are the ids the OTLP exporter
//! sends. The provider assigns ids, samples (`OTEL_TRACES_SAMPLER` and
//! `OTEL_TRACES_SAMPLER_ARG`; parent-based always-on by default), tags spans
//! started inside a [`RequestContext`] with
//! its ids, and hands ended spans to the OTLP exporter when `init()` started
//! one.
//!
//! Head sampling decides which traces are kept, not what is counted: metrics
//! count every call, sampled or not.
//!
//! Without obs's layer in the subscriber in force (`init()` installs one with
//! it when the application has none), [`current`] is `None` and [`inject`]
//! writes nothing. This module never panics and never blocks.

use crate::context::RequestContext;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanProcessor};
use std::sync::OnceLock;
use tracing_opentelemetry::OpenTelemetrySpanExt;

pub use opentelemetry::trace::{SpanId, TraceId};

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Where ended spans go once an exporter (OTLP) is started. The provider is
/// built before `init()` knows its exporters (the layer may come first), so
/// its one processor forwards to this slot rather than owning an exporter.
type SpanSink = Box<dyn Fn(SpanData) + Send + Sync>;
static SPAN_SINK: OnceLock<SpanSink> = OnceLock::new();

/// Sends every sampled span that ends from now on to `sink` (once per
/// process; a second call is ignored).
#[cfg(feature = "otlp")]
pub(crate) fn set_span_sink(sink: SpanSink) {
    let _ = SPAN_SINK.set(sink);
}

/// Whether spans are exported: then every instrumented call has a span,
/// whatever `OBS_LOG_SPANS` shows in log lines.
pub(crate) fn exporting() -> bool {
    SPAN_SINK.get().is_some()
}

thread_local! {
    static SUPPRESSED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the current thread as an exporter's: its spans and log records are
/// not exported (sending them would make more of them).
#[cfg(feature = "otlp")]
pub(crate) fn suppress_on_this_thread() {
    SUPPRESSED.with(|s| s.set(true));
}

/// Whether the current thread is an exporter's.
pub(crate) fn suppressed() -> bool {
    SUPPRESSED.with(|s| s.get())
}

/// The process's tracer provider. It may be built by [`crate::layer()`]
/// before `init()` runs, so its service name comes from `OTEL_SERVICE_NAME`
/// (the SDK's resource detectors read it).
pub(crate) fn provider() -> &'static SdkTracerProvider {
    PROVIDER.get_or_init(|| {
        let resource = opentelemetry_sdk::Resource::builder().build();
        SdkTracerProvider::builder().with_resource(resource).with_span_processor(RequestAttributes).build()
    })
}

/// The `tracing` layer that gives spans their OpenTelemetry ids. Per-span
/// extras that cost without an exporter (thread names, inactivity timings,
/// code locations) are off.
pub(crate) fn layer<S>() -> tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    crate::call::enable_span_events();
    let tracer = provider().tracer("obs");
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_location(false)
        .with_level(false)
        .with_target(false)
}

/// The span of the HTTP request an MCP message arrived in: obs's tower
/// layer puts it in the request's extensions, and the MCP server links it
/// (the caller's span from `_meta` is the parent).
#[cfg(any(feature = "rmcp-3", feature = "rmcp-2"))]
#[derive(Clone, Debug)]
pub(crate) struct HttpSpan(pub(crate) opentelemetry::trace::SpanContext);

/// The W3C ids of a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceIds {
    /// 16 bytes; shown as 32 lowercase hex digits.
    pub trace_id: TraceId,
    /// 8 bytes; shown as 16 lowercase hex digits.
    pub span_id: SpanId,
    /// The sampled flag.
    pub sampled: bool,
}

impl TraceIds {
    /// The `traceparent` header value (`00-{trace_id}-{span_id}-{flags}`).
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-{:02x}", self.trace_id, self.span_id, u8::from(self.sampled))
    }

    pub(crate) fn of_context(cx: &opentelemetry::Context) -> Option<TraceIds> {
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| TraceIds { trace_id: sc.trace_id(), span_id: sc.span_id(), sampled: sc.is_sampled() })
    }
}

/// The ids of span `id` of the subscriber `dispatch` (a layer's own,
/// from `on_register_dispatch`), when the OpenTelemetry layer gave it some.
pub(crate) fn ids_of_id(
    dispatch: &std::sync::OnceLock<tracing::dispatcher::WeakDispatch>,
    id: &tracing::span::Id,
) -> Option<TraceIds> {
    let dispatch = dispatch.get()?.upgrade()?;
    TraceIds::of_context(&tracing_opentelemetry::get_otel_context(id, &dispatch)?)
}

/// The ids of the current `tracing` span, when it has them.
///
/// ```
/// // Without `init()` there is no bridge, hence no ids.
/// assert_eq!(obs_runtime::trace::current(), None);
/// ```
pub fn current() -> Option<TraceIds> {
    ids_of(&tracing::Span::current())
}

/// The ids of `span`, when it has them.
pub fn ids_of(span: &tracing::Span) -> Option<TraceIds> {
    if span.is_disabled() {
        return None;
    }
    TraceIds::of_context(&span.context())
}

/// The W3C propagators: `traceparent`/`tracestate`, then `baggage`.
fn propagator() -> opentelemetry::propagation::TextMapCompositePropagator {
    opentelemetry::propagation::TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(opentelemetry_sdk::propagation::BaggagePropagator::new()),
    ])
}

/// Drops empty values: the SDK writes `tracestate: ""` when there is none.
struct NonEmpty<'a>(&'a mut dyn Injector);

impl Injector for NonEmpty<'_> {
    fn set(&mut self, key: &str, value: String) {
        if !value.is_empty() {
            self.0.set(key, value);
        }
    }
}

/// Writes `traceparent` (and `tracestate` and `baggage`, when not empty) for
/// the current span into `carrier`; writes nothing outside a span with ids.
/// The baggage is the current OpenTelemetry context's
/// (`opentelemetry::Context::current_with_baggage(..).attach()`), or what
/// [`extract`] returned and the caller attached.
pub fn inject(carrier: &mut dyn Injector) {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return;
    }
    let cx = span.context();
    if cx.span().span_context().is_valid() {
        use opentelemetry::baggage::BaggageExt as _;
        let current = opentelemetry::Context::current();
        let cx = cx.with_baggage(
            current
                .baggage()
                .iter()
                .map(|(k, (v, m))| opentelemetry::baggage::KeyValueMetadata::new(k.clone(), v.clone(), m.clone())),
        );
        propagator().inject_context(&cx, &mut NonEmpty(carrier));
    }
}

/// Reads `traceparent`/`tracestate` and `baggage` from `carrier`: the remote
/// parent and the baggage, as an OpenTelemetry context (empty when absent or
/// malformed).
pub fn extract(carrier: &dyn Extractor) -> opentelemetry::Context {
    // From an empty context: `extract` alone starts from the current one,
    // which tracing-opentelemetry sets to the entered span's, so a carrier
    // without `traceparent` would name that span as its remote parent.
    propagator().extract_with_context(&opentelemetry::Context::new(), carrier)
}

/// Makes `span` continue the trace in `carrier` (`traceparent` from a caller).
/// Must be called before the span is entered. Returns whether a valid remote
/// parent was found and set.
pub fn continue_trace(span: &tracing::Span, carrier: &dyn Extractor) -> bool {
    let parent = extract(carrier);
    if span.is_disabled() || !parent.span().span_context().is_valid() {
        return false;
    }
    span.set_parent(parent).is_ok()
}

/// Tags every span started inside a request with the request's ids
/// (`obs.request_id`, `user.id`, `obs.tenant_id`, `gen_ai.conversation.id`),
/// so an exporter sends them on each span; hands ended spans to the exporter.
#[derive(Debug)]
struct RequestAttributes;

impl SpanProcessor for RequestAttributes {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {
        use opentelemetry::trace::Span as _;
        let Some(rc) = RequestContext::current() else { return };
        for (k, v) in rc.fields() {
            let key = match k {
                "request_id" => crate::semconv::OBS_REQUEST_ID,
                "user_id" => crate::semconv::USER_ID,
                "tenant_id" => crate::semconv::OBS_TENANT_ID,
                "conversation_id" => crate::semconv::GEN_AI_CONVERSATION_ID,
                _ => continue,
            };
            span.set_attribute(KeyValue::new(key, v.to_string()));
        }
    }
    fn on_end(&self, mut span: SpanData) {
        if let Some(sink) = SPAN_SINK.get() {
            if span.span_context.is_sampled() && !suppressed() {
                finish_reasons_as_array(&mut span);
                cut_values(&mut span);
                sink(span);
            }
        }
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

/// Longest text value of an exported span attribute: what a log line keeps
/// of a value (`export::logs::MAX_VALUE_BYTES`, which checks they agree).
pub(crate) const MAX_ATTRIBUTE_BYTES: usize = 16 * 1024;

/// Cuts every text value of the span's attributes and events to
/// [`MAX_ATTRIBUTE_BYTES`] (16 KiB), ending it with `…`: a user's `fields(..)`, or another
/// library's span, may record a value of any size, and an exporter's request
/// must stay bounded. Captured content (`gen_ai.input.messages`, ...) has
/// its own bound, `OBS_CAPTURE_MAX_BYTES`, and valid JSON to keep: left as is.
fn cut_values(span: &mut SpanData) {
    use crate::semconv::{
        GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_TOOL_CALL_ARGUMENTS, GEN_AI_TOOL_CALL_RESULT,
    };
    const MAX: usize = MAX_ATTRIBUTE_BYTES;
    fn cut(s: &mut opentelemetry::StringValue) {
        if s.as_str().len() > MAX {
            let cut = crate::metrics::registry::cut(s.as_str(), MAX).into_owned();
            *s = cut.into();
        }
    }
    let events = span.events.events.iter_mut().flat_map(|e| e.attributes.iter_mut());
    for kv in span.attributes.iter_mut().chain(events) {
        if matches!(
            kv.key.as_str(),
            GEN_AI_INPUT_MESSAGES | GEN_AI_OUTPUT_MESSAGES | GEN_AI_TOOL_CALL_ARGUMENTS | GEN_AI_TOOL_CALL_RESULT
        ) {
            continue;
        }
        match &mut kv.value {
            opentelemetry::Value::String(s) => cut(s),
            opentelemetry::Value::Array(opentelemetry::Array::String(list)) => list.iter_mut().for_each(cut),
            _ => {}
        }
    }
}

/// `gen_ai.response.finish_reasons` is a string array in the conventions; a
/// `tracing` field cannot hold one, so the span records the list as text
/// (`["stop"]`) and it becomes an array here, on its way to an exporter.
fn finish_reasons_as_array(span: &mut SpanData) {
    for kv in span.attributes.iter_mut() {
        if kv.key.as_str() != crate::semconv::GEN_AI_RESPONSE_FINISH_REASONS {
            continue;
        }
        if let opentelemetry::Value::String(s) = &kv.value {
            if let Ok(list) = serde_json::from_str::<Vec<String>>(s.as_str()) {
                let list = list.into_iter().map(opentelemetry::StringValue::from).collect();
                kv.value = opentelemetry::Value::Array(opentelemetry::Array::String(list));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn ids_propagate_through_headers_and_children() {
        let subscriber = tracing_subscriber::registry().with(layer());
        tracing::subscriber::with_default(subscriber, || {
            let mut incoming = HashMap::new();
            incoming.insert(
                "traceparent".to_string(),
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string(),
            );
            let server = tracing::info_span!("server");
            assert!(continue_trace(&server, &incoming));
            let _e = server.enter();
            let ids = current().expect("ids");
            assert_eq!(ids.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
            assert_ne!(ids.span_id.to_string(), "00f067aa0ba902b7");
            let child = tracing::info_span!("child");
            let child_ids = ids_of(&child).unwrap();
            assert_eq!(child_ids.trace_id, ids.trace_id);
            assert_ne!(child_ids.span_id, ids.span_id);
            let mut out: HashMap<String, String> = HashMap::new();
            inject(&mut out);
            assert_eq!(out.get("traceparent"), Some(&ids.traceparent()));
            assert_eq!(out.get("tracestate"), None, "no empty tracestate");
            assert_eq!(out.get("baggage"), None);

            // Baggage from a caller travels on.
            use opentelemetry::baggage::BaggageExt as _;
            incoming.insert("baggage".to_string(), "tenant=acme,plan=pro".to_string());
            let remote = extract(&incoming);
            assert_eq!(remote.baggage().get("tenant").map(|v| v.to_string()), Some("acme".to_string()));
            let _attached = remote.attach();
            let mut out: HashMap<String, String> = HashMap::new();
            inject(&mut out);
            let mut sent: Vec<&str> = out.get("baggage").expect("baggage").split(',').collect();
            sent.sort_unstable();
            assert_eq!(sent, ["plan=pro", "tenant=acme"]);
        });
    }

    #[test]
    fn malformed_traceparent_starts_a_new_trace() {
        let subscriber = tracing_subscriber::registry().with(layer());
        tracing::subscriber::with_default(subscriber, || {
            let mut incoming = HashMap::new();
            incoming.insert("traceparent".to_string(), "00-zzzz-01".to_string());
            let server = tracing::info_span!("server");
            assert!(!continue_trace(&server, &incoming));
            assert!(ids_of(&server).is_some());
        });
    }

    /// A span's name and attributes.
    type Ended = (String, Vec<(String, String)>);

    /// Keeps ended spans' attributes.
    #[derive(Debug, Default, Clone)]
    struct Keep(std::sync::Arc<std::sync::Mutex<Vec<Ended>>>);

    impl SpanProcessor for Keep {
        fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}
        fn on_end(&self, span: SpanData) {
            let attrs = span.attributes.iter().map(|kv| (kv.key.to_string(), kv.value.to_string())).collect();
            self.0.lock().unwrap().push((span.name.to_string(), attrs));
        }
        fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult {
            Ok(())
        }
    }

    #[test]
    fn spans_started_inside_a_request_carry_its_ids() {
        let keep = Keep::default();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(RequestAttributes)
            .with_span_processor(keep.clone())
            .build();
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("t")));
        tracing::subscriber::with_default(subscriber, || {
            RequestContext::from_request_id("req-9").with_user_id("u-2").with_conversation_id("c-5").in_scope(|| {
                let _s = tracing::info_span!("inside").entered();
            });
            let _s = tracing::info_span!("outside").entered();
        });
        let spans = keep.0.lock().unwrap().clone();
        let attrs = |name: &str| spans.iter().find(|(n, _)| n == name).map(|(_, a)| a.clone()).unwrap();
        let inside = attrs("inside");
        for (k, v) in [("obs.request_id", "req-9"), ("user.id", "u-2"), ("gen_ai.conversation.id", "c-5")] {
            assert!(inside.contains(&(k.to_string(), v.to_string())), "{k}: {inside:?}");
        }
        assert!(!inside.iter().any(|(k, _)| k == "obs.tenant_id"));
        assert!(!attrs("outside").iter().any(|(k, _)| k == "obs.request_id"));
    }
}
