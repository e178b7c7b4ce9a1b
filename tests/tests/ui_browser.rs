//! The live view in a real browser: Debian's `chromium`, headless, driven by
//! Playwright for Python (`tests/browser/live_view.py`, which only reports
//! what the page shows; every assertion is here), against the `ui-agents`
//! program (`tests/bin/ui_agents.rs`) on a free 127.0.0.1 port.
//!
//! * The overview's figures equal `/metrics` and the ledger (`/summary`)
//!   exactly: calls, failures, tokens by type and cost in picodollars per
//!   agent, model and tool, the totals, the budget's spend; p50/p95 lie in
//!   the bucket of `/metrics` that holds their rank and, for models, within
//!   the ledger's observed durations.
//! * The runs list holds the program's three runs with their request, user
//!   and conversation; the filters work; the failed run opens as its tree
//!   (parents, statuses, tokens, cost, error type and message).
//! * A tool error made of `<script>` and `<img onerror>` is shown as text and
//!   runs nothing; the page loads no other origin and logs no console error.
//! * With a token, the page and the API refuse a request without it; a
//!   bearer header or a `/?token=` sign-in (an HttpOnly cookie) open them.
//!
//! Needs `chromium` (apt) and the Playwright venv in
//! `$OBS_BACKENDS_DIR/playwright` (`.ci/browser.sh` installs both; `.ci/run`
//! calls it). Screenshots: `target/tmp/ui-browser/`.

use obs_tests::KillOnDrop;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The failed search's error text (the program's `HOSTILE`).
const HOSTILE: &str = r#"<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> backend said no"#;
/// With `;`, `,` and `=`, which a cookie value cannot hold as they are.
const TOKEN: &str = "ui;test,token=0123456789abcdef";

fn python() -> PathBuf {
    let dir = obs_tests::backends::backends_dir().join("playwright");
    let py = dir.join("bin/python");
    assert!(
        py.exists(),
        "no Playwright venv at {}: install chromium and it with `.ci/browser.sh` (`.ci/run` does)",
        dir.display()
    );
    let chromium = std::env::var("OBS_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no {chromium}: install it with `apt-get install -y --no-install-recommends chromium` (`.ci/browser.sh` does)"
    );
    py
}

/// `ui-agents` started with `env`, and its address once it is ready.
fn start(env: &[(&str, &str)]) -> (KillOnDrop, SocketAddr) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ui-agents"));
    cmd.env("OBS_PROMETHEUS_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env("OBS_CAPTURE_CONTENT", "true")
        .env_remove("OBS_PROMETHEUS_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = KillOnDrop(cmd.spawn().expect("start ui-agents"));
    let out = child.0.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).expect("ready line");
    let url = line.trim().strip_prefix("ready http://").unwrap_or_else(|| panic!("not a ready line: {line:?}"));
    (child, url.trim_end_matches('/').parse().expect("address"))
}

/// `GET path` with extra headers: status and body.
fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(30)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}

fn json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = get(addr, path, &[]);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// One sample of `/metrics`: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn parse_metrics(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once("=\"").unwrap();
                    (k.to_string(), v.trim_end_matches('"').to_string())
                })
                .collect();
            let v = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap(),
            };
            (name.to_string(), labels, v)
        })
        .collect()
}

fn select<'a>(m: &'a [Sample], name: &str, filter: &[(&str, &str)]) -> impl Iterator<Item = &'a Sample> {
    let name = name.to_string();
    let filter: Vec<(String, String)> = filter.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    m.iter().filter(move |(n, ls, _)| *n == name && filter.iter().all(|(k, v)| ls.get(k) == Some(v)))
}

/// A counter's sum over the series matching `filter`, exactly (integers).
fn count(m: &[Sample], name: &str, filter: &[(&str, &str)]) -> u64 {
    select(m, name, filter).map(|(_, _, v)| *v as u64).sum()
}

