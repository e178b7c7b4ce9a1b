//! OTLP/HTTP to MLflow's tracking server: the multi-agent program
//! (`otlp-agents run`) lands as one MLflow trace with the exact tree, MLflow's
//! span types (AGENT, TOOL, CHAT_MODEL), the failed tool as the only error,
//! and MLflow's cost equal to obs's for every model call (MLflow prices all
//! three models the program uses the way their providers bill them).

use obs_tests::backends::expect::{same_cost, tree_paths, RUN_TREE};
use obs_tests::backends::{mlflow, run, Mlflow};
use std::path::Path;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_otlp-agents");

#[test]
fn mlflow_one_trace_with_types_and_cost() {
    let mlflow = Mlflow::start();
    eprintln!("MLflow ready in {:?}", mlflow.startup);
    let header = format!("x-mlflow-experiment-id={}", mlflow::EXPERIMENT_ID);
    let endpoint = mlflow.endpoint();
    let r = run(
        Path::new(EXE),
        "run",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_HEADERS", header.as_str()),
            ("OTEL_SERVICE_NAME", "otlp-agents"),
            // MLflow takes traces over HTTP only (404 for metrics).
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
        Duration::from_secs(120),
    );
    assert_eq!(r.log_lines_at("ERROR"), Vec::<&str>::new(), "stderr:\n{}", r.stderr);

    let trace_id = r.trace_id();
    let t = mlflow.wait_trace(&trace_id, RUN_TREE.len(), Duration::from_secs(60));
    // One trace per run.
    assert_eq!(mlflow.trace_ids(), [format!("tr-{trace_id}")]);
    assert!(t.spans.iter().all(|s| s.trace_id == trace_id), "{:?}", t.spans);

    let nodes: Vec<_> = t.spans.iter().map(|s| (s.span_id.as_str(), s.parent_id.as_deref(), s.name.as_str())).collect();
    assert_eq!(tree_paths(&nodes), RUN_TREE);

    let failed_id = r
        .seen("tool", "web_search")
        .into_iter()
        .find(|s| s["query"] == "broken-topic")
        .and_then(|s| s["span_id"].as_str())
        .expect("the failed search's span id")
        .to_string();
    let mut total = 0.0;
    for s in &t.spans {
        let ctx = format!("span `{}` {}", s.name, s.span_id);
        let want = match s.name.split_once(' ').unwrap().0 {
            "invoke_agent" => "AGENT",
            "execute_tool" => "TOOL",
            _ => "CHAT_MODEL",
        };
        assert_eq!(s.span_type(), want, "{ctx}");
        if s.span_id == failed_id {
            assert_eq!(s.status_code, "STATUS_CODE_ERROR", "{ctx}");
        } else {
            assert_ne!(s.status_code, "STATUS_CODE_ERROR", "{ctx}: {}", s.status_message);
        }
        if want != "CHAT_MODEL" {
            continue;
        }
        let model = s.name.strip_prefix("chat ").unwrap();
        assert_eq!(s.attributes["mlflow.llm.model"], model, "{ctx}");
        let usage = &s.attributes["mlflow.chat.tokenUsage"];
        let (input, output) = (usage["input_tokens"].as_i64().unwrap(), usage["output_tokens"].as_i64().unwrap());
        let call = r
            .model_calls()
            .iter()
            .find(|c| c["model"] == model && c["input_tokens"] == input && c["output_tokens"] == output)
            .unwrap_or_else(|| panic!("{ctx}: no ledger call with {input}/{output} tokens: {:?}", r.model_calls()));
        let ours = call["cost_usd"].as_f64().unwrap();
        let obs_attr = s.attributes["obs.cost.usd"].as_f64().unwrap_or_else(|| panic!("{ctx}: no obs.cost.usd"));
        assert!(same_cost(obs_attr, ours), "{ctx}: obs.cost.usd {obs_attr} vs the ledger's {ours}");
        let theirs = s.attributes["mlflow.llm.cost"]["total_cost"]
            .as_f64()
            .unwrap_or_else(|| panic!("{ctx}: MLflow did not price {model}: {:?}", s.attributes));
        assert!(same_cost(theirs, ours), "{ctx}: MLflow's cost {theirs} != obs's {ours}");
        total += ours;
    }
    // The trace's totals: all five model calls.
    let cost = t.metadata_json("mlflow.trace.cost").expect("mlflow.trace.cost");
    assert!(same_cost(cost["total_cost"].as_f64().unwrap(), total), "{cost} vs {total}");
    let ledger_total: f64 = r.model_calls().iter().map(|c| c["cost_usd"].as_f64().unwrap()).sum();
    assert!(same_cost(total, ledger_total));
    let tokens = t.metadata_json("mlflow.trace.tokenUsage").expect("mlflow.trace.tokenUsage");
    let ledger_input: i64 = r.model_calls().iter().map(|c| c["input_tokens"].as_i64().unwrap()).sum();
    assert_eq!(tokens["input_tokens"].as_i64(), Some(ledger_input), "{tokens}");
    // The request context: MLflow's user and session come from user.id and gen_ai.conversation.id.
    assert_eq!(t.metadata["mlflow.trace.user"], "user-42");
    assert_eq!(t.metadata["mlflow.trace.session"], "conv-7");
    assert_eq!(t.tags["service.name"], "otlp-agents");

    assert!(!mlflow.guard_lines().iter().any(|l| l.contains("refused")), "{:?}", mlflow.guard_lines());
}
