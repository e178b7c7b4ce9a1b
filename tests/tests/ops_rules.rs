//! The generated Prometheus rules: `promtool check rules` accepts them, and
//! `promtool test rules` shows the error-ratio, latency, cost and budget
//! alerts fire on synthetic series that cross their thresholds and stay
//! silent on those that do not (including a per-function override).

use obs_runtime::ops::{RuleOptions, Thresholds};
use obs_runtime::{track_execution, track_llm_call, track_tool};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

#[derive(Debug)]
struct E;

impl From<obs_runtime::BudgetExceeded> for E {
    fn from(_: obs_runtime::BudgetExceeded) -> E {
        E
    }
}

#[track_execution(agent = "hot_agent")]
fn hot_agent() -> Result<(), E> {
    Ok(())
}
#[track_execution(agent = "calm_agent")]
fn calm_agent() -> Result<(), E> {
    Ok(())
}
#[track_llm_call(model = "gpt-4o", provider = "openai", usage = none, budget = "ops_daily")]
fn pricey() -> Result<u32, E> {
    Ok(1)
}
#[track_llm_call(model = "gpt-4o-mini", provider = "openai", usage = none)]
fn cheap() -> Result<u32, E> {
    Ok(1)
}
#[track_tool(name = "flaky_tool")]
fn flaky() -> Result<(), E> {
    Ok(())
}
#[track_tool(name = "slow_tool")]
fn slow() -> Result<(), E> {
    Ok(())
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("obs-ops-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn promtool(args: &[&str], cwd: &std::path::Path) -> (bool, String) {
    let out = Command::new("promtool").args(args).current_dir(cwd).output().unwrap_or_else(|e| {
        panic!("cannot run promtool ({e}): `apt-get install -y --no-install-recommends prometheus`")
    });
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn options() -> RuleOptions {
    RuleOptions::new()
        .namespace("")
        .agents(Thresholds::new().error_ratio(0.2).p95(Duration::from_secs(10)).for_duration(Duration::from_secs(120)))
        .models(Thresholds::new().cost_per_hour_usd(5.0))
        // slow_tool is allowed 20 s; its p95 of about 15 s would fire at the default 10 s.
        .tool("slow_tool", Thresholds::new().p95(Duration::from_secs(20)))
}

#[test]
fn generated_rules_pass_promtool_check() {
    let _ = (hot_agent(), calm_agent(), pricey(), cheap(), flaky(), slow());
    let yaml = options().prometheus_rules().unwrap();
    let d = dir("check");
    std::fs::write(d.join("rules.yml"), &yaml).unwrap();
    let (ok, text) = promtool(&["check", "rules", "rules.yml"], &d);
    // 20 recording rules; per agent 2 alerts, per model 3, per tool 2, per
    // budget 2; one for every evaluation's failure share, one for
    // conversation cost; MCP (obs is built with `rmcp-*` here): per side 2
    // recording rules and 2 alerts.
    assert!(ok, "{text}\n{yaml}");
    assert!(text.contains("SUCCESS: 46 rules found"), "{text}");
    // Every catalog entry has its alerts, under its own label.
    for sel in [
        "agent: 'hot_agent'",
        "agent: 'calm_agent'",
        "model: 'gpt-4o'",
        "model: 'gpt-4o-mini'",
        "tool: 'flaky_tool'",
        "tool: 'slow_tool'",
        "budget: 'ops_daily'",
    ] {
        assert!(yaml.contains(sel), "{sel} missing:\n{yaml}");
    }
    // The namespace prefixes every metric name, and nothing else.
    let ns = options().namespace("shop").prometheus_rules().unwrap();
    assert!(ns.contains("rate(shop_agent_executions_total{agent=\"hot_agent\",status=~\"error|panic\"}[5m])"), "{ns}");
    assert!(ns.contains("record: agent_status:shop_agent_executions:rate5m"), "{ns}");
    assert!(!ns.contains("(rate(agent_executions_total"), "{ns}");
    std::fs::write(d.join("ns.yml"), &ns).unwrap();
    let (ok, text) = promtool(&["check", "rules", "ns.yml"], &d);
    assert!(ok, "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_options_are_refused_with_the_fix() {
    let e = RuleOptions::new().agent("a", Thresholds::new().error_ratio(2.0)).prometheus_rules().unwrap_err();
    assert_eq!(e.to_string(), "agent `a`: error_ratio is a fraction of calls, 0 < ratio <= 1, got 2");
    let e = RuleOptions::new().namespace("9x").prometheus_rules().unwrap_err();
    assert!(e.to_string().starts_with("namespace `9x`: a metric name prefix is letters"), "{e}");
    let e = RuleOptions::new().window(Duration::from_millis(1500)).grafana_dashboard().unwrap_err();
    assert!(e.to_string().contains("whole number of seconds"), "{e}");
}

/// Synthetic series, one minute apart: each "hot" function crosses its
/// threshold, each "calm" one stays under it.
const TESTS: &str = r#"
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # hot_agent: 5 errors per 15 runs (33% > 20%), calm_agent: 1 per 21 (4.8%).
      - series: 'agent_executions_total{agent="hot_agent",status="success"}'
        values: '0+10x30'
      - series: 'agent_executions_total{agent="hot_agent",status="error"}'
        values: '0+5x30'
      - series: 'agent_executions_total{agent="calm_agent",status="success"}'
        values: '0+20x30'
      - series: 'agent_executions_total{agent="calm_agent",status="panic"}'
        values: '0+1x30'
      # hot_agent runs take 30 to 60 s (p95 58.5 s > 10 s), calm_agent's under 1 s.
      - series: 'agent_execution_duration_seconds_bucket{agent="hot_agent",status="success",le="1"}'
        values: '0+0x30'
      - series: 'agent_execution_duration_seconds_bucket{agent="hot_agent",status="success",le="30"}'
        values: '0+0x30'
      - series: 'agent_execution_duration_seconds_bucket{agent="hot_agent",status="success",le="60"}'
        values: '0+10x30'
      - series: 'agent_execution_duration_seconds_bucket{agent="hot_agent",status="success",le="+Inf"}'
        values: '0+10x30'
      - series: 'agent_execution_duration_seconds_bucket{agent="calm_agent",status="success",le="1"}'
        values: '0+20x30'
      - series: 'agent_execution_duration_seconds_bucket{agent="calm_agent",status="success",le="30"}'
        values: '0+20x30'
      - series: 'agent_execution_duration_seconds_bucket{agent="calm_agent",status="success",le="60"}'
        values: '0+20x30'
      - series: 'agent_execution_duration_seconds_bucket{agent="calm_agent",status="success",le="+Inf"}'
        values: '0+20x30'
      # gpt-4o: 0.2 USD a minute (12 USD/h > 5), gpt-4o-mini: 0.01 (0.6 USD/h).
      - series: 'llm_cost_usd_total{agent="hot_agent",model="gpt-4o",provider="openai"}'
        values: '0+0.2x30'
      - series: 'llm_cost_usd_total{agent="hot_agent",model="gpt-4o-mini",provider="openai"}'
        values: '0+0.01x30'
      # flaky_tool fails 1 call in 2, p95 9.5 s; slow_tool never fails, p95 15.7 s (allowed 20 s).
      - series: 'tool_calls_total{agent="hot_agent",tool="flaky_tool",status="error"}'
        values: '0+3x30'
      - series: 'tool_calls_total{agent="hot_agent",tool="flaky_tool",status="success"}'
        values: '0+3x30'
      - series: 'tool_calls_total{agent="hot_agent",tool="slow_tool",status="success"}'
        values: '0+4x30'
      - series: 'tool_call_duration_seconds_bucket{tool="slow_tool",status="success",le="10"}'
        values: '0+0x30'
      - series: 'tool_call_duration_seconds_bucket{tool="slow_tool",status="success",le="16"}'
        values: '0+4x30'
      - series: 'tool_call_duration_seconds_bucket{tool="slow_tool",status="success",le="+Inf"}'
        values: '0+4x30'
      - series: 'tool_call_duration_seconds_bucket{tool="flaky_tool",status="success",le="10"}'
        values: '0+25x30'
      - series: 'tool_call_duration_seconds_bucket{tool="flaky_tool",status="success",le="16"}'
        values: '0+25x30'
      - series: 'tool_call_duration_seconds_bucket{tool="flaky_tool",status="success",le="+Inf"}'
        values: '0+25x30'
      # ops_daily: 1 USD a minute of 10: 50% at 5 min, 90% at 9 min, spent at 10.
      - series: 'budget_spent_usd{budget="ops_daily"}'
        values: '0+1x30'
      - series: 'budget_limit_usd{budget="ops_daily"}'
        values: '10+0x30'
    promql_expr_test:
      - expr: agent:agent_executions:error_ratio_rate5m
        eval_time: 10m
        exp_samples:
          - labels: 'agent:agent_executions:error_ratio_rate5m{agent="calm_agent"}'
            value: 0.047619047619047616
          - labels: 'agent:agent_executions:error_ratio_rate5m{agent="hot_agent"}'
            value: 0.33333333333333337
      - expr: model:llm_cost_usd_per_hour:rate5m
        eval_time: 10m
        exp_samples:
          - labels: 'model:llm_cost_usd_per_hour:rate5m{model="gpt-4o"}'
            value: 11.999999999999998
          - labels: 'model:llm_cost_usd_per_hour:rate5m{model="gpt-4o-mini"}'
            value: 0.5999999999999999
    alert_rule_test:
      # `for: 2m`: pending at 1 minute, not yet firing.
      - eval_time: 1m
        alertname: ObsAgentErrorRatioHigh
        exp_alerts: []
      - eval_time: 10m
        alertname: ObsAgentErrorRatioHigh
        exp_alerts:
          - exp_labels: {severity: warning, agent: hot_agent}
            exp_annotations:
              summary: 'Agent hot_agent: more than 20% of calls fail'
              description: 'The share of agent_executions_total{agent="hot_agent"} with status error or panic over 5m has been above 0.2 for 2m.'
      - eval_time: 10m
        alertname: ObsAgentLatencyP95High
        exp_alerts:
          - exp_labels: {severity: warning, agent: hot_agent}
            exp_annotations:
              summary: 'Agent hot_agent: p95 latency above 10s'
              description: 'The 95th percentile of agent_execution_duration_seconds{agent="hot_agent"} over 5m has been above 10 seconds for 2m.'
      - eval_time: 10m
        alertname: ObsModelCostPerHourHigh
        exp_alerts:
          - exp_labels: {severity: warning, model: gpt-4o}
            exp_annotations:
              summary: 'Model gpt-4o: spending more than 5 USD per hour'
              description: 'llm_cost_usd_total{model="gpt-4o"} grew at more than 5 USD per hour over 5m for 5m.'
      # No model has calls: their error ratio is 0/0, which never fires.
      - eval_time: 10m
        alertname: ObsModelErrorRatioHigh
        exp_alerts: []
      - eval_time: 10m
        alertname: ObsToolErrorRatioHigh
        exp_alerts:
          - exp_labels: {severity: warning, tool: flaky_tool}
            exp_annotations:
              summary: 'Tool flaky_tool: more than 5% of calls fail'
              description: 'The share of tool_calls_total{tool="flaky_tool"} with status error or panic over 5m has been above 0.05 for 5m.'
      # slow_tool's p95 (15.7 s) is under its own 20 s (the default 10 s would fire); flaky_tool's (9.5 s) under 10 s.
      - eval_time: 10m
        alertname: ObsToolLatencyP95High
        exp_alerts: []
      - eval_time: 5m
        alertname: ObsBudgetBurn
        exp_alerts: []
      - eval_time: 9m
        alertname: ObsBudgetBurn
        exp_alerts:
          - exp_labels: {severity: warning, budget: ops_daily}
            exp_annotations:
              summary: 'Budget ops_daily: more than 80% of its limit spent'
              description: 'budget_spent_usd{budget="ops_daily"} is above 0.8 of budget_limit_usd{budget="ops_daily"} in the current period.'
      - eval_time: 9m
        alertname: ObsBudgetExhausted
        exp_alerts: []
      - eval_time: 10m
        alertname: ObsBudgetExhausted
        exp_alerts:
          - exp_labels: {severity: critical, budget: ops_daily}
            exp_annotations:
              summary: 'Budget ops_daily is spent'
              description: 'budget_spent_usd{budget="ops_daily"} has reached budget_limit_usd{budget="ops_daily"}: a hard budget now refuses its model calls.'
"#;

#[test]
fn alerts_fire_on_crossing_series_and_stay_silent_otherwise() {
    let d = dir("test");
    std::fs::write(d.join("rules.yml"), options().prometheus_rules().unwrap()).unwrap();
    std::fs::write(d.join("tests.yml"), TESTS).unwrap();
    let (ok, text) = promtool(&["test", "rules", "tests.yml"], &d);
    assert!(ok, "{text}");
    assert!(text.contains("SUCCESS"), "{text}");

    // The same file fails against rules whose thresholds the series do not
    // cross: the test above can fail.
    let lax = options().agents(Thresholds::new().error_ratio(0.5).p95(Duration::from_secs(100)));
    std::fs::write(d.join("rules.yml"), lax.prometheus_rules().unwrap()).unwrap();
    let (ok, text) = promtool(&["test", "rules", "tests.yml"], &d);
    assert!(!ok, "{text}");
    assert!(
        text.contains("alertname: ObsAgentErrorRatioHigh") && text.contains("alertname: ObsAgentLatencyP95High"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// MCP tools are whatever the servers offer: the alerts select by label.
/// `flaky` fails half its calls on both sides; `get_forecast` only gets the
/// caller's mistakes (-32602), which are the client's errors but not the
/// server's; `get_weather` is slow as the client sees it.
const MCP_TESTS: &str = r#"
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'mcp_client_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="flaky",error_type="tool_error"}'
        values: '0+3x30'
      - series: 'mcp_client_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="flaky"}'
        values: '0+3x30'
      - series: 'mcp_client_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="get_forecast",error_type="-32602",rpc_response_status_code="-32602"}'
        values: '0+2x30'
      - series: 'mcp_client_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="get_weather"}'
        values: '0+10x30'
      - series: 'mcp_client_operation_duration_seconds_bucket{mcp_method_name="tools/call",gen_ai_tool_name="get_weather",le="10"}'
        values: '0+0x30'
      - series: 'mcp_client_operation_duration_seconds_bucket{mcp_method_name="tools/call",gen_ai_tool_name="get_weather",le="30"}'
        values: '0+10x30'
      - series: 'mcp_client_operation_duration_seconds_bucket{mcp_method_name="tools/call",gen_ai_tool_name="get_weather",le="+Inf"}'
        values: '0+10x30'
      - series: 'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="flaky",error_type="tool_error"}'
        values: '0+3x30'
      - series: 'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="flaky"}'
        values: '0+3x30'
      - series: 'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="get_forecast",error_type="-32602",rpc_response_status_code="-32602"}'
        values: '0+2x30'
    promql_expr_test:
      - expr: mcp_method_tool:mcp_server_operation_duration_seconds:error_ratio_rate5m
        eval_time: 10m
        exp_samples:
          - labels: 'mcp_method_tool:mcp_server_operation_duration_seconds:error_ratio_rate5m{mcp_method_name="tools/call",gen_ai_tool_name="flaky"}'
            value: 0.5
    alert_rule_test:
      - eval_time: 10m
        alertname: ObsMcpClientToolErrorRatioHigh
        exp_alerts:
          - exp_labels: {severity: warning, side: client, gen_ai_tool_name: flaky}
            exp_annotations:
              summary: 'MCP tool flaky (client side): more than 5% of calls fail'
              description: 'The share of mcp_client_operation_duration_seconds{mcp_method_name="tools/call"} of this tool with any error over 5m has been above 0.05 for 5m.'
          - exp_labels: {severity: warning, side: client, gen_ai_tool_name: get_forecast}
            exp_annotations:
              summary: 'MCP tool get_forecast (client side): more than 5% of calls fail'
              description: 'The share of mcp_client_operation_duration_seconds{mcp_method_name="tools/call"} of this tool with any error over 5m has been above 0.05 for 5m.'
      - eval_time: 10m
        alertname: ObsMcpServerToolErrorRatioHigh
        exp_alerts:
          - exp_labels: {severity: warning, side: server, gen_ai_tool_name: flaky}
            exp_annotations:
              summary: 'MCP tool flaky (server side): more than 5% of calls fail'
              description: "The share of mcp_server_operation_duration_seconds{mcp_method_name=\"tools/call\"} of this tool with the server's own failures (not the caller's mistakes) over 5m has been above 0.05 for 5m."
      - eval_time: 10m
        alertname: ObsMcpClientToolLatencyP95High
        exp_alerts:
          - exp_labels: {severity: warning, side: client, gen_ai_tool_name: get_weather}
            exp_annotations:
              summary: 'MCP tool get_weather (client side): p95 latency above 10s'
              description: 'The 95th percentile of mcp_client_operation_duration_seconds{mcp_method_name="tools/call"} of this tool over 5m has been above 10 seconds for 5m.'
      - eval_time: 10m
        alertname: ObsMcpServerToolLatencyP95High
        exp_alerts: []
"#;

#[test]
fn mcp_tool_alerts_fire_per_tool_and_side() {
    let d = dir("mcp");
    std::fs::write(d.join("rules.yml"), options().prometheus_rules().unwrap()).unwrap();
    std::fs::write(d.join("tests.yml"), MCP_TESTS).unwrap();
    let (ok, text) = promtool(&["test", "rules", "tests.yml"], &d);
    assert!(ok, "{text}");
    // A threshold above the failing share: the same tests fail.
    let lax = options().mcp_tools(Thresholds::new().error_ratio(0.9));
    std::fs::write(d.join("rules.yml"), lax.prometheus_rules().unwrap()).unwrap();
    let (ok, text) = promtool(&["test", "rules", "tests.yml"], &d);
    assert!(!ok && text.contains("alertname: ObsMcpClientToolErrorRatioHigh"), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The quality and conversation rules: an evaluation with its own
/// thresholds (a score floor, a failure share), another under the default
/// failure share, conversations above and under the cost threshold.
const QUALITY_TESTS: &str = r#"
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # relevance: support scores 0.5 on average (< 0.7), sales 0.75.
      - series: 'evaluation_score_sum{evaluation="relevance",agent="support",model="gpt-4o"}'
        values: '0+1x30'
      - series: 'evaluation_score_count{evaluation="relevance",agent="support",model="gpt-4o"}'
        values: '0+2x30'
      - series: 'evaluation_score_sum{evaluation="relevance",agent="sales",model="gpt-4o"}'
        values: '0+1.5x30'
      - series: 'evaluation_score_count{evaluation="relevance",agent="sales",model="gpt-4o"}'
        values: '0+2x30'
      # relevance fails half of support's results (> its own 0.3), a tenth of sales'.
      - series: 'evaluations_total{evaluation="relevance",agent="support",model="gpt-4o",label="fail"}'
        values: '0+1x30'
      - series: 'evaluations_total{evaluation="relevance",agent="support",model="gpt-4o",label="pass"}'
        values: '0+1x30'
      - series: 'evaluations_total{evaluation="relevance",agent="sales",model="gpt-4o",label="fail"}'
        values: '0+1x30'
      - series: 'evaluations_total{evaluation="relevance",agent="sales",model="gpt-4o",label="pass"}'
        values: '0+9x30'
      # helpfulness (default 0.2): support fails a quarter, sales none.
      - series: 'evaluations_total{evaluation="helpfulness",agent="support",model="none",label="fail"}'
        values: '0+1x30'
      - series: 'evaluations_total{evaluation="helpfulness",agent="support",model="none",label="pass"}'
        values: '0+3x30'
      - series: 'evaluations_total{evaluation="helpfulness",agent="sales",model="none",label="pass"}'
        values: '0+4x30'
      # Conversations: support's cost 2 USD each (> 1), sales' 0.5.
      - series: 'conversation_cost_usd_sum{agent="support"}'
        values: '0+4x30'
      - series: 'conversation_cost_usd_count{agent="support"}'
        values: '0+2x30'
      - series: 'conversation_cost_usd_sum{agent="sales"}'
        values: '0+0.5x30'
      - series: 'conversation_cost_usd_count{agent="sales"}'
        values: '0+1x30'
    promql_expr_test:
      - expr: evaluation_agent:evaluation_score:mean_rate5m
        eval_time: 10m
        exp_samples:
          - labels: 'evaluation_agent:evaluation_score:mean_rate5m{evaluation="relevance",agent="sales"}'
            value: 0.75
          - labels: 'evaluation_agent:evaluation_score:mean_rate5m{evaluation="relevance",agent="support"}'
            value: 0.5
      - expr: evaluation_agent:evaluations:failure_ratio_rate5m{agent="support"}
        eval_time: 10m
        exp_samples:
          - labels: 'evaluation_agent:evaluations:failure_ratio_rate5m{evaluation="helpfulness",agent="support"}'
            value: 0.25
          - labels: 'evaluation_agent:evaluations:failure_ratio_rate5m{evaluation="relevance",agent="support"}'
            value: 0.5
    alert_rule_test:
      - eval_time: 10m
        alertname: ObsEvaluationScoreLow
        exp_alerts:
          - exp_labels: {severity: warning, evaluation: relevance, agent: support}
            exp_annotations:
              summary: 'Evaluation relevance of agent support: mean score below 0.7'
              description: 'The mean of evaluation_score{evaluation="relevance"} over 5m has been below 0.7 for 5m.'
      # relevance under its own threshold only (not the default's too), helpfulness under the default.
      - eval_time: 10m
        alertname: ObsEvaluationFailureRatioHigh
        exp_alerts:
          - exp_labels: {severity: warning, evaluation: relevance, agent: support}
            exp_annotations:
              summary: 'Evaluation relevance of agent support: more than 30% of results fail'
              description: 'The share of evaluations_total{evaluation="relevance"} labelled fail over 5m has been above 0.3 for 5m.'
          - exp_labels: {severity: warning, evaluation: helpfulness, agent: support}
            exp_annotations:
              summary: 'Evaluation helpfulness of agent support: more than 20% of results fail'
              description: 'The share of evaluations_total labelled fail over 5m has been above 0.2 for 5m.'
      - eval_time: 10m
        alertname: ObsConversationCostHigh
        exp_alerts:
          - exp_labels: {severity: warning, agent: support}
            exp_annotations:
              summary: 'Agent support: conversations cost more than 1 USD each'
              description: 'The mean of conversation_cost_usd over the conversations that ended in the last 5m has been above 1 USD for 5m.'
"#;

#[test]
fn quality_and_conversation_alerts_fire_on_crossing_series_only() {
    let d = dir("quality");
    let quality = |floor: f64, ratio: f64| {
        RuleOptions::new()
            .namespace("")
            .evaluation("relevance", Thresholds::new().score_below(floor).error_ratio(ratio))
            .prometheus_rules()
            .unwrap()
    };
    std::fs::write(d.join("rules.yml"), quality(0.7, 0.3)).unwrap();
    std::fs::write(d.join("tests.yml"), QUALITY_TESTS).unwrap();
    let (ok, text) = promtool(&["check", "rules", "rules.yml"], &d);
    assert!(ok, "{text}");
    let (ok, text) = promtool(&["test", "rules", "tests.yml"], &d);
    assert!(ok && text.contains("SUCCESS"), "{text}");
    // Thresholds the series do not cross: the same test fails.
    std::fs::write(d.join("rules.yml"), quality(0.4, 0.6)).unwrap();
    let (ok, text) = promtool(&["test", "rules", "tests.yml"], &d);
    assert!(!ok, "{text}");
    assert!(
        text.contains("alertname: ObsEvaluationScoreLow") && text.contains("alertname: ObsEvaluationFailureRatioHigh"),
        "{text}"
    );
    let e = RuleOptions::new().evaluation("r", Thresholds::new().score_below(f64::NAN)).prometheus_rules().unwrap_err();
    assert_eq!(e.to_string(), "evaluation `r`: score_below must be a finite number, got NaN");
    let e = RuleOptions::new().conversation_cost(0.0).grafana_dashboard().unwrap_err();
    assert_eq!(e.to_string(), "conversation_cost: a positive number of USD, got 0");
    let _ = std::fs::remove_dir_all(&d);
}
