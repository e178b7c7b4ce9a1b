//! The last hour, for the overview's chart and its "last hour" costs: the
//! registry's totals read every [`STEP`] (360 points), and each agent's and
//! model's cost read every minute (61 points, at most [`MAX_ENTITIES`]
//! names), by a task on the endpoint's runtime. Both are fixed-size rings:
//! about 30 KiB, and at most 130 KiB with every name in use.
//!
//! The first reading is taken when the endpoint starts, before any call is
//! recorded, so a process younger than an hour reports what it spent since
//! it started.

use crate::metrics::{names, Snapshot, Value};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time between two readings of the totals.
pub(crate) const STEP: Duration = Duration::from_secs(10);
/// Readings kept: an hour.
const POINTS: usize = 361;
/// Minute readings kept: an hour.
const MINUTES: usize = 61;
/// Agents and models whose minute readings are kept.
pub(crate) const MAX_ENTITIES: usize = 256;

/// The registry's totals at one time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Point {
    pub(crate) t_ms: u64,
    pub(crate) agent_runs: u64,
    pub(crate) model_calls: u64,
    pub(crate) tool_calls: u64,
    /// Calls of any kind that ended in `error` or `panic`.
    pub(crate) failed: u64,
    pub(crate) cost_pico: u64,
    pub(crate) tokens: u64,
}

#[derive(Default)]
struct History {
    points: VecDeque<Point>,
    /// (`agent`|`model`, name), the index into each minute's costs.
    entities: Vec<(&'static str, String)>,
    minutes: VecDeque<(u64, Vec<u64>)>,
}

static HISTORY: Mutex<Option<History>> = Mutex::new(None);

/// Sums a counter family's series (raw integers: picodollars for cost).
pub(crate) fn sum(s: &Snapshot, family: &str, filter: &[(&str, &str)], failed_only: bool) -> u64 {
    s.series(family, filter)
        .into_iter()
        .filter(|(ls, _)| !failed_only || ls.iter().any(|(k, v)| k == "status" && (v == "error" || v == "panic")))
        .map(|(_, v)| match v {
            Value::Counter(n) | Value::Scaled { raw: n, .. } => *n,
            _ => 0,
        })
        .fold(0u64, u64::saturating_add)
}

/// The totals of a snapshot.
pub(crate) fn point(s: &Snapshot, t_ms: u64) -> Point {
    let calls = [names::AGENT_EXECUTIONS.name, names::LLM_CALLS.name, names::TOOL_CALLS.name];
    Point {
        t_ms,
        agent_runs: sum(s, calls[0], &[], false),
        model_calls: sum(s, calls[1], &[], false),
        tool_calls: sum(s, calls[2], &[], false),
        failed: calls.iter().map(|c| sum(s, c, &[], true)).fold(0, u64::saturating_add),
        cost_pico: sum(s, names::LLM_COST.name, &[], false),
        tokens: sum(s, names::LLM_TOKENS.name, &[], false),
    }
}

/// Each agent's and model's cost so far, by label value.
fn costs(s: &Snapshot) -> Vec<((&'static str, String), u64)> {
    let mut out: Vec<((&'static str, String), u64)> = Vec::new();
    for (ls, v) in s.series(names::LLM_COST.name, &[]) {
        let Value::Scaled { raw, .. } = v else { continue };
        for key in ["agent", "model"] {
            if let Some((_, name)) = ls.iter().find(|(k, _)| k == key) {
                match out.iter_mut().find(|(e, _)| e.0 == key && e.1 == *name) {
                    Some((_, c)) => *c = c.saturating_add(*raw),
                    None => out.push(((key, name.clone()), *raw)),
                }
            }
        }
    }
    out
}

/// Takes one reading (and, once a minute, the per-name costs).
pub(crate) fn sample() {
    let s = crate::metrics::snapshot();
    let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let p = point(&s, t);
    let mut g = HISTORY.lock().unwrap_or_else(|e| e.into_inner());
    let h = g.get_or_insert_with(History::default);
    if h.points.len() >= POINTS {
        h.points.pop_front();
    }
    h.points.push_back(p);
    let due = h.minutes.back().map_or(true, |(m, _)| t.saturating_sub(*m) >= 60_000);
    if due {
        let mut row = vec![0u64; h.entities.len()];
        for (e, c) in costs(&s) {
            let i = match h.entities.iter().position(|x| *x == e) {
                Some(i) => i,
                None if h.entities.len() < MAX_ENTITIES => {
                    h.entities.push(e);
                    row.push(0);
                    h.entities.len() - 1
                }
                None => continue,
            };
            row[i] = c;
        }
        if h.minutes.len() >= MINUTES {
            h.minutes.pop_front();
        }
        h.minutes.push_back((t, row));
    }
}

/// Reads the registry every [`STEP`] while the endpoint runs.
pub(crate) async fn sample_loop() {
    loop {
        sample();
        tokio::time::sleep(STEP).await;
    }
}

/// The readings of the last hour, oldest first.
pub(crate) fn points() -> Vec<Point> {
    let g = HISTORY.lock().unwrap_or_else(|e| e.into_inner());
    g.as_ref().map(|h| h.points.iter().copied().collect()).unwrap_or_default()
}

/// The total cost an hour ago (or at the first reading, when younger): the
/// baseline of "cost in the last hour".
pub(crate) fn cost_hour_ago(now_ms: u64) -> u64 {
    let g = HISTORY.lock().unwrap_or_else(|e| e.into_inner());
    let Some(h) = g.as_ref() else { return 0 };
    h.points.iter().find(|p| now_ms.saturating_sub(p.t_ms) <= 3_600_000).map_or(0, |p| p.cost_pico)
}

/// The cost of agent or model `name` an hour ago (or at the first minute
/// reading); `None` when the name was not known then, which is 0.
pub(crate) fn entity_cost_hour_ago(kind: &str, name: &str, now_ms: u64) -> u64 {
    let g = HISTORY.lock().unwrap_or_else(|e| e.into_inner());
    let Some(h) = g.as_ref() else { return 0 };
    let Some(i) = h.entities.iter().position(|(k, n)| *k == kind && n == name) else { return 0 };
    h.minutes
        .iter()
        .find(|(t, _)| now_ms.saturating_sub(*t) <= 3_600_000)
        .and_then(|(_, row)| row.get(i).copied())
        .unwrap_or(0)
}
