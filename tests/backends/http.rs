//! JSON over HTTP to the backends' APIs (blocking; never through a proxy).

use serde_json::Value;
use std::time::Duration;

/// A client for 127.0.0.1: no proxy (an `HTTP_PROXY` in the environment must
/// not see test traffic), 30 s per request.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the HTTP client")
}

/// A response: status and body (JSON when it parses, else `Value::Null`),
/// with the raw text for error messages.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub json: Value,
    pub text: String,
}

fn reply(what: &str, r: reqwest::Result<reqwest::blocking::Response>) -> Reply {
    let r = r.unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_else(|e| panic!("{what}: reading the body: {e}"));
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, json, text }
}

/// `GET url`.
pub fn get(url: &str) -> Reply {
    reply(&format!("GET {url}"), client().get(url).send())
}

/// `POST url` with a JSON body and extra headers.
pub fn post(url: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
    let mut req = client().post(url).json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(&format!("POST {url}"), req.send())
}

/// Whether `GET url` answers 200 (any error is "not yet").
pub fn is_ok(url: &str) -> bool {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .ok()
        .and_then(|c| c.get(url).send().ok())
        .is_some_and(|r| r.status().as_u16() == 200)
}
