//! The run store through its layer, under a subscriber of this thread only:
//! trees, totals, cuts, the byte bound and eviction. (Each test runs in its
//! own process under nextest; they share the store's statics otherwise, so
//! each filters by its own agent names.)

use super::*;
use crate::track;
use crate::usage::TokenUsage;
use tracing_subscriber::layer::SubscriberExt as _;

/// The run store's layer alone (no log or trace layer: it needs neither).
fn subscriber() -> impl tracing::Subscriber {
    tracing_subscriber::registry().with(layer(|| None, false))
}

fn with_runs<R>(cfg: Config, f: impl FnOnce() -> R) -> R {
    crate::call::enable();
    start(cfg);
    tracing::subscriber::with_default(subscriber(), f)
}

fn runs_of(agent: &str) -> Vec<View> {
    list(&Filter { agent: Some(agent.to_string()), limit: usize::MAX, ..Filter::default() })
}

/// A failure line for the call of `span`, as `failure::report` writes it.
fn failure_line(span: &tracing::Span, message: &str) {
    tracing::warn!(target: "errors", parent: span, event = "call_failed", function = "lookup", error.message = message, "x");
}

#[test]
fn a_run_is_the_tree_of_calls_under_its_root_with_totals() {
    with_runs(Config::default(), || {
        let root = track::agent("tree_planner");
        root.in_scope(|| {
            let m = track::llm("gpt-4o").provider("openai").start().unwrap();
            m.finish(TokenUsage { cache_read: Some(10), ..TokenUsage::new(1000, 200) });
            let sub = track::agent("tree_researcher");
            sub.in_scope(|| {
                let t = track::tool("lookup");
                failure_line(t.span(), "<script>alert(1)</script> not found");
                t.fail("NotFound");
            });
            sub.finish();
        });
        root.finish();
    });
    let runs = runs_of("tree_planner");
    assert_eq!(runs.len(), 1, "the sub-agent is part of the planner's run, not a run of its own");
    assert!(runs_of("tree_researcher").is_empty());
    let run = get(&runs[0].id()).expect("by id");
    assert_eq!(run.status, Some(Status::Success));
    assert_eq!((run.totals.calls, run.totals.failed, run.totals.model_calls, run.totals.tool_calls), (4, 1, 1, 1));
    assert_eq!(run.totals.tokens.0, [Some(1000), Some(200), Some(10), None, None]);
    let price = crate::pricing::price_for("gpt-4o", Some("openai")).expect("priced");
    let want = price
        .cost(
            &TokenUsage { cache_read: Some(10), ..TokenUsage::new(1000, 200) },
            crate::pricing::CostOptions::default(),
        )
        .pico;
    assert_eq!(run.totals.cost_pico, want);
    type Shape<'a> = (u32, Option<u32>, Kind, &'a str, Option<Status>);
    let shape: Vec<Shape<'_>> = run.nodes.iter().map(|n| (n.index, n.parent, n.kind, &*n.name, n.status)).collect();
    assert_eq!(
        shape,
        vec![
            (0, None, Kind::Agent, "tree_planner", Some(Status::Success)),
            (1, Some(0), Kind::Model, "gpt-4o", Some(Status::Success)),
            (2, Some(0), Kind::Agent, "tree_researcher", Some(Status::Success)),
            (3, Some(2), Kind::Tool, "lookup", Some(Status::Error)),
        ]
    );
    let tool = &run.nodes[3];
    assert_eq!(tool.extra(Extra::ErrorType), Some("NotFound"));
    assert_eq!(tool.extra(Extra::ErrorMessage), Some("<script>alert(1)</script> not found"));
    assert_eq!(run.nodes[1].cost_pico, Some(want));
    assert_eq!(run.nodes[1].extra(Extra::Provider), Some("openai"));
    // Children start inside their parent.
    assert!(run.nodes[3].start_ns >= run.nodes[2].start_ns);
    let g = failures().into_iter().find(|g| &*g.name == "lookup").expect("a failure group");
    // The function as the call's own failure line names it (the last line wins).
    assert_eq!((g.count, &*g.error_type, g.status, &*g.function), (1, "NotFound", Status::Error, "track::tool"));
    assert_eq!(g.messages, vec![Box::<str>::from("<script>alert(1)</script> not found")]);
    assert_eq!(g.last_run.map(run_id), Some(runs[0].id()));
}

