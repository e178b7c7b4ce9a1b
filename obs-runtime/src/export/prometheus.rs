//! The embedded Prometheus endpoint: `/metrics` (text format 0.0.4),
//! `/summary` (the model-call ledger's statistics, JSON), `/health` and `/ready`, served by hyper on a thread of its own so that
//! scrapes never run on (or wait for) the application's runtime. With
//! feature `ui` it also serves the live view (`/`, `/api/...`: see
//! `export::ui`).
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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

/// Whether a series' label names are valid, distinct, and (on a histogram)
/// not `le`. Every path into the registry checks this already; rendering
/// checks again so that no single series can invalidate the page.
fn labels_ok(ls: &[Label], histogram: bool) -> bool {
    ls.iter().enumerate().all(|(i, (k, _))| {
        crate::metrics::registry::valid_label_name(k)
            && !(histogram && k == "le")
            && !ls[..i].iter().any(|(k2, _)| k2 == k)
    })
}

/// Renders every family in the Prometheus text format, names prefixed with
/// `{namespace}_` when a namespace is given.
pub fn render(namespace: Option<&str>) -> String {
    crate::process::refresh();
    crate::conversation::sweep();
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
        let histogram = matches!(fam.kind(), MetricKind::Histogram { .. });
        fam.for_each_series(|ls, series| match series {
            // One series Prometheus would reject would make it drop the
            // whole page: such a series is left out instead.
            _ if !labels_ok(ls, histogram) => {}
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

/// Connections served at once by default (`OBS_PROMETHEUS_MAX_CONNECTIONS`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// Bounds of `OBS_PROMETHEUS_MAX_CONNECTIONS`.
pub const MAX_CONNECTIONS_RANGE: std::ops::RangeInclusive<usize> = 1..=4096;
/// How long a connection may take to send a request's headers, idle or
/// slow, before it is closed, by default (`OBS_PROMETHEUS_TIMEOUT_SECS`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bounds of `OBS_PROMETHEUS_TIMEOUT_SECS`, in seconds.
pub const TIMEOUT_SECS_RANGE: std::ops::RangeInclusive<u64> = 1..=3600;

#[doc(hidden)]
/// The bearer token that `/metrics`, `/summary` and `/ready` require
/// (`OBS_PROMETHEUS_TOKEN`). Never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(std::sync::Arc<str>);

impl Token {
    /// A token: 16 to 4096 visible ASCII characters (what an
    /// `Authorization: Bearer` header can carry), `None` otherwise.
    pub fn new(token: &str) -> Option<Token> {
        ((16..=4096).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic())).then(|| Token(token.into()))
    }

    /// Whether `header` (the `Authorization` value) carries this token. The
    /// time taken depends only on the token's length, never on where a
    /// guess differs.
    pub(crate) fn admits(&self, header: Option<&[u8]>) -> bool {
        self.matches(b"Bearer ", header.unwrap_or_default())
    }

    /// Whether `given` is the token itself (a cookie's value), in the same
    /// constant time.
    #[cfg_attr(not(feature = "ui"), allow(dead_code))]
    pub(crate) fn is(&self, given: &[u8]) -> bool {
        self.matches(b"", given)
    }

    fn matches(&self, prefix: &[u8], given: &[u8]) -> bool {
        let want = self.0.as_bytes();
        let mut diff = u8::from(given.len() != prefix.len() + want.len());
        for (i, expected) in prefix.iter().chain(want).enumerate() {
            diff |= expected ^ given.get(i).copied().unwrap_or(0);
        }
        std::hint::black_box(diff) == 0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token([REDACTED; {} bytes])", self.0.len())
    }
}

/// The endpoint's limits and access control (set by `init()`).
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Required bearer token for everything but `/health`.
    pub token: Option<Token>,
    /// Connections served at once; past it the oldest idle one is closed.
    pub max_connections: usize,
    /// Time allowed for a request's headers, and for a kept-alive
    /// connection to send its next request.
    pub timeout: Duration,
    /// The live view's settings.
    #[cfg(feature = "ui")]
    pub ui: super::ui::UiConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            token: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            timeout: DEFAULT_TIMEOUT,
            #[cfg(feature = "ui")]
            ui: super::ui::UiConfig::default(),
        }
    }
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
                "`{}` is not a socket address: set OBS_PROMETHEUS_ADDR (or Builder::prometheus_addr) to host:port, e.g. 127.0.0.1:9464",
                crate::metrics::registry::cut(want, 64)
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
        let thread_err =
            |e: std::io::Error| ExportError { exporter: "prometheus", message: format!("cannot start thread: {e}") };
        // Pages are rendered on a thread of their own, one at a time: a large
        // page never holds up `/ready` or `/health`, and concurrent scrapes
        // never hold more than one page in memory.
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(RENDER_QUEUE);
        let namespace = cfg.namespace.clone();
        std::thread::Builder::new()
            .name("obs-prometheus-render".into())
            .spawn(move || render_loop(queue, namespace))
            .map_err(thread_err)?;
        let server = cfg.prometheus.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("obs-prometheus".into())
            .spawn(move || serve(listener, server, jobs, rx))
            .map_err(thread_err)?;
        Ok(Box::new(Server { addr: local, stop: Some(tx), thread: Some(thread) }))
    }
}

