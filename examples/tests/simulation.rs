//! The simulation records what it should, with the agent of every model and
//! tool call set (also inside spawned tasks), and is deterministic.

use obs_examples::agents::planner;
use obs_examples::{summary, Sim};
use obs_runtime::metrics::Value;
use obs_runtime::testing;

fn total(snap: &testing::Snapshot, name: &str, filter: &[(&str, &str)]) -> u64 {
    snap.series(name, filter).iter().map(|(_, v)| if let Value::Counter(n) = v { *n } else { 0 }).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_run_records_every_call_under_its_agent() {
    testing::enable();
    let report = planner(Sim::QUICK, 4).await.expect("the run succeeds");
    assert_eq!(report.findings.len() + report.failed.len(), 4);

    let snap = testing::snapshot();
    assert_eq!(snap.counter("agent_executions_total", &[("agent", "planner"), ("status", "success")]), Some(1));
    assert_eq!(snap.counter("agent_executions_total", &[("agent", "writer"), ("status", "success")]), Some(1));
    assert_eq!(total(&snap, "agent_executions_total", &[("agent", "researcher")]), 4);
    assert_eq!(
        total(&snap, "agent_executions_total", &[("agent", "researcher"), ("status", "error")]),
        report.failed.len() as u64
    );
    for agent in ["planner", "writer"] {
        let labels = [("agent", agent), ("model", "gpt-5.4"), ("provider", "openai"), ("status", "success")];
        assert_eq!(snap.counter("llm_calls_total", &labels), Some(1), "{agent}");
    }
    assert!(total(&snap, "llm_calls_total", &[("agent", "researcher"), ("provider", "anthropic")]) >= 3);
    // Three pages per topic, fetched in tasks spawned with obs_runtime::spawn.
    assert_eq!(total(&snap, "tool_calls_total", &[("agent", "researcher"), ("tool", "fetch_page")]), 12);
    assert!(total(&snap, "tool_calls_total", &[("status", "error")]) > 0);
    for name in ["llm_calls_total", "tool_calls_total"] {
        assert_eq!(total(&snap, name, &[("agent", "none")]), 0, "{name} outside any agent");
    }

    let agents: Vec<String> = summary::agents(&snap).into_iter().map(|r| r.name).collect();
    assert_eq!(agents, ["planner", "researcher", "writer"]);
    let models: Vec<String> = summary::models(&snap).into_iter().map(|r| r.name).collect();
    assert_eq!(models, ["claude-sonnet-4-6 (anthropic)", "gpt-5.4 (openai)", "gpt-5.4-mini (openai)"]);
    let table = summary::render(&snap);
    assert!(table.contains("fetch_page") && table.contains("web_search"), "{table}");

    // Same seeds, same run.
    let again = planner(Sim::QUICK, 4).await.expect("the run succeeds");
    assert_eq!(again, report);
}
