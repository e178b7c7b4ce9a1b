//! Log configuration from the environment, and a file output rotated by
//! size: every line lands in a file, as JSON, and old files are pruned.

use obs_runtime::{Builder, InitError};
use std::path::Path;

fn invalid(var: &'static str, value: &str) -> InitError {
    std::env::set_var(var, value);
    let e = Builder::from_env().init().err().unwrap_or_else(|| panic!("{var}={value} was accepted"));
    std::env::remove_var(var);
    e
}

#[test]
fn env_configures_a_rotated_json_file_and_rejects_bad_values() {
    // Bad values are reported before anything starts.
    for (var, value) in [
        ("OBS_LOG_FORMAT", "xml"),
        ("OBS_LOG_SPANS", "some"),
        ("OBS_LOG_ROTATION", "weekly"),
        ("OBS_LOG_MAX_FILES", "many"),
        ("OBS_LOG_QUEUE", "0"),
    ] {
        match invalid(var, value) {
            InitError::Invalid(errors) => {
                let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.var, e.value.as_str())).collect();
                assert_eq!(got, [(var, value)]);
            }
            other => panic!("{var}: {other}"),
        }
    }
    let msg = invalid("OBS_LOG_ROTATION", "weekly").to_string();
    assert_eq!(msg, "OBS_LOG_ROTATION=`weekly` cannot be used: expected never, daily, or a size such as 100MB");

    let dir = std::env::temp_dir().join(format!("obs-logs-file-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("nested").join("agent.log");
    std::env::set_var("OBS_LOG_FORMAT", "json");
    std::env::set_var("OBS_LOG_OUTPUT", &path);
    std::env::set_var("OBS_LOG_ROTATION", "4KiB");
    std::env::set_var("OBS_LOG_MAX_FILES", "2");
    std::env::set_var("RUST_LOG", "warn,logs_file=debug");
    let mut obs = Builder::from_env().exporters(&["logs"]).init().expect("init");
    assert!(obs.describe()[0].contains("logs (json) on "), "{:?}", obs.describe());

    for i in 0..200u64 {
        tracing::debug!(i, padding = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "line");
    }
    tracing::info!(target: "other_crate", "filtered out by RUST_LOG");
    obs.flush();

    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let current = read(&path);
    let rotated: Vec<String> = (1..=3).map(|n| read(&dir.join("nested").join(format!("agent.log.{n}")))).collect();
    assert!(!rotated[0].is_empty() && !rotated[1].is_empty(), "rotated by size");
    assert!(rotated[2].is_empty(), "only OBS_LOG_MAX_FILES=2 rotated files are kept");
    for (name, text) in [("agent.log", &current), ("agent.log.1", &rotated[0]), ("agent.log.2", &rotated[1])] {
        assert!(text.len() <= 4096, "{name} is {} bytes", text.len());
        for l in text.lines() {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {l}"));
            assert_eq!(v["target"], "logs_file", "{l}");
        }
    }
    // The newest lines are in the current file, in order, none lost between files.
    let last: Vec<u64> = current
        .lines()
        .chain(rotated[0].lines())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["i"].as_u64().unwrap())
        .collect();
    assert_eq!(last.iter().max(), Some(&199));
    let mut sorted = last.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (sorted[0]..=199).collect::<Vec<_>>(), "a contiguous run of the newest lines");
    drop(obs);
    let _ = std::fs::remove_dir_all(&dir);
}
