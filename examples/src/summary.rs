//! The end-of-run summary, read back from the metrics registry with
//! `obs_runtime::metrics::snapshot()`: what a dashboard would show.

use obs_runtime::metrics::{HistogramSnapshot, Snapshot, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

type Labels = [(String, String)];

/// One line of a section: calls of one agent, model or tool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// The agent, `model (provider)` or tool.
    pub name: String,
    /// Calls, every status.
    pub calls: u64,
    /// Calls whose status is not `success`.
    pub errors: u64,
    /// Median duration in seconds, estimated from the histogram buckets.
    pub p50: Option<f64>,
    /// 95th percentile duration in seconds, estimated from the buckets.
    pub p95: Option<f64>,
    /// Mean duration in seconds (exact: the histogram's sum over its count).
    pub mean: Option<f64>,
    /// Calls by the `agent` label (model and tool calls only).
    pub callers: BTreeMap<String, u64>,
}

fn label<'a>(ls: &'a Labels, name: &str) -> Option<&'a str> {
    ls.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn merge(into: &mut Option<HistogramSnapshot>, h: &HistogramSnapshot) {
    match into {
        None => *into = Some(h.clone()),
        Some(acc) => acc.merge(h),
    }
}

/// Rows of one section: `counter` summed over statuses (and agents), and
/// the quantiles of `histogram` merged over statuses, grouped by `key`.
pub fn rows(snap: &Snapshot, counter: &str, histogram: &str, key: fn(&Labels) -> Option<String>) -> Vec<Row> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (ls, v) in snap.series(counter, &[]) {
        let (Value::Counter(n), Some(k)) = (v, key(ls)) else { continue };
        let row = rows.entry(k.clone()).or_insert_with(|| Row { name: k, ..Row::default() });
        row.calls += n;
        if label(ls, "status") != Some("success") {
            row.errors += n;
        }
        // Model and tool calls carry the agent that made them.
        let is_call = label(ls, "model").or(label(ls, "tool")).is_some();
        if let (Some(agent), true) = (label(ls, "agent"), is_call && *n > 0) {
            *row.callers.entry(agent.to_string()).or_default() += n;
        }
    }
    let mut hists: BTreeMap<String, Option<HistogramSnapshot>> = BTreeMap::new();
    for (ls, v) in snap.series(histogram, &[]) {
        if let (Value::Histogram(h), Some(k)) = (v, key(ls)) {
            merge(hists.entry(k).or_default(), h);
        }
    }
    for (k, h) in hists {
        if let (Some(row), Some(h)) = (rows.get_mut(&k), h) {
            row.p50 = h.quantile(0.5);
            row.p95 = h.quantile(0.95);
            row.mean = (h.count > 0).then(|| h.sum / h.count as f64);
        }
    }
    rows.into_values().filter(|r| r.calls > 0).collect()
}

fn agent_key(ls: &Labels) -> Option<String> {
    label(ls, "agent").map(str::to_string)
}

fn model_key(ls: &Labels) -> Option<String> {
    Some(format!("{} ({})", label(ls, "model")?, label(ls, "provider")?))
}

fn tool_key(ls: &Labels) -> Option<String> {
    label(ls, "tool").map(str::to_string)
}

/// Agents: `agent_executions_total` and `agent_execution_duration_seconds`.
pub fn agents(snap: &Snapshot) -> Vec<Row> {
    rows(snap, "agent_executions_total", "agent_execution_duration_seconds", agent_key)
}

/// Models: `llm_calls_total` and `llm_call_duration_seconds`.
pub fn models(snap: &Snapshot) -> Vec<Row> {
    rows(snap, "llm_calls_total", "llm_call_duration_seconds", model_key)
}

/// Tools: `tool_calls_total` and `tool_call_duration_seconds`.
pub fn tools(snap: &Snapshot) -> Vec<Row> {
    rows(snap, "tool_calls_total", "tool_call_duration_seconds", tool_key)
}

/// `412 ms`, `1.84 s`, or `-`.
pub fn duration(secs: Option<f64>) -> String {
    match secs {
        None => "-".into(),
        Some(s) if s < 1.0 => format!("{:.0} ms", s * 1000.0),
        Some(s) => format!("{s:.2} s"),
    }
}

