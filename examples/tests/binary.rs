//! The README's main example, run as a user runs it: the binary prints its
//! summary while serving `/metrics`, and the page passes `promtool check metrics`
//! with the agent, model and tool series labelled by agent; a plain run warns
//! of nothing but the failures it stages (no deprecated or unpriced model).

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
    let child = Command::new(env!("CARGO_BIN_EXE_research-agent"))
        .args(["--quick", "--serve"])
        // Port 0: the example prints the address it got (no port to race for).
        .env("OBS_PROMETHEUS_ADDR", "127.0.0.1:0")
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
    let addr: SocketAddr = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("serving http://")?.strip_suffix("/metrics until Ctrl-C")?.rsplit("http://").next()
        })
        .unwrap_or_else(|| panic!("no serving line:\n{out}"))
        .parse()
        .unwrap();
    assert!(out.contains(&format!("metrics: http://{addr}/metrics")), "{out}");
    assert!(out.contains(&format!("live view: http://{addr}/ ")), "{out}");
    for heading in ["Agents", "Models", "Tools", "planner", "researcher", "writer", "gpt-5.4-mini", "fetch_page"] {
        assert!(out.contains(heading), "summary lacks {heading}:\n{out}");
    }

    let page = http_get(addr, "/metrics").expect("scrape").body;
    let (code, lint) = promtool_check(&page);
    assert_eq!((code, lint.as_str()), (0, ""), "promtool check metrics:\n{lint}");
    let has = |prefix: &str| page.lines().any(|l| l.starts_with(prefix) && !l.ends_with(" 0"));
    assert!(has("agent_executions_total{agent=\"planner\",status=\"success\"}"), "{page}");
    assert!(has("agent_executions_total{agent=\"researcher\",status=\"success\"}"), "{page}");
    assert!(has("llm_calls_total{agent=\"researcher\",model=\"gpt-5.4-mini\",provider=\"openai\",status=\"success\"}"));
    assert!(has("llm_calls_total{agent=\"writer\",model=\"gpt-5.4\",provider=\"openai\",status=\"success\"}"));
    assert!(has("tool_calls_total{agent=\"researcher\",tool=\"fetch_page\",status=\"error\"}"));
    assert!(has(
        "llm_call_duration_seconds_count{model=\"claude-sonnet-4-6\",provider=\"anthropic\",status=\"success\"}"
    ));
    assert!(!page.lines().any(|l| l.starts_with("tool_calls_total{agent=\"none\"") && !l.ends_with(" 0")), "{page}");
    // The live view: the page, and the example's run (one planner) in its API.
    let page = http_get(addr, "/").expect("the page");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<script src=\"ui.js\""), "{}", page.body);
    let runs = http_get(addr, "/api/runs").expect("runs").body;
    let runs: serde_json::Value = serde_json::from_str(&runs).expect("JSON");
    let planner = runs["runs"].as_array().unwrap().iter().filter(|r| r["agent"] == "planner").count();
    assert_eq!(planner, 1, "{runs}");
    assert_eq!(run.0.try_wait().unwrap(), None, "still serving");
}

/// `--prometheus-rules` and `--grafana-dashboard` write files generated from
/// the example's own agents, models and tools; promtool accepts the rules.
#[test]
fn example_writes_rules_and_dashboard_for_its_functions() {
    let dir = std::env::temp_dir().join(format!("obs-example-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (rules, dash) = (dir.join("rules.yml"), dir.join("obs.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_research-agent"))
        .arg("--prometheus-rules")
        .arg(&rules)
        .arg("--grafana-dashboard")
        .arg(&dash)
        .env("OBS_EXPORTERS", "logs")
        .env("OBS_NAMESPACE", "research")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run research-agent");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("wrote the Prometheus rules to {}", rules.display())), "{stdout}");
    assert!(!stdout.contains("report:"), "no agent ran: {stdout}");
    let yaml = std::fs::read_to_string(&rules).unwrap();
    for agent in ["planner", "researcher", "writer"] {
        assert!(
            yaml.contains(&format!(
                "rate(research_agent_executions_total{{agent=\"{agent}\",status=~\"error|panic\"}}[5m])"
            )),
            "{agent}:\n{yaml}"
        );
    }
    for (label, name) in [
        ("model", "gpt-5.4"),
        ("model", "gpt-5.4-mini"),
        ("model", "claude-sonnet-4-6"),
        ("tool", "web_search"),
        ("tool", "fetch_page"),
    ] {
        assert!(yaml.contains(&format!("{label}: '{name}'")), "{name}:\n{yaml}");
    }
    let check = Command::new("promtool").arg("check").arg("rules").arg(&rules).output().expect("promtool");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&dash).unwrap()).unwrap();
    assert_eq!(dashboard["uid"], "obs-research");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cargo run -p obs-examples --bin research-agent`, as the README says:
/// its warnings and errors are the failures it stages on purpose (target
/// `errors`, one line per failed call), nothing else: no model past its
/// deprecation date, no unpriced model, no configuration warning.
#[test]
fn a_plain_run_warns_of_nothing_but_its_staged_failures() {
    let out = Command::new(env!("CARGO_BIN_EXE_research-agent"))
        .env("OBS_PROMETHEUS_ADDR", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("OBS_EXPORTERS")
        .env_remove("OBS_LOG_FORMAT")
        .env_remove("OBS_LOG_OUTPUT")
        .env_remove("OBS_PRICING_FILE")
        .output()
        .expect("run research-agent");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // `2026-12-01T12:00:00.000000Z  WARN errors: tool `fetch_page` failed: ..`
    let level_and_target = |l: &str| {
        let mut words = l.split_whitespace().skip(1);
        (words.next().unwrap_or("").to_string(), words.next().unwrap_or("").trim_end_matches(':').to_string())
    };
    let lines: Vec<(String, String, &str)> = stderr
        .lines()
        .map(|l| {
            let (level, target) = level_and_target(l);
            (level, target, l)
        })
        .collect();
    assert!(
        lines.iter().any(|(lv, t, l)| lv == "INFO" && t == "obs_runtime" && l.contains("obs: prices:")),
        "{stderr}"
    );
    let other: Vec<&str> = lines
        .iter()
        .filter(|(lv, t, _)| (lv == "WARN" || lv == "ERROR") && t != "errors")
        .map(|(_, _, l)| *l)
        .collect();
    assert_eq!(other, Vec::<&str>::new(), "warnings beyond the staged failures:\n{stderr}");
    assert!(lines.iter().any(|(lv, t, _)| lv == "WARN" && t == "errors"), "the run stages failures:\n{stderr}");
    assert!(!stderr.contains("deprecated") && !stderr.contains("unpriced"), "{stderr}");
}
