//! PromQL for a function's own series, appended to its rustdoc (as
//! autometrics does): calls by status, error ratio, p95 duration, and for a
//! model call its tokens and hourly cost. Only for series a literal name
//! selects; a name computed at run time gets no queries.

use crate::valid::{Config, Kind, Value};

/// A label value inside a PromQL string literal (and a Markdown code span).
fn promql_str(v: &str) -> Option<String> {
    if v.contains('`') || v.chars().any(char::is_control) {
        return None;
    }
    Some(v.replace('\\', "\\\\").replace('"', "\\\""))
}

fn lit(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Lit(s)) => promql_str(&s.value()),
        _ => None,
    }
}

/// The doc lines (each becomes a `#[doc = ".."]`), empty when the series
/// cannot be named at compile time.
pub fn lines(cfg: &Config, function: &str, tool: Option<&Value>) -> Vec<String> {
    let (calls, duration, selector) = match cfg.kind {
        Kind::Agent => match lit(cfg.agent.as_ref()) {
            Some(a) => ("agent_executions_total", "agent_execution_duration_seconds", format!("agent=\"{a}\"")),
            None => return Vec::new(),
        },
        Kind::LlmCall => match lit(cfg.model.as_ref()) {
            Some(m) => ("llm_calls_total", "llm_call_duration_seconds", format!("model=\"{m}\"")),
            None => return Vec::new(),
        },
        Kind::Tool => match lit(tool) {
            Some(t) => ("tool_calls_total", "tool_call_duration_seconds", format!("tool=\"{t}\"")),
            None => return Vec::new(),
        },
        Kind::Function if cfg.metrics => match promql_str(function) {
            Some(f) => ("function_calls_total", "function_call_duration_seconds", format!("function=\"{f}\"")),
            None => return Vec::new(),
        },
        Kind::Function => return Vec::new(),
    };
    let mut out = vec![
        String::new(),
        "# Metrics".to_string(),
        String::new(),
        "PromQL for this function's series, recorded by obs (prefix each metric name with `{OBS_NAMESPACE}_` when a namespace is set):".to_string(),
        String::new(),
        format!("* calls per second, by status: `sum by (status) (rate({calls}{{{selector}}}[5m]))`"),
        format!(
            "* error ratio: `sum(rate({calls}{{{selector},status=~\"error|panic\"}}[5m])) / sum(rate({calls}{{{selector}}}[5m]))`"
        ),
        format!(
            "* p95 duration in seconds: `histogram_quantile(0.95, sum by (le) (rate({duration}_bucket{{{selector}}}[5m])))`"
        ),
    ];
    if cfg.kind == Kind::LlmCall {
        out.push(format!("* tokens per second, by type: `sum by (type) (rate(llm_tokens_total{{{selector}}}[5m]))`"));
        out.push(format!("* cost in US dollars per hour: `sum(rate(llm_cost_usd_total{{{selector}}}[1h])) * 3600`"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(kind: Kind, args: &str, function: &str) -> Vec<String> {
        let args: crate::attr::Args = syn::parse_str(args).unwrap();
        let mut cx = crate::ctxt::Ctxt::default();
        let cfg = crate::valid::validate(&mut cx, kind, &args.0);
        assert!(!cx.has_errors());
        let tool = match (&cfg.name, kind) {
            (Some(Value::Lit(s)), Kind::Tool) => Some(Value::Lit(s.clone())),
            _ => None,
        };
        lines(&cfg, function, tool.as_ref())
    }

    #[test]
    fn each_kind_documents_its_own_series() {
        let tool = docs(Kind::Tool, r#"name = "web_search""#, "search");
        assert_eq!(
            tool[5],
            "* calls per second, by status: `sum by (status) (rate(tool_calls_total{tool=\"web_search\"}[5m]))`"
        );
        assert_eq!(
            tool[6],
            "* error ratio: `sum(rate(tool_calls_total{tool=\"web_search\",status=~\"error|panic\"}[5m])) / sum(rate(tool_calls_total{tool=\"web_search\"}[5m]))`"
        );
        assert_eq!(
            tool[7],
            "* p95 duration in seconds: `histogram_quantile(0.95, sum by (le) (rate(tool_call_duration_seconds_bucket{tool=\"web_search\"}[5m])))`"
        );
        let llm = docs(Kind::LlmCall, r#"model = "gpt-4o""#, "ask");
        assert_eq!(llm.len(), 10);
        assert_eq!(
            llm[9],
            "* cost in US dollars per hour: `sum(rate(llm_cost_usd_total{model=\"gpt-4o\"}[1h])) * 3600`"
        );
        assert!(
            docs(Kind::Agent, r#"agent = "planner""#, "plan")[5].contains("agent_executions_total{agent=\"planner\"}")
        );
        // A name computed at run time, or a #[traced] without metrics: nothing.
        assert!(docs(Kind::Agent, "agent = name", "plan").is_empty());
        assert!(docs(Kind::Function, "", "rank").is_empty());
        assert!(docs(Kind::Function, "metrics", "rank")[5].contains("function_calls_total{function=\"rank\"}"));
    }

    #[test]
    fn label_values_are_escaped_and_unsafe_ones_skipped() {
        assert_eq!(promql_str(r#"a"b\c"#).as_deref(), Some(r#"a\"b\\c"#));
        assert_eq!(promql_str("a`b"), None);
        assert_eq!(promql_str("a\nb"), None);
    }
}
