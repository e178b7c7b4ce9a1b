//! Rotel (a Rust OpenTelemetry collector, PyPI `rotel`) as the receiver of
//! traces, metrics and logs: it prints every export in the collector's debug
//! format, and [`parse`] reads that text back into spans, metrics (with their
//! descriptors and data points, histogram buckets included) and log records,
//! each with its resource attributes.

use super::process::{free_port, ServerProcess};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

/// A running Rotel collector with the debug exporter for all three signals.
pub struct Rotel {
    process: ServerProcess,
    /// OTLP/HTTP port on 127.0.0.1.
    pub http_port: u16,
    /// OTLP/gRPC port on 127.0.0.1.
    pub grpc_port: u16,
}

impl Rotel {
    /// Starts Rotel on two free ports; panics naming the install command when
    /// its venv is missing.
    pub fn start() -> Rotel {
        let venv = super::venv("rotel", "Rotel (PyPI rotel==0.0.1a15)");
        let agent = std::fs::read_dir(venv.join("lib"))
            .ok()
            .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path().join("site-packages/rotel/rotel-agent"))))
            .unwrap_or_else(|| venv.join("lib/python3/site-packages/rotel/rotel-agent"));
        let agent = super::venv_file(&venv, agent.strip_prefix(&venv).unwrap().to_str().unwrap(), "Rotel");
        let (http_port, grpc_port) = (free_port(), free_port());
        let mut process = ServerProcess::spawn("rotel", |dir| {
            let mut c = Command::new(&agent);
            c.arg("start")
                .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
                .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc_port}")])
                .args(["--exporter", "blackhole"])
                .args(["--debug-log", "traces", "--debug-log", "metrics", "--debug-log", "logs"])
                .args(["--debug-log-verbosity", "detailed"])
                // Its defaults are shared files in /tmp: two collectors at once would clash.
                .arg("--pid-file")
                .arg(dir.join("rotel.pid"))
                .arg("--log-file")
                .arg(dir.join("rotel-agent.log"))
                .env("NO_COLOR", "1");
            c
        });
        process.wait_ready(Duration::from_secs(120), || {
            [http_port, grpc_port].iter().all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok())
        });
        Rotel { process, http_port, grpc_port }
    }

    /// `http://127.0.0.1:{http_port}` (OTLP/HTTP; the SDK appends `/v1/traces` ...).
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// `http://127.0.0.1:{grpc_port}` (OTLP/gRPC).
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// Everything Rotel printed so far.
    pub fn output(&self) -> String {
        self.process.log()
    }

    /// Everything received so far.
    pub fn received(&self) -> Received {
        parse(&self.output())
    }

    /// Polls what was received until `done` holds; panics with the output's
    /// tail after `timeout`.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&Received) -> bool) -> Received {
        let start = Instant::now();
        loop {
            let r = self.received();
            if done(&r) {
                return r;
            }
            if start.elapsed() > timeout {
                panic!(
                    "Rotel did not receive what was expected within {timeout:?} ({} spans, {} metric points, {} log records); last output:\n{}",
                    r.spans.len(),
                    r.metrics.iter().map(|m| m.points.len()).sum::<usize>(),
                    r.logs.len(),
                    self.process.log_tail(60)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// An attribute value as the debug exporter prints it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// Arrays, maps and bytes: the text inside the type's parentheses.
    Other(String, String),
}

impl Value {
    fn parse(s: &str) -> Value {
        let Some((ty, rest)) = s.split_once('(') else { return Value::Other(String::new(), s.to_string()) };
        let inner = rest.strip_suffix(')').unwrap_or(rest);
        match ty {
            "Str" => Value::Str(inner.to_string()),
            "Int" => inner.parse().map(Value::Int).unwrap_or_else(|_| Value::Other(ty.into(), inner.into())),
            "Double" => inner.parse().map(Value::Double).unwrap_or_else(|_| Value::Other(ty.into(), inner.into())),
            "Bool" => Value::Bool(inner == "true"),
            _ => Value::Other(ty.to_string(), inner.to_string()),
        }
    }

    /// The string, for `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, for `Int`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number, for `Int` and `Double`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Double(d) => Some(*d),
            _ => None,
        }
    }
}

/// Attributes by key.
pub type Attributes = BTreeMap<String, Value>;

