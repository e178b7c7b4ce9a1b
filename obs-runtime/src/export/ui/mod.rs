//! The live view (feature `ui`): a page at `/` of the embedded endpoint and
//! the JSON API it reads, served by the Prometheus exporter's server.
//!
//! | path | what |
//! |---|---|
//! | `/` | the page (`index.html`), with `/ui.js`, `/ui.css` and `/favicon.svg` |
//! | `/api/overview` | per agent, model and tool: calls, failures, error ratio, p50/p95, tokens by type, cost, cost in the last hour; budgets, health checks, alerts firing, the last hour's history |
//! | `/api/runs` | recent runs, newest first; `?agent=`, `?status=` (`success`, `error`, `cancelled`, `panic`, `failed`, `running`), `?q=` (text), `?limit=` (default 100, at most 1000) |
//! | `/api/runs/{id}` | one run with its calls, by run id or trace id |
//! | `/api/failures` | recent failures grouped by function, status and error type |
//!
//! Figures of the overview are read from the metric registry, the ledger and
//! the budgets at the time of the request, never counted a second time, so
//! they equal what `/metrics` and `/summary` show at the same moment. Runs
//! and failures come from the bounded run store ([`crate::runs`]).
//!
//! Safe by default: read-only (GET and HEAD); the endpoint's bearer token
//! (`OBS_PROMETHEUS_TOKEN`) guards the page and the API like `/metrics`
//! (a browser signs in once with `/?token=...`, which sets an `HttpOnly`,
//! `SameSite=Strict` cookie and redirects to `/`); on a loopback address
//! only requests for a loopback host name are answered (a DNS-rebinding page
//! cannot read the API); every response carries a Content-Security-Policy
//! that allows only this origin's script and style (no inline script, no
//! other origin), and the page builds its DOM with `textContent` only, so a
//! name or message from the program is shown as text, never run as markup.
//!
//! What it must not do: block the server thread on a large page (JSON is
//! built on the endpoint's render thread), or cost the instrumented calls
//! anything while off (`OBS_UI=false`: the run store's layer stays
//! uninterested and the routes answer 404).

mod api;
mod history;

pub(crate) use history::sample_loop;

use super::prometheus::Token;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use std::net::SocketAddr;

/// The page, its script and its style, embedded in the crate.
const INDEX_HTML: &str = include_str!("assets/index.html");
const UI_JS: &str = include_str!("assets/ui.js");
const UI_CSS: &str = include_str!("assets/ui.css");
const FAVICON: &str = include_str!("assets/favicon.svg");

/// The page's total weight in bytes (HTML, script, style and icon).
pub const PAGE_BYTES: usize = INDEX_HTML.len() + UI_JS.len() + UI_CSS.len() + FAVICON.len();

// Small, uncompressed: a change that makes it heavy fails the build.
const _: () = assert!(PAGE_BYTES < 48 * 1024, "the live view's page must stay under 48 KiB");

/// Everything this origin's page needs, and nothing else: no inline script
/// or style, no other origin, no framing, no forms.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The cookie a browser gets from `/?token=...`: the token in hex, so any
/// visible character of it (`;`, `,`, `"`) survives the cookie syntax.
const COOKIE: &str = "obs_token";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    s.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok()).collect()
}

/// How often the page's overview may run the health checks: every open
/// page polls every 2 s, the checks (a database ping...) run at most this
/// often for all of them.
const HEALTH_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// The health report the overview shows: the last one when fresh enough,
/// else a new run (joined with a `/ready` under way, or its cache).
async fn health() -> Option<std::sync::Arc<crate::health::Report>> {
    type Last = Option<(std::time::Instant, std::sync::Arc<crate::health::Report>)>;
    static LAST: std::sync::Mutex<Last> = std::sync::Mutex::new(None);
    if !crate::call::enabled() || crate::health::checks().is_empty() {
        return None;
    }
    let cached = LAST
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|(at, r)| (at.elapsed() < HEALTH_EVERY).then(|| r.clone()));
    if cached.is_some() {
        return cached;
    }
    let report = crate::health::run().await;
    *LAST.lock().unwrap_or_else(|e| e.into_inner()) = Some((std::time::Instant::now(), report.clone()));
    Some(report)
}