/// A page the render thread produces, and where it sends it.
type Job = (Page, tokio::sync::oneshot::Sender<String>);

enum Page {
    Metrics,
    Summary,
    /// `/ready` with health checks: run (or joined) on the server's runtime.
    Ready,
    /// JSON of the live view's API.
    #[cfg(feature = "ui")]
    Ui(super::ui::Work),
}

/// Pages waiting for the render thread; past it a scrape gets a 503.
const RENDER_QUEUE: usize = 8;

fn render_loop(queue: std::sync::mpsc::Receiver<Job>, namespace: Option<String>) {
    while let Ok((page, reply)) = queue.recv() {
        if reply.is_closed() {
            continue; // the client went away while it waited
        }
        let body = match page {
            Page::Metrics => render(namespace.as_deref()),
            Page::Summary => summary_json(),
            Page::Ready => String::new(), // answered by the server thread, never queued
            #[cfg(feature = "ui")]
            Page::Ui(work) => work(),
        };
        let _ = reply.send(body);
    }
}

/// How long the accept loop waits after a failed accept (out of file
/// descriptors, most often) before it tries again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The connections being served, oldest first, to close the oldest idle one
/// when a new one arrives at the cap.
#[derive(Default)]
struct Conns {
    next: u64,
    live: std::collections::BTreeMap<u64, Conn>,
}

struct Conn {
    /// Set while a request is being answered: such a connection is not closed.
    busy: std::sync::Arc<AtomicBool>,
    close: tokio::sync::oneshot::Sender<()>,
}

type Shared<T> = std::sync::Arc<std::sync::Mutex<T>>;

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Conns {
    /// Room for one more connection: closes the oldest idle connection when
    /// at `max`. `false` when every connection is answering a request.
    fn make_room(&mut self, max: usize) -> bool {
        if self.live.len() < max {
            return true;
        }
        let idle = self.live.iter().find(|(_, c)| !c.busy.load(Ordering::Acquire)).map(|(id, _)| *id);
        match idle.and_then(|id| self.live.remove(&id)) {
            Some(c) => {
                let _ = c.close.send(());
                true
            }
            None => false,
        }
    }
}

fn serve(
    listener: std::net::TcpListener,
    cfg: ServerConfig,
    jobs: std::sync::mpsc::SyncSender<Job>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    // Timers are on: the accept back-off and the header timeout need them
    // (without them the back-off panicked at the first EMFILE and the
    // endpoint stayed down for good).
    let rt = match tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build() {
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
        let local = listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        // The live view's chart: the registry's totals, read on this runtime.
        #[cfg(feature = "ui")]
        if cfg.ui.on {
            tokio::spawn(super::ui::sample_loop());
        }
        let cfg = std::sync::Arc::new(cfg);
        let conns: Shared<Conns> = Shared::default();
        loop {
            let (stream, _) = tokio::select! {
                _ = &mut stop => return,
                r = listener.accept() => match r {
                    Ok(s) => s,
                    // Out of file descriptors and the like: the pending
                    // connections stay in the backlog; back off, keep serving.
                    Err(_) => { tokio::time::sleep(ACCEPT_BACKOFF).await; continue; }
                },
            };
            let (id, busy, closed) = {
                let mut c = lock(&conns);
                if !c.make_room(cfg.max_connections) {
                    continue; // dropped: closed at once, its descriptor freed
                }
                let id = c.next;
                c.next += 1;
                let busy = std::sync::Arc::new(AtomicBool::new(false));
                let (close, closed) = tokio::sync::oneshot::channel();
                c.live.insert(id, Conn { busy: busy.clone(), close });
                (id, busy, closed)
            };
            let (cfg2, jobs, conns) = (cfg.clone(), jobs.clone(), conns.clone());
            let svc = hyper::service::service_fn(move |req| {
                let (cfg, jobs, busy) = (cfg2.clone(), jobs.clone(), busy.clone());
                async move {
                    busy.store(true, Ordering::Release);
                    let r = handle(req, &cfg, &jobs, local).await;
                    busy.store(false, Ordering::Release);
                    r
                }
            });
            let timeout = cfg.timeout;
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(timeout)
                    .max_buf_size(64 * 1024)
                    .serve_connection(io, svc);
                tokio::select! {
                    _ = conn => {}
                    _ = closed => {}
                }
                lock(&conns).live.remove(&id);
            });
        }
    });
}