/// A span.
#[derive(Clone, Debug, Default)]
pub struct Span {
    pub resource: Attributes,
    /// Instrumentation scope name.
    pub scope: String,
    pub trace_id: String,
    /// Empty for a root span.
    pub parent_id: String,
    pub span_id: String,
    pub name: String,
    /// `SPAN_KIND_CLIENT`, `SPAN_KIND_INTERNAL`...
    pub kind: String,
    /// `STATUS_CODE_UNSET`, `STATUS_CODE_OK` or `STATUS_CODE_ERROR`.
    pub status_code: String,
    pub status_message: String,
    pub attributes: Attributes,
    pub events: Vec<Event>,
}

/// A span event.
#[derive(Clone, Debug, Default)]
pub struct Event {
    pub name: String,
    pub attributes: Attributes,
}

/// A metric as one export carried it.
#[derive(Clone, Debug, Default)]
pub struct Metric {
    pub resource: Attributes,
    pub scope: String,
    pub name: String,
    pub description: String,
    pub unit: String,
    /// `Histogram`, `Sum`, `Gauge`, `ExponentialHistogram`...
    pub data_type: String,
    /// `AGGREGATION_TEMPORALITY_CUMULATIVE` or `..._DELTA`; empty for gauges.
    pub temporality: String,
    /// For sums.
    pub monotonic: Option<bool>,
    pub points: Vec<Point>,
}

/// A data point.
#[derive(Clone, Debug, Default)]
pub struct Point {
    pub attributes: Attributes,
    /// Sums and gauges.
    pub value: Option<f64>,
    /// Histograms.
    pub count: Option<u64>,
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Explicit bucket boundaries.
    pub bounds: Vec<f64>,
    /// Per-bucket counts (not cumulative), one more than `bounds`.
    pub bucket_counts: Vec<u64>,
    pub start_time_unix_nano: u64,
    pub time_unix_nano: u64,
}

impl Point {
    /// The attribute `key` as a string (`""` when absent or not a string).
    pub fn attr(&self, key: &str) -> &str {
        self.attributes.get(key).and_then(Value::as_str).unwrap_or("")
    }
}

/// A log record.
#[derive(Clone, Debug, Default)]
pub struct LogRecord {
    pub resource: Attributes,
    pub scope: String,
    pub severity_text: String,
    pub severity_number: String,
    /// The record's event name (`gen_ai.evaluation.result`); empty without one.
    pub event_name: String,
    pub body: Option<Value>,
    pub attributes: Attributes,
    /// Empty when the record has none.
    pub trace_id: String,
    pub span_id: String,
}

/// Everything in an output, in arrival order.
#[derive(Clone, Debug, Default)]
pub struct Received {
    pub spans: Vec<Span>,
    pub metrics: Vec<Metric>,
    pub logs: Vec<LogRecord>,
}

impl Received {
    /// The spans of one trace.
    pub fn trace(&self, trace_id: &str) -> Vec<&Span> {
        self.spans.iter().filter(|s| s.trace_id == trace_id).collect()
    }

    /// Every export of metric `name`, oldest first.
    pub fn metric_exports(&self, name: &str) -> Vec<&Metric> {
        self.metrics.iter().filter(|m| m.name == name).collect()
    }

    /// The most recent export of metric `name`.
    pub fn last_metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().rev().find(|m| m.name == name)
    }

    /// Metric names received, sorted, without repeats.
    pub fn metric_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.metrics.iter().map(|m| m.name.clone()).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Which attribute list `-> key: value` lines belong to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    None,
    Resource,
    SpanAttrs,
    EventHead,
    EventAttrs,
    Descriptor,
    PointAttrs,
    LogAttrs,
    Ignore,
}

