//! The JSON of `/api/...`, built on the endpoint's render thread. Field
//! names are stable (the README documents them for scripts); numbers are
//! plain JSON numbers, costs both in USD (`cost_usd`, a float) and exactly
//! in picodollars (`cost_pico`, an integer; `1e12` per USD).

use super::history::{self, sum};
use crate::metrics::{names, Snapshot, Value};
use crate::runs::{self, Extra, Kind, Node, Tokens, View, TOKEN_TYPES};
use serde_json::{json, Map, Value as Json};
use std::time::{SystemTime, UNIX_EPOCH};

const PICO: f64 = crate::pricing::PICO_PER_USD as f64;

fn ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn usd(pico: u64) -> f64 {
    pico as f64 / PICO
}

/// A float as JSON: `null` for NaN or infinity.
fn num(v: f64) -> Json {
    serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number)
}

/// Whether runs are collected: on, and obs's layer is in the subscriber
/// (an application's own subscriber without it sees no runs).
fn collecting() -> bool {
    runs::collecting() && runs::in_current_subscriber()
}

fn to_string(v: &Json) -> String {
    let mut s = serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

/// The distinct values of label `key` in family `family`, sorted.
fn label_values(s: &Snapshot, family: &str, key: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .series(family, &[])
        .into_iter()
        .filter_map(|(ls, _)| ls.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// p50 and p95 of the series of histogram `family` matching `filter`,
/// merged, as the registry estimates them
/// ([`crate::metrics::HistogramSnapshot::quantile`]: PromQL's interpolation
/// inside the bucket, narrowed to the observed range); `null` without
/// observations.
fn quantiles(s: &Snapshot, family: &str, filter: &[(&str, &str)]) -> (Json, Json) {
    let mut merged: Option<crate::metrics::HistogramSnapshot> = None;
    for (_, v) in s.series(family, filter) {
        let Value::Histogram(h) = v else { continue };
        match &mut merged {
            Some(m) if m.bounds == h.bounds => m.merge(h),
            Some(_) => {}
            None => merged = Some(h.clone()),
        }
    }
    let q = |q| merged.as_ref().and_then(|m| m.quantile(q)).map_or(Json::Null, num);
    (q(0.5), q(0.95))
}

fn tokens_json(s: &Snapshot, filter: &[(&str, &str)]) -> Json {
    let mut m = Map::new();
    for t in TOKEN_TYPES {
        let mut f = filter.to_vec();
        f.push(("type", t));
        m.insert(t.to_string(), sum(s, names::LLM_TOKENS.name, &f, false).into());
    }
    Json::Object(m)
}

fn ratio(failed: u64, calls: u64) -> Json {
    if calls == 0 {
        Json::Null
    } else {
        num(failed as f64 / calls as f64)
    }
}

fn cost_json(m: &mut Map<String, Json>, pico: u64, hour_ago: u64) {
    m.insert("cost_pico".into(), pico.into());
    m.insert("cost_usd".into(), num(usd(pico)));
    let last_hour = pico.saturating_sub(hour_ago);
    m.insert("cost_last_hour_pico".into(), last_hour.into());
    m.insert("cost_last_hour_usd".into(), num(usd(last_hour)));
}

/// The part every row has: the calls of `(key, name)` in counter family
/// `calls`, how many failed, and p50/p95 of histogram family `duration`.
fn row(s: &Snapshot, key: &str, name: &str, calls: &str, duration: &str) -> Map<String, Json> {
    let f = [(key, name)];
    let (n, failed) = (sum(s, calls, &f, false), sum(s, calls, &f, true));
    let (p50, p95) = quantiles(s, duration, &f);
    let mut m = Map::new();
    m.insert("name".into(), name.into());
    m.insert("calls".into(), n.into());
    m.insert("failed".into(), failed.into());
    m.insert("error_ratio".into(), ratio(failed, n));
    m.insert("p50_seconds".into(), p50);
    m.insert("p95_seconds".into(), p95);
    m
}

fn agents(s: &Snapshot, now: u64) -> Vec<Json> {
    let mut agents = label_values(s, names::AGENT_EXECUTIONS.name, "agent");
    agents.extend(label_values(s, names::LLM_COST.name, "agent"));
    agents.sort();
    agents.dedup();
    agents
        .into_iter()
        .map(|a| {
            let f = [("agent", a.as_str())];
            let mut m = row(s, "agent", &a, names::AGENT_EXECUTIONS.name, names::AGENT_DURATION.name);
            m.insert("in_flight".into(), num(s.gauge(names::AGENT_IN_FLIGHT.name, &f).unwrap_or(0.0)));
            m.insert("model_calls".into(), sum(s, names::LLM_CALLS.name, &f, false).into());
            m.insert("tool_calls".into(), sum(s, names::TOOL_CALLS.name, &f, false).into());
            m.insert("tokens".into(), tokens_json(s, &f));
            let cost = sum(s, names::LLM_COST.name, &f, false);
            cost_json(&mut m, cost, history::entity_cost_hour_ago("agent", &a, now));
            Json::Object(m)
        })
        .collect()
}

fn models(s: &Snapshot, now: u64) -> Vec<Json> {
    label_values(s, names::LLM_CALLS.name, "model")
        .into_iter()
        .map(|model| {
            let f = [("model", model.as_str())];
            let mut m = row(s, "model", &model, names::LLM_CALLS.name, names::LLM_DURATION.name);
            let providers: std::collections::BTreeSet<&String> = s
                .series(names::LLM_CALLS.name, &f)
                .into_iter()
                .filter_map(|(ls, _)| ls.iter().find(|(k, _)| k == "provider").map(|(_, v)| v))
                .collect();
            m.insert("providers".into(), providers.into_iter().map(|p| Json::from(p.as_str())).collect());
            let (ttft50, ttft95) = quantiles(s, names::LLM_TTFT.name, &f);
            m.insert("ttft_p50_seconds".into(), ttft50);
            m.insert("ttft_p95_seconds".into(), ttft95);
            m.insert("tokens".into(), tokens_json(s, &f));
            let cost = sum(s, names::LLM_COST.name, &f, false);
            cost_json(&mut m, cost, history::entity_cost_hour_ago("model", &model, now));
            Json::Object(m)
        })
        .collect()
}

fn tools(s: &Snapshot) -> Vec<Json> {
    label_values(s, names::TOOL_CALLS.name, "tool")
        .into_iter()
        .map(|tool| Json::Object(row(s, "tool", &tool, names::TOOL_CALLS.name, names::TOOL_DURATION.name)))
        .collect()
}

/// `/api/overview`.
pub(super) fn overview(health: Option<std::sync::Arc<crate::health::Report>>) -> String {
    let s = crate::metrics::snapshot();
    let now = ms(SystemTime::now());
    let total = history::point(&s, now);
    let mut totals = Map::new();
    totals.insert("agent_runs".into(), total.agent_runs.into());
    totals.insert("model_calls".into(), total.model_calls.into());
    totals.insert("tool_calls".into(), total.tool_calls.into());
    totals.insert("failed".into(), total.failed.into());
    totals.insert("tokens".into(), tokens_json(&s, &[]));
    cost_json(&mut totals, total.cost_pico, history::cost_hour_ago(now));
    let budgets: Vec<Json> = crate::budget::views()
        .into_iter()
        .map(|b| {
            json!({
                "name": b.name,
                "scope": b.scope,
                "period": b.period,
                "limit_usd": num(b.limit_usd),
                "spent_usd": num(usd(b.spent_pico)),
                "spent_pico": b.spent_pico,
                "hard": b.hard,
            })
        })
        .collect();
    let health = health.map(|r| {
        let checks: Vec<Json> = r
            .checks
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "passed": c.passed,
                    "critical": c.critical,
                    "duration_seconds": num(c.duration.as_secs_f64()),
                    "error": c.error,
                })
            })
            .collect();
        json!({ "status": r.status.as_str(), "checks": checks })
    });
    let alerts: Vec<Json> = crate::ops::alerts::firing()
        .into_iter()
        .map(|a| {
            json!({
                "rule": a.rule,
                "severity": a.severity.as_str(),
                "subject": a.subject,
                "description": a.description,
                "value": num(a.value),
                "threshold": num(a.threshold),
                "since_ms": ms(a.since),
            })
        })
        .collect();
    let points: Vec<Json> = history::points()
        .iter()
        .map(|p| json!([p.t_ms, p.agent_runs, p.model_calls, p.tool_calls, p.failed, p.cost_pico, p.tokens]))
        .collect();
    let ledger = crate::ledger::stats();
    let v = json!({
        "now_ms": now,
        "quantile_method": crate::metrics::HistogramSnapshot::QUANTILE_METHOD,
        "collecting": collecting(),
        "totals": totals,
        "agents": agents(&s, now),
        "models": models(&s, now),
        "tools": tools(&s),
        "budgets": budgets,
        "health": health,
        "alerts": alerts,
        "history": {
            "step_seconds": history::STEP.as_secs(),
            "columns": ["t_ms", "agent_runs", "model_calls", "tool_calls", "failed", "cost_pico", "tokens"],
            "points": points,
        },
        "ledger": {
            "window_calls": ledger.window_calls,
            "calls": ledger.totals.calls,
            "cost_pico": u64::try_from(ledger.totals.cost_pico()).unwrap_or(u64::MAX),
        },
    });
    to_string(&v)
}

