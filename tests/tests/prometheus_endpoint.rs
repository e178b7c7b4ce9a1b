//! The embedded endpoint over real HTTP: exact series after calls, the
//! text format checked by `promtool`, health/ready, users' own metrics, and
//! the `init()` errors.

use obs_runtime::{track_execution, track_llm_call, track_tool, InitError};
use obs_tests::{http_get, promtool_check};

#[derive(Debug)]
struct Failed;

#[track_tool(name = "e2e_search", labels(backend = "bing"))]
fn search(ok: bool) -> Result<u32, Failed> {
    if ok {
        Ok(1)
    } else {
        Err(Failed)
    }
}

/// Takes 15 ms of the mock clock the test runs the agent on: durations are
/// exact, not whatever a loaded machine makes of a sleep.
#[track_llm_call(model = "gpt-4o", usage = none)]
fn ask(clock: &quanta::Mock) -> u32 {
    clock.increment(std::time::Duration::from_millis(15));
    2
}

#[track_execution(agent = "e2e_agent")]
fn agent(clock: &quanta::Mock) -> Result<u32, Failed> {
    let _ = search(false);
    search(true)?;
    Ok(ask(clock))
}

fn line_value(page: &str, series: &str) -> Option<String> {
    page.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).map(str::to_string))
}

#[test]
fn metrics_page_is_exact_and_promtool_clean() {
    let guard =
        obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("127.0.0.1:0").init().expect("init");
    let addr = guard.prometheus_addr().expect("prometheus address");
    assert!(addr.ip().is_loopback());

    // Second init: a clear error, not a panic.
    let again = obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("127.0.0.1:0").init();
    assert_eq!(again.err(), Some(InitError::AlreadyInitialized));

    let (clock, mock) = quanta::Clock::mock();
    assert_eq!(quanta::with_clock(&clock, || agent(&mock)).unwrap(), 2);
    obs_runtime::metrics::counter("e2e_jobs_total", "Jobs done.", &[("queue", "a\"b\\c\nd")]).unwrap().increment(3);
    obs_runtime::metrics::gauge("e2e_queue_depth", "Queue depth.", &[]).unwrap().set(4.5);
    let h = obs_runtime::metrics::histogram("e2e_job_seconds", "Job time.", &[]).unwrap();
    h.record(0.2);
    h.start_timer().stop();
    metrics::counter!("e2e_facade_total", "path" => "/x").increment(2);
    metrics::describe_counter!("e2e_facade_total", "Via the metrics facade.");

    let resp = http_get(addr, "/metrics").unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let page = resp.body;
    let exact = [
        ("agent_executions_total{agent=\"e2e_agent\",status=\"success\"}", "1"),
        ("agent_executions_total{agent=\"e2e_agent\",status=\"error\"}", "0"),
        ("agent_executions_in_flight{agent=\"e2e_agent\"}", "0"),
        ("tool_calls_total{agent=\"e2e_agent\",tool=\"e2e_search\",status=\"success\",backend=\"bing\"}", "1"),
        ("tool_calls_total{agent=\"e2e_agent\",tool=\"e2e_search\",status=\"error\",backend=\"bing\"}", "1"),
        ("tool_calls_total{agent=\"none\",tool=\"e2e_search\",status=\"error\",backend=\"bing\"}", "0"),
        ("llm_calls_total{agent=\"e2e_agent\",model=\"gpt-4o\",provider=\"openai\",status=\"success\"}", "1"),
        ("llm_call_duration_seconds_bucket{model=\"gpt-4o\",provider=\"openai\",status=\"success\",le=\"0.01\"}", "0"),
        ("llm_call_duration_seconds_bucket{model=\"gpt-4o\",provider=\"openai\",status=\"success\",le=\"0.02\"}", "1"),
        ("llm_call_duration_seconds_bucket{model=\"gpt-4o\",provider=\"openai\",status=\"success\",le=\"+Inf\"}", "1"),
        ("llm_call_duration_seconds_count{model=\"gpt-4o\",provider=\"openai\",status=\"success\"}", "1"),
        ("e2e_jobs_total{queue=\"a\\\"b\\\\c\\nd\"}", "3"),
        ("e2e_queue_depth", "4.5"),
        ("e2e_job_seconds_count", "2"),
        ("e2e_facade_total{path=\"/x\"}", "2"),
    ];
    for (series, want) in exact {
        assert_eq!(line_value(&page, series).as_deref(), Some(want), "{series} in\n{page}");
    }
    let sum: f64 =
        line_value(&page, "llm_call_duration_seconds_sum{model=\"gpt-4o\",provider=\"openai\",status=\"success\"}")
            .unwrap()
            .parse()
            .unwrap();
    assert!((sum - 0.015).abs() < 1e-12, "sum {sum}: the 15 ms of the mock clock");
    assert!(page.contains("# TYPE llm_call_duration_seconds histogram\n"));
    assert!(page.contains("# HELP e2e_facade_total Via the metrics facade.\n"));
    assert!(page.contains("# TYPE agent_executions_in_flight gauge\n"));

    let (code, out) = promtool_check(&page);
    assert_eq!((code, out.as_str()), (0, ""), "promtool check metrics:\n{out}\n{page}");

    assert_eq!(http_get(addr, "/health").unwrap().status, 200);
    let ready = http_get(addr, "/ready").unwrap();
    assert_eq!((ready.status, ready.body.as_str()), (200, "{\"status\":\"ready\"}\n"));
    let missing = http_get(addr, "/nope").unwrap();
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("/metrics"));

    drop(guard);
    assert!(http_get(addr, "/metrics").is_err(), "the endpoint stops with the guard");
}
