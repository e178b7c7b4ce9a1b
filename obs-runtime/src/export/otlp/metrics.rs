//! obs's registry as OTLP metrics: every family of the `/metrics` page, read
//! at each export interval, with the same values, histograms as
//! explicit-bucket histograms with their boundaries.
//!
//! Nothing is re-recorded: the hot path writes obs's cells as it always does,
//! and this module reads them every `OTEL_METRIC_EXPORT_INTERVAL` (60 s by
//! default), like a Prometheus scrape. Families keep their Prometheus names
//! (with the `OBS_NAMESPACE` prefix), so a collector that re-exports to
//! Prometheus shows the same series, except the two GenAI metrics and the
//! four MCP metrics of the semantic conventions, which go under their OTel
//! names and attribute keys (`gen_ai.client.token.usage` in `{token}`,
//! `gen_ai.client.operation.duration`, `mcp.client.operation.duration`,
//! `mcp.server.operation.duration`, `mcp.client.session.duration` and
//! `mcp.server.session.duration` in `s`).

use super::config::Temporality;
use crate::metrics::names;
use crate::metrics::registry::{registry, MetricKind, Series};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1 as pm;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The OTel name, unit and attribute-key mapping of a family.
struct Naming {
    name: String,
    unit: &'static str,
    semconv_keys: bool,
}

fn naming(prom: &str, namespace: Option<&str>) -> Naming {
    if prom == names::GENAI_TOKEN_USAGE.name {
        return Naming { name: "gen_ai.client.token.usage".into(), unit: "{token}", semconv_keys: true };
    }
    if prom == names::GENAI_DURATION.name {
        return Naming { name: "gen_ai.client.operation.duration".into(), unit: "s", semconv_keys: true };
    }
    // The MCP conventions' four histograms, under their own names too.
    for (b, otel) in [
        (&names::MCP_CLIENT_DURATION, "mcp.client.operation.duration"),
        (&names::MCP_SERVER_DURATION, "mcp.server.operation.duration"),
        (&names::MCP_CLIENT_SESSION, "mcp.client.session.duration"),
        (&names::MCP_SERVER_SESSION, "mcp.server.session.duration"),
    ] {
        if prom == b.name {
            return Naming { name: otel.into(), unit: "s", semconv_keys: true };
        }
    }
    let unit = if prom.ends_with("_seconds") {
        "s"
    } else if prom.contains("_usd") {
        "USD"
    } else if prom.ends_with("_bytes") {
        "By"
    } else if prom.contains("tokens") {
        "{token}"
    } else {
        "1"
    };
    let name = match namespace {
        Some(ns) => format!("{ns}_{prom}"),
        None => prom.to_string(),
    };
    Naming { name, unit, semconv_keys: false }
}

/// `gen_ai_request_model` → `gen_ai.request.model`, for the semconv metrics.
fn semconv_key(label: &str) -> String {
    match label {
        "gen_ai_operation_name" => "gen_ai.operation.name".into(),
        "gen_ai_provider_name" => "gen_ai.provider.name".into(),
        "gen_ai_request_model" => "gen_ai.request.model".into(),
        "gen_ai_response_model" => "gen_ai.response.model".into(),
        "gen_ai_token_type" => "gen_ai.token.type".into(),
        "error_type" => "error.type".into(),
        "server_address" => "server.address".into(),
        "server_port" => "server.port".into(),
        "mcp_method_name" => "mcp.method.name".into(),
        "mcp_protocol_version" => "mcp.protocol.version".into(),
        "gen_ai_tool_name" => "gen_ai.tool.name".into(),
        "gen_ai_prompt_name" => "gen_ai.prompt.name".into(),
        "rpc_response_status_code" => "rpc.response.status_code".into(),
        "network_transport" => "network.transport".into(),
        other => other.to_string(),
    }
}

