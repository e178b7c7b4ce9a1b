//! The Grafana dashboard: one row per concern (agents, model calls, tools,
//! budgets, quality, conversations, health, process), every panel a PromQL query over the series obs
//! exports, the data source chosen on import through the `datasource`
//! variable (`${datasource}`, a Prometheus data source's `uid`).
//!
//! Queries use `$__rate_interval`, so a rate spans at least four scrapes
//! whatever the dashboard's range.

use super::rules::{error_ratio, failure_ratio, mean, quantile};
use super::RuleOptions;
use crate::metrics::names;
use serde_json::{json, Value};

/// Grafana's dashboard schema version this JSON follows (Grafana 10.4 / 11).
pub(super) const SCHEMA_VERSION: u32 = 39;

const W: &str = "$__rate_interval";

/// A panel: title, unit, and its queries with their legends.
struct Panel {
    title: &'static str,
    unit: &'static str,
    targets: Vec<(String, String)>,
}

fn p<L: Into<String>>(title: &'static str, unit: &'static str, targets: Vec<(String, L)>) -> Panel {
    let targets = targets.into_iter().map(|(e, l)| (e, l.into())).collect();
    Panel { title, unit, targets }
}

/// The quality row (evaluations: mean score and failure share per evaluation
/// and agent, results by label) and the conversation row (active, mean turns
/// and cost, p95 duration), per agent.
fn quality_rows(opts: &RuleOptions) -> (Vec<Panel>, Vec<Panel>) {
    let m = |n: &str| opts.metric(n);
    let (score, evals) = (m(names::EVAL_SCORE.name), m(names::EVALUATIONS.name));
    let by = "evaluation, agent";
    let quality = vec![
        p("Mean score", "short", vec![(mean(&score, "", by, W), "{{evaluation}} {{agent}}")]),
        p(
            "Failure share (label fail)",
            "percentunit",
            vec![(failure_ratio(&evals, "", by, W), "{{evaluation}} {{agent}}")],
        ),
        p(
            "Results per second by label",
            "short",
            vec![(format!("sum by (evaluation, label) (rate({evals}[{W}]))"), "{{evaluation}} {{label}}")],
        ),
    ];
    let (turns, cost) = (m(names::CONVERSATION_TURNS.name), m(names::CONVERSATION_COST.name));
    let conversations = vec![
        p(
            "Conversations active",
            "short",
            vec![(format!("sum by (agent) ({})", m(names::CONVERSATIONS_ACTIVE.name)), "{{agent}}")],
        ),
        p("Turns per conversation (mean)", "short", vec![(mean(&turns, "", "agent", W), "{{agent}}")]),
        p("Cost per conversation (mean)", "currencyUSD", vec![(mean(&cost, "", "agent", W), "{{agent}}")]),
        p(
            "Conversation duration p95",
            "s",
            vec![(quantile(0.95, &m(names::CONVERSATION_DURATION.name), "", "agent", W), "{{agent}}")],
        ),
    ];
    (quality, conversations)
}

fn ds() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

