//! OTLP to Arize Phoenix, over HTTP and over gRPC: the multi-agent program
//! (`otlp-agents run`), configured only by `init()` and the standard
//! variables, lands in Phoenix as one trace per run with the exact tree, the
//! GenAI attributes and token counts, ERROR only on the failed tool, captured
//! content when capture is on, and Phoenix's own cost equal to obs's for
//! every model span.
//!
//! One Phoenix serves every variant (it takes 15 s to minutes to start); each
//! variant sends to its own project (`openinference.project.name` in
//! `OTEL_RESOURCE_ATTRIBUTES`).

use obs_tests::backends::expect::{same_cost, tree_paths, RUN_TREE};
use obs_tests::backends::phoenix::PhoenixSpan;
use obs_tests::backends::{run, Phoenix, Run};
use std::path::Path;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_otlp-agents");

/// The models the program calls; Phoenix must price each of them.
const MODELS: [&str; 3] = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"];

fn run_against(phoenix: &Phoenix, protocol: &str, project: &str, capture: bool) -> Run {
    let endpoint = match protocol {
        "grpc" => phoenix.grpc_endpoint(),
        _ => phoenix.http_endpoint(),
    };
    let attrs = format!("openinference.project.name={project},deployment.environment=e2e");
    let otlp_protocol = if protocol == "grpc" { "grpc" } else { "http/protobuf" };
    run(
        Path::new(EXE),
        "run",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", otlp_protocol),
            ("OTEL_SERVICE_NAME", "otlp-agents"),
            ("OTEL_RESOURCE_ATTRIBUTES", attrs.as_str()),
            // Phoenix takes traces only (405 / Unimplemented for the rest).
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
            ("OBS_CAPTURE_CONTENT", if capture { "true" } else { "false" }),
        ],
        Duration::from_secs(120),
    )
}

fn by_name<'a>(spans: &'a [PhoenixSpan], name: &str) -> Vec<&'a PhoenixSpan> {
    spans.iter().filter(|s| s.name == name).collect()
}