/// The answer to one request: status, content type and body.
type Reply = (StatusCode, &'static str, String);

/// Routes a request by method, path and `Authorization` header; the pages
/// themselves come from `page` (the render thread). `/health` is open to
/// liveness probes whatever the token; a missing or wrong token is a 401
/// that says nothing about the token.
fn route(method: &Method, path: &str, auth: Option<&[u8]>, token: Option<&Token>) -> Result<Reply, Page> {
    if method != Method::GET && method != Method::HEAD {
        return Ok((StatusCode::METHOD_NOT_ALLOWED, "text/plain", "use GET\n".into()));
    }
    if path == "/health" {
        return Ok((StatusCode::OK, "application/json", "{\"status\":\"ok\"}\n".into()));
    }
    let known = matches!(path, "/metrics" | "/summary" | "/ready");
    if known && token.is_some_and(|t| !t.admits(auth)) {
        return Ok((StatusCode::UNAUTHORIZED, "text/plain", "unauthorized\n".into()));
    }
    match path {
        "/metrics" => Err(Page::Metrics),
        "/summary" => Err(Page::Summary),
        "/ready" if crate::call::enabled() && !crate::health::checks().is_empty() => Err(Page::Ready),
        "/ready" => Ok(match budget_store_degraded() {
            Some(body) => (StatusCode::OK, "application/json", body),
            None if crate::call::enabled() => (StatusCode::OK, "application/json", "{\"status\":\"ready\"}\n".into()),
            None => (StatusCode::SERVICE_UNAVAILABLE, "application/json", "{\"status\":\"starting\"}\n".into()),
        }),
        _ => Ok((
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try / (the live view, feature `ui`), /metrics, /summary, /health or /ready\n".into(),
        )),
    }
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    cfg: &ServerConfig,
    jobs: &std::sync::mpsc::SyncSender<Job>,
    #[cfg_attr(not(feature = "ui"), allow(unused_variables))] local: SocketAddr,
) -> Result<Response<Full<Bytes>>, Infallible> {
    #[cfg(feature = "ui")]
    if super::ui::is_ui_path(req.uri().path()) {
        let ui = super::ui::UiRequest {
            method: req.method(),
            path: req.uri().path(),
            query: req.uri().query(),
            headers: req.headers(),
        };
        let render = |work| async move {
            let (tx, rx) = tokio::sync::oneshot::channel();
            jobs.try_send((Page::Ui(work), tx)).ok()?;
            rx.await.ok()
        };
        return Ok(super::ui::handle(ui, &cfg.ui, cfg.token.as_ref(), local, render).await);
    }
    let auth = req.headers().get(hyper::header::AUTHORIZATION).map(|v| v.as_bytes());
    let (status, ctype, body) = match route(req.method(), req.uri().path(), auth, cfg.token.as_ref()) {
        Ok(r) => r,
        Err(Page::Ready) => ready().await,
        Err(page) => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let busy =
                || (StatusCode::SERVICE_UNAVAILABLE, "text/plain", "busy: too many scrapes at once, retry\n".into());
            let ctype = match page {
                Page::Metrics => CONTENT_TYPE,
                _ => "application/json",
            };
            match jobs.try_send((page, tx)) {
                Err(_) => busy(),
                Ok(()) => match rx.await {
                    Ok(body) => (StatusCode::OK, ctype, body),
                    Err(_) => busy(),
                },
            }
        }
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = ctype.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, hyper::header::HeaderValue::from_static("Bearer"));
    }
    Ok(r)
}

/// `/ready` with health checks: the health report (see [`crate::health`]),
/// 200 `healthy`, 207 `degraded` or 503 `critical`. An unreachable shared
/// budget store adds `budget_store` and `budget_store_error`, and turns
/// `healthy` into `degraded` still answered with 200 (see
/// [`budget_store_degraded`]).
async fn ready() -> Reply {
    let report = crate::health::run().await;
    let mut json = report.to_json();
    let code = report.status.http_status();
    let store = crate::budget::store_status();
    if store.degraded {
        if let Some(map) = json.as_object_mut() {
            if report.status == crate::health::HealthStatus::Healthy {
                map.insert("status".into(), "degraded".into());
            }
            map.insert("budget_store".into(), store.kind.into());
            map.insert("budget_store_error".into(), store.last_error.unwrap_or_default().into());
        }
    }
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut body = serde_json::to_string(&json).unwrap_or_default();
    body.push('\n');
    (status, "application/json", body)
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
