//! The embedded Prometheus endpoint: `/metrics` (text format 0.0.4),
//! `/summary` (the model-call ledger's statistics, JSON), `/health` and `/ready`, served by hyper on a thread of its own so that
//! scrapes never run on (or wait for) the application's runtime.
//!
//! Rendering reads the sharded cells and sums them; it takes the family locks
//! only long enough to list the series, never a lock the hot path takes.

use super::{ExportError, Exporter, ExporterConfig, Running};
use crate::metrics::registry::{registry, Label, MetricKind, Series};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9464";

/// Content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

fn escape_label(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn number(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

fn labels(ls: &[Label], extra: Option<(&str, &str)>, out: &mut String) {
    if ls.is_empty() && extra.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    for (k, v) in ls.iter().map(|(k, v)| (&**k, &**v)).chain(extra) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(k);
        out.push_str("=\"");
        escape_label(v, out);
        out.push('"');
    }
    out.push('}');
}

/// Renders every family in the Prometheus text format, names prefixed with
/// `{namespace}_` when a namespace is given.
pub fn render(namespace: Option<&str>) -> String {
    let mut out = String::with_capacity(16 * 1024);
    for fam in registry().families() {
        let mut body = String::new();
        let name = match namespace {
            Some(ns) if !ns.is_empty() => format!("{ns}_{}", fam.name()),
            _ => fam.name().to_string(),
        };
        let scale = match fam.kind() {
            MetricKind::ScaledCounter { scale } => Some(scale),
            _ => None,
        };
        fam.for_each_series(|ls, series| match series {
            Series::Counter(c) => {
                body.push_str(&name);
                labels(ls, None, &mut body);
                match scale {
                    Some(s) => {
                        body.push(' ');
                        number(c.get() as f64 * s, &mut body);
                        body.push('\n');
                    }
                    None => {
                        let _ = writeln!(body, " {}", c.get());
                    }
                }
            }
            Series::UpDown(g) => {
                body.push_str(&name);
                labels(ls, None, &mut body);
                let _ = writeln!(body, " {}", g.get());
            }
            Series::Gauge(g) => {
                body.push_str(&name);
                labels(ls, None, &mut body);
                body.push(' ');
                number(g.get(), &mut body);
                body.push('\n');
            }
            Series::Histogram(h) => {
                let s = h.snapshot();
                let mut cumulative = 0u64;
                let mut le = String::new();
                for (bound, n) in s.bounds.iter().zip(&s.buckets) {
                    cumulative += n;
                    le.clear();
                    number(*bound, &mut le);
                    let _ = write!(body, "{name}_bucket");
                    labels(ls, Some(("le", &le)), &mut body);
                    let _ = writeln!(body, " {cumulative}");
                }
                let _ = write!(body, "{name}_bucket");
                labels(ls, Some(("le", "+Inf")), &mut body);
                let _ = writeln!(body, " {}", s.count);
                let _ = write!(body, "{name}_sum");
                labels(ls, None, &mut body);
                body.push(' ');
                number(s.sum, &mut body);
                body.push('\n');
                let _ = write!(body, "{name}_count");
                labels(ls, None, &mut body);
                let _ = writeln!(body, " {}", s.count);
            }
        });
        if body.is_empty() {
            continue;
        }
        let _ = write!(out, "# HELP {name} ");
        let help = fam.help();
        escape_help(if help.is_empty() { fam.name() } else { &help }, &mut out);
        let _ = writeln!(out, "\n# TYPE {name} {}", fam.kind().prometheus_type());
        out.push_str(&body);
    }
    out
}

/// The Prometheus exporter, registered with `inventory` under `prometheus`.
pub(crate) struct PrometheusExporter;

inventory::submit! { super::Registration(&PrometheusExporter) }

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running for Server {
    fn describe(&self) -> String {
        format!("prometheus on http://{}/metrics", self.addr)
    }
    fn local_addr(&self) -> Option<SocketAddr> {
        Some(self.addr)
    }
    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Exporter for PrometheusExporter {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn start(&self, cfg: &ExporterConfig) -> Result<Box<dyn Running>, ExportError> {
        let want = cfg.prometheus_addr.as_deref().unwrap_or(DEFAULT_ADDR);
        let addr: SocketAddr = want.parse().map_err(|_| ExportError {
            exporter: "prometheus",
            message: format!(
                "`{want}` is not a socket address: set OBS_PROMETHEUS_ADDR (or Builder::prometheus_addr) to host:port, e.g. 127.0.0.1:9464"
            ),
        })?;
        // Bind here, synchronously, so a taken port is an error from `init()`.
        let listener = std::net::TcpListener::bind(addr).map_err(|e| ExportError {
            exporter: "prometheus",
            message: format!(
                "cannot listen on {addr}: {e}; set OBS_PROMETHEUS_ADDR to a free address (port 0 picks one), or leave `prometheus` out of OBS_EXPORTERS"
            ),
        })?;
        let local = listener.local_addr().unwrap_or(addr);
        listener.set_nonblocking(true).map_err(|e| ExportError { exporter: "prometheus", message: e.to_string() })?;
        let namespace = cfg.namespace.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("obs-prometheus".into())
            .spawn(move || serve(listener, namespace, rx))
            .map_err(|e| ExportError { exporter: "prometheus", message: format!("cannot start thread: {e}") })?;
        Ok(Box::new(Server { addr: local, stop: Some(tx), thread: Some(thread) }))
    }
}

fn serve(listener: std::net::TcpListener, namespace: Option<String>, mut stop: tokio::sync::oneshot::Receiver<()>) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_io().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(target: "obs_runtime::export", "prometheus endpoint not started: {e}");
            return;
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(target: "obs_runtime::export", "prometheus endpoint not started: {e}");
                return;
            }
        };
        let namespace: std::sync::Arc<Option<String>> = std::sync::Arc::new(namespace);
        loop {
            let (stream, _) = tokio::select! {
                _ = &mut stop => return,
                r = listener.accept() => match r {
                    Ok(s) => s,
                    // Out of file descriptors and the like: back off, keep serving.
                    Err(_) => { tokio::time::sleep(std::time::Duration::from_millis(50)).await; continue; }
                },
            };
            let ns = namespace.clone();
            let svc = hyper::service::service_fn(move |req| handle(req, ns.clone()));
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).await;
            });
        }
    });
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    ns: std::sync::Arc<Option<String>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, ctype: &str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        if let Ok(v) = ctype.parse() {
            r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "use GET\n".into()));
    }
    Ok(match req.uri().path() {
        "/metrics" => reply(StatusCode::OK, CONTENT_TYPE, render(ns.as_deref())),
        "/health" => reply(StatusCode::OK, "application/json", "{\"status\":\"ok\"}\n".into()),
        "/summary" => reply(StatusCode::OK, "application/json", summary_json()),
        "/ready" => {
            if let Some(body) = budget_store_degraded() {
                reply(StatusCode::OK, "application/json", body)
            } else if crate::call::enabled() {
                reply(StatusCode::OK, "application/json", "{\"status\":\"ready\"}\n".into())
            } else {
                reply(StatusCode::SERVICE_UNAVAILABLE, "application/json", "{\"status\":\"starting\"}\n".into())
            }
        }
        _ => {
            reply(StatusCode::NOT_FOUND, "text/plain", "not found: try /metrics, /summary, /health or /ready\n".into())
        }
    })
}