/// Everything the issue asks of one run in Phoenix.
fn check_run(phoenix: &Phoenix, project: &str, r: &Run, capture: bool) {
    // First: the program had spans at all (else nothing can arrive).
    let trace_id = r.trace_id();
    let spans = phoenix.wait_spans(project, RUN_TREE.len(), Duration::from_secs(60));
    let ctx = format!("project {project}");

    // The program logged nothing at WARN or above but its own failed search:
    // no export error (Phoenix gets no metrics or logs to refuse). A model
    // past its deprecation date in the price catalogue warns too; that
    // depends on the day the test runs, not on the exporter.
    assert_eq!(r.log_lines_at("ERROR"), Vec::<&str>::new(), "{ctx}: stderr:\n{}", r.stderr);
    let mut warns = r.log_lines_at("WARN");
    warns.retain(|l| !l.contains("was deprecated on"));
    // The failed search also writes obs's own failure line (target `errors`).
    let failures: Vec<&&str> = warns.iter().filter(|l| l.contains(" errors: ")).collect();
    assert!(
        failures.len() == 1 && failures[0].contains("tool `web_search` failed"),
        "{ctx}: one failure line, the search's; stderr:\n{}",
        r.stderr
    );
    warns.retain(|l| !l.contains(" errors: "));
    assert!(
        warns.len() == 1 && warns[0].contains("search failed"),
        "{ctx}: the only warning should be the program's `search failed`; stderr:\n{}",
        r.stderr
    );

    // One trace per run: the one the program saw.
    let traces: std::collections::BTreeSet<&str> = spans.iter().map(|s| s.trace_id.as_str()).collect();
    assert_eq!(traces.into_iter().collect::<Vec<_>>(), [trace_id.as_str()], "{ctx}");

    // The exact tree, by names and parent ids.
    let nodes: Vec<_> = spans.iter().map(|s| (s.span_id.as_str(), s.parent_id.as_deref(), s.name.as_str())).collect();
    assert_eq!(tree_paths(&nodes), RUN_TREE, "{ctx}");
    // ... and the spans are those the program ran in (ids seen from inside).
    for seen in r.summary["spans"].as_array().unwrap() {
        let id = seen["span_id"].as_str().expect("span id seen by the program");
        let s = spans.iter().find(|s| s.span_id == id).unwrap_or_else(|| panic!("{ctx}: no span {id} ({seen})"));
        let want = match seen["kind"].as_str().unwrap() {
            "agent" => format!("invoke_agent {}", seen["name"].as_str().unwrap()),
            "tool" => format!("execute_tool {}", seen["name"].as_str().unwrap()),
            _ => format!("chat {}", seen["name"].as_str().unwrap()),
        };
        assert_eq!(s.name, want, "{ctx}: span {id}");
    }

    for s in &spans {
        let sctx = format!("{ctx}, span `{}` {}", s.name, s.span_id);
        // Phoenix's kind, from gen_ai.operation.name.
        let (kind, op) = match s.name.split_once(' ').unwrap().0 {
            "invoke_agent" => ("AGENT", "invoke_agent"),
            "execute_tool" => ("TOOL", "execute_tool"),
            _ => ("LLM", "chat"),
        };
        assert_eq!(s.span_kind, kind, "{sctx}");
        assert_eq!(s.str("gen_ai.operation.name"), Some(op), "{sctx}");
        // Required by the GenAI conventions v1.41 on agent and model spans.
        if kind != "TOOL" {
            assert!(
                s.str("gen_ai.provider.name").is_some_and(|p| !p.is_empty()),
                "{sctx}: gen_ai.provider.name: {:?}",
                s.attributes
            );
        }
        // The request context on every span.
        assert_eq!(s.str("user.id"), Some("user-42"), "{sctx}");
        assert_eq!(s.str("gen_ai.conversation.id"), Some("conv-7"), "{sctx}");
        assert_eq!(s.str("session.id"), Some("conv-7"), "{sctx}: Phoenix's session from gen_ai.conversation.id");
        assert_eq!(s.str("obs.request_id"), Some("req-otlp-1"), "{sctx}");
        // None of the tracing bridge's noise.
        let noise: Vec<&String> = s
            .attributes
            .keys()
            .filter(|k| k.starts_with("code.") || k.starts_with("thread.") || *k == "busy_ns" || *k == "idle_ns")
            .collect();
        assert!(noise.is_empty(), "{sctx}: noise attributes {noise:?}");
        // ERROR only on the failed search.
        let failed = s.name == "execute_tool web_search" && {
            let seen = r.seen("tool", "web_search");
            seen.iter().any(|t| t["query"] == "broken-topic" && t["span_id"] == s.span_id.as_str())
        };
        if failed {
            assert_eq!(s.status_code, "ERROR", "{sctx}");
            assert_eq!(s.str("error.type"), Some("ToolError"), "{sctx}");
            assert!(
                s.events.iter().any(|e| e["name"] == "exception"),
                "{sctx}: an exception event on the failed tool: {:?}",
                s.events
            );
        } else {
            assert_ne!(s.status_code, "ERROR", "{sctx}: {}", s.status_message);
            assert_eq!(s.str("error.type"), None, "{sctx}");
        }
        // Captured content, in the GenAI message schema Phoenix reads.
        let has_messages = s.attributes.keys().any(|k| k.starts_with("llm.input_messages."));
        let has_gen_ai_content = s.attributes.contains_key("gen_ai.input.messages");
        if capture && kind == "LLM" {
            let seen =
                r.summary["spans"].as_array().unwrap().iter().find(|x| x["span_id"] == s.span_id.as_str()).unwrap();
            let prompt = seen["prompt"].as_str().unwrap();
            assert_eq!(s.str("llm.input_messages.0.message.role"), Some("user"), "{sctx}: {:?}", s.attributes);
            let content = s.str("llm.input_messages.0.message.content").unwrap_or_default();
            assert!(content.contains(prompt), "{sctx}: input content {content:?} lacks the prompt {prompt:?}");
            // A streamed reply has no value to capture: `LlmChunk` gives obs
            // no text, so only the prompt of the streamed call is there.
            if seen["stream"] != true {
                assert_eq!(
                    s.str("llm.output_messages.0.message.role"),
                    Some("assistant"),
                    "{sctx}: {:?}",
                    s.attributes
                );
                let out = s.str("llm.output_messages.0.message.content").unwrap_or_default();
                assert!(out.contains(prompt), "{sctx}: output content {out:?} lacks the prompt {prompt:?}");
            }
        } else if !capture {
            assert!(
                !has_messages && !has_gen_ai_content,
                "{sctx}: content captured with capture off: {:?}",
                s.attributes
            );
            assert_eq!(s.str("gen_ai.tool.call.arguments"), None, "{sctx}");
        }
    }

    // Names on agent and tool spans.
    for s in by_name(&spans, "invoke_agent researcher") {
        assert_eq!(s.str("gen_ai.agent.name"), Some("researcher"));
        // An in-process agent's provider is the instrumentation that runs it: obs.
        assert_eq!(s.str("gen_ai.provider.name"), Some("obs"));
    }
    for s in by_name(&spans, "execute_tool web_search") {
        assert_eq!(s.str("gen_ai.tool.name"), Some("web_search"));
        assert_eq!(s.str("tool.name"), Some("web_search"), "Phoenix's tool name");
    }

    // Model spans: tokens as obs counted them, and Phoenix's cost = obs's.
    let llm: Vec<&PhoenixSpan> = spans.iter().filter(|s| s.span_kind == "LLM").collect();
    assert_eq!(llm.len(), 5, "{ctx}");
    let mut matched = Vec::new();
    for s in llm {
        let sctx = format!("{ctx}, span `{}` {}", s.name, s.span_id);
        let model = s.name.strip_prefix("chat ").unwrap();
        assert_eq!(s.str("gen_ai.request.model"), Some(model), "{sctx}");
        assert_eq!(s.str("llm.model_name"), Some(model), "{sctx}");
        let provider = if model.starts_with("claude") { "anthropic" } else { "openai" };
        assert_eq!(s.str("gen_ai.provider.name"), Some(provider), "{sctx}");
        let input = s.int("gen_ai.usage.input_tokens").unwrap_or_else(|| panic!("{sctx}: no input tokens"));
        let output = s.int("gen_ai.usage.output_tokens").unwrap_or_else(|| panic!("{sctx}: no output tokens"));
        // The ledger's record of this call: the program gives each call its own counts.
        let call = r
            .model_calls()
            .iter()
            .find(|c| c["model"] == model && c["input_tokens"] == input && c["output_tokens"] == output)
            .unwrap_or_else(|| panic!("{sctx}: no ledger call with {input}/{output} tokens: {:?}", r.model_calls()));
        assert_eq!(s.int("gen_ai.usage.cache_read.input_tokens"), call["cache_read_tokens"].as_i64(), "{sctx}");
        assert_eq!(s.int("gen_ai.usage.cache_creation.input_tokens"), call["cache_creation_tokens"].as_i64(), "{sctx}");
        assert_eq!(s.int("llm.token_count.prompt"), Some(input), "{sctx}");
        assert_eq!(s.int("llm.token_count.completion"), Some(output), "{sctx}");
        let obs_cost = s.f64("obs.cost.usd").unwrap_or_else(|| panic!("{sctx}: no obs.cost.usd: {:?}", s.attributes));
        let ledger_cost = call["cost_usd"].as_f64().unwrap();
        assert!(same_cost(obs_cost, ledger_cost), "{sctx}: obs.cost.usd {obs_cost} vs the ledger's {ledger_cost}");
        let cost = phoenix.span_cost(&s.id);
        assert_eq!((cost.prompt_tokens, cost.completion_tokens), (Some(input), Some(output)), "{sctx}");
        let theirs = cost.total.unwrap_or_else(|| panic!("{sctx}: Phoenix did not price {model}: {cost:?}"));
        assert!(same_cost(theirs, obs_cost), "{sctx}: Phoenix's cost {theirs} != obs.cost.usd {obs_cost} ({cost:?})");
        matched.push((model.to_string(), input, theirs));
    }
    matched.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    eprintln!("{ctx}: Phoenix cost = obs cost for {matched:?}");
}

