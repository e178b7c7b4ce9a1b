//! Shared by the `layer_*` tests: an application's own layer, instrumented
//! calls, and the checks that both the application's layer and obs's log
//! lines saw every span, with trace ids.

use obs_runtime::export::logs::{LogBuffer, LogOutput};
use obs_runtime::{track_execution, track_tool};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// What the application's own layer saw: span names as they were created,
/// and event messages.
#[derive(Clone, Default)]
pub struct AppLayer {
    pub spans: Arc<Mutex<Vec<String>>>,
    pub events: Arc<Mutex<Vec<String>>>,
}

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        if f.name() == "message" {
            self.0 = format!("{v:?}");
        }
    }
    fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
        if f.name() == "message" {
            self.0 = v.to_string();
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for AppLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _cx: Context<'_, S>) {
        self.spans.lock().unwrap().push(attrs.metadata().name().to_string());
    }
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        let mut m = Message(String::new());
        event.record(&mut m);
        self.events.lock().unwrap().push(m.0);
    }
}

#[derive(Debug)]
pub struct ToolError;

#[track_tool(name = "web_search")]
fn search(q: &str) -> Result<usize, ToolError> {
    tracing::info!("searching");
    Ok(q.len())
}

#[track_execution(agent = "researcher")]
fn research(topic: &str) -> Result<usize, ToolError> {
    let n = search(topic)?;
    tracing::info!(hits = n, "researched");
    Ok(n)
}

/// A JSON-lines log exporter into `buf`, through `obs_runtime::layer()`.
pub fn builder(buf: &LogBuffer) -> obs_runtime::Builder {
    obs_runtime::Builder::new()
        .exporters(&["logs"])
        .log_format(obs_runtime::export::logs::LogFormat::Json)
        .log_filter("info")
        .log_output(LogOutput::Buffer(buf.clone()))
}

/// Runs one request (an application span around an agent that calls a tool)
/// and checks what the application's layer and obs's lines saw.
pub fn run_and_check(app: &AppLayer, buf: &LogBuffer, guard: &mut obs_runtime::ObsGuard) {
    let request = tracing::info_span!("handle_request");
    let ids = {
        let _e = request.enter();
        let ids = obs_runtime::trace::current().expect("the application's span has W3C ids");
        assert_eq!(research("rust").ok(), Some(4), "instrumentation must not change the result");
        ids
    };
    drop(request);
    guard.flush();

    // The application's layer saw every span and every event.
    let spans = app.spans.lock().unwrap().clone();
    assert_eq!(spans, ["handle_request", "invoke_agent researcher", "execute_tool web_search"], "{spans:?}");
    let events = app.events.lock().unwrap().clone();
    assert!(events.iter().any(|e| e == "searching") && events.iter().any(|e| e == "researched"), "{events:?}");

    // obs's lines: one per event, in the request's trace, each with the span
    // id of its own (instrumented) span.
    let lines: Vec<Value> = buf.lines().iter().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let line = |msg: &str| {
        lines.iter().find(|l| l["message"] == msg).unwrap_or_else(|| panic!("no `{msg}` line in {lines:?}")).clone()
    };
    let (searching, researched) = (line("searching"), line("researched"));
    let trace_id = ids.trace_id.to_string();
    for l in [&searching, &researched] {
        assert_eq!(l["trace_id"], trace_id.as_str(), "{l}");
        assert_eq!(l["agent"], "researcher", "{l}");
        assert_eq!(l["span_id"].as_str().map(str::len), Some(16), "{l}");
        assert_ne!(l["span_id"], ids.span_id.to_string().as_str(), "the instrumented span's own id: {l}");
    }
    assert_eq!(searching["tool"], "web_search");
    assert_ne!(searching["span_id"], researched["span_id"]);
    assert_eq!(researched["hits"], 4);
}