/// The live view's settings (`OBS_UI`, `OBS_UI_RUNS`, `OBS_UI_RUN_CALLS`,
/// `OBS_UI_MAX_BYTES`), set by `init()`.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UiConfig {
    /// Whether the page and API are served and runs collected.
    pub on: bool,
    /// Finished runs kept.
    pub runs: usize,
    /// Calls kept per run.
    pub run_calls: usize,
    /// The run store's memory bound, bytes.
    pub max_bytes: usize,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            // On where a developer runs the program (`cargo run`, tests),
            // off in a release build: on, every call's span is built and kept
            // (about 1 µs a call in the `metrics` bench, 20x the call path
            // alone), which a production service must choose to pay.
            on: cfg!(debug_assertions),
            runs: crate::runs::DEFAULT_RUNS,
            run_calls: crate::runs::DEFAULT_RUN_CALLS,
            max_bytes: crate::runs::DEFAULT_MAX_BYTES,
        }
    }
}

impl UiConfig {
    /// Starts collecting runs (from `init()`, once everything started).
    pub(crate) fn start(&self) {
        if self.on {
            crate::runs::start(crate::runs::Config {
                runs: self.runs,
                run_calls: self.run_calls,
                max_bytes: self.max_bytes,
            });
        }
    }
}

/// Whether `path` is the live view's.
pub(crate) fn is_ui_path(path: &str) -> bool {
    matches!(path, "/" | "/ui.js" | "/ui.css" | "/favicon.svg") || path.starts_with("/api/")
}

/// JSON built on the endpoint's render thread.
pub(crate) type Work = Box<dyn FnOnce() -> String + Send>;

/// A response of the live view.
type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, ctype: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert("content-security-policy", HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

fn text(status: StatusCode, body: &'static str) -> Reply {
    reply(status, "text/plain; charset=utf-8", body)
}

/// The request's parts the live view reads.
pub(crate) struct UiRequest<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a hyper::HeaderMap,
}

/// Whether a `Host` header names a loopback host (`127.0.0.1`, `[::1]`,
/// `localhost`), with any port.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host
            .rsplit_once(':')
            .map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host }),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie<'a>(headers: &'a hyper::HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get_all(hyper::header::COOKIE).iter().find_map(|v| {
        v.as_bytes().split(|b| *b == b';').find_map(|pair| {
            let pair = pair.trim_ascii();
            let (k, val) = pair.split_at(pair.iter().position(|b| *b == b'=')?);
            (k == name.as_bytes()).then(|| &val[1..])
        })
    })
}

/// One `key=value` of a query string, percent-decoded (`+` is a space);
/// `None` when absent or not UTF-8.
pub(crate) fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k)? == key).then(|| decode(v)).flatten()
    })
}

fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Answers a request for one of the live view's paths. `render` runs JSON
/// building on the render thread (`None` when it is busy).
pub(crate) async fn handle<R, F>(
    req: UiRequest<'_>,
    cfg: &UiConfig,
    token: Option<&Token>,
    local: SocketAddr,
    render: R,
) -> Reply
where
    R: FnOnce(Work) -> F,
    F: std::future::Future<Output = Option<String>>,
{
    if !cfg.on {
        return text(
            StatusCode::NOT_FOUND,
            "not found: the live view is off (OBS_UI=false; OBS_UI=true turns it on)\n",
        );
    }
    if req.method != Method::GET && req.method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "the live view is read-only: use GET\n");
    }
    // A page on another site that rebinds its name to 127.0.0.1 would send
    // its own host name: refused, so it cannot read runs or the API.
    if local.ip().is_loopback() {
        let host = req.headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        if !loopback_host(host) {
            return text(
                StatusCode::FORBIDDEN,
                "forbidden: on a loopback address the live view answers only for 127.0.0.1, [::1] or localhost\n",
            );
        }
    }
    if let Some(t) = token {
        let auth = req.headers.get(hyper::header::AUTHORIZATION).map(|v| v.as_bytes());
        let signed_in = t.admits(auth) || cookie(req.headers, COOKIE).and_then(unhex).is_some_and(|c| t.is(&c));
        if !signed_in {
            // `/?token=...`: a browser signs in once; the token leaves the
            // address bar at once (303 to `./`).
            let given = (req.path == "/").then(|| query_param(req.query, "token")).flatten();
            if let Some(given) = given.filter(|g| t.is(g.as_bytes())) {
                let mut r = text(StatusCode::SEE_OTHER, "signed in\n");
                let h = r.headers_mut();
                h.insert(hyper::header::LOCATION, HeaderValue::from_static("./"));
                let value = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", hex(given.as_bytes()));
                if let Ok(v) = HeaderValue::from_str(&value) {
                    h.insert(hyper::header::SET_COOKIE, v);
                }
                return r;
            }
            let mut r = text(
                StatusCode::UNAUTHORIZED,
                "unauthorized: send Authorization: Bearer <OBS_PROMETHEUS_TOKEN>, or open /?token=<OBS_PROMETHEUS_TOKEN> once\n",
            );
            r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return r;
        }
    }
    match req.path {
        "/" => return reply(StatusCode::OK, "text/html; charset=utf-8", INDEX_HTML),
        "/ui.js" => return reply(StatusCode::OK, "text/javascript; charset=utf-8", UI_JS),
        "/ui.css" => return reply(StatusCode::OK, "text/css; charset=utf-8", UI_CSS),
        "/favicon.svg" => return reply(StatusCode::OK, "image/svg+xml", FAVICON),
        _ => {}
    }
    let work: Work = match req.path {
        "/api/overview" => {
            // Health checks run on the server's runtime, as `/ready` runs them.
            let health = health().await;
            Box::new(move || api::overview(health))
        }
        "/api/runs" => {
            let q = req.query;
            let filter = crate::runs::Filter {
                agent: query_param(q, "agent").filter(|v| !v.is_empty()),
                status: query_param(q, "status").filter(|v| !v.is_empty()),
                text: query_param(q, "q").filter(|v| !v.is_empty()),
                limit: query_param(q, "limit").and_then(|v| v.parse().ok()).unwrap_or(100).clamp(1, 1000),
            };
            Box::new(move || api::runs(&filter))
        }
        "/api/failures" => Box::new(api::failures),
        p => match p.strip_prefix("/api/runs/") {
            Some(id) if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                let id = id.to_string();
                Box::new(move || api::run(&id).unwrap_or_default())
            }
            _ => {
                return text(
                    StatusCode::NOT_FOUND,
                    "not found: try /api/overview, /api/runs, /api/runs/{id} or /api/failures\n",
                )
            }
        },
    };
    match render(work).await {
        Some(body) if body.is_empty() => text(StatusCode::NOT_FOUND, "no such run: it may have been evicted\n"),
        Some(body) => reply(StatusCode::OK, "application/json", body),
        None => text(StatusCode::SERVICE_UNAVAILABLE, "busy: too many requests at once, retry\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_queries() {
        for h in ["127.0.0.1:9464", "localhost", "LOCALHOST:80", "[::1]:9464", "127.0.0.2"] {
            assert!(loopback_host(h), "{h}");
        }
        for h in ["evil.example:9464", "", "127.0.0.1.evil.example", "[::2]:1", "localhost.evil"] {
            assert!(!loopback_host(h), "{h}");
        }
        let q = Some("agent=re%20searcher&q=a+b&status=&x");
        assert_eq!(query_param(q, "agent").as_deref(), Some("re searcher"));
        assert_eq!(query_param(q, "q").as_deref(), Some("a b"));
        assert_eq!(query_param(q, "status").as_deref(), Some(""));
        assert_eq!(query_param(q, "x").as_deref(), Some(""));
        assert_eq!(query_param(q, "y"), None);
        assert_eq!(query_param(Some("q=%zz"), "q"), None);
        assert_eq!(query_param(Some("q=%e9"), "q"), None, "not UTF-8");
        assert_eq!(query_param(Some("q=%"), "q"), None);
    }

    #[test]
    fn the_cookie_holds_the_token_in_hex() {
        let t = "a;b,c\"d=e\\f0123456789";
        assert_eq!(unhex(hex(t.as_bytes()).as_bytes()).as_deref(), Some(t.as_bytes()));
        assert_eq!(unhex(b"abc"), None);
        assert_eq!(unhex(b"zz"), None);
        assert_eq!(unhex(b""), Some(Vec::new()));
    }

    #[test]
    fn cookies() {
        let mut h = hyper::HeaderMap::new();
        h.append(hyper::header::COOKIE, HeaderValue::from_static("a=1; obs_token=abc=d; b=2"));
        assert_eq!(cookie(&h, "obs_token"), Some(&b"abc=d"[..]));
        assert_eq!(cookie(&h, "b"), Some(&b"2"[..]));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn the_page_is_self_contained() {
        // No other origin: nothing to fetch from a CDN, a font host or an
        // analytics script; and no inline script or style for the CSP to refuse.
        for (name, text) in [("index.html", INDEX_HTML), ("ui.js", UI_JS), ("ui.css", UI_CSS)] {
            for bad in
                ["http://", "https://", "//cdn", "@import", "innerHTML", "outerHTML", "insertAdjacentHTML", "eval("]
            {
                assert!(!text.contains(bad), "{name} contains `{bad}`");
            }
        }
        assert!(!INDEX_HTML.contains("<script>") && !INDEX_HTML.contains("style="), "no inline script or style");
        assert!(INDEX_HTML.contains("<script src=\"ui.js\""));
    }
}