/// Whether a physical line starts a new logical line (anything else is the
/// continuation of a multi-line string value).
fn is_structural(line: &str) -> bool {
    const HEADS: &[&str] = &[
        "ResourceSpans #",
        "ResourceMetrics #",
        "ResourceLog #",
        "Resource SchemaURL:",
        "Resource attributes:",
        "ScopeSpans #",
        "ScopeSpans SchemaURL:",
        "ScopeMetrics #",
        "ScopeMetrics SchemaURL:",
        "ScopeLogs #",
        "ScopeLogs SchemaURL:",
        "InstrumentationScope ",
        "Span #",
        "Start time:",
        "End time:",
        "Attributes:",
        "Events:",
        "SpanEvent #",
        "Links:",
        "SpanLink #",
        "Metric #",
        "Descriptor:",
        "HistogramDataPoints #",
        "ExponentialHistogramDataPoints #",
        "NumberDataPoints #",
        "SummaryDataPoints #",
        "Data point attributes:",
        "StartTimestamp:",
        "Timestamp:",
        "ObservedTimestamp:",
        "Count:",
        "Sum:",
        "Min:",
        "Max:",
        "ExplicitBounds #",
        "Buckets #",
        "Value:",
        "Exemplars:",
        "Exemplar #",
        "LogRecord #",
        "SeverityText:",
        "SeverityNumber:",
        "Body:",
        "EventName:",
        "Flags:",
        "\u{1b}[",
    ];
    let t = line.trim_start();
    if t.starts_with("-> ") || t == "->" {
        return true;
    }
    if line.starts_with("    ") && t.contains(" : ") {
        return true; // `    Trace ID       : ...`
    }
    HEADS.iter().any(|h| line.starts_with(h)) || is_collector_log(line)
}

/// Rotel's own log lines (`2026-12-01T03:43:51.802967Z  INFO ...`).
fn is_collector_log(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && line[..4].bytes().all(|c| c.is_ascii_digit())
}

