//! Runs the `otlp-agents` program (or any program printing one JSON line)
//! with a clean environment: no `OTEL_*` or `OBS_*` variable of the test's
//! own environment leaks in, only those the test gives.

use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run printed and logged.
#[derive(Debug)]
pub struct Run {
    /// The JSON line the program printed last on stdout.
    pub summary: Value,
    /// Its stderr (obs's console or JSON log lines).
    pub stderr: String,
    /// Wall time of the whole process.
    pub elapsed: Duration,
}

impl Run {
    /// The spans the program saw from inside its functions, of `kind`
    /// (`agent`, `tool`, `llm`, `span`) and `name`.
    pub fn seen(&self, kind: &str, name: &str) -> Vec<&Value> {
        self.summary["spans"]
            .as_array()
            .map(|a| a.iter().filter(|s| s["kind"] == kind && s["name"] == name).collect())
            .unwrap_or_default()
    }

    /// The one span of `kind`/`name` the program saw; panics on 0 or several.
    pub fn seen_one(&self, kind: &str, name: &str) -> &Value {
        match self.seen(kind, name).as_slice() {
            [one] => one,
            other => {
                panic!("expected one {kind} span `{name}` in the summary, found {}: {}", other.len(), self.summary)
            }
        }
    }

    /// The span id the program saw for `kind`/`name` (exactly one such span).
    pub fn span_id(&self, kind: &str, name: &str) -> String {
        let s = self.seen_one(kind, name);
        s["span_id"]
            .as_str()
            .unwrap_or_else(|| {
                panic!("the program saw no span id in {kind} `{name}` (trace::current() was None): {}", self.summary)
            })
            .to_string()
    }

    /// The trace id of the run: the one all the program's spans share.
    pub fn trace_id(&self) -> String {
        let ids: std::collections::BTreeSet<&str> = self.summary["spans"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["trace_id"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            !ids.is_empty(),
            "the program saw no trace id inside its functions (obs_runtime::trace::current() was None): \
             the instrumented spans were off, so nothing could be exported; exporters: {}",
            self.summary["exporters"]
        );
        assert_eq!(ids.len(), 1, "the program's spans should share one trace id: {ids:?}");
        ids.into_iter().next().unwrap().to_string()
    }

    /// The model calls of obs's ledger (agent, model, tokens, `cost_usd`).
    pub fn model_calls(&self) -> &[Value] {
        self.summary["model_calls"].as_array().map(Vec::as_slice).unwrap_or_default()
    }

    /// Log lines at `level` (`WARN`, `ERROR`...) in stderr, console or JSON format.
    pub fn log_lines_at(&self, level: &str) -> Vec<&str> {
        let json = format!("\"level\":\"{level}\"");
        let console = format!(" {level} ");
        self.stderr.lines().filter(|l| l.contains(&json) || l.contains(&console)).collect()
    }
}

/// Runs `exe mode` with exactly `env` (plus `PATH`, `HOME`, and
/// `OBS_PROMETHEUS_ADDR=127.0.0.1:0` so parallel runs do not fight over
/// port 9464); panics with its output when it fails, prints no JSON line, or
/// runs longer than `timeout` (then it is killed).
pub fn run(exe: &Path, mode: &str, env: &[(&str, &str)], timeout: Duration) -> Run {
    let mut cmd = Command::new(exe);
    cmd.arg(mode).env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for keep in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.env("OBS_PROMETHEUS_ADDR", "127.0.0.1:0").env("NO_COLOR", "1");
    cmd.envs(env.iter().copied());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", exe.display()));
    // Read both pipes on threads, so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for the program") {
            break st;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} {mode} ran longer than {timeout:?} (killed); stderr:\n{}",
                exe.display(),
                err_t.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    assert!(
        status.success(),
        "{} {mode} failed ({status}); env {env:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        exe.display()
    );
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap_or_else(|| {
        panic!("{} {mode} printed no JSON summary; stdout:\n{stdout}\nstderr:\n{stderr}", exe.display())
    });
    let summary = serde_json::from_str(line).unwrap_or_else(|e| panic!("summary is not JSON ({e}): {line}"));
    Run { summary, stderr, elapsed }
}
