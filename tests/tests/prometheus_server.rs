//! A real Prometheus server (Debian's `prometheus`) scrapes the embedded
//! endpoint; the series come back from its query API with our labels.

use obs_runtime::{track_execution, track_llm_call, track_tool};
use obs_tests::backends::free_port;
use obs_tests::{http_get, KillOnDrop};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct E;

#[track_llm_call(model = "gpt-4o-mini", usage = none)]
async fn ask() -> Result<u32, E> {
    Ok(1)
}

#[track_tool(name = "ps_search")]
async fn search(ok: bool) -> Result<u32, E> {
    if ok {
        Ok(1)
    } else {
        Err(E)
    }
}

#[track_execution(agent = "ps_agent")]
async fn agent() -> Result<u32, E> {
    let _ = search(false).await;
    search(true).await?;
    ask().await
}

fn query(prom: SocketAddr, q: &str) -> String {
    let path = format!(
        "/api/v1/query?query={}",
        q.replace('{', "%7B").replace('}', "%7D").replace('"', "%22").replace(',', "%2C").replace('=', "%3D")
    );
    http_get(prom, &path).map(|r| r.body).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_endpoint() {
    let guard = obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("127.0.0.1:0").init().unwrap();
    let target = guard.prometheus_addr().unwrap();
    for _ in 0..3 {
        agent().await.unwrap();
    }

    let dir = std::env::temp_dir().join(format!("obs-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: obs-e2e\n    static_configs: [{{targets: ['{target}']}}]\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let prom: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
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

    // Prometheus throttles target discovery to 5 s: the first sample takes ~6 s.
    let deadline = Instant::now() + Duration::from_secs(120);
    let q = "tool_calls_total{job=\"obs-e2e\",agent=\"ps_agent\",tool=\"ps_search\",status=\"error\"}";
    let body = loop {
        assert!(server.0.try_wait().unwrap().is_none(), "prometheus exited early (port clash?)");
        let body = query(prom, q);
        if body.contains("\"result\":[{") {
            break body;
        }
        assert!(Instant::now() < deadline, "no sample from prometheus within 120 s: {body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(body.contains("\"instance\":\"") && body.contains(&target.to_string()), "{body}");
    assert!(body.contains(",\"3\"]"), "three failed searches: {body}");
    let llm = query(prom, "llm_calls_total{job=\"obs-e2e\",agent=\"ps_agent\",model=\"gpt-4o-mini\",provider=\"openai\",status=\"success\"}");
    assert!(llm.contains(",\"3\"]"), "{llm}");
    let up = query(prom, "up{job=\"obs-e2e\"}");
    assert!(up.contains(",\"1\"]"), "{up}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
