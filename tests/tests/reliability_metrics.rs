//! One odd metric cannot invalidate the page (issue 13): label names from
//! the `metrics` facade that collide after sanitising (`a.b` and `a_b`),
//! reserved ones (`__name__`, `le`), and duplicates through
//! obs's own API; the page stays promtool-valid and keeps every value.

use obs_runtime::metrics::FamilyError;
use obs_tests::{http_get, promtool_check};

#[test]
fn odd_label_names_never_invalidate_the_page() {
    let guard = obs_runtime::Builder::new()
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .namespace("my_app")
        .init()
        .unwrap();
    let addr = guard.prometheus_addr().unwrap();

    metrics::counter!("odd.requests.total", "a.b" => "1", "a_b" => "2", "__name__" => "x").increment(3);
    metrics::histogram!("odd.latency", "le" => "fast", "path" => "/").record(0.2);
    metrics::gauge!("odd.level", "le" => "x", "__x" => "y").set(1.5);
    // obs's own API refuses what would make a series invalid.
    let dup = obs_runtime::metrics::counter("odd_dup_total", "", &[("a", "1"), ("a", "2")]);
    assert_eq!(dup.err(), Some(FamilyError::InvalidLabel("a".into())));
    let le = obs_runtime::metrics::histogram("odd_le_seconds", "", &[("le", "1")]);
    assert_eq!(le.err(), Some(FamilyError::InvalidLabel("le".into())));

    let page = http_get(addr, "/metrics").unwrap().body;
    let (code, msg) = promtool_check(&page);
    assert_eq!(code, 0, "{msg}\n{page}");
    assert!(page.contains("\nmy_app_odd_requests_total{a_b=\"1\",a_b_2=\"2\",exported___name__=\"x\"} 3\n"), "{page}");
    assert!(page.contains("\nmy_app_odd_latency_bucket{exported_le=\"fast\",path=\"/\",le=\"0.25\"} 1\n"), "{page}");
    assert!(page.contains("\nmy_app_odd_level{exported_le=\"x\",exported___x=\"y\"} 1.5\n"), "{page}");
}