#[test]
fn phoenix_over_http_and_grpc() {
    let phoenix = Phoenix::start();
    eprintln!("Phoenix ready in {:?}", phoenix.startup);

    // Phoenix prices the models the program calls (else the cost check would be vacuous).
    let priced = phoenix.priced_models();
    for m in MODELS {
        assert!(priced.iter().any(|p| p.name == m), "Phoenix's price table lacks {m}");
    }

    let http = run_against(&phoenix, "http", "obs-http", false);
    check_run(&phoenix, "obs-http", &http, false);

    let grpc = run_against(&phoenix, "grpc", "obs-grpc", false);
    check_run(&phoenix, "obs-grpc", &grpc, false);
    assert_ne!(http.trace_id(), grpc.trace_id(), "each run is its own trace");

    let captured = run_against(&phoenix, "http", "obs-capture", true);
    check_run(&phoenix, "obs-capture", &captured, true);
    // Tool arguments and results too (Phoenix reads them into tool.parameters / output.value).
    let spans = phoenix.spans("obs-capture");
    let search = spans
        .iter()
        .find(|s| {
            s.name == "execute_tool web_search"
                && s.str("gen_ai.tool.call.arguments").is_some_and(|a| a.contains("rust-async"))
        })
        .unwrap_or_else(|| panic!("no captured arguments on a web_search span: {spans:?}"));
    assert!(
        search.str("gen_ai.tool.call.result").is_some_and(|r| r.contains("rust-async: first hit")),
        "{:?}",
        search.attributes
    );

    // Nothing left the machine, and the gRPC receiver stayed on loopback.
    let guard = phoenix.guard_lines();
    assert!(guard.iter().any(|l| l.contains("rewritten to 127.0.0.1:")), "{guard:?}");
    assert!(!guard.iter().any(|l| l.contains("refused")), "Phoenix tried to reach the network: {guard:?}");
}