fn failed(m: &[Sample], name: &str, filter: &[(&str, &str)]) -> u64 {
    ["error", "panic"].iter().map(|s| count(m, name, &[filter, &[("status", s)]].concat())).sum()
}

/// A cost counter's sum in picodollars: each series' USD back to its exact
/// integer (they are picodollars scaled by 1e-12), then summed.
fn pico(m: &[Sample], filter: &[(&str, &str)]) -> u64 {
    select(m, "llm_cost_usd_total", filter).map(|(_, _, v)| (v * 1e12).round() as u64).sum()
}

/// The bucket of histogram `name` (summed over `filter`) holding quantile
/// `q`'s rank: its lower and upper bound.
fn bucket_of(m: &[Sample], name: &str, filter: &[(&str, &str)], q: f64) -> (f64, f64) {
    let mut cum: BTreeMap<u64, (f64, u64)> = BTreeMap::new();
    for (_, ls, v) in select(m, &format!("{name}_bucket"), filter) {
        let le: f64 = match ls["le"].as_str() {
            "+Inf" => f64::INFINITY,
            s => s.parse().unwrap(),
        };
        let e = cum.entry(le.to_bits()).or_insert((le, 0));
        e.1 += *v as u64;
    }
    let mut bounds: Vec<(f64, u64)> = cum.into_values().collect();
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = bounds.last().unwrap().1;
    let rank = q * total as f64;
    let mut lo = 0.0;
    for (le, c) in bounds {
        if c as f64 >= rank && c > 0 {
            return (lo, le);
        }
        lo = le;
    }
    unreachable!()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn run_browser(mode: &str, addr: SocketAddr, arg: &str) -> Value {
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-browser").join(mode);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser/live_view.py");
    let out = Command::new(python())
        .arg(script)
        .args([mode, &format!("http://{addr}/"), shots.to_str().unwrap(), arg])
        .output()
        .expect("run the Playwright driver");
    assert!(
        out.status.success(),
        "the browser driver failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("screenshots: {}", shots.display());
    serde_json::from_slice(&out.stdout).expect("the driver's JSON")
}

/// Waits (polling, no time assertion) until the alert rule fired.
fn wait_for_alert(addr: SocketAddr) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let o = json(addr, "/api/overview");
        if o["alerts"].as_array().is_some_and(|a| !a.is_empty()) || Instant::now() > deadline {
            return o;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_live_view_shows_the_programs_figures_runs_and_failures_as_text() {
    let py = python();
    let _ = py;
    let (_program, addr) = start(&[]);
    let overview_before = wait_for_alert(addr);
    let metrics_text = get(addr, "/metrics", &[]).1;
    let m = parse_metrics(&metrics_text);
    let ledger = json(addr, "/summary");
    let o = json(addr, "/api/overview");
    assert_eq!(o["alerts"], overview_before["alerts"]);

    // ---- The overview's figures, against /metrics and the ledger.
    let agents: BTreeMap<String, &Value> =
        o["agents"].as_array().unwrap().iter().map(|a| (a["name"].as_str().unwrap().to_string(), a)).collect();
    for name in ["planner", "researcher", "support"] {
        let a = agents[name];
        let f = [("agent", name)];
        assert_eq!(u(&a["calls"]), count(&m, "agent_executions_total", &f), "{name}");
        assert_eq!(u(&a["failed"]), failed(&m, "agent_executions_total", &f), "{name}");
        assert_eq!(u(&a["model_calls"]), count(&m, "llm_calls_total", &f), "{name}");
        assert_eq!(u(&a["tool_calls"]), count(&m, "tool_calls_total", &f), "{name}");
        for t in ["input", "output", "cache_read", "cache_creation", "reasoning"] {
            assert_eq!(
                u(&a["tokens"][t]),
                count(&m, "llm_tokens_total", &[("agent", name), ("type", t)]),
                "{name} {t}"
            );
        }
        assert_eq!(u(&a["cost_pico"]), pico(&m, &f), "{name}");
        assert_eq!(a["cost_last_hour_pico"], a["cost_pico"], "a process younger than an hour: all of it");
        for (q, key) in [(0.5, "p50_seconds"), (0.95, "p95_seconds")] {
            let (lo, hi) = bucket_of(&m, "agent_execution_duration_seconds", &f, q);
            let p = a[key].as_f64().unwrap();
            assert!(lo <= p && p <= hi, "{name} {key} {p} outside its bucket {lo}..{hi}");
        }
    }
    assert_eq!((u(&agents["planner"]["calls"]), u(&agents["planner"]["failed"])), (2, 1));
    let models: BTreeMap<String, &Value> =
        o["models"].as_array().unwrap().iter().map(|a| (a["name"].as_str().unwrap().to_string(), a)).collect();
    for name in ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"] {
        let x = models[name];
        let f = [("model", name)];
        let l = &ledger["by_model"][name];
        assert_eq!(u(&x["calls"]), count(&m, "llm_calls_total", &f), "{name}");
        assert_eq!(u(&x["calls"]), u(&l["calls"]), "{name}: the ledger");
        assert_eq!(u(&x["failed"]), u(&l["failures"]), "{name}");
        for (t, lk) in [
            ("input", "input_tokens"),
            ("output", "output_tokens"),
            ("cache_read", "cache_read_tokens"),
            ("cache_creation", "cache_creation_tokens"),
        ] {
            assert_eq!(
                u(&x["tokens"][t]),
                count(&m, "llm_tokens_total", &[("model", name), ("type", t)]),
                "{name} {t}"
            );
            assert_eq!(u(&x["tokens"][t]), u(&l[lk]), "{name} {t}: the ledger");
        }
        assert_eq!(u(&x["cost_pico"]), pico(&m, &f), "{name}");
        assert_eq!(x["cost_usd"], l["cost_usd"], "{name}: the ledger's cost, to the bit");
        for key in ["p50_seconds", "p95_seconds"] {
            let p = x[key].as_f64().unwrap();
            let (lo, hi) = (l["min_duration_seconds"].as_f64().unwrap(), l["max_duration_seconds"].as_f64().unwrap());
            assert!(lo <= p && p <= hi, "{name} {key} {p} outside the ledger's {lo}..{hi}");
        }
    }
    let tool = o["tools"].as_array().unwrap().iter().find(|t| t["name"] == "web_search").unwrap();
    assert_eq!((u(&tool["calls"]), u(&tool["failed"])), (2, 1));
    assert_eq!(
        (u(&tool["calls"]), u(&tool["failed"])),
        (
            count(&m, "tool_calls_total", &[("tool", "web_search")]),
            failed(&m, "tool_calls_total", &[("tool", "web_search")])
        )
    );
    let t = &o["totals"];
    assert_eq!(u(&t["agent_runs"]), count(&m, "agent_executions_total", &[]));
    assert_eq!(u(&t["model_calls"]), count(&m, "llm_calls_total", &[]));
    assert_eq!(u(&t["model_calls"]), u(&ledger["totals"]["calls"]));
    assert_eq!(u(&t["cost_pico"]), pico(&m, &[]));
    assert_eq!(t["cost_usd"], ledger["totals"]["cost_usd"]);
    let budget = &o["budgets"][0];
    assert_eq!((budget["name"].as_str(), budget["period"].as_str()), (Some("daily"), Some("day")));
    assert_eq!(u(&budget["spent_pico"]), u(&t["cost_pico"]), "a process-wide budget spent what every call cost");
    assert_eq!(
        budget["spent_usd"].as_f64(),
        select(&m, "budget_spent_usd", &[("budget", "daily")]).next().map(|s| s.2)
    );
    assert_eq!(o["health"]["checks"][0]["name"], "database");
    assert_eq!(o["health"]["checks"][0]["passed"], true);
    assert_eq!(o["alerts"][0]["rule"], "search-failing", "{}", o["alerts"]);

    // ---- The runs, through the API.
    let runs = json(addr, "/api/runs");
    let list = runs["runs"].as_array().unwrap();
    let shape: Vec<(&str, &str, &str, &str, &str)> = list
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("");
            (s("agent"), s("status"), s("request_id"), s("user_id"), s("conversation_id"))
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            ("support", "success", "req-support", "user-9", "conv-support"),
            ("planner", "error", "req-fail", "user-8", "conv-fail"),
            ("planner", "success", "req-ok", "user-7", "conv-ok"),
        ],
        "newest first"
    );
    let failed_id = list[1]["id"].as_str().unwrap().to_string();
    let run = json(addr, &format!("/api/runs/{failed_id}"));
    let gpt4o_call_pico = pico(&m, &[("model", "gpt-4o")]) / 2; // the same call in both planner runs
    assert_eq!(u(&run["cost_pico"]), gpt4o_call_pico);

    // ---- The page, in chromium.
    let b = run_browser("view", addr, &failed_id);
    let errors: Vec<&Value> = b["console"].as_array().unwrap().iter().filter(|c| c["type"] == "error").collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    assert_eq!(b["page_errors"], serde_json::json!([]));
    assert_eq!(b["same_origin"], true, "requests: {}", b["origins"]);
    assert_eq!(b["dialogs"], 0);

    // Each cell shows the API's figure, which is /metrics' (checked above).
    let ov = &b["overview"];
    for (table, rows) in [("agents", &o["agents"]), ("models", &o["models"]), ("tools", &o["tools"])] {
        for row in rows.as_array().unwrap().iter().filter(|r| u(&r["calls"]) > 0) {
            let name = row["name"].as_str().unwrap();
            let cells = &ov[table][name];
            for key in ["calls", "failed", "cost_pico", "tokens_input", "tokens_output", "tokens_cache_read"] {
                let want = match key.strip_prefix("tokens_") {
                    Some(t) => row["tokens"][t].clone(),
                    None => row[key].clone(),
                };
                if want.is_null() {
                    continue;
                }
                assert_eq!(cells[key].as_str(), Some(want.to_string().as_str()), "{table} {name} {key}: {cells}");
            }
        }
    }
    assert_eq!(ov["cards"]["cost_pico"].as_str(), Some(t["cost_pico"].to_string().as_str()));
    assert_eq!(ov["cards"]["model_calls"].as_str(), Some(t["model_calls"].to_string().as_str()));
    assert_eq!(ov["budgets"][0][1].as_str(), Some(budget["spent_pico"].to_string().as_str()));
    assert_eq!(ov["health"][0][0], "database");
    assert_eq!(ov["alerts"][0][0], "search-failing");

    // The runs list holds the program's runs, and its filters work.
    let ids: Vec<&str> = b["runs"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let api_ids: Vec<&str> = list.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, api_ids);
    assert_eq!(b["runs"][1]["request"], "req-fail");
    assert_eq!(b["runs"][1]["user"], "user-8");
    assert_eq!(b["runs"][1]["conversation"], "conv-fail");
    assert_eq!(b["filtered_failed"], serde_json::json!([failed_id]));

    // The failed run's tree: parents, statuses, tokens, cost.
    /// index, parent, kind, name, status, depth in the tree.
    type Row<'a> = (u64, Option<u64>, &'a str, &'a str, &'a str, usize);
    let rows: Vec<Row<'_>> = b["run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                u(&r["index"]),
                r["parent"].as_u64(),
                r["kind"].as_str().unwrap(),
                r["name"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                ((r["depth"].as_u64().unwrap() - 8) / 18) as usize,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (0, None, "agent", "planner", "error", 0),
            (1, Some(0), "model", "gpt-4o", "success", 1),
            (2, Some(0), "agent", "researcher", "error", 1),
            (3, Some(2), "tool", "web_search", "error", 2),
        ]
    );
    let model = &b["run"][1];
    let tokens: Value = serde_json::from_str(model["tokens"].as_str().unwrap()).unwrap();
    assert_eq!(tokens, serde_json::json!({"input": 1200, "output": 300, "cache_read": 1000}));
    assert_eq!(model["cost"].as_str(), Some(gpt4o_call_pico.to_string().as_str()));
    assert_eq!(b["run"][3]["error_type"], "SearchError");
    assert_eq!(b["run_meta"]["request"], "req-fail");
    assert_eq!(b["run_meta"]["user"], "user-8");

    // The hostile error text is on the page, as text; nothing ran.
    assert_eq!(
        b["error_messages"].as_array().unwrap().iter().filter(|m| m.as_str() == Some(HOSTILE)).count(),
        3,
        "tool, researcher and planner: {}",
        b["error_messages"]
    );
    assert_eq!(b["pwned"], Value::Null, "the markup ran");
    assert_eq!((b["img_in_run"].as_u64(), b["script_in_run"].as_u64()), (Some(0), Some(0)));
    // Captured content (OBS_CAPTURE_CONTENT=true), redacted as every sink sees it.
    assert!(
        b["inputs"].as_array().unwrap().iter().any(|i| i.as_str().unwrap().contains("broken topic")),
        "{}",
        b["inputs"]
    );

    // Failures, grouped and linked to their run.
    let search =
        b["failures"].as_array().unwrap().iter().find(|f| f["function"] == "web_search").expect("web_search's group");
    assert_eq!(search["error_type"], "SearchError");
    assert_eq!(search["count"], "1");
    assert_eq!(search["messages"], serde_json::json!([HOSTILE]));
    assert_eq!(search["link"].as_str(), Some(format!("#runs/{failed_id}").as_str()));
    assert!(b["dark_background"].as_str().unwrap() != "rgb(246, 247, 249)", "dark mode has its own colours");
}

