//! End to end: a real Prometheus (Debian's `prometheus`) scrapes this test
//! every second with the generated rules loaded. The agent, model and tool
//! series arrive with their values, a recording rule evaluates, and every
//! query of the generated dashboard parses and returns data. The dashboard
//! JSON also has every field Grafana's import requires.

use futures::StreamExt;
use obs_runtime::budget::{self, Budget, Period};
use obs_runtime::ops::RuleOptions;
use obs_runtime::{track_execution, track_llm_call, track_tool, LlmChunk, LlmUsage, TokenUsage};
use obs_tests::backends::free_port;
use obs_tests::{http_get, KillOnDrop};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct E;

struct Reply;

impl LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(1000, 200))
    }
}

#[derive(Clone)]
struct Chunk(&'static str, Option<TokenUsage>);

impl LlmChunk for Chunk {
    fn has_content(&self) -> bool {
        !self.0.is_empty()
    }
    fn usage(&self) -> Option<TokenUsage> {
        self.1
    }
}

#[track_llm_call(model = "gpt-4o", provider = "openai")]
async fn ask() -> Result<Reply, E> {
    Ok(Reply)
}

/// A model the pricing table does not know: its calls count as unpriced.
#[track_llm_call(model = "e2e-house-model", provider = "e2e")]
async fn ask_house() -> Result<Reply, E> {
    Ok(Reply)
}

#[track_llm_call(model = "gpt-4o-mini", stream)]
fn ask_streamed() -> impl futures::Stream<Item = Chunk> {
    futures::stream::iter(vec![Chunk("Hi", None), Chunk("", Some(TokenUsage::new(10, 2)))])
}

#[track_tool(name = "e2e_search")]
async fn search(ok: bool) -> Result<u32, E> {
    if ok {
        Ok(1)
    } else {
        Err(E)
    }
}

/// Called all along the test, failing every other call: its rates are not zero.
#[track_tool(name = "e2e_ticker")]
fn ticker(ok: bool) -> Result<(), E> {
    if ok {
        Ok(())
    } else {
        Err(E)
    }
}

#[obs_runtime::health_check(name = "e2e_db")]
fn e2e_db() -> bool {
    true
}

#[track_execution(agent = "e2e_agent")]
async fn agent() -> Result<(), E> {
    let _ = search(false).await;
    search(true).await?;
    ask().await?;
    ask_house().await?;
    let _: Vec<Chunk> = ask_streamed().collect().await;
    Ok(())
}

/// Percent-encodes a query parameter (RFC 3986 unreserved characters stay).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The query API's answer: `Ok(result array)` or `Err(error text)`.
fn query(prom: SocketAddr, q: &str) -> Result<Vec<Value>, String> {
    let r = http_get(prom, &format!("/api/v1/query?query={}", encode(q))).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&r.body).map_err(|e| format!("{e}: {}", r.body))?;
    if v["status"] != "success" {
        return Err(format!("api: {}: {}", v["errorType"], v["error"]));
    }
    Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// The value of a one-series answer.
fn one(prom: SocketAddr, q: &str) -> Option<f64> {
    let r = query(prom, q).ok()?;
    match r.as_slice() {
        [s] => s["value"][1].as_str()?.parse().ok(),
        _ => None,
    }
}

/// Every `expr` of the dashboard's panels, with Grafana's interval variable
/// given a value Prometheus accepts.
fn dashboard_queries(json: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for p in json["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push(t["expr"].as_str().unwrap().replace("$__rate_interval", "10s"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_runs_the_generated_rules_and_dashboard_queries() {
    let guard = obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("127.0.0.1:0").init().unwrap();
    let target = guard.prometheus_addr().unwrap();
    budget::register(Budget::new("e2e_daily", 100.0, Period::Day)).unwrap();
    // A real health check: `/ready` runs it, which sets its
    // `health_check_*` gauges for the dashboard's Health row.
    let ready = http_get(target, "/ready").unwrap();
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert!(ready.body.contains("\"e2e_db\""), "{}", ready.body);
    // Three turns of one conversation, ended by the idle timeout on the
    // test's clock, and two evaluations: the Quality and Conversations rows' series.
    let t0 = std::time::SystemTime::now();
    obs_runtime::testing::set_conversation_clock(Some(t0));
    for _ in 0..3 {
        obs_runtime::RequestContext::new().with_conversation_id("e2e-conv").scope(agent()).await.unwrap();
    }
    // MCP traffic, both sides in this process (the dashboard's MCP row):
    // two calls that succeed, one that fails.
    {
        use obs_tests::mcp::in_process;
        let client = in_process::connect(true).await;
        in_process::echo(&client, "a").await;
        in_process::echo(&client, "b").await;
        in_process::broken(&client).await;
        let _ = client.cancel().await;
    }
    obs_runtime::testing::set_conversation_clock(Some(t0 + Duration::from_secs(3600)));
    obs_runtime::testing::set_conversation_clock(None);
    obs_runtime::eval::Evaluation::new("e2e_relevance").score(0.9).passed(true).record().unwrap();
    obs_runtime::eval::Evaluation::new("e2e_relevance").score(0.2).passed(false).record().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let tick = std::thread::spawn(move || {
        let mut ok = false;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = ticker(ok);
            ok = !ok;
            std::thread::sleep(Duration::from_millis(20));
        }
    });

    let dir = std::env::temp_dir().join(format!("obs-ops-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = RuleOptions::new().namespace("").window(Duration::from_secs(10)).prometheus_rules().unwrap();
    std::fs::write(dir.join("rules.yml"), &rules).unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [{}]\nscrape_configs:\n  - job_name: obs-ops\n    static_configs: [{{targets: ['{target}']}}]\n",
            dir.join("rules.yml").display()
        ),
    )
    .unwrap();
    let prom: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address={prom}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start prometheus ({e}): `apt-get install -y --no-install-recommends prometheus`")
        });
    let mut server = KillOnDrop(child);
    let started = Instant::now();

    // Target discovery is throttled to 5 s, so the first sample comes at
    // about 6 s; the ticker's 10 s rates need a few more.
    let snap = obs_runtime::metrics::snapshot();
    let cost = snap
        .value("llm_cost_usd_total", &[("agent", "e2e_agent"), ("model", "gpt-4o"), ("provider", "openai")])
        .unwrap();
    assert!(cost > 0.0);
    let queries = dashboard_queries(&serde_json::from_str(&obs_runtime::ops::grafana_dashboard()).unwrap());
    let exact: Vec<(String, f64)> = vec![
        ("agent_executions_total{job=\"obs-ops\",agent=\"e2e_agent\",status=\"success\"}".into(), 3.0),
        ("tool_calls_total{job=\"obs-ops\",agent=\"e2e_agent\",tool=\"e2e_search\",status=\"error\"}".into(), 3.0),
        ("tool_calls_total{job=\"obs-ops\",agent=\"e2e_agent\",tool=\"e2e_search\",status=\"success\"}".into(), 3.0),
        ("llm_calls_total{job=\"obs-ops\",agent=\"e2e_agent\",model=\"gpt-4o\",provider=\"openai\",status=\"success\"}".into(), 3.0),
        ("llm_tokens_total{job=\"obs-ops\",agent=\"e2e_agent\",model=\"gpt-4o\",provider=\"openai\",type=\"input\"}".into(), 3000.0),
        ("llm_tokens_total{job=\"obs-ops\",agent=\"e2e_agent\",model=\"gpt-4o\",provider=\"openai\",type=\"output\"}".into(), 600.0),
        ("llm_cost_usd_total{job=\"obs-ops\",agent=\"e2e_agent\",model=\"gpt-4o\",provider=\"openai\"}".into(), cost),
        ("llm_unpriced_calls_total{job=\"obs-ops\",model=\"e2e-house-model\",provider=\"e2e\"}".into(), 3.0),
        ("budget_limit_usd{job=\"obs-ops\",budget=\"e2e_daily\"}".into(), 100.0),
        ("conversation_turns_sum{job=\"obs-ops\",agent=\"e2e_agent\"}".into(), 3.0),
        ("evaluations_total{job=\"obs-ops\",evaluation=\"e2e_relevance\",agent=\"none\",model=\"none\",label=\"fail\"}".into(), 1.0),
    ];
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut missing: Vec<String>;
    loop {
        assert!(server.0.try_wait().unwrap().is_none(), "prometheus exited early (port clash?)");
        missing = Vec::new();
        for (q, want) in &exact {
            match one(prom, q) {
                Some(v) if (v - want).abs() <= want.abs() * 1e-9 => {}
                got => missing.push(format!("{q} = {got:?}, want {want}")),
            }
        }
        // The recording rule: e2e_ticker fails every other call.
        match one(prom, "tool:tool_calls:error_ratio_rate10s{tool=\"e2e_ticker\"}") {
            Some(r) if (0.4..=0.6).contains(&r) => {}
            got => missing.push(format!("recorded error ratio of e2e_ticker = {got:?}, want about 0.5")),
        }
        for q in &queries {
            match query(prom, q) {
                Err(e) if e.starts_with("api:") => panic!("the dashboard query `{q}` does not parse: {e}"),
                Err(e) => missing.push(format!("`{q}`: {e}")),
                Ok(r) if r.is_empty() => missing.push(format!("no data for `{q}`")),
                Ok(_) => {}
            }
        }
        if missing.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "within 120 s, still:\n{}", missing.join("\n"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Values the dashboard shows: the tool's error ratio by name, and p95 is a number.
    let ratio =
        query(prom, &queries.iter().find(|q| q.contains("tool_calls_total{status=~")).unwrap().clone()).unwrap();
    let names: BTreeSet<&str> = ratio.iter().filter_map(|s| s["metric"]["tool"].as_str()).collect();
    assert!(names.contains("e2e_ticker"), "{ratio:?}");
    eprintln!("everything arrived {:?} after prometheus started", started.elapsed());
    drop(server);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    tick.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dashboard_has_what_grafana_import_requires() {
    let _ = (agent(), ticker(true));
    let text = obs_runtime::ops::grafana_dashboard();
    let d: Value = serde_json::from_str(&text).unwrap();
    // The dashboard model: title, uid (at most 40 characters), schemaVersion, panels.
    assert_eq!(d["title"], "obs: agents, models and tools");
    let uid = d["uid"].as_str().unwrap();
    assert!(!uid.is_empty() && uid.len() <= 40, "{uid}");
    assert!(d["schemaVersion"].as_u64().unwrap() >= 36, "the datasource-by-uid schema (Grafana 9+)");
    assert!(d["time"]["from"].is_string() && d["time"]["to"].is_string());
    // The data source as a variable of type `datasource`, Prometheus.
    let vars = d["templating"]["list"].as_array().unwrap();
    let ds = vars.iter().find(|v| v["name"] == "datasource").expect("a datasource variable");
    assert_eq!((ds["type"].as_str(), ds["query"].as_str()), (Some("datasource"), Some("prometheus")));
    let panels = d["panels"].as_array().unwrap();
    let mut ids = BTreeSet::new();
    let mut rows = Vec::new();
    for p in panels {
        let id = p["id"].as_u64().expect("every panel has a numeric id");
        assert!(ids.insert(id), "panel id {id} repeated");
        let g = &p["gridPos"];
        let (x, w, h) = (g["x"].as_u64().unwrap(), g["w"].as_u64().unwrap(), g["h"].as_u64().unwrap());
        assert!(g["y"].is_u64() && w >= 1 && h >= 1 && x + w <= 24, "gridPos of {p}");
        assert!(p["title"].is_string(), "{p}");
        match p["type"].as_str().unwrap() {
            "row" => {
                rows.push(p["title"].as_str().unwrap());
                assert_eq!(p["collapsed"], false);
                assert!(p["panels"].is_array());
            }
            "timeseries" => {
                assert_eq!(p["datasource"], serde_json::json!({"type": "prometheus", "uid": "${datasource}"}));
                let targets = p["targets"].as_array().unwrap();
                assert!(!targets.is_empty(), "{p}");
                let refs: BTreeSet<&str> = targets.iter().map(|t| t["refId"].as_str().unwrap()).collect();
                assert_eq!(refs.len(), targets.len(), "refIds are unique per panel: {p}");
                for t in targets {
                    assert!(!t["expr"].as_str().unwrap().is_empty());
                    assert_eq!(t["datasource"]["uid"], "${datasource}");
                }
            }
            other => panic!("unexpected panel type {other}"),
        }
    }
    assert_eq!(
        rows,
        [
            "Agents",
            "Model calls",
            "Tools",
            "MCP (Model Context Protocol)",
            "Budgets",
            "Quality",
            "Conversations",
            "Health",
            "Process"
        ]
    );
    // No two panels overlap.
    let boxes: Vec<(u64, u64, u64, u64)> = panels
        .iter()
        .map(|p| {
            let g = &p["gridPos"];
            (g["x"].as_u64().unwrap(), g["y"].as_u64().unwrap(), g["w"].as_u64().unwrap(), g["h"].as_u64().unwrap())
        })
        .collect();
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let apart = a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
            assert!(apart, "panels overlap: {a:?} {b:?}");
        }
    }
    // Panels the issue asks for.
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    for t in [
        "Cost per hour",
        "Tokens per second by type",
        "Time to first token p95 (streamed calls)",
        "Unpriced calls (cost unknown)",
    ] {
        assert!(titles.contains(&t), "{t} missing: {titles:?}");
    }
    // The namespace prefixes every metric.
    let ns: Value = serde_json::from_str(&RuleOptions::new().namespace("shop").grafana_dashboard().unwrap()).unwrap();
    for q in dashboard_queries(&ns) {
        assert!(q.contains("shop_"), "{q}");
    }
}