fn section(out: &mut String, title: &str, first: &str, rows: &[Row], callers: bool) {
    let _ = writeln!(out, "{title}");
    if rows.is_empty() {
        let _ = writeln!(out, "  (no calls)\n");
        return;
    }
    let mut header =
        vec![first.to_string(), "calls".into(), "errors".into(), "mean".into(), "p50".into(), "p95".into()];
    if callers {
        header.push("called by (agent label)".into());
    }
    let mut table = vec![header];
    for r in rows {
        let mut line = vec![
            r.name.clone(),
            r.calls.to_string(),
            r.errors.to_string(),
            duration(r.mean),
            duration(r.p50),
            duration(r.p95),
        ];
        if callers {
            line.push(r.callers.iter().map(|(a, n)| format!("{a} {n}")).collect::<Vec<_>>().join(", "));
        }
        table.push(line);
    }
    let widths: Vec<usize> =
        (0..table[0].len()).map(|c| table.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    for line in &table {
        let mut s = String::from(" ");
        for (c, cell) in line.iter().enumerate() {
            let w = widths[c];
            // Names and the callers list to the left, numbers to the right.
            if c == 0 || c == 6 {
                let _ = write!(s, " {cell:<w$}");
            } else {
                let _ = write!(s, " {cell:>w$}");
            }
        }
        let _ = writeln!(out, "{}", s.trim_end());
    }
    out.push('\n');
}

/// `$0.0123`, with enough digits for sub-cent model calls.
pub fn usd(v: f64) -> String {
    if v >= 1.0 {
        format!("${v:.2}")
    } else {
        format!("${v:.5}")
    }
}

/// Tokens and cost per agent and model, from the model-call ledger
/// (`obs_runtime::ledger`, also served as JSON at `/summary`).
pub fn cost_section(out: &mut String, stats: &obs_runtime::ledger::Stats) {
    let _ = writeln!(out, "Tokens and cost (obs_runtime::ledger, priced from the built-in table)");
    let mut table = vec![["agent", "model", "calls", "input tok", "output tok", "cost"].map(String::from).to_vec()];
    for (agent, models) in &stats.by_agent_model {
        for (model, t) in models {
            table.push(vec![
                agent.clone(),
                model.clone(),
                t.calls.to_string(),
                t.input_tokens.to_string(),
                t.output_tokens.to_string(),
                usd(t.cost_usd),
            ]);
        }
    }
    let t = &stats.totals;
    table.push(vec![
        "total".into(),
        String::new(),
        t.calls.to_string(),
        t.input_tokens.to_string(),
        t.output_tokens.to_string(),
        usd(t.cost_usd),
    ]);
    let widths: Vec<usize> = (0..6).map(|c| table.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    for line in &table {
        let mut s = String::from(" ");
        for (c, cell) in line.iter().enumerate() {
            let w = widths[c];
            if c < 2 {
                let _ = write!(s, " {cell:<w$}");
            } else {
                let _ = write!(s, " {cell:>w$}");
            }
        }
        let _ = writeln!(out, "{}", s.trim_end());
    }
    out.push('\n');
}

/// The sections as an aligned plain-text table.
pub fn render(snap: &Snapshot) -> String {
    let mut out = String::new();
    section(
        &mut out,
        "Agents (agent_executions_total, agent_execution_duration_seconds)",
        "agent",
        &agents(snap),
        false,
    );
    section(&mut out, "Models (llm_calls_total, llm_call_duration_seconds)", "model", &models(snap), true);
    section(&mut out, "Tools (tool_calls_total, tool_call_duration_seconds)", "tool", &tools(snap), true);
    cost_section(&mut out, &obs_runtime::ledger::stats());
    let _ = writeln!(
        out,
        "errors: calls whose status is not `success`. mean: exact (sum / count). p50, p95: {}.",
        HistogramSnapshot::QUANTILE_METHOD
    );
    out
}

#[cfg(test)]
mod tests {
    use super::{agent_key, duration, render, rows};

    #[test]
    fn quantiles_stay_inside_the_observed_range() {
        // Issue 14: an agent whose only call took 3.84 s was shown with
        // p95 4.88 s (interpolated inside the 2.5..5 s bucket). Two statuses'
        // series are merged, as the table does.
        let buckets = obs_runtime::metrics::AGENT_DURATION_BUCKETS;
        for (status, secs) in [("success", 3.84), ("error", 3.5)] {
            let labels = [("agent", "one_call"), ("status", status)];
            obs_runtime::metrics::counter("summary_test_calls_total", "calls", &labels).unwrap().increment(1);
            obs_runtime::metrics::histogram_with_buckets("summary_test_seconds", "duration", buckets, &labels)
                .unwrap()
                .record(secs);
        }
        let snap = obs_runtime::metrics::snapshot();
        let rows = rows(&snap, "summary_test_calls_total", "summary_test_seconds", agent_key);
        let row = rows.iter().find(|r| r.name == "one_call").expect("the agent's row");
        assert_eq!((row.calls, row.errors), (2, 1));
        let p95 = row.p95.expect("p95");
        assert!((3.5..=3.84).contains(&p95), "p95 {p95} outside the observed 3.5..3.84");
        assert_eq!(duration(row.p95), "3.82 s");
        assert_eq!(duration(row.p50), "3.67 s");
        // The table says how it estimates.
        assert!(render(&snap).contains("narrowed to the observed minimum and maximum"));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(None), "-");
        assert_eq!(duration(Some(0.4123)), "412 ms");
        assert_eq!(duration(Some(1.837)), "1.84 s");
    }
}