#[test]
fn with_a_token_the_page_and_api_refuse_requests_without_it() {
    let _ = python();
    let (_program, addr) = start(&[("OBS_PROMETHEUS_TOKEN", TOKEN)]);
    let bearer = format!("Bearer {TOKEN}");
    for path in ["/", "/ui.js", "/ui.css", "/api/overview", "/api/runs", "/api/failures", "/metrics"] {
        assert_eq!(get(addr, path, &[]).0, 401, "{path} without the token");
        assert_eq!(get(addr, path, &[("Authorization", "Bearer wrong-token-0123456789")]).0, 401, "{path}");
        assert_eq!(get(addr, path, &[("Authorization", &bearer)]).0, 200, "{path} with it");
    }
    assert_eq!(get(addr, "/health", &[]).0, 200, "liveness stays open");
    // A DNS-rebinding page names its own host: refused even with the token.
    assert_eq!(get(addr, "/api/runs", &[("Host", "evil.example"), ("Authorization", &bearer)]).0, 403);
    assert_eq!(
        get(addr, "/api/runs", &[("Host", &format!("localhost:{}", addr.port())), ("Authorization", &bearer)]).0,
        200
    );

    let b = run_browser("token", addr, TOKEN);
    assert_eq!(
        (b["page_without"].as_u64(), b["api_without"].as_u64(), b["js_without"].as_u64()),
        (Some(401), Some(401), Some(401))
    );
    assert_eq!((b["page_with_header"].as_u64(), b["api_with_header"].as_u64()), (Some(200), Some(200)));
    assert_eq!(b["signed_in_status"], 200);
    assert_eq!(
        b["signed_in_url"].as_str(),
        Some(format!("http://{addr}/").as_str()),
        "the token leaves the address bar"
    );
    assert_eq!(b["api_with_cookie"], 200);
    assert_eq!(b["cookie_http_only"], true);
    assert_eq!(b["page_errors"], serde_json::json!([]));
    assert_eq!(b["wrong_token_status"], 401);
}
