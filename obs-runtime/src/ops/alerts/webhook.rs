//! The webhook notifier: Slack-compatible JSON (incoming-webhook `text` and
//! one attachment with the severity's colour and fields) posted with hyper,
//! the HTTP client the OTLP exporter already brings (feature `otlp`).

use super::{AlertError, AlertState, Notification, Notifier, NotifyError, Severity};
use serde_json::json;
use std::time::{Duration, UNIX_EPOCH};

/// Posts each transition as Slack-compatible JSON to an `http://` URL, with
/// a timeout per attempt and retries with doubling back-off on connection
/// errors, timeouts, 429 and 5xx answers (another 4xx is final).
///
/// ```no_run
/// use obs_runtime::ops::alerts::WebhookNotifier;
/// use std::time::Duration;
/// let hook = WebhookNotifier::new("http://alert-relay.internal:8080/hooks/obs")
///     .unwrap()
///     .timeout(Duration::from_secs(3))
///     .retries(2);
/// # let _ = hook;
/// ```
///
/// This build has no TLS: for Slack's `https://hooks.slack.com/..`, post to
/// a relay (the collector or a proxy) on `http://`.
pub struct WebhookNotifier {
    name: String,
    url: http::Uri,
    shown: String,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookNotifier").field("url", &self.shown).field("timeout", &self.timeout).finish()
    }
}

impl WebhookNotifier {
    /// A notifier posting to `url` (`http://host[:port]/path`), 5 s timeout
    /// per attempt, 2 retries after 500 ms and 1 s.
    pub fn new(url: &str) -> Result<WebhookNotifier, AlertError> {
        let shown_url = crate::redact::scan(&crate::metrics::registry::cut(url, 80)).into_owned();
        let uri: http::Uri = url
            .parse()
            .map_err(|e| AlertError(format!("webhook URL `{shown_url}`: {e}; expected http://host:port/path")))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(AlertError(format!(
                "webhook URL `{shown_url}`: expected http://host:port/path (https:// needs TLS, not in this build: post to a relay on http://)"
            )));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AlertError(format!("webhook notifier: cannot build its runtime: {e}")))?;
        // Logs show where, never the path: webhook paths often hold a token.
        let shown = format!("http://{}", uri.authority().map_or("", |a| a.as_str()));
        Ok(WebhookNotifier {
            name: "webhook".to_string(),
            url: uri,
            shown,
            timeout: Duration::from_secs(5),
            retries: 2,
            backoff: Duration::from_millis(500),
            rt,
        })
    }
    /// The longest wait for one attempt (connect, send, answer).
    pub fn timeout(mut self, d: Duration) -> WebhookNotifier {
        self.timeout = d;
        self
    }
    /// Attempts after the first one.
    pub fn retries(mut self, n: u32) -> WebhookNotifier {
        self.retries = n;
        self
    }
    /// The wait before the first retry, doubled before each next one.
    pub fn backoff(mut self, d: Duration) -> WebhookNotifier {
        self.backoff = d;
        self
    }
    /// The notifier's name in logs and in `obs_alert_notifications_failed_total{notifier}`.
    pub fn name(mut self, name: impl Into<String>) -> WebhookNotifier {
        self.name = name.into();
        self
    }

    /// The JSON body posted for `n`: Slack's `text`, and one attachment with
    /// `color` (critical `#d50200`, warning `#de9e31`, info `#439fe0`,
    /// resolved `#2eb886`), `title`, `text` (the description), `fields`
    /// (severity, state, subject, value, threshold) and `ts`.
    pub fn payload(n: &Notification) -> serde_json::Value {
        let color = match (n.state, n.severity) {
            (AlertState::Resolved, _) => "#2eb886",
            (_, Severity::Critical) => "#d50200",
            (_, Severity::Warning) => "#de9e31",
            (_, Severity::Info) => "#439fe0",
        };
        let short = |title: &str, value: String| json!({"title": title, "value": value, "short": true});
        json!({
            "text": n.text(),
            "attachments": [{
                "color": color,
                "fallback": n.text(),
                "title": format!("{} {}", n.rule, n.state.as_str()),
                "text": n.description,
                "fields": [
                    short("severity", n.severity.as_str().to_string()),
                    short("state", n.state.as_str().to_string()),
                    short("subject", n.subject.clone()),
                    short("value", super::fmt_num(n.value)),
                    short("threshold", super::fmt_num(n.threshold)),
                ],
                "ts": n.at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            }],
        })
    }

    async fn attempt(
        &self,
        client: &opentelemetry_http::hyper::HyperClient,
        body: &bytes::Bytes,
    ) -> Result<(), (bool, NotifyError)> {
        use opentelemetry_http::HttpClient as _;
        let req = http::Request::builder()
            .method(http::Method::POST)
            .uri(self.url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .map_err(|e| (false, NotifyError::Failed(e.to_string())))?;
        match tokio::time::timeout(self.timeout, client.send_bytes(req)).await {
            Err(_) => {
                Err((true, NotifyError::Timeout(format!("no answer from {} within {:?}", self.shown, self.timeout))))
            }
            Ok(Err(e)) => Err((true, NotifyError::Failed(format!("{}: {e}", self.shown)))),
            Ok(Ok(r)) if r.status().is_success() => Ok(()),
            Ok(Ok(r)) => {
                let s = r.status();
                let retry = s.is_server_error() || s == http::StatusCode::TOO_MANY_REQUESTS;
                Err((retry, NotifyError::Failed(format!("HTTP {s} from {}", self.shown))))
            }
        }
    }
}

impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        let body = bytes::Bytes::from(Self::payload(n).to_string());
        // The client's own timeout is a backstop: ours decides and names it.
        let client = opentelemetry_http::hyper::HyperClient::with_default_connector(self.timeout * 2, None);
        self.rt.block_on(async {
            let mut wait = self.backoff;
            let mut last = NotifyError::Failed("no attempt".to_string());
            for i in 0..=self.retries {
                if i > 0 {
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
                match self.attempt(&client, &body).await {
                    Ok(()) => return Ok(()),
                    Err((retry, e)) => {
                        last = e;
                        if !retry {
                            break;
                        }
                    }
                }
            }
            Err(last)
        })
    }
}
