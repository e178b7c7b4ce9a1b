//! The registry knows every instrumented function before any ran, and
//! `init()` creates all their series at zero.

use obs_runtime::{catalog, traced, track_execution, track_llm_call, track_tool, FnKind};

#[track_execution(agent = "cat_planner", labels(team = "search"))]
fn planner() {}

#[track_execution(agent = "cat_writer")]
async fn writer() {}

#[track_llm_call(model = "gpt-4o-mini", usage = none)]
fn ask() {}

#[track_tool(name = "cat_lookup")]
fn lookup() {}

#[traced(metrics)]
fn helper() {}

#[traced]
fn quiet() {}

#[test]
fn catalog_lists_every_function_before_any_call_and_series_start_at_zero() {
    let cat = catalog();
    let mine: Vec<_> = cat.iter().filter(|f| f.module() == "catalog").collect();
    let names: Vec<(&str, FnKind)> = mine.iter().map(|f| (f.name(), f.kind())).collect();
    assert_eq!(
        names,
        vec![
            ("ask", FnKind::LlmCall),
            ("helper", FnKind::Function),
            ("lookup", FnKind::Tool),
            ("planner", FnKind::Agent),
            ("quiet", FnKind::Function),
            ("writer", FnKind::Agent),
        ]
    );
    let planner_info = mine.iter().find(|f| f.name() == "planner").unwrap();
    assert_eq!(planner_info.agent(), Some("cat_planner"));
    assert_eq!(planner_info.labels(), &[("team", "search")]);
    assert!(planner_info.file().ends_with("catalog.rs"));
    assert_eq!(planner_info.line(), 6);
    let ask_info = mine.iter().find(|f| f.name() == "ask").unwrap();
    assert_eq!(
        (ask_info.model(), ask_info.provider(), ask_info.operation()),
        (Some("gpt-4o-mini"), None, Some("chat"))
    );
    assert!(!mine.iter().find(|f| f.name() == "quiet").unwrap().metrics());

    // No call has run; init() materialises every series at 0.
    let guard = obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("127.0.0.1:0").init().unwrap();
    let m = obs_runtime::metrics::snapshot();
    for status in ["success", "error", "cancelled", "panic"] {
        assert_eq!(
            m.counter("agent_executions_total", &[("agent", "cat_planner"), ("status", status), ("team", "search")]),
            Some(0)
        );
        assert_eq!(
            m.histogram("agent_execution_duration_seconds", &[("agent", "cat_writer"), ("status", status)])
                .unwrap()
                .count,
            0
        );
        for agent in ["none", "cat_planner", "cat_writer"] {
            assert_eq!(
                m.counter(
                    "llm_calls_total",
                    &[("agent", agent), ("model", "gpt-4o-mini"), ("provider", "openai"), ("status", status)]
                ),
                Some(0),
                "llm_calls_total agent={agent} status={status}"
            );
            assert_eq!(
                m.counter("tool_calls_total", &[("agent", agent), ("tool", "cat_lookup"), ("status", status)]),
                Some(0)
            );
        }
        assert_eq!(
            m.counter("function_calls_total", &[("function", "helper"), ("module", "catalog"), ("status", status)]),
            Some(0)
        );
    }
    assert_eq!(m.gauge("agent_executions_in_flight", &[("agent", "cat_planner"), ("team", "search")]), Some(0.0));
    assert!(m.series("function_calls_total", &[("function", "quiet")]).is_empty());
    // And the same zeros on the page.
    let page = obs_tests::http_get(guard.prometheus_addr().unwrap(), "/metrics").unwrap().body;
    assert!(
        page.contains("tool_calls_total{agent=\"cat_writer\",tool=\"cat_lookup\",status=\"cancelled\"} 0\n"),
        "{page}"
    );
    planner();
    ask();
    lookup();
    helper();
    quiet();
    drop(writer());
}
