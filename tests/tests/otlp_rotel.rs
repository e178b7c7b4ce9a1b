//! OTLP to Rotel, a real collector that prints what it receives: every metric
//! family of obs's registry (what `/metrics` serves) arrives with the right
//! name, unit, attributes, values and histogram buckets; the resource carries
//! `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`; log records carry the
//! trace and span ids of the span they were emitted in; spans have their
//! OpenTelemetry kinds. Head sampling at ratio 0 drops every span while the
//! metrics still count every call.

use obs_tests::backends::expect::{same_cost, tree_paths, RUN_TREE};
use obs_tests::backends::rotel::{Attributes, Metric, Received, Value as RValue};
use obs_tests::backends::{run, Rotel, Run};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_otlp-agents");

/// The OpenTelemetry name and unit of a family on `/metrics`: the GenAI
/// semconv histograms keep their OTel names (dots, unit apart); obs's own
/// families keep theirs.
fn otel_metric(prom: &str) -> (String, Option<&'static str>) {
    match prom {
        "gen_ai_client_token_usage" => ("gen_ai.client.token.usage".into(), Some("{token}")),
        "gen_ai_client_operation_duration_seconds" => ("gen_ai.client.operation.duration".into(), Some("s")),
        other => (other.to_string(), None),
    }
}

/// The OTel attribute name of a Prometheus label (the GenAI ones are dotted).
fn otel_attr(label: &str) -> String {
    match label {
        "gen_ai_operation_name"
        | "gen_ai_provider_name"
        | "gen_ai_request_model"
        | "gen_ai_token_type"
        | "error_type" => label.replace('_', ".").replacen("gen.ai.", "gen_ai.", 1),
        other => other.to_string(),
    }
}

fn str_attrs(a: &Attributes) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = a
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| format!("{v:?}"))))
        .collect();
    v.sort();
    v
}

/// Whether `check` passes, its panic kept quiet: a wait retries the same
/// assertions the test then makes until Rotel has printed the program's
/// last export (the shutdown flush may come in several requests), instead
/// of sleeping and hoping it has.
fn passes(check: impl FnOnce()) -> bool {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).is_ok();
    std::panic::set_hook(hook);
    ok
}

/// The export of one family, of those Rotel printed, that equals the
/// program's registry snapshot (its final values). Not simply the last one
/// printed: a periodic export still in flight when the program shut down can
/// arrive after the final one. Panics with the newest export's difference
/// when none equals it.
fn check_family<'a>(prom: &str, series: &[Value], got: &'a Received) -> &'a Metric {
    let (name, _) = otel_metric(prom);
    let exports: Vec<&Metric> = got.metrics.iter().rev().filter(|m| m.name == name).collect();
    let newest = exports
        .first()
        .unwrap_or_else(|| panic!("family {prom} was not exported as `{name}`; Rotel got {:?}", got.metric_names()));
    exports.iter().copied().find(|m| passes(|| check_export(prom, series, m))).unwrap_or_else(|| {
        check_export(prom, series, newest);
        newest
    })
}