fn tokens_of(t: &Tokens) -> Json {
    let mut m = Map::new();
    for (name, v) in TOKEN_TYPES.iter().zip(t.0) {
        if let Some(v) = v {
            m.insert(name.to_string(), v.into());
        }
    }
    Json::Object(m)
}

fn status_str(s: Option<crate::status::Status>) -> &'static str {
    s.map_or("running", |s| s.as_str())
}

fn summary(v: &View) -> Map<String, Json> {
    let h = &v.header;
    let mut m = Map::new();
    m.insert("id".into(), v.id().into());
    m.insert("trace_id".into(), h.trace_id.as_deref().map(Json::from).unwrap_or(Json::Null));
    m.insert("agent".into(), h.agent.into());
    m.insert("kind".into(), h.kind.as_str().into());
    m.insert("name".into(), (*h.name).into());
    m.insert("status".into(), status_str(v.status).into());
    m.insert("start_ms".into(), h.start_ms.into());
    m.insert("duration_ms".into(), num(v.duration_ns as f64 / 1e6));
    let t = &v.totals;
    m.insert("calls".into(), t.calls.into());
    m.insert("failed_calls".into(), t.failed.into());
    m.insert("model_calls".into(), t.model_calls.into());
    m.insert("tool_calls".into(), t.tool_calls.into());
    m.insert("tokens".into(), tokens_of(&t.tokens));
    m.insert("cost_pico".into(), t.cost_pico.into());
    m.insert("cost_usd".into(), num(usd(t.cost_pico)));
    m.insert("cut_calls".into(), v.cut.into());
    m.insert(
        "cut_reason".into(),
        match v.cut_reason {
            Some(runs::CutReason::Calls) => "calls".into(),
            Some(runs::CutReason::Bytes) => "bytes".into(),
            None => Json::Null,
        },
    );
    let req = h.request.as_ref();
    let field = |k: &str| req.and_then(|r| r.fields().find(|(n, _)| *n == k).map(|(_, v)| Json::from(v)));
    for k in ["request_id", "user_id", "tenant_id", "conversation_id"] {
        m.insert(k.into(), field(k).unwrap_or(Json::Null));
    }
    m
}