pub(super) fn render(opts: &RuleOptions) -> String {
    let m = |n: &str| opts.metric(n);
    let kinds = |calls: &str, hist: &str, label: &str| {
        let (c, h) = (m(calls), m(hist));
        vec![
            p(
                "Calls per second",
                "reqps",
                vec![(format!("sum by ({label}, status) (rate({c}[{W}]))"), format!("{{{{{label}}}}} {{{{status}}}}"))],
            ),
            p("Error ratio", "percentunit", vec![(error_ratio(&c, "", label, W), format!("{{{{{label}}}}}"))]),
            p(
                "Latency p50 / p95",
                "s",
                vec![
                    (quantile(0.5, &h, "", label, W), format!("{{{{{label}}}}} p50")),
                    (quantile(0.95, &h, "", label, W), format!("{{{{{label}}}}} p95")),
                ],
            ),
        ]
    };

    let mut agents = kinds(names::AGENT_EXECUTIONS.name, names::AGENT_DURATION.name, "agent");
    agents.push(p(
        "In flight",
        "short",
        vec![(format!("sum by (agent) ({})", m(names::AGENT_IN_FLIGHT.name)), "{{agent}}")],
    ));

    let mut models = kinds(names::LLM_CALLS.name, names::LLM_DURATION.name, "model");
    let (tokens, cost) = (m(names::LLM_TOKENS.name), m(names::LLM_COST.name));
    models.push(p(
        "Tokens per second by type",
        "short",
        vec![(format!("sum by (model, type) (rate({tokens}[{W}]))"), "{{model}} {{type}}")],
    ));
    models.push(p(
        "Cost per hour",
        "currencyUSD",
        vec![(format!("sum by (model) (rate({cost}[{W}])) * 3600"), "{{model}}")],
    ));
    models.push(p(
        "Time to first token p95 (streamed calls)",
        "s",
        vec![(quantile(0.95, &m(names::LLM_TTFT.name), "", "model", W), "{{model}}")],
    ));
    models.push(p(
        "Unpriced calls (cost unknown)",
        "short",
        vec![(format!("sum by (model) (increase({}[{W}]))", m(names::LLM_UNPRICED.name)), "{{model}}")],
    ));

    let tools = kinds(names::TOOL_CALLS.name, names::TOOL_DURATION.name, "tool");

    let (spent, limit) = (m(names::BUDGET_SPENT.name), m(names::BUDGET_LIMIT.name));
    let budgets = vec![
        p(
            "Budget used (fraction of limit)",
            "percentunit",
            vec![(format!("max by (budget) ({spent}) / max by (budget) ({limit})"), "{{budget}}")],
        ),
        p(
            "Budget spent and limit",
            "currencyUSD",
            vec![
                (format!("max by (budget) ({spent})"), "{{budget}} spent"),
                (format!("max by (budget) ({limit})"), "{{budget}} limit"),
            ],
        ),
    ];

    // Health checks: the names agreed with the health module.
    let health = vec![
        p(
            "Health checks passing (1) or failing (0)",
            "short",
            vec![(format!("min by (check) ({})", m("health_check_status")), "{{check}}")],
        ),
        p(
            "Health check duration (last run)",
            "s",
            vec![(format!("max by (check) ({})", m("health_check_duration_seconds")), "{{check}}")],
        ),
    ];

    let process = vec![
        p("CPU (cores)", "short", vec![(format!("rate({}[{W}])", m(names::PROCESS_CPU.name)), "{{instance}}")]),
        p(
            "Memory",
            "bytes",
            vec![
                (m(names::PROCESS_RESIDENT.name), "{{instance}} resident"),
                (m(names::PROCESS_VIRTUAL.name), "{{instance}} virtual"),
            ],
        ),
        p(
            "File descriptors",
            "short",
            vec![
                (m(names::PROCESS_OPEN_FDS.name), "{{instance}} open"),
                (m(names::PROCESS_MAX_FDS.name), "{{instance}} max"),
            ],
        ),
        p("Threads", "short", vec![(m(names::PROCESS_THREADS.name), "{{instance}}")]),
        p("Uptime", "s", vec![(format!("time() - {}", m(names::PROCESS_START_TIME.name)), "{{instance}}")]),
    ];

    let (quality, conversations) = quality_rows(opts);
    let mut rows: Vec<(&str, Vec<Panel>)> = vec![
        ("Agents", agents),
        ("Model calls", models),
        ("Tools", tools),
        ("Budgets", budgets),
        ("Quality", quality),
        ("Conversations", conversations),
        ("Health", health),
        ("Process", process),
    ];
    if super::has_mcp() {
        // After the tools: MCP tools are tools reached in another process.
        rows.insert(3, ("MCP (Model Context Protocol)", mcp(opts)));
    }
    let mut panels = Vec::new();
    let (mut id, mut y) = (1u32, 0u32);
    for (title, list) in rows {
        panels.push(json!({
            "type": "row", "id": id, "title": title, "collapsed": false, "panels": [],
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
        }));
        id += 1;
        y += 1;
        // Three panels of 8 columns per line.
        let lines = (list.len() as u32).div_ceil(3) * 8;
        for (i, panel) in list.into_iter().enumerate() {
            let x = (i as u32 % 3) * 8;
            let py = y + (i as u32 / 3) * 8;
            let targets: Vec<Value> = panel
                .targets
                .iter()
                .enumerate()
                .map(|(j, (expr, legend))| {
                    json!({
                        "refId": ((b'A' + j as u8) as char).to_string(), "datasource": ds(),
                        "expr": expr, "legendFormat": legend, "range": true, "editorMode": "code",
                    })
                })
                .collect();
            panels.push(json!({
                "type": "timeseries", "id": id, "title": panel.title, "datasource": ds(),
                "gridPos": {"h": 8, "w": 8, "x": x, "y": py},
                "targets": targets,
                "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": true},
                            "tooltip": {"mode": "multi", "sort": "desc"}},
            }));
            id += 1;
        }
        y += lines;
    }

    let dashboard = json!({
        "uid": match &opts.namespace { Some(ns) => format!("obs-{}", ns.replace('_', "-")), None => "obs".to_string() }
            .chars().take(40).collect::<String>(),
        "title": match &opts.namespace { Some(ns) => format!("obs: agents, models and tools ({ns})"), None => "obs: agents, models and tools".to_string() },
        "description": format!("Generated by obs-runtime {} (obs_runtime::ops::grafana_dashboard).", env!("CARGO_PKG_VERSION")),
        "tags": ["obs", "genai"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": true,
        "graphTooltip": 1,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "30s",
        "timezone": "browser",
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": [{
            "name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
            "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": [], "includeAll": false, "multi": false,
        }]},
        "panels": panels,
    });
    serde_json::to_string_pretty(&dashboard).unwrap_or_default()
}

/// The MCP row: operations per second, the failing share per tool and the
/// p95 per method and tool, on the client's side and the server's.
fn mcp(opts: &RuleOptions) -> Vec<Panel> {
    let by = "mcp_method_name, gen_ai_tool_name";
    let legend = "{{mcp_method_name}} {{gen_ai_tool_name}}";
    let mut panels = Vec::new();
    for (side, b) in [("client", &names::MCP_CLIENT_DURATION), ("server", &names::MCP_SERVER_DURATION)] {
        let h = opts.metric(b.name);
        let failed = super::mcp_failed(side);
        let (calls, errors, p95) = match side {
            "client" => (
                "MCP client: operations per second",
                "MCP client: error ratio per tool",
                "MCP client: p95 per method and tool",
            ),
            _ => (
                "MCP server: operations per second",
                "MCP server: error ratio per tool",
                "MCP server: p95 per method and tool",
            ),
        };
        panels.push(p(calls, "reqps", vec![(format!("sum by ({by}) (rate({h}_count[{W}]))"), legend)]));
        panels.push(p(
            errors,
            "percentunit",
            vec![(
                format!(
                    "sum by (gen_ai_tool_name) (rate({h}_count{{mcp_method_name=\"tools/call\",{failed}}}[{W}])) / sum by (gen_ai_tool_name) (rate({h}_count{{mcp_method_name=\"tools/call\"}}[{W}]))"
                ),
                "{{gen_ai_tool_name}}",
            )],
        ));
        panels.push(p(p95, "s", vec![(quantile(0.95, &h, "", by, W), legend)]));
    }
    panels
}