/// Parses Rotel's debug output (`--debug-log-verbosity detailed`).
pub fn parse(text: &str) -> Received {
    // Join continuation lines of multi-line values first.
    let mut lines: Vec<String> = Vec::new();
    for l in text.lines() {
        match lines.last_mut() {
            Some(last) if !is_structural(l) => {
                last.push('\n');
                last.push_str(l);
            }
            _ => lines.push(l.to_string()),
        }
    }

    #[derive(PartialEq)]
    enum Signal {
        None,
        Spans,
        Metrics,
        Logs,
    }
    let mut out = Received::default();
    let mut signal = Signal::None;
    let mut resource = Attributes::new();
    let mut scope = String::new();
    let mut target = Target::None;
    for line in &lines {
        let t = line.trim_start();
        if line.starts_with("ResourceSpans #") {
            (signal, resource, target) = (Signal::Spans, Attributes::new(), Target::None);
        } else if line.starts_with("ResourceMetrics #") {
            (signal, resource, target) = (Signal::Metrics, Attributes::new(), Target::None);
        } else if line.starts_with("ResourceLog #") {
            (signal, resource, target) = (Signal::Logs, Attributes::new(), Target::None);
        } else if line.starts_with("Resource attributes:") {
            target = Target::Resource;
        } else if let Some(s) = line.strip_prefix("InstrumentationScope ") {
            scope = s.split_whitespace().next().unwrap_or("").to_string();
            target = Target::None;
        } else if line.starts_with("Span #") {
            out.spans.push(Span { resource: resource.clone(), scope: scope.clone(), ..Span::default() });
            target = Target::None;
        } else if line.starts_with("Attributes:") {
            target = match signal {
                Signal::Spans => Target::SpanAttrs,
                Signal::Logs => Target::LogAttrs,
                _ => Target::Ignore,
            };
        } else if line.starts_with("Events:") {
            target = Target::Ignore;
        } else if line.starts_with("SpanEvent #") {
            if let Some(s) = out.spans.last_mut() {
                s.events.push(Event::default());
            }
            target = Target::EventHead;
        } else if line.starts_with("Links:") || line.starts_with("SpanLink #") || line.starts_with("Exemplar") {
            target = Target::Ignore;
        } else if line.starts_with("Metric #") {
            out.metrics.push(Metric { resource: resource.clone(), scope: scope.clone(), ..Metric::default() });
            target = Target::None;
        } else if line.starts_with("Descriptor:") {
            target = Target::Descriptor;
        } else if line.starts_with("HistogramDataPoints #")
            || line.starts_with("NumberDataPoints #")
            || line.starts_with("ExponentialHistogramDataPoints #")
            || line.starts_with("SummaryDataPoints #")
        {
            if let Some(m) = out.metrics.last_mut() {
                m.points.push(Point::default());
            }
            target = Target::None;
        } else if line.starts_with("Data point attributes:") {
            target = Target::PointAttrs;
        } else if line.starts_with("LogRecord #") {
            out.logs.push(LogRecord { resource: resource.clone(), scope: scope.clone(), ..LogRecord::default() });
            target = Target::None;
        } else if let Some(kv) = t.strip_prefix("-> ") {
            let (k, v) = kv.split_once(": ").unwrap_or((kv.trim_end_matches(':'), ""));
            apply_arrow(&mut out, target, &mut resource, k, v);
            if target == Target::EventHead && k == "Attributes" {
                target = Target::EventAttrs;
            }
        } else if let Some((k, v)) = t.split_once(" : ").filter(|_| line.starts_with("    ")) {
            let (k, v) = (k.trim(), v.trim_start().to_string());
            match signal {
                Signal::Spans => {
                    if let Some(s) = out.spans.last_mut() {
                        match k {
                            "Trace ID" => s.trace_id = v,
                            "Parent ID" => s.parent_id = v,
                            "ID" => s.span_id = v,
                            "Name" => s.name = v,
                            "Kind" => s.kind = v,
                            "Status code" => s.status_code = v,
                            "Status message" => s.status_message = v,
                            _ => {}
                        }
                    }
                }
                Signal::Logs => {
                    if let Some(r) = out.logs.last_mut() {
                        match k {
                            "Trace ID" => r.trace_id = v,
                            "Span ID" => r.span_id = v,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        } else if let Some((k, v)) = line.split_once(": ").or_else(|| line.strip_suffix(':').map(|k| (k, ""))) {
            field(&mut out, signal == Signal::Metrics, signal == Signal::Logs, k, v);
        }
    }
    out
}

/// A `-> key: value` line.
fn apply_arrow(out: &mut Received, target: Target, resource: &mut Attributes, k: &str, v: &str) {
    let value = || Value::parse(v);
    match target {
        Target::Resource => {
            resource.insert(k.to_string(), value());
        }
        Target::SpanAttrs => {
            if let Some(s) = out.spans.last_mut() {
                s.attributes.insert(k.to_string(), value());
            }
        }
        Target::EventHead => {
            if k == "Name" {
                if let Some(e) = out.spans.last_mut().and_then(|s| s.events.last_mut()) {
                    e.name = v.to_string();
                }
            }
        }
        Target::EventAttrs => {
            if let Some(e) = out.spans.last_mut().and_then(|s| s.events.last_mut()) {
                e.attributes.insert(k.to_string(), value());
            }
        }
        Target::Descriptor => {
            if let Some(m) = out.metrics.last_mut() {
                match k {
                    "Name" => m.name = v.to_string(),
                    "Description" => m.description = v.to_string(),
                    "Unit" => m.unit = v.to_string(),
                    "DataType" => m.data_type = v.to_string(),
                    "IsMonotonic" => m.monotonic = Some(v == "true"),
                    "AggregationTemporality" => m.temporality = v.to_string(),
                    _ => {}
                }
            }
        }
        Target::PointAttrs => {
            if let Some(p) = out.metrics.last_mut().and_then(|m| m.points.last_mut()) {
                p.attributes.insert(k.to_string(), value());
            }
        }
        Target::LogAttrs => {
            if let Some(r) = out.logs.last_mut() {
                r.attributes.insert(k.to_string(), value());
            }
        }
        Target::None | Target::Ignore => {}
    }
}

/// A `Key: value` line of a data point or a log record.
fn field(out: &mut Received, metrics: bool, logs: bool, k: &str, v: &str) {
    let num = || v.trim().parse::<f64>().ok();
    if metrics {
        let Some(p) = out.metrics.last_mut().and_then(|m| m.points.last_mut()) else { return };
        match k {
            "StartTimestamp" => p.start_time_unix_nano = v.trim().parse().unwrap_or(0),
            "Timestamp" => p.time_unix_nano = v.trim().parse().unwrap_or(0),
            "Count" => p.count = v.trim().parse().ok(),
            "Sum" => p.sum = num(),
            "Min" => p.min = num(),
            "Max" => p.max = num(),
            "Value" => p.value = num(),
            _ if k.starts_with("ExplicitBounds #") => p.bounds.extend(num()),
            // `Buckets #2, Count: 1`
            _ if k.starts_with("Buckets #") => p.bucket_counts.extend(v.trim().parse::<u64>().ok()),
            _ => {}
        }
    } else if logs {
        let Some(r) = out.logs.last_mut() else { return };
        match k {
            "SeverityText" => r.severity_text = v.to_string(),
            "SeverityNumber" => r.severity_number = v.to_string(),
            "EventName" => r.event_name = v.to_string(),
            "Body" => r.body = Some(Value::parse(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real output of Rotel 0.0.1a15 for one export of each signal (from the
    /// Python SDK), trimmed.
    const SAMPLE: &str = include_str!("rotel_sample.txt");

    #[test]
    fn parses_every_signal() {
        let r = parse(SAMPLE);
        assert_eq!(r.spans.len(), 2, "{r:#?}");
        let chat = &r.spans[0];
        assert_eq!(chat.name, "chat gpt-4o");
        assert_eq!(chat.kind, "SPAN_KIND_CLIENT");
        assert_eq!(chat.status_code, "STATUS_CODE_ERROR");
        assert_eq!(chat.status_message, "boom happened");
        assert_eq!(chat.trace_id, "cd66e7c8e3631d206ccfe2b34df3742a");
        assert_eq!(chat.parent_id, "9c5771cbb21abb1e");
        assert_eq!(chat.span_id, "20ecc2f188b5715d");
        assert_eq!(chat.scope, "obs");
        assert_eq!(chat.attributes["gen_ai.usage.input_tokens"], Value::Int(10));
        assert_eq!(chat.attributes["obs.cost.usd"], Value::Double(0.000225));
        assert_eq!(chat.attributes["flag"], Value::Bool(true));
        assert_eq!(chat.attributes["list"], Value::Other("Slice".into(), "Str(a), Str(b)".into()));
        assert_eq!(chat.events.len(), 1);
        assert_eq!(chat.events[0].name, "exception");
        assert_eq!(chat.events[0].attributes["exception.type"], Value::Str("ValueError".into()));
        assert!(chat.events[0].attributes["exception.stacktrace"].as_str().unwrap().ends_with("ValueError: boom\n"));
        assert_eq!(chat.resource["service.name"], Value::Str("py-agents".into()));
        let root = &r.spans[1];
        assert_eq!((root.name.as_str(), root.parent_id.as_str()), ("invoke_agent planner", ""));
        assert_eq!(root.status_code, "STATUS_CODE_UNSET");

        assert_eq!(r.logs.len(), 1);
        let log = &r.logs[0];
        assert_eq!(log.body, Some(Value::Str("hello log with \"quotes\"\nsecond line".into())));
        assert_eq!(log.severity_text, "WARN");
        assert_eq!(log.severity_number, "SEVERITY_NUMBER_WARN(13)");
        assert_eq!(log.trace_id, "cd66e7c8e3631d206ccfe2b34df3742a");
        assert_eq!(log.span_id, "20ecc2f188b5715d");
        assert_eq!(log.attributes["code.line.number"], Value::Int(35));
        assert_eq!(log.resource["deployment.environment"], Value::Str("test".into()));

        assert_eq!(r.metric_names(), ["gen_ai.client.token.usage", "in_flight", "llm_calls_total"]);
        assert_eq!(r.metric_exports("llm_calls_total").len(), 2);
        let h = r.last_metric("gen_ai.client.token.usage").unwrap();
        assert_eq!((h.unit.as_str(), h.data_type.as_str()), ("{token}", "Histogram"));
        assert_eq!(h.temporality, "AGGREGATION_TEMPORALITY_CUMULATIVE");
        let p = &h.points[0];
        assert_eq!(p.attr("gen_ai.token.type"), "input");
        assert_eq!((p.count, p.sum, p.min, p.max), (Some(2), Some(110.0), Some(10.0), Some(100.0)));
        assert_eq!(p.bounds, [1.0, 4.0, 16.0, 64.0]);
        assert_eq!(p.bucket_counts, [0, 0, 1, 0, 1]);
        let c = r.last_metric("llm_calls_total").unwrap();
        assert_eq!((c.data_type.as_str(), c.monotonic), ("Sum", Some(true)));
        assert_eq!(c.points[0].value, Some(3.0));
        assert_eq!(c.points[0].attr("status"), "success");
        assert_eq!(r.last_metric("in_flight").unwrap().monotonic, Some(false));
    }
}
