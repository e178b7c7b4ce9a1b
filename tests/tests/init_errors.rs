//! `init()` with a bad configuration fails with a message that names the
//! problem and the fix, and leaves obs uninitialised so a corrected call works.

#[test]
fn bad_configuration_is_a_clear_error() {
    // A taken port names the address and the fix.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err =
        obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr(addr.clone()).init().err().unwrap();
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("exporter `prometheus`: cannot listen on {addr}")), "{msg}");
    assert!(msg.contains("OBS_PROMETHEUS_ADDR"), "{msg}");
    let err = obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("nonsense").init().err().unwrap();
    assert!(err.to_string().contains("`nonsense` is not a socket address"), "{err}");
    let err = obs_runtime::Builder::new().exporters(&["prometheus", "zipkin"]).init().err().unwrap();
    assert_eq!(
        err.to_string(),
        "Builder::exporters(`zipkin`) cannot be used: expected one of the exporters in this binary: logs, otlp, prometheus"
    );
    // Nothing was left half-initialised: a corrected call succeeds, once.
    drop(taken);
    let guard =
        obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr(addr).init().expect("corrected init");
    assert!(guard.prometheus_addr().is_some());
    assert_eq!(obs_runtime::init().err(), Some(obs_runtime::InitError::AlreadyInitialized));
}