// ---- The budget store on /summary and /ready (budgets shared through Redis) ----

/// The ledger's statistics, plus `budget_store`: where budgets keep their
/// spend (`in-process`, or `redis` with its state).
fn summary_json() -> String {
    let mut v = serde_json::to_value(crate::ledger::stats()).unwrap_or_default();
    if let (Some(map), Ok(store)) = (v.as_object_mut(), serde_json::to_value(crate::budget::store_status())) {
        map.insert("budget_store".into(), store);
    }
    serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// `/ready` while the shared budget store is unreachable: `degraded`, still
/// 200, because taking every replica out of rotation would turn a Redis
/// outage into a full one; budgets apply their fail-open or fail-closed
/// policy meanwhile.
fn budget_store_degraded() -> Option<String> {
    let s = crate::budget::store_status();
    if !s.degraded || !crate::call::enabled() {
        return None;
    }
    let text = |v: &str| serde_json::to_string(v).unwrap_or_default();
    Some(format!(
        "{{\"status\":\"degraded\",\"budget_store\":{},\"error\":{}}}\n",
        text(s.kind),
        text(&s.last_error.unwrap_or_default())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut s = String::new();
        escape_label("a\"b\\c\nd", &mut s);
        assert_eq!(s, r#"a\"b\\c\nd"#);
        let mut h = String::new();
        escape_help("x\\y\nz", &mut h);
        assert_eq!(h, r"x\\y\nz");
    }

    #[test]
    fn histograms_render_cumulative_buckets() {
        static B: [f64; 2] = [0.5, 1.0];
        let f = registry()
            .family(
                "prom_render_test_seconds",
                "Help.",
                MetricKind::Histogram { bounds: &B, scale: 1.0, float_sum: true },
            )
            .unwrap();
        let h = f.series(&[("k", "v\"q")]).histogram();
        h.record_f64(0, 0.25);
        h.record_f64(0, 0.75);
        h.record_f64(0, 3.0);
        let text = render(Some("ns"));
        let want = "# HELP ns_prom_render_test_seconds Help.\n# TYPE ns_prom_render_test_seconds histogram\n\
ns_prom_render_test_seconds_bucket{k=\"v\\\"q\",le=\"0.5\"} 1\n\
ns_prom_render_test_seconds_bucket{k=\"v\\\"q\",le=\"1\"} 2\n\
ns_prom_render_test_seconds_bucket{k=\"v\\\"q\",le=\"+Inf\"} 3\n\
ns_prom_render_test_seconds_sum{k=\"v\\\"q\"} 4\n\
ns_prom_render_test_seconds_count{k=\"v\\\"q\"} 3\n";
        assert!(text.contains(want), "{text}");
    }
}
