//! MLflow's tracking server (PyPI `mlflow`): a second GenAI trace backend.
//! It receives OTLP/HTTP traces only, with the header
//! `x-mlflow-experiment-id`, types spans (AGENT, TOOL, CHAT_MODEL) and prices
//! model spans from its bundled catalog. Read back with its traces API.

use super::http;
use super::process::{free_port, ServerProcess};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long MLflow may take to answer `/health` (8–32 s measured).
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(180);

/// The experiment the tests send to ("Default", which always exists).
pub const EXPERIMENT_ID: &str = "0";

/// A running MLflow server (two processes in one group).
pub struct Mlflow {
    process: ServerProcess,
    pub port: u16,
    /// Time from spawn to the first 200 from `/health`.
    pub startup: Duration,
}

/// A trace: its info (state, metadata, tags) and spans.
#[derive(Clone, Debug)]
pub struct MlflowTrace {
    /// `tr-` and 32 hex digits.
    pub trace_id: String,
    /// `OK` or `ERROR`.
    pub state: String,
    /// `trace_metadata` (values are strings, some holding JSON).
    pub metadata: Map<String, Value>,
    pub tags: Map<String, Value>,
    pub spans: Vec<MlflowSpan>,
}

impl MlflowTrace {
    /// A metadata entry that holds JSON (`mlflow.trace.cost`, `mlflow.trace.tokenUsage`).
    pub fn metadata_json(&self, key: &str) -> Option<Value> {
        self.metadata.get(key).and_then(Value::as_str).and_then(|s| serde_json::from_str(s).ok())
    }
}

/// A span; ids in lowercase hex, attributes as plain JSON values.
#[derive(Clone, Debug)]
pub struct MlflowSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// `None` for the root.
    pub parent_id: Option<String>,
    /// `STATUS_CODE_ERROR`, `STATUS_CODE_OK`, or empty when unset.
    pub status_code: String,
    pub status_message: String,
    pub attributes: Map<String, Value>,
}

impl MlflowSpan {
    /// `mlflow.spanType`: `AGENT`, `TOOL`, `CHAT_MODEL`, `LLM`, `UNKNOWN`...
    pub fn span_type(&self) -> &str {
        self.attributes.get("mlflow.spanType").and_then(Value::as_str).unwrap_or("")
    }
}