#[test]
fn a_run_past_its_call_limit_is_cut_and_says_so() {
    let cfg = Config { run_calls: 10, ..Config::default() };
    with_runs(cfg, || {
        let root = track::agent("cut_agent");
        root.in_scope(|| {
            for _ in 0..25 {
                track::llm("gpt-4o-mini").provider("openai").start().unwrap().finish(TokenUsage::new(3, 1));
            }
        });
        root.finish();
    });
    let run = get(&runs_of("cut_agent")[0].id()).unwrap();
    // The root and 9 model calls kept; 16 model calls cut, all counted.
    assert_eq!(run.nodes.len(), 10);
    assert_eq!((run.cut, run.cut_reason), (16, Some(CutReason::Calls)));
    assert_eq!(run.totals.calls, 26);
    assert_eq!(run.totals.tokens.0[..2], [Some(75), Some(25)]);
}

#[test]
fn the_store_stays_within_its_bytes_whatever_comes() {
    let cfg = Config { runs: 100_000, run_calls: 100_000, max_bytes: 1 << 20 };
    let big = "x".repeat(200_000);
    with_runs(cfg, || {
        for i in 0..1000 {
            let root = track::agent("bound_agent");
            root.in_scope(|| {
                let t = track::tool("bound_tool");
                failure_line(t.span(), &format!("{i}: {}", &big[..1000]));
                t.fail("Big");
            });
            root.finish();
        }
        // One run bigger than a quarter of the bound: cut for bytes.
        let root = track::agent("bound_huge");
        root.in_scope(|| {
            for _ in 0..5_000 {
                let t = track::tool("bound_tool");
                failure_line(t.span(), &big);
                t.fail("Big");
            }
        });
        root.finish();
    });
    let s = stats();
    assert!(s.peak_bytes <= 1 << 20, "peak {} over the bound", s.peak_bytes);
    assert!(s.evicted > 0, "old runs made room: {s:?}");
    let huge = get(&runs_of("bound_huge")[0].id()).unwrap();
    assert_eq!(huge.cut_reason, Some(CutReason::Bytes));
    assert_eq!(huge.totals.calls, 5_001);
    assert!(huge.cut > 0 && huge.nodes.len() as u64 + huge.cut == 5_001, "{} kept, {} cut", huge.nodes.len(), huge.cut);
}

#[test]
fn the_last_runs_of_a_rare_agent_outlive_a_busy_one() {
    let cfg = Config { runs: 30, ..Config::default() };
    with_runs(cfg, || {
        for i in 0..200 {
            let name = if i % 50 == 0 { "floor_rare" } else { "floor_busy" };
            let a = track::agent(name);
            a.finish();
        }
    });
    assert_eq!(runs_of("floor_rare").len(), 4, "all 4 runs of the rare agent are kept");
    assert_eq!(runs_of("floor_busy").len(), 26);
}

#[test]
fn off_the_spans_of_calls_stay_disabled() {
    crate::call::enable();
    set_collecting(false);
    tracing::subscriber::with_default(subscriber(), || {
        let a = track::agent("off_agent");
        assert!(a.span().is_disabled(), "no layer wants the span: the call pays nothing for the view");
        a.finish();
    });
    assert!(runs_of("off_agent").is_empty());
}

/// The run store must not start a root's OpenTelemetry span when it opens
/// the run: a remote parent set after creation (an HTTP request's or MCP
/// request's `traceparent`) would be refused, and the call would start a
/// trace of its own. The run learns the trace id as the root is entered.
#[test]
fn a_root_continues_a_remote_trace_and_its_run_has_that_trace_id() {
    use std::collections::HashMap;
    crate::call::enable();
    start(Config::default());
    // The OpenTelemetry layer first, as in `crate::layer()`.
    let subscriber = tracing_subscriber::registry().with(crate::trace::layer()).with(layer(|| None, true));
    tracing::subscriber::with_default(subscriber, || {
        let root = tracing::info_span!(
            "invoke_agent remote_root",
            gen_ai.operation.name = "invoke_agent",
            gen_ai.agent.name = "remote_root",
            obs.status = tracing::field::Empty,
        );
        let carrier: HashMap<String, String> =
            [("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string())].into();
        let open = runs_of("remote_root");
        assert_eq!(open.len(), 1, "the run is open before the root is entered");
        assert_eq!(open[0].header.trace_id, None, "not known before the root starts");
        assert!(crate::trace::continue_trace(&root, &carrier), "the remote parent is taken");
        root.in_scope(|| {
            let ids = crate::trace::current().expect("ids");
            assert_eq!(ids.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        });
        root.record("obs.status", "success");
    });
    let runs = runs_of("remote_root");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].header.trace_id.as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    let run = get("4bf92f3577b34da6a3ce929d0e0e4736").expect("found by its trace id");
    assert_eq!(run.id(), runs[0].id());
}