pub(crate) fn string_kv(key: impl Into<String>, v: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

/// An OpenTelemetry attribute value as OTLP's.
pub(crate) fn any_value(v: &opentelemetry::Value) -> AnyValue {
    use opentelemetry::{Array, Value};
    let value = match v {
        Value::Bool(b) => any_value::Value::BoolValue(*b),
        Value::I64(i) => any_value::Value::IntValue(*i),
        Value::F64(f) => any_value::Value::DoubleValue(*f),
        Value::String(s) => any_value::Value::StringValue(s.to_string()),
        Value::Array(a) => {
            let values = match a {
                Array::Bool(v) => v.iter().map(|b| opentelemetry::Value::Bool(*b)).collect::<Vec<_>>(),
                Array::I64(v) => v.iter().map(|i| opentelemetry::Value::I64(*i)).collect(),
                Array::F64(v) => v.iter().map(|f| opentelemetry::Value::F64(*f)).collect(),
                Array::String(v) => v.iter().map(|s| opentelemetry::Value::String(s.clone())).collect(),
                _ => Vec::new(),
            };
            any_value::Value::ArrayValue(opentelemetry_proto::tonic::common::v1::ArrayValue {
                values: values.iter().map(any_value).collect(),
            })
        }
        other => any_value::Value::StringValue(other.to_string()),
    };
    AnyValue { value: Some(value) }
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// What a series held at the last export, for delta temporality.
#[derive(Clone)]
enum Prev {
    Count(u64),
    Hist { buckets: Vec<u64>, count: u64, sum: f64 },
}

/// Turns registry reads into export requests; keeps what delta needs.
pub(crate) struct Reader {
    resource: opentelemetry_proto::tonic::resource::v1::Resource,
    namespace: Option<String>,
    temporality: Temporality,
    start: SystemTime,
    last: SystemTime,
    prev: HashMap<(String, Vec<(String, String)>), Prev>,
}

impl Reader {
    pub(crate) fn new(
        resource: &opentelemetry_sdk::Resource,
        namespace: Option<String>,
        temporality: Temporality,
    ) -> Reader {
        let attributes = resource
            .iter()
            .map(|(k, v)| KeyValue { key: k.to_string(), value: Some(any_value(v)), ..Default::default() })
            .collect();
        let now = SystemTime::now();
        Reader {
            resource: opentelemetry_proto::tonic::resource::v1::Resource { attributes, ..Default::default() },
            namespace,
            temporality,
            start: now,
            last: now,
            prev: HashMap::new(),
        }
    }

    /// Every family now, as one request.
    pub(crate) fn read(&mut self) -> ExportMetricsServiceRequest {
        crate::process::refresh();
        crate::conversation::sweep();
        let now = SystemTime::now();
        let delta = self.temporality != Temporality::Cumulative;
        let (monotonic_temporality, start) = if delta {
            (pm::AggregationTemporality::Delta as i32, nanos(self.last))
        } else {
            (pm::AggregationTemporality::Cumulative as i32, nanos(self.start))
        };
        let cumulative = pm::AggregationTemporality::Cumulative as i32;
        let time = nanos(now);
        let mut metrics = Vec::new();
        for fam in registry().families() {
            let naming = naming(fam.name(), self.namespace.as_deref());
            let kind = fam.kind();
            let mut numbers = Vec::new();
            let mut hists = Vec::new();
            fam.for_each_series(|labels, series| {
                let attributes: Vec<KeyValue> = labels
                    .iter()
                    .map(|(k, v)| {
                        let key = if naming.semconv_keys { semconv_key(k) } else { k.to_string() };
                        string_kv(key, v.to_string())
                    })
                    .collect();
                let key =
                    || (fam.name().to_string(), labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
                match series {
                    Series::Counter(c) => {
                        let raw = c.get();
                        let shown = if delta {
                            let before = match self.prev.insert(key(), Prev::Count(raw)) {
                                Some(Prev::Count(b)) => b,
                                _ => 0,
                            };
                            raw.saturating_sub(before)
                        } else {
                            raw
                        };
                        let value = match kind {
                            MetricKind::ScaledCounter { scale } => {
                                pm::number_data_point::Value::AsDouble(shown as f64 * scale)
                            }
                            _ => pm::number_data_point::Value::AsInt(shown as i64),
                        };
                        numbers.push(number(attributes, start, time, value));
                    }
                    Series::UpDown(g) => {
                        let value = pm::number_data_point::Value::AsInt(g.get());
                        numbers.push(number(attributes, nanos(self.start), time, value));
                    }
                    Series::Gauge(g) => {
                        numbers.push(number(attributes, 0, time, pm::number_data_point::Value::AsDouble(g.get())));
                    }
                    Series::Histogram(h) => {
                        let snap = h.snapshot();
                        let mut buckets = snap.buckets.clone();
                        buckets.push(snap.count.saturating_sub(snap.buckets.iter().sum::<u64>()));
                        let (mut count, mut sum) = (snap.count, snap.sum);
                        if delta {
                            let now_state = Prev::Hist { buckets: buckets.clone(), count, sum };
                            if let Some(Prev::Hist { buckets: b0, count: c0, sum: s0 }) =
                                self.prev.insert(key(), now_state)
                            {
                                for (b, before) in buckets.iter_mut().zip(b0) {
                                    *b = b.saturating_sub(before);
                                }
                                count = count.saturating_sub(c0);
                                sum -= s0;
                            }
                        }
                        hists.push(pm::HistogramDataPoint {
                            attributes,
                            start_time_unix_nano: start,
                            time_unix_nano: time,
                            count,
                            sum: Some(sum),
                            bucket_counts: buckets,
                            explicit_bounds: snap.bounds.to_vec(),
                            ..Default::default()
                        });
                    }
                }
            });
            let data = match kind {
                MetricKind::Counter | MetricKind::ScaledCounter { .. } => pm::metric::Data::Sum(pm::Sum {
                    data_points: numbers,
                    aggregation_temporality: monotonic_temporality,
                    is_monotonic: true,
                }),
                MetricKind::UpDown => pm::metric::Data::Sum(pm::Sum {
                    data_points: numbers,
                    aggregation_temporality: cumulative,
                    is_monotonic: false,
                }),
                MetricKind::Gauge => pm::metric::Data::Gauge(pm::Gauge { data_points: numbers }),
                MetricKind::Histogram { .. } => pm::metric::Data::Histogram(pm::Histogram {
                    data_points: hists,
                    aggregation_temporality: monotonic_temporality,
                }),
            };
            metrics.push(pm::Metric {
                name: naming.name,
                description: fam.help(),
                unit: naming.unit.to_string(),
                data: Some(data),
                ..Default::default()
            });
        }
        self.last = now;
        ExportMetricsServiceRequest {
            resource_metrics: vec![pm::ResourceMetrics {
                resource: Some(self.resource.clone()),
                scope_metrics: vec![pm::ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "obs".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: super::SCHEMA_URL.into(),
                }],
                schema_url: super::SCHEMA_URL.into(),
            }],
        }
    }
}

fn number(
    attributes: Vec<KeyValue>,
    start: u64,
    time: u64,
    value: pm::number_data_point::Value,
) -> pm::NumberDataPoint {
    pm::NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(value),
        ..Default::default()
    }
}

/// How many data points a request holds (for the self-metric on a failed send).
pub(crate) fn points(req: &ExportMetricsServiceRequest) -> u64 {
    let mut n = 0u64;
    for rm in &req.resource_metrics {
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                n += match &m.data {
                    Some(pm::metric::Data::Sum(s)) => s.data_points.len(),
                    Some(pm::metric::Data::Gauge(g)) => g.data_points.len(),
                    Some(pm::metric::Data::Histogram(h)) => h.data_points.len(),
                    _ => 0,
                } as u64;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genai_families_get_their_otel_names_and_keys() {
        let n = naming("gen_ai_client_token_usage", Some("app"));
        assert_eq!((n.name.as_str(), n.unit, n.semconv_keys), ("gen_ai.client.token.usage", "{token}", true));
        let d = naming("gen_ai_client_operation_duration_seconds", None);
        assert_eq!((d.name.as_str(), d.unit), ("gen_ai.client.operation.duration", "s"));
        assert_eq!(semconv_key("gen_ai_token_type"), "gen_ai.token.type");
        let c = naming("llm_cost_usd_total", Some("app"));
        assert_eq!((c.name.as_str(), c.unit, c.semconv_keys), ("app_llm_cost_usd_total", "USD", false));
        assert_eq!(naming("tool_duration_seconds", None).unit, "s");
        assert_eq!(naming("llm_tokens_total", None).unit, "{token}");
        assert_eq!(naming("tool_calls_total", None).unit, "1");
        let m = naming("mcp_server_operation_duration_seconds", Some("app"));
        assert_eq!((m.name.as_str(), m.unit, m.semconv_keys), ("mcp.server.operation.duration", "s", true));
        assert_eq!(naming("mcp_client_session_duration_seconds", None).name, "mcp.client.session.duration");
        assert_eq!(semconv_key("mcp_method_name"), "mcp.method.name");
        assert_eq!(semconv_key("rpc_response_status_code"), "rpc.response.status_code");
    }
}
