//! The live view's settings: a bad `OBS_UI_*` value (or builder value) is an
//! `init()` error that names the variable and what to use; with the view off
//! (`OBS_UI=false`) nothing is served at `/` and the spans of instrumented
//! calls stay disabled even under obs's layer: the view costs nothing.

use obs_runtime::{Builder, InitError};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

fn errors(r: Result<obs_runtime::ObsGuard, InitError>) -> Vec<String> {
    match r {
        Err(InitError::Invalid(e)) => e.iter().map(ToString::to_string).collect(),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("init() accepted it"),
    }
}

/// Whether the span of an instrumented call is enabled (inside the call).
#[obs_runtime::track_tool(name = "ui_config_tool")]
fn span_enabled() -> bool {
    !tracing::Span::current().is_disabled()
}

#[test]
fn bad_values_are_errors_and_off_the_view_serves_and_costs_nothing() {
    std::env::set_var("OBS_UI", "maybe");
    std::env::set_var("OBS_UI_RUNS", "0");
    std::env::set_var("OBS_UI_RUN_CALLS", "100001");
    std::env::set_var("OBS_UI_MAX_BYTES", "1024");
    let lines = errors(Builder::from_env().exporters(&[]).init());
    assert_eq!(
        lines,
        [
            "OBS_UI=`maybe` cannot be used: expected true or false (1 or 0)",
            "OBS_UI_RUNS=`0` cannot be used: expected a number of runs from 1 to 100000",
            "OBS_UI_RUN_CALLS=`100001` cannot be used: expected a number of calls from 1 to 100000",
            "OBS_UI_MAX_BYTES=`1024` cannot be used: expected a number of bytes from 1048576 (1 MiB) to 1073741824 (1 GiB), e.g. 16777216",
        ]
    );
    for v in ["OBS_UI", "OBS_UI_RUNS", "OBS_UI_RUN_CALLS", "OBS_UI_MAX_BYTES"] {
        std::env::remove_var(v);
    }
    let lines = errors(Builder::new().exporters(&[]).ui_runs(0).ui_run_calls(1 << 20).ui_max_bytes(1 << 31).init());
    assert_eq!(
        lines,
        [
            "Builder::ui_runs(`0`) cannot be used: expected a number of runs from 1 to 100000",
            "Builder::ui_run_calls(`1048576`) cannot be used: expected a number of calls from 1 to 100000",
            "Builder::ui_max_bytes(`2147483648`) cannot be used: expected a number of bytes from 1048576 (1 MiB) to 1073741824 (1 GiB), e.g. 16777216",
        ]
    );

    // Off, under obs's own layer in the application's subscriber.
    tracing_subscriber::registry().with(obs_runtime::layer()).init();
    let obs = Builder::new()
        .exporters(&["logs", "prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .log_filter("warn")
        .ui(false)
        .init()
        .expect("init");
    assert_eq!(obs.ui_url(), None);
    let addr = obs.prometheus_addr().unwrap();
    for path in ["/", "/ui.js", "/api/overview", "/api/runs", "/api/runs/0123456789abcdef", "/api/failures"] {
        let r = obs_tests::http_get(addr, path).unwrap();
        assert_eq!(
            (r.status, r.body.as_str()),
            (404, "not found: the live view is off (OBS_UI=false; OBS_UI=true turns it on)\n"),
            "{path}"
        );
    }
    assert_eq!(obs_tests::http_get(addr, "/metrics").unwrap().status, 200);
    assert!(!span_enabled(), "no layer wants the call's span: it stays disabled, as without the view");
    assert!(obs.describe().iter().all(|d| !d.contains("live view")), "{:?}", obs.describe());
}