/// OTLP JSON's base64 id as lowercase hex.
fn hex_id(b64: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_else(|e| panic!("MLflow id {b64:?} is not base64: {e}"));
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OTLP JSON `AnyValue` (`{"string_value": ..}`, `{"kvlist_value": ..}`) as plain JSON.
fn any_value(v: &Value) -> Value {
    let Some((k, inner)) = v.as_object().and_then(|o| o.iter().next()) else { return Value::Null };
    match k.as_str() {
        "string_value" | "bool_value" | "double_value" => inner.clone(),
        // proto3 JSON may write 64-bit integers as strings.
        "int_value" => match inner {
            Value::String(s) => s.parse::<i64>().map(Value::from).unwrap_or_else(|_| inner.clone()),
            _ => inner.clone(),
        },
        "array_value" => {
            Value::Array(inner["values"].as_array().map(|a| a.iter().map(any_value).collect()).unwrap_or_default())
        }
        "kvlist_value" => Value::Object(key_values(&inner["values"])),
        _ => inner.clone(),
    }
}

fn key_values(list: &Value) -> Map<String, Value> {
    list.as_array()
        .map(|a| a.iter().filter_map(|kv| Some((kv["key"].as_str()?.to_string(), any_value(&kv["value"])))).collect())
        .unwrap_or_default()
}

impl Mlflow {
    /// Starts MLflow on a free port: one worker, no job runner, no
    /// telemetry, no price-catalog download (its bundled prices are used),
    /// SQLite in the work directory, the loopback shim on `PYTHONPATH`.
    pub fn start() -> Mlflow {
        let venv = super::venv("mlflow", "MLflow (PyPI mlflow==3.17.2)");
        let exe = super::venv_file(&venv, "bin/mlflow", "MLflow");
        let port = free_port();
        let mut process = ServerProcess::spawn("mlflow", |dir| {
            let mut c = Command::new(&exe);
            c.arg("server")
                .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--workers", "1"])
                .arg("--backend-store-uri")
                .arg(format!("sqlite:///{}", dir.join("mlflow.db").display()))
                .arg("--default-artifact-root")
                .arg(dir.join("artifacts"))
                .env("PYTHONPATH", super::phoenix::loopback_shim())
                .env("PYTHONUNBUFFERED", "1")
                // Without it: 10 processes and 1.8 GiB instead of 2 and 0.5.
                .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
                // Without it the first ingest fetches prices from github.com
                // and hangs for 10 s (the exporter's whole timeout).
                .env("MLFLOW_MODEL_CATALOG_URI", "")
                .env("MLFLOW_DISABLE_TELEMETRY", "true")
                .env("DO_NOT_TRACK", "true")
                .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
                .env_remove("OTEL_SERVICE_NAME");
            c
        });
        let health = format!("http://127.0.0.1:{port}/health");
        let startup = process.wait_ready(STARTUP_DEADLINE, || http::is_ok(&health));
        Mlflow { process, port, startup }
    }

    /// `http://127.0.0.1:{port}` (OTLP/HTTP; send `x-mlflow-experiment-id`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything MLflow logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The lines of the loopback shim (`obs-loopback-guard: ...`).
    pub fn guard_lines(&self) -> Vec<String> {
        self.log().lines().filter(|l| l.starts_with("obs-loopback-guard:")).map(str::to_string).collect()
    }

    /// Ids of the traces in experiment [`EXPERIMENT_ID`], newest first.
    pub fn trace_ids(&self) -> Vec<String> {
        let url = format!("{}/api/3.0/mlflow/traces/search", self.endpoint());
        let body = json!({
            "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": EXPERIMENT_ID}}],
            "max_results": 500,
        });
        let r = http::post(&url, &body, &[]);
        assert_eq!(r.status, 200, "POST {url}: {}", r.text);
        r.json["traces"]
            .as_array()
            .map(|a| a.iter().filter_map(|t| t["trace_id"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    /// One trace, by its 32-hex OpenTelemetry id or MLflow's `tr-` id;
    /// `None` while MLflow does not have it.
    pub fn trace(&self, trace_id: &str) -> Option<MlflowTrace> {
        let id = if trace_id.starts_with("tr-") { trace_id.to_string() } else { format!("tr-{trace_id}") };
        let url = format!("{}/api/3.0/mlflow/traces/get?trace_id={id}", self.endpoint());
        let r = http::get(&url);
        if r.status == 404 {
            return None;
        }
        assert_eq!(r.status, 200, "GET {url}: {}", r.text);
        let t = &r.json["trace"];
        let info = &t["trace_info"];
        let obj = |v: &Value| v.as_object().cloned().unwrap_or_default();
        let spans = t["spans"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| MlflowSpan {
                        name: s["name"].as_str().unwrap_or_default().to_string(),
                        trace_id: s["trace_id"].as_str().map(hex_id).unwrap_or_default(),
                        span_id: s["span_id"].as_str().map(hex_id).unwrap_or_default(),
                        parent_id: s["parent_span_id"].as_str().filter(|p| !p.is_empty()).map(hex_id),
                        status_code: s.pointer("/status/code").and_then(Value::as_str).unwrap_or("").to_string(),
                        status_message: s.pointer("/status/message").and_then(Value::as_str).unwrap_or("").to_string(),
                        attributes: key_values(&s["attributes"]),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(MlflowTrace {
            trace_id: info["trace_id"].as_str().unwrap_or_default().to_string(),
            state: info["state"].as_str().unwrap_or_default().to_string(),
            metadata: obj(&info["trace_metadata"]),
            tags: obj(&info["tags"]),
            spans,
        })
    }

    /// Polls until trace `trace_id` holds `n` spans (and no more arrive for
    /// a second); panics after `timeout`.
    pub fn wait_trace(&self, trace_id: &str, n: usize, timeout: Duration) -> MlflowTrace {
        let start = Instant::now();
        loop {
            let t = self.trace(trace_id);
            if t.as_ref().is_some_and(|t| t.spans.len() >= n) {
                std::thread::sleep(Duration::from_secs(1));
                return self.trace(trace_id).expect("trace seen a second ago");
            }
            if start.elapsed() > timeout {
                let names: Vec<String> = t.map(|t| t.spans.into_iter().map(|s| s.name).collect()).unwrap_or_default();
                panic!(
                    "MLflow trace {trace_id} has spans {names:?} after {timeout:?}, expected {n}; traces: {:?}\nlast lines of MLflow's log:\n{}",
                    self.trace_ids(),
                    self.process.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otlp_json_values_become_plain_json() {
        assert_eq!(hex_id("A4t+8WfSzaMXcJ5NDapAwg=="), "038b7ef167d2cda317709e4d0daa40c2");
        let attrs = json!([
            {"key": "s", "value": {"string_value": "x"}},
            {"key": "i", "value": {"int_value": "12"}},
            {"key": "c", "value": {"kvlist_value": {"values": [{"key": "total_cost", "value": {"double_value": 0.5}}]}}},
            {"key": "a", "value": {"array_value": {"values": [{"string_value": "a"}, {"int_value": 3}]}}}
        ]);
        let m = key_values(&attrs);
        assert_eq!(Value::Object(m), json!({"s": "x", "i": 12, "c": {"total_cost": 0.5}, "a": ["a", 3]}));
    }
}