/// Compares one family of the program's registry snapshot with one export.
fn check_export(prom: &str, series: &[Value], m: &Metric) {
    let (name, unit) = otel_metric(prom);
    if let Some(u) = unit {
        assert_eq!(m.unit, u, "unit of {name}");
    }
    for s in series {
        let labels: Vec<(String, String)> = {
            let mut v: Vec<(String, String)> = s["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (otel_attr(k), v.as_str().unwrap().to_string()))
                .collect();
            v.sort();
            v
        };
        let p = m
            .points
            .iter()
            .find(|p| str_attrs(&p.attributes) == labels)
            .unwrap_or_else(|| panic!("{name}: no data point with attributes {labels:?}; points: {:?}", m.points));
        let ctx = format!("{name}{labels:?}");
        let v = &s["value"];
        if let Some(n) = v["counter"].as_u64() {
            assert_eq!((m.data_type.as_str(), m.monotonic), ("Sum", Some(true)), "{ctx}");
            assert_eq!(m.temporality, "AGGREGATION_TEMPORALITY_CUMULATIVE", "{ctx}");
            assert_eq!(p.value, Some(n as f64), "{ctx}");
        } else if let Some(x) = v["value"].as_f64().filter(|_| v.get("scaled").is_some()) {
            assert_eq!((m.data_type.as_str(), m.monotonic), ("Sum", Some(true)), "{ctx}");
            let got = p.value.unwrap_or_else(|| panic!("{ctx}: no value"));
            assert!(same_cost(got, x), "{ctx}: {got} != {x}");
        } else if let Some(g) = v["gauge"].as_f64() {
            assert!(
                m.data_type == "Gauge" || (m.data_type == "Sum" && m.monotonic == Some(false)),
                "{ctx}: a gauge exported as {} (monotonic {:?})",
                m.data_type,
                m.monotonic
            );
            assert_eq!(p.value, Some(g), "{ctx}");
        } else {
            let h = &v["histogram"];
            assert_eq!(m.data_type, "Histogram", "{ctx}");
            assert_eq!(m.temporality, "AGGREGATION_TEMPORALITY_CUMULATIVE", "{ctx}");
            let bounds: Vec<f64> = h["bounds"].as_array().unwrap().iter().map(|b| b.as_f64().unwrap()).collect();
            let mut buckets: Vec<u64> = h["buckets"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap()).collect();
            let count = h["count"].as_u64().unwrap();
            buckets.push(count - buckets.iter().sum::<u64>()); // the +Inf bucket
            assert_eq!(p.bounds, bounds, "{ctx}: bucket boundaries");
            assert_eq!(p.bucket_counts, buckets, "{ctx}: bucket counts");
            assert_eq!(p.count, Some(count), "{ctx}");
            let sum = h["sum"].as_f64().unwrap();
            let got = p.sum.unwrap_or_else(|| panic!("{ctx}: no sum"));
            assert!((got - sum).abs() <= 1e-9 * sum.abs().max(1.0), "{ctx}: sum {got} != {sum}");
        }
    }
}

fn resource_has(r: &Attributes, key: &str, want: &str) {
    assert_eq!(r.get(key).and_then(RValue::as_str), Some(want), "resource {key}: {r:?}");
}

fn check_resource(r: &Attributes, run: &Run) {
    resource_has(r, "service.name", "otlp-agents-e2e");
    resource_has(r, "deployment.environment", "e2e");
    resource_has(r, "team", "agents");
    // The application's version is the application's to give (obs cannot
    // know it): the standard variable carries it.
    resource_has(r, "service.version", "1.4.2");
    resource_has(r, "telemetry.sdk.language", "rust");
    resource_has(r, "telemetry.sdk.name", "opentelemetry");
    for key in ["service.instance.id", "telemetry.sdk.version"] {
        assert!(r.get(key).and_then(RValue::as_str).is_some_and(|v| !v.is_empty()), "resource {key}: {r:?}");
    }
    assert_eq!(
        r.get("process.pid").and_then(RValue::as_i64),
        run.summary["pid"].as_i64(),
        "resource process.pid: {r:?}"
    );
}

#[test]
fn rotel_metrics_logs_resource_and_kinds() {
    let rotel = Rotel::start();
    let endpoint = rotel.http_endpoint();
    let r = run(
        Path::new(EXE),
        "run",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SERVICE_NAME", "otlp-agents-e2e"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=e2e,team=agents,service.version=1.4.2"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
        ],
        Duration::from_secs(120),
    );
    assert_eq!(r.log_lines_at("ERROR"), Vec::<&str>::new(), "stderr:\n{}", r.stderr);
    let trace_id = r.trace_id();
    let families = r.summary["metrics"].as_object().unwrap().clone();
    let wanted: Vec<String> =
        families.iter().filter(|(_, s)| !s.as_array().unwrap().is_empty()).map(|(k, _)| otel_metric(k).0).collect();
    let logged = |g: &Received| {
        r.summary["logs"].as_array().unwrap().iter().all(|want| {
            let (msg, span_id) = (want["message"].as_str().unwrap(), want["span_id"].as_str().unwrap());
            g.logs.iter().any(|l| l.span_id == span_id && l.body.as_ref().and_then(RValue::as_str) == Some(msg))
        })
    };
    let complete = |g: &Received| {
        g.trace(&trace_id).len() == RUN_TREE.len()
            && logged(g)
            && passes(|| {
                for (prom, series) in &families {
                    let series = series.as_array().unwrap();
                    if !series.is_empty() {
                        check_family(prom, series, g);
                    }
                }
            })
    };
    // Until everything arrived; past the deadline, the checks below say
    // what is missing.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let got = loop {
        let g = rotel.received();
        if complete(&g) || std::time::Instant::now() > deadline {
            break g;
        }
        std::thread::sleep(Duration::from_millis(200));
    };

    // Spans: the tree and the kinds.
    let spans = got.trace(&trace_id);
    let nodes: Vec<_> = spans
        .iter()
        .map(|s| (s.span_id.as_str(), Some(s.parent_id.as_str()).filter(|p| !p.is_empty()), s.name.as_str()))
        .collect();
    assert_eq!(tree_paths(&nodes), RUN_TREE);
    for s in &spans {
        let want = if s.name.starts_with("chat ") { "SPAN_KIND_CLIENT" } else { "SPAN_KIND_INTERNAL" };
        assert_eq!(s.kind, want, "span `{}`", s.name);
        check_resource(&s.resource, &r);
        assert!(!s.scope.is_empty(), "instrumentation scope of `{}`", s.name);
    }
    let failed_id = r
        .seen("tool", "web_search")
        .into_iter()
        .find(|s| s["query"] == "broken-topic")
        .and_then(|s| s["span_id"].as_str())
        .unwrap()
        .to_string();
    let failed = spans.iter().find(|s| s.span_id == failed_id).expect("the failed search");
    assert_eq!(failed.status_code, "STATUS_CODE_ERROR");
    assert_eq!(failed.attributes.get("error.type").and_then(RValue::as_str), Some("ToolError"));
    assert!(failed.events.iter().any(|e| e.name == "exception"), "exception event: {:?}", failed.events);
    let errors: Vec<&str> =
        spans.iter().filter(|s| s.status_code == "STATUS_CODE_ERROR").map(|s| s.span_id.as_str()).collect();
    assert_eq!(errors, [failed_id.as_str()], "ERROR only on the failed tool");

    // Log records: the ids of the span each line was emitted in.
    for want in r.summary["logs"].as_array().unwrap() {
        let (msg, span_id) = (want["message"].as_str().unwrap(), want["span_id"].as_str().unwrap());
        let rec = got
            .logs
            .iter()
            .find(|l| l.span_id == span_id && l.body.as_ref().and_then(RValue::as_str) == Some(msg))
            .unwrap_or_else(|| panic!("no log record `{msg}` in span {span_id}: {:?}", got.logs));
        assert_eq!(rec.trace_id, trace_id);
        assert_eq!(rec.severity_text, if msg == "search failed" { "WARN" } else { "INFO" }, "{rec:?}");
        check_resource(&rec.resource, &r);
    }

    // Metrics: every family of the registry, with its values and buckets.
    let mut compared = (0, 0);
    let mut finals = std::collections::BTreeMap::new();
    for (prom, series) in &families {
        let series = series.as_array().unwrap();
        if !series.is_empty() {
            let m = check_family(prom, series, &got);
            check_resource(&m.resource, &r);
            finals.insert(m.name.clone(), m);
            compared = (compared.0 + 1, compared.1 + series.len());
        }
    }
    eprintln!("Rotel: {} metric families, {} series equal to the registry's", compared.0, compared.1);
    assert_eq!(finals.keys().cloned().collect::<Vec<_>>(), {
        let mut w = wanted.clone();
        w.sort();
        w
    });
    // A spot check against fixed numbers, not only against the snapshot.
    let tokens = finals["gen_ai.client.token.usage"];
    let input_4o = tokens
        .points
        .iter()
        .find(|p| p.attr("gen_ai.request.model") == "gpt-4o" && p.attr("gen_ai.token.type") == "input")
        .expect("gpt-4o input tokens");
    assert_eq!((input_4o.count, input_4o.sum), (Some(2), Some(3700.0)), "1200 + 2500 input tokens in two calls");

    // Head sampling at 0: no span is exported, every call is still counted.
    let sampled = run(
        Path::new(EXE),
        "run",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_SERVICE_NAME", "otlp-agents-unsampled"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ],
        Duration::from_secs(120),
    );
    let unsampled = |g: &Received| {
        g.metrics
            .iter()
            .rev()
            .find(|m| {
                m.name == "llm_calls_total"
                    && m.resource.get("service.name").and_then(RValue::as_str) == Some("otlp-agents-unsampled")
            })
            .cloned()
    };
    let calls = |g: &Received| unsampled(g).map(|m| m.points.iter().filter_map(|p| p.value).sum::<f64>());
    // The last export counts all five (an earlier one may count fewer).
    let got = rotel.wait_for(Duration::from_secs(120), |g| calls(g) == Some(5.0));
    let calls = calls(&got).unwrap();
    assert_eq!(calls, 5.0, "five model calls counted with sampling at 0");
    let spans_unsampled = got
        .spans
        .iter()
        .filter(|s| s.resource.get("service.name").and_then(RValue::as_str) == Some("otlp-agents-unsampled"))
        .count();
    assert_eq!(spans_unsampled, 0, "no span exported at ratio 0");
    assert!(sampled.seen("agent", "planner")[0]["span_id"].is_string(), "ids exist even when not sampled");
}
