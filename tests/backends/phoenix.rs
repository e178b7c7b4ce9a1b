//! Arize Phoenix (PyPI `arize-phoenix`): a GenAI trace backend that receives
//! OTLP over HTTP and gRPC, converts `gen_ai.*` attributes to OpenInference on
//! ingest (span kinds AGENT / LLM / TOOL, token counts, messages) and prices
//! model spans itself. Read back through its REST API (spans) and GraphQL
//! (cost, price table).

use super::http;
use super::process::{free_port, ServerProcess};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long Phoenix may take to answer `/healthz`: 13–20 s on an idle
/// machine, up to 105 s measured on a busy one.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(240);

/// The directory of the `sitecustomize.py` that keeps Phoenix's gRPC
/// receiver on 127.0.0.1 and refuses non-local name lookups.
pub fn loopback_shim() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("backends/loopback-shim")
}

/// A running Phoenix server.
pub struct Phoenix {
    process: ServerProcess,
    /// HTTP port: UI, REST, GraphQL and OTLP/HTTP (`/v1/traces`).
    pub http_port: u16,
    /// OTLP/gRPC port.
    pub grpc_port: u16,
    /// Time from spawn to the first 200 from `/healthz`.
    pub startup: Duration,
}

/// A span as Phoenix's REST API returns it.
#[derive(Clone, Debug)]
pub struct PhoenixSpan {
    /// GraphQL node id (for [`Phoenix::span_cost`]).
    pub id: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// `None` for a root span.
    pub parent_id: Option<String>,
    /// OpenInference kind: `AGENT`, `LLM`, `TOOL`, `CHAIN`, `UNKNOWN`...
    pub span_kind: String,
    /// `UNSET`, `OK` or `ERROR`.
    pub status_code: String,
    pub status_message: String,
    /// Flat attributes, typed (strings, numbers, booleans, arrays).
    pub attributes: Map<String, Value>,
    pub events: Vec<Value>,
}

impl PhoenixSpan {
    fn from_json(v: &Value) -> PhoenixSpan {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        PhoenixSpan {
            id: s("/id"),
            name: s("/name"),
            trace_id: s("/context/trace_id"),
            span_id: s("/context/span_id"),
            parent_id: v.get("parent_id").and_then(Value::as_str).map(str::to_string),
            span_kind: s("/span_kind"),
            status_code: s("/status_code"),
            status_message: s("/status_message"),
            attributes: v.get("attributes").and_then(Value::as_object).cloned().unwrap_or_default(),
            events: v.get("events").and_then(Value::as_array).cloned().unwrap_or_default(),
        }
    }

    /// Attribute `key` as a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }

    /// Attribute `key` as an integer.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.attributes.get(key).and_then(Value::as_i64)
    }

    /// Attribute `key` as a number.
    pub fn f64(&self, key: &str) -> Option<f64> {
        self.attributes.get(key).and_then(Value::as_f64)
    }
}

/// What Phoenix computed for one span (GraphQL).
#[derive(Clone, Debug, PartialEq)]
pub struct SpanCost {
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    /// Total cost in USD; `None` when Phoenix has no price for the model.
    pub total: Option<f64>,
    /// (token type, tokens, cost) per type: `input`, `output`, `cache_read`, `cache_write`...
    pub details: Vec<(String, f64, Option<f64>)>,
}

/// A model in Phoenix's price table.
#[derive(Clone, Debug)]
pub struct PricedModel {
    pub name: String,
    pub name_pattern: String,
    /// (token type, USD per million tokens).
    pub prices: Vec<(String, f64)>,
}

impl Phoenix {
    /// Starts Phoenix on two free ports with the loopback shim, telemetry and
    /// external resources off, and waits up to [`STARTUP_DEADLINE`] for it.
    pub fn start() -> Phoenix {
        let venv = super::venv("phoenix", "Arize Phoenix (PyPI arize-phoenix==20.26.1)");
        let exe = super::venv_file(&venv, "bin/phoenix", "Arize Phoenix");
        let (http_port, grpc_port) = (free_port(), free_port());
        let mut process = ServerProcess::spawn("phoenix", |dir| {
            let mut c = Command::new(&exe);
            c.arg("serve")
                .env("PYTHONPATH", loopback_shim())
                .env("PYTHONUNBUFFERED", "1")
                .env("PHOENIX_HOST", "127.0.0.1")
                .env("PHOENIX_PORT", http_port.to_string())
                .env("PHOENIX_GRPC_PORT", grpc_port.to_string())
                .env("PHOENIX_WORKING_DIR", dir.join("phoenix"))
                .env("PHOENIX_TELEMETRY_ENABLED", "false")
                .env("PHOENIX_ALLOW_EXTERNAL_RESOURCES", "false")
                // An OTEL_* variable of the test's environment must not make
                // Phoenix instrument itself.
                .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
                .env_remove("OTEL_SERVICE_NAME");
            c
        });
        let health = format!("http://127.0.0.1:{http_port}/healthz");
        let startup = process.wait_ready(STARTUP_DEADLINE, || {
            http::is_ok(&health) && std::net::TcpStream::connect(("127.0.0.1", grpc_port)).is_ok()
        });
        Phoenix { process, http_port, grpc_port, startup }
    }

