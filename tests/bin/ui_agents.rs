//! `ui-agents`: the program the live view's browser test (`tests/tests/ui_browser.rs`)
//! looks at. Configured only by `Builder::from_env()` (the test sets
//! `OBS_PROMETHEUS_ADDR`, `OBS_CAPTURE_CONTENT`, `OBS_PROMETHEUS_TOKEN`...),
//! it runs three agent runs, each in a request context, then prints
//! `ready http://ADDR/` and serves until its standard input closes.
//!
//! * `req-ok`: `planner` asks gpt-4o (1200 input tokens, 1000 of them
//!   cached, 300 output), then its sub-agent `researcher` searches (tool
//!   `web_search`) and asks gpt-4o-mini (800 in, 150 out); success.
//! * `req-fail`: the same, but the search fails with an error whose text is
//!   hostile markup (`HOSTILE`): the tool, the researcher and the planner
//!   end in `error`.
//! * `req-support`: agent `support` asks claude-sonnet-4-5 (100 in, 50 out,
//!   2000 cache reads, 300 cache writes); success.
//!
//! A budget (`daily`, $5 a day), a health check (`database`) and an alert
//! rule on `web_search`'s error ratio (above 10%, evaluated every 50 ms)
//! give the overview something to show in each panel.

use obs_runtime::budget::{Budget, Period};
use obs_runtime::health::Check;
use obs_runtime::ops::alerts::{AlertRule, Condition, Severity};
use obs_runtime::{track_execution, track_llm_call, track_tool, LlmUsage, RequestContext, TokenUsage};
use serde::Serialize;
use std::io::Read;

/// The failed search's error text: markup a page must show as text.
pub const HOSTILE: &str = r#"<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> backend said no"#;

#[derive(Debug)]
struct SearchError;

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(HOSTILE)
    }
}

#[derive(Clone, Debug, Serialize)]
struct Reply {
    text: String,
    #[serde(skip)]
    usage: TokenUsage,
}

impl LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(self.usage)
    }
}

#[track_tool(name = "web_search")]
async fn web_search(query: String) -> Result<Vec<String>, SearchError> {
    if query.contains("broken") {
        return Err(SearchError);
    }
    Ok(vec![format!("{query}: a hit")])
}

#[track_llm_call(model = "gpt-4o", provider = "openai")]
async fn plan(prompt: String) -> Result<Reply, SearchError> {
    Ok(Reply { text: format!("plan for {prompt}"), usage: TokenUsage::openai(1200, 300, Some(1000), None) })
}

#[track_llm_call(model = "gpt-4o-mini", provider = "openai")]
async fn summarise(prompt: String) -> Result<Reply, SearchError> {
    Ok(Reply { text: format!("summary of {prompt}"), usage: TokenUsage::openai(800, 150, None, None) })
}

#[track_llm_call(model = "claude-sonnet-4-5", provider = "anthropic")]
async fn answer(prompt: String) -> Result<Reply, SearchError> {
    Ok(Reply { text: format!("answer to {prompt}"), usage: TokenUsage::anthropic(100, 50, Some(2000), Some(300)) })
}

#[track_execution(agent = "researcher")]
async fn researcher(topic: String) -> Result<String, SearchError> {
    let hits = web_search(topic.clone()).await?;
    Ok(summarise(hits.join("\n")).await?.text)
}

#[track_execution(agent = "planner")]
async fn planner(topic: &str) -> Result<String, SearchError> {
    let plan = plan(topic.to_string()).await?;
    let found = researcher(topic.to_string()).await?;
    Ok(format!("{}\n{found}", plan.text))
}

#[track_execution(agent = "support")]
async fn support(question: &str) -> Result<String, SearchError> {
    Ok(answer(question.to_string()).await?.text)
}

#[tokio::main]
async fn main() {
    let rule = AlertRule::new("search-failing", Severity::Warning, Condition::tool_error_ratio("web_search", 0.1))
        .expect("rule")
        .description("web_search fails: check the search backend");
    let obs = obs_runtime::Builder::from_env()
        .service_name("ui-agents")
        .alert(rule)
        .alert_interval(std::time::Duration::from_millis(50))
        .init()
        .expect("obs");
    obs_runtime::budget::register(Budget::new("daily", 5.0, Period::Day)).expect("budget");
    obs_runtime::health::register(Check::new("database", || async { Ok::<_, std::io::Error>(()) })).expect("check");

    let ctx = |id: &str, user: &str, conv: &str| {
        RequestContext::from_request_id(id).with_user_id(user).with_conversation_id(conv)
    };
    let ok = ctx("req-ok", "user-7", "conv-ok").scope(planner("vector databases")).await;
    assert!(ok.is_ok());
    let failed = ctx("req-fail", "user-8", "conv-fail").scope(planner("broken topic")).await;
    assert!(failed.is_err());
    let answered = ctx("req-support", "user-9", "conv-support").scope(support("where is my order?")).await;
    assert!(answered.is_ok());

    println!("ready {}", obs.ui_url().expect("the live view is served"));
    // Serves until the test closes stdin (or kills this process).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(obs);
}
