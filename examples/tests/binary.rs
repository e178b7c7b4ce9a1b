//! The README's main example, run as a user runs it: the binary prints its
//! summary while serving `/metrics`, and the page passes `promtool check metrics`
//! with the agent, model and tool series labelled by agent.

use obs_tests::{http_get, promtool_check};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn example_serves_a_promtool_clean_page_with_agent_labels() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_research-agent"))
        .args(["--quick", "--serve"])
        .env("OBS_PROMETHEUS_ADDR", addr.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start research-agent");
    let mut run = Running(child);
    let stdout = run.0.stdout.take().unwrap();
    let mut out = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        out.push_str(&line);
        out.push('\n');
        if line.starts_with("serving http://") {
            break;
        }
    }
    assert!(out.contains(&format!("metrics: http://{addr}/metrics")), "{out}");
    for heading in ["Agents", "Models", "Tools", "planner", "researcher", "writer", "gpt-4o-mini", "fetch_page"] {
        assert!(out.contains(heading), "summary lacks {heading}:\n{out}");
    }

    let page = http_get(addr, "/metrics").expect("scrape").body;
    let (code, lint) = promtool_check(&page);
    assert_eq!((code, lint.as_str()), (0, ""), "promtool check metrics:\n{lint}");
    let has = |prefix: &str| page.lines().any(|l| l.starts_with(prefix) && !l.ends_with(" 0"));
    assert!(has("agent_executions_total{agent=\"planner\",status=\"success\"}"), "{page}");
    assert!(has("agent_executions_total{agent=\"researcher\",status=\"success\"}"), "{page}");
    assert!(has("llm_calls_total{agent=\"researcher\",model=\"gpt-4o-mini\",provider=\"openai\",status=\"success\"}"));
    assert!(has("llm_calls_total{agent=\"writer\",model=\"gpt-4o\",provider=\"openai\",status=\"success\"}"));
    assert!(has("tool_calls_total{agent=\"researcher\",tool=\"fetch_page\",status=\"error\"}"));
    assert!(has(
        "llm_call_duration_seconds_count{model=\"claude-sonnet-4-5\",provider=\"anthropic\",status=\"success\"}"
    ));
    assert!(!page.lines().any(|l| l.starts_with("tool_calls_total{agent=\"none\"") && !l.ends_with(" 0")), "{page}");
    assert_eq!(run.0.try_wait().unwrap(), None, "still serving");
}