    /// `http://127.0.0.1:{http_port}`: OTLP/HTTP (protobuf only; Phoenix
    /// answers 415 to JSON).
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// `http://127.0.0.1:{grpc_port}`: OTLP/gRPC.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// Everything Phoenix logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The lines of the loopback shim (`obs-loopback-guard: ...`).
    pub fn guard_lines(&self) -> Vec<String> {
        self.log().lines().filter(|l| l.starts_with("obs-loopback-guard:")).map(str::to_string).collect()
    }

    /// Every span of `project` (all pages); empty while the project does
    /// not exist (Phoenix answers 404 until its first span).
    pub fn spans(&self, project: &str) -> Vec<PhoenixSpan> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/v1/projects/{project}/spans?limit=1000", self.http_endpoint());
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let r = http::get(&url);
            if r.status == 404 {
                return out;
            }
            assert_eq!(r.status, 200, "GET {url}: {}", r.text);
            let page = r.json["data"].as_array().unwrap_or_else(|| panic!("GET {url}: no `data`: {}", r.text));
            out.extend(page.iter().map(PhoenixSpan::from_json));
            match r.json["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }

    /// Polls [`spans`](Self::spans) until `project` holds `n` spans and no
    /// more arrive for a second; panics after `timeout` with what it has.
    pub fn wait_spans(&self, project: &str, n: usize, timeout: Duration) -> Vec<PhoenixSpan> {
        let start = Instant::now();
        loop {
            let spans = self.spans(project);
            if spans.len() >= n {
                // Settle: a late span would be a span too many.
                std::thread::sleep(Duration::from_secs(1));
                return self.spans(project);
            }
            if start.elapsed() > timeout {
                let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
                panic!(
                    "Phoenix project `{project}` has {} spans after {timeout:?}, expected {n}: {names:?}\nlast lines of Phoenix's log:\n{}",
                    spans.len(),
                    self.process.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// A GraphQL query; panics on an HTTP or GraphQL error.
    pub fn graphql(&self, query: &str, variables: Value) -> Value {
        let url = format!("{}/graphql", self.http_endpoint());
        let r = http::post(&url, &json!({ "query": query, "variables": variables }), &[]);
        assert_eq!(r.status, 200, "POST {url}: {}", r.text);
        if let Some(errors) = r.json.get("errors") {
            panic!("GraphQL errors from Phoenix for {query}: {errors}");
        }
        r.json["data"].clone()
    }

    /// Tokens and cost Phoenix computed for the span with GraphQL id `id`.
    pub fn span_cost(&self, id: &str) -> SpanCost {
        let d = self.graphql(
            "query($id: ID!) { node(id: $id) { ... on Span { tokenCountPrompt tokenCountCompletion \
             costSummary { total { cost } } costDetailSummaryEntries { tokenType value { tokens cost } } } } }",
            json!({ "id": id }),
        );
        let n = &d["node"];
        SpanCost {
            prompt_tokens: n["tokenCountPrompt"].as_i64(),
            completion_tokens: n["tokenCountCompletion"].as_i64(),
            total: n.pointer("/costSummary/total/cost").and_then(Value::as_f64),
            details: n["costDetailSummaryEntries"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            (
                                e["tokenType"].as_str().unwrap_or_default().to_string(),
                                e.pointer("/value/tokens").and_then(Value::as_f64).unwrap_or(0.0),
                                e.pointer("/value/cost").and_then(Value::as_f64),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Phoenix's price table (built-in models, about 400).
    pub fn priced_models(&self) -> Vec<PricedModel> {
        let d = self.graphql(
            "{ generativeModels(first: 5000) { edges { node { name namePattern tokenPrices { tokenType costPerMillionTokens } } } } }",
            json!({}),
        );
        d.pointer("/generativeModels/edges")
            .and_then(Value::as_array)
            .map(|edges| {
                edges
                    .iter()
                    .map(|e| {
                        let n = &e["node"];
                        PricedModel {
                            name: n["name"].as_str().unwrap_or_default().to_string(),
                            name_pattern: n["namePattern"].as_str().unwrap_or_default().to_string(),
                            prices: n["tokenPrices"]
                                .as_array()
                                .map(|p| {
                                    p.iter()
                                        .map(|t| {
                                            (
                                                t["tokenType"].as_str().unwrap_or_default().to_string(),
                                                t["costPerMillionTokens"].as_f64().unwrap_or(f64::NAN),
                                            )
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