fn store_json() -> Json {
    let s = runs::stats();
    let c = runs::config();
    json!({
        "runs_kept": s.kept,
        "runs_in_progress": s.in_progress,
        "runs_started": s.started,
        "runs_not_kept": s.dropped,
        "runs_evicted": s.evicted,
        "bytes": s.bytes,
        "peak_bytes": s.peak_bytes,
        "max_bytes": c.max_bytes,
        "max_runs": c.runs,
        "max_run_calls": c.run_calls,
    })
}

/// `/api/runs`.
pub(super) fn runs(f: &runs::Filter) -> String {
    let list: Vec<Json> = runs::list(f).iter().map(|v| Json::Object(summary(v))).collect();
    to_string(&json!({
        "collecting": collecting(),
        "agents": runs::agents(),
        "runs": list,
        "store": store_json(),
    }))
}

fn node_json(n: &Node) -> Json {
    let mut m = Map::new();
    m.insert("index".into(), n.index.into());
    m.insert("parent".into(), n.parent.map(Json::from).unwrap_or(Json::Null));
    m.insert("kind".into(), n.kind.as_str().into());
    m.insert("name".into(), (*n.name).into());
    m.insert("span".into(), n.span_name.into());
    m.insert("target".into(), n.target.into());
    m.insert("status".into(), status_str(n.status).into());
    m.insert("start_ms".into(), num(n.start_ns as f64 / 1e6));
    m.insert("duration_ms".into(), num(n.duration_ns as f64 / 1e6));
    if n.kind == Kind::Model {
        m.insert("tokens".into(), tokens_of(&n.tokens));
        m.insert("cost_pico".into(), n.cost_pico.map(Json::from).unwrap_or(Json::Null));
        m.insert("cost_usd".into(), n.cost_pico.map_or(Json::Null, |p| num(usd(p))));
        m.insert("ttft_ms".into(), n.ttft_ns.map_or(Json::Null, |t| num(t as f64 / 1e6)));
        m.insert("usage".into(), n.usage.map(Json::from).unwrap_or(Json::Null));
    }
    for (k, key) in [
        (Extra::ErrorType, "error_type"),
        (Extra::ErrorMessage, "error_message"),
        (Extra::Function, "function"),
        (Extra::Provider, "provider"),
        (Extra::ResponseModel, "response_model"),
        (Extra::FinishReasons, "finish_reasons"),
        (Extra::Input, "input"),
        (Extra::Output, "output"),
    ] {
        if let Some(v) = n.extra(k) {
            m.insert(key.into(), v.into());
        }
    }
    Json::Object(m)
}

/// `/api/runs/{id}`: empty when there is no such run.
pub(super) fn run(id: &str) -> Option<String> {
    let v = runs::get(id)?;
    let mut m = summary(&v);
    m.insert("spans".into(), v.nodes.iter().map(node_json).collect::<Vec<_>>().into());
    Some(to_string(&Json::Object(m)))
}

/// `/api/failures`.
pub(super) fn failures() -> String {
    let groups: Vec<Json> = runs::failures()
        .into_iter()
        .map(|g| {
            json!({
                "function": &*g.function,
                "kind": g.kind.as_str(),
                "name": &*g.name,
                "status": g.status.as_str(),
                "error_type": &*g.error_type,
                "count": g.count,
                "first_ms": g.first_ms,
                "last_ms": g.last_ms,
                "messages": g.messages.iter().map(|m| &**m).collect::<Vec<_>>(),
                "last_run": g.last_run.map(runs::run_id),
            })
        })
        .collect();
    to_string(&json!({ "collecting": collecting(), "failures": groups }))
}
