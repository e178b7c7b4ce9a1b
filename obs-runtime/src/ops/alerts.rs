//! Alert rules evaluated inside the process, for programs without a
//! Prometheus server: each rule is a condition over a snapshot of the metric
//! registry (an agent's, model's or tool's error ratio or p95 latency over a
//! window, the spend per hour, a budget's used fraction, a failing health
//! check, an evaluation's mean score or failure share, the mean cost of a
//! conversation), a `for` duration, a cooldown and a severity.
//!
//! A background thread takes one registry snapshot per interval, never on
//! the call path. When a rule starts and stops firing, every notifier gets
//! a [`Notification`] through its own bounded queue and thread: a slow or
//! unreachable receiver delays only its own deliveries, and a full queue or
//! a failed delivery is logged and counted in
//! `obs_alert_notifications_failed_total{notifier, reason}` (`queue_full`,
//! `error`, `timeout`), never returned to the application.
//!
//! ```no_run
//! use obs_runtime::ops::alerts::{AlertRule, Condition, LogNotifier, Severity};
//! use std::time::Duration;
//!
//! let rule = AlertRule::new("researcher-failing", Severity::Critical, Condition::agent_error_ratio("researcher", 0.2))
//!     .unwrap()
//!     .description("More than 20% of researcher runs fail")
//!     .for_duration(Duration::from_secs(60))
//!     .cooldown(Duration::from_secs(600));
//! let _obs = obs_runtime::Builder::from_env()
//!     .alert(rule)
//!     .alert_notifier(LogNotifier)
//!     .init()
//!     .unwrap();
//! ```

use crate::metrics::{self, names, Snapshot, Value};
use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How urgent an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// For the record.
    Info,
    /// Needs attention soon.
    Warning,
    /// Needs attention now.
    Critical,
}

impl Severity {
    /// `info`, `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Whose series a condition reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Agent,
    Model,
    Tool,
    /// An MCP tool as its clients see it (`mcp_client_operation_duration_seconds`).
    McpClient,
    /// An MCP tool as its server sees it (`mcp_server_operation_duration_seconds`).
    McpServer,
}

/// The side of an MCP tool's calls an alert watches (see [`crate::mcp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum McpSide {
    /// The calls as the client made them: every error counts.
    Client,
    /// The calls as the server handled them: its own failures count, not
    /// the caller's mistakes (invalid params, unknown method or tool...).
    Server,
}

impl McpSide {
    fn kind(self) -> Kind {
        match self {
            McpSide::Client => Kind::McpClient,
            McpSide::Server => Kind::McpServer,
        }
    }
}

impl Kind {
    fn counter(self) -> &'static str {
        match self {
            Kind::Agent => names::AGENT_EXECUTIONS.name,
            Kind::Model => names::LLM_CALLS.name,
            Kind::Tool => names::TOOL_CALLS.name,
            // MCP operations are counted by their histogram.
            Kind::McpClient | Kind::McpServer => self.histogram(),
        }
    }
    fn histogram(self) -> &'static str {
        match self {
            Kind::Agent => names::AGENT_DURATION.name,
            Kind::Model => names::LLM_DURATION.name,
            Kind::Tool => names::TOOL_DURATION.name,
            Kind::McpClient => names::MCP_CLIENT_DURATION.name,
            Kind::McpServer => names::MCP_SERVER_DURATION.name,
        }
    }
    fn label(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Model => "model",
            Kind::Tool => "tool",
            Kind::McpClient | Kind::McpServer => "gen_ai_tool_name",
        }
    }
    /// What it is, for humans.
    fn word(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Model => "model",
            Kind::Tool => "tool",
            Kind::McpClient => "MCP tool (client side)",
            Kind::McpServer => "MCP tool (server side)",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Cond {
    ErrorRatio {
        kind: Kind,
        name: String,
        above: f64,
    },
    P95 {
        kind: Kind,
        name: String,
        above: Duration,
    },
    HourlyCost {
        model: Option<String>,
        above_usd: f64,
    },
    BudgetFraction {
        budget: String,
        above: f64,
    },
    HealthFailing {
        check: String,
    },
    EvalScoreBelow {
        evaluation: String,
        agent: Option<String>,
        below: f64,
    },
    /// `for_agent` on a condition that has no agent filter: refused by `check`.
    ForAgentMisused(Box<Cond>),
    EvalFailureRatio {
        evaluation: String,
        agent: Option<String>,
        above: f64,
    },
    ConversationCost {
        agent: Option<String>,
        above_usd: f64,
    },
}

/// What a rule watches. Ratios, latencies and costs are computed over the
/// evaluator's window (the difference between the snapshot now and the
/// one a window ago); budgets and health checks read their current value.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition(Cond);

impl Condition {
    /// More than `above` (0 < above <= 1) of the agent's executions ended in
    /// `error` or `panic` within the window.
    pub fn agent_error_ratio(agent: impl Into<String>, above: f64) -> Condition {
        Condition(Cond::ErrorRatio { kind: Kind::Agent, name: agent.into(), above })
    }
    /// Same for a model's calls (all agents and providers).
    pub fn model_error_ratio(model: impl Into<String>, above: f64) -> Condition {
        Condition(Cond::ErrorRatio { kind: Kind::Model, name: model.into(), above })
    }
    /// Same for a tool's calls.
    pub fn tool_error_ratio(tool: impl Into<String>, above: f64) -> Condition {
        Condition(Cond::ErrorRatio { kind: Kind::Tool, name: tool.into(), above })
    }
    /// The 95th percentile of the agent's durations within the window is
    /// above `latency` (estimated from the histogram's buckets, as
    /// Prometheus' `histogram_quantile` does).
    pub fn agent_p95(agent: impl Into<String>, latency: Duration) -> Condition {
        Condition(Cond::P95 { kind: Kind::Agent, name: agent.into(), above: latency })
    }
    /// Same for a model's calls.
    pub fn model_p95(model: impl Into<String>, latency: Duration) -> Condition {
        Condition(Cond::P95 { kind: Kind::Model, name: model.into(), above: latency })
    }
    /// Same for a tool's calls.
    pub fn tool_p95(tool: impl Into<String>, latency: Duration) -> Condition {
        Condition(Cond::P95 { kind: Kind::Tool, name: tool.into(), above: latency })
    }
    /// More than `above` (0 < above <= 1) of the calls of the MCP tool
    /// `tool` failed within the window, on `side`: for a client any error
    /// (a JSON-RPC error, a result with `isError`, no answer), for a server
    /// its own failures, not the caller's mistakes.
    pub fn mcp_tool_error_ratio(side: McpSide, tool: impl Into<String>, above: f64) -> Condition {
        Condition(Cond::ErrorRatio { kind: side.kind(), name: tool.into(), above })
    }
    /// The 95th percentile of the durations of the MCP tool's calls on
    /// `side` within the window is above `latency`.
    pub fn mcp_tool_p95(side: McpSide, tool: impl Into<String>, latency: Duration) -> Condition {
        Condition(Cond::P95 { kind: side.kind(), name: tool.into(), above: latency })
    }
    /// The spend on every model within the window, per hour, is above `usd`.
    pub fn hourly_cost(usd: f64) -> Condition {
        Condition(Cond::HourlyCost { model: None, above_usd: usd })
    }
    /// The spend on one model within the window, per hour, is above `usd`.
    pub fn model_hourly_cost(model: impl Into<String>, usd: f64) -> Condition {
        Condition(Cond::HourlyCost { model: Some(model.into()), above_usd: usd })
    }
    /// The budget's spend is above `fraction` (0 < fraction <= 1) of its limit.
    pub fn budget_fraction(budget: impl Into<String>, fraction: f64) -> Condition {
        Condition(Cond::BudgetFraction { budget: budget.into(), above: fraction })
    }
    /// The health check's last run failed (`health_check_status{check}` is 0).
    pub fn health_check_failing(check: impl Into<String>) -> Condition {
        Condition(Cond::HealthFailing { check: check.into() })
    }
    /// The mean score of the evaluation ([`crate::eval`]) within the
    /// window, over every agent and model, is below `below`.
    pub fn evaluation_score_below(evaluation: impl Into<String>, below: f64) -> Condition {
        Condition(Cond::EvalScoreBelow { evaluation: evaluation.into(), agent: None, below })
    }
    /// More than `above` (0 < above <= 1) of the evaluation's results within
    /// the window are labelled `fail`.
    pub fn evaluation_failure_ratio(evaluation: impl Into<String>, above: f64) -> Condition {
        Condition(Cond::EvalFailureRatio { evaluation: evaluation.into(), agent: None, above })
    }
    /// The mean cost of the conversations ([`crate::conversation`]) that
    /// ended within the window is above `usd`.
    pub fn conversation_cost_mean(usd: f64) -> Condition {
        Condition(Cond::ConversationCost { agent: None, above_usd: usd })
    }
    /// Narrows an evaluation or conversation condition to one agent's series
    /// (any other condition is refused by [`AlertRule::new`]).
    pub fn for_agent(self, agent: impl Into<String>) -> Condition {
        let agent = Some(agent.into());
        Condition(match self.0 {
            Cond::EvalScoreBelow { evaluation, below, .. } => Cond::EvalScoreBelow { evaluation, agent, below },
            Cond::EvalFailureRatio { evaluation, above, .. } => Cond::EvalFailureRatio { evaluation, agent, above },
            Cond::ConversationCost { above_usd, .. } => Cond::ConversationCost { agent, above_usd },
            other => Cond::ForAgentMisused(Box::new(other)),
        })
    }

    fn check(&self) -> Result<(), AlertError> {
        let fraction = |what: &str, v: f64| {
            if v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(AlertError(format!("{what}: a fraction, 0 < fraction <= 1, got {v}")))
            }
        };
        match &self.0 {
            Cond::ErrorRatio { above, .. } => fraction("error ratio", *above),
            Cond::BudgetFraction { above, .. } => fraction("budget fraction", *above),
            Cond::P95 { above, .. } if above.is_zero() => Err(AlertError("p95 latency: a duration above zero".into())),
            Cond::HourlyCost { above_usd, .. } if !(above_usd.is_finite() && *above_usd > 0.0) => {
                Err(AlertError(format!("hourly cost: a positive number of USD, got {above_usd}")))
            }
            Cond::EvalFailureRatio { above, .. } => fraction("evaluation failure ratio", *above),
            Cond::EvalScoreBelow { below, .. } if !below.is_finite() => {
                Err(AlertError(format!("evaluation score: a finite number, got {below}")))
            }
            Cond::ConversationCost { above_usd, .. } if !(above_usd.is_finite() && *above_usd > 0.0) => {
                Err(AlertError(format!("conversation cost: a positive number of USD, got {above_usd}")))
            }
            Cond::ForAgentMisused(_) => Err(AlertError(
                "for_agent applies to evaluation and conversation conditions; the others name their agent, model or tool themselves".into(),
            )),
            _ => Ok(()),
        }
    }

    /// The threshold, in the value's unit.
    fn threshold(&self) -> f64 {
        match &self.0 {
            Cond::ErrorRatio { above, .. } | Cond::BudgetFraction { above, .. } => *above,
            Cond::P95 { above, .. } => above.as_secs_f64(),
            Cond::HourlyCost { above_usd, .. } => *above_usd,
            Cond::HealthFailing { .. } | Cond::ForAgentMisused(_) => 0.0,
            Cond::EvalScoreBelow { below, .. } => *below,
            Cond::EvalFailureRatio { above, .. } => *above,
            Cond::ConversationCost { above_usd, .. } => *above_usd,
        }
    }

    /// What it watches, for humans: `agent researcher error ratio`.
    fn subject(&self) -> String {
        match &self.0 {
            Cond::ErrorRatio { kind, name, .. } => format!("{} {name} error ratio", kind.word()),
            Cond::P95 { kind, name, .. } => format!("{} {name} p95 latency (s)", kind.word()),
            Cond::HourlyCost { model: Some(m), .. } => format!("model {m} cost per hour (USD)"),
            Cond::HourlyCost { model: None, .. } => "cost per hour (USD)".to_string(),
            Cond::BudgetFraction { budget, .. } => format!("budget {budget} used fraction"),
            Cond::HealthFailing { check } => format!("health check {check} status"),
            Cond::EvalScoreBelow { evaluation, agent, .. } => {
                format!("evaluation {evaluation}{} mean score", of_agent(agent))
            }
            Cond::EvalFailureRatio { evaluation, agent, .. } => {
                format!("evaluation {evaluation}{} failure ratio", of_agent(agent))
            }
            Cond::ConversationCost { agent, .. } => format!("conversation{} mean cost (USD)", of_agent(agent)),
            Cond::ForAgentMisused(c) => Condition((**c).clone()).subject(),
        }
    }
}

/// ` of agent x`, or nothing.
fn of_agent(agent: &Option<String>) -> String {
    agent.as_ref().map_or(String::new(), |a| format!(" of agent {a}"))
}

/// A rule or notifier setting that cannot be used, naming it and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertError(String);

impl std::fmt::Display for AlertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AlertError {}

/// An alert rule: a condition that must hold for `for_duration` before the
/// rule fires; after a firing was notified, another firing of the same rule
/// within `cooldown` is notified only if it still holds when the cooldown
/// ends (a firing that resolved within it is not notified, nor is its
/// resolution).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRule {
    name: String,
    description: String,
    severity: Severity,
    condition: Condition,
    for_duration: Duration,
    cooldown: Duration,
}

impl AlertRule {
    /// A rule that fires as soon as `condition` holds at an evaluation, with
    /// no cooldown. The name is 1 to 128 characters; the condition's
    /// thresholds must be in range.
    pub fn new(name: impl Into<String>, severity: Severity, condition: Condition) -> Result<AlertRule, AlertError> {
        let name = name.into();
        if name.trim().is_empty() || name.len() > 128 {
            return Err(AlertError(format!("alert rule name `{name}`: 1 to 128 characters")));
        }
        condition.check().map_err(|e| AlertError(format!("alert rule `{name}`: {e}")))?;
        Ok(AlertRule {
            name,
            description: String::new(),
            severity,
            condition,
            for_duration: Duration::ZERO,
            cooldown: Duration::ZERO,
        })
    }
    /// What the alert means and what to do, sent with each notification.
    pub fn description(mut self, text: impl Into<String>) -> AlertRule {
        self.description = text.into();
        self
    }
    /// How long the condition must hold before the rule fires.
    pub fn for_duration(mut self, d: Duration) -> AlertRule {
        self.for_duration = d;
        self
    }
    /// The least time between two notified firings of this rule.
    pub fn cooldown(mut self, d: Duration) -> AlertRule {
        self.cooldown = d;
        self
    }
    /// The rule's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Whether a notification says an alert started or stopped firing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    /// The condition held for the rule's `for` duration.
    Firing,
    /// The condition no longer holds.
    Resolved,
}

impl AlertState {
    /// `firing` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One alert transition, as notifiers receive it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Notification {
    /// The rule's name.
    pub rule: String,
    /// The rule's description.
    pub description: String,
    /// The rule's severity.
    pub severity: Severity,
    /// Firing or resolved.
    pub state: AlertState,
    /// What the condition watches (`agent researcher error ratio`).
    pub subject: String,
    /// The value at this evaluation (NaN when there was nothing to measure).
    pub value: f64,
    /// The rule's threshold, in the value's unit.
    pub threshold: f64,
    /// When the condition started to hold.
    pub since: SystemTime,
    /// When this transition was seen.
    pub at: SystemTime,
}

impl Notification {
    /// One line: `[FIRING] researcher-failing (critical): agent researcher error ratio 0.5 > 0.2`.
    pub fn text(&self) -> String {
        let head = format!("[{}] {} ({})", self.state.as_str().to_uppercase(), self.rule, self.severity.as_str());
        match self.state {
            AlertState::Firing => {
                // Conditions that fire below their threshold (a mean score) read `<`.
                let op = if self.value < self.threshold { "<" } else { ">" };
                format!("{head}: {} {} {op} {}", self.subject, fmt_num(self.value), fmt_num(self.threshold))
            }
            AlertState::Resolved => format!("{head}: {} {}", self.subject, fmt_num(self.value)),
        }
    }
}

fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        "n/a".to_string()
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Why a delivery failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotifyError {
    /// No answer within the notifier's timeout.
    Timeout(String),
    /// Refused, unreachable, or answered with an error.
    Failed(String),
}

impl std::fmt::Display for NotifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotifyError::Timeout(m) => write!(f, "timed out: {m}"),
            NotifyError::Failed(m) => f.write_str(m),
        }
    }
}

/// Receives alert transitions, on a thread of its own (it may block, within
/// its own timeouts).
pub trait Notifier: Send + Sync + 'static {
    /// A short name for logs and the failure counter's `notifier` label.
    fn name(&self) -> &str;
    /// Delivers one notification (retrying as it sees fit).
    fn notify(&self, n: &Notification) -> Result<(), NotifyError>;
}

/// Writes each transition as a log event on the `obs_runtime::alerts`
/// target: a firing at ERROR (critical), WARN (warning) or INFO (info), a
/// resolution at INFO.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn name(&self) -> &str {
        "log"
    }
    fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        let (rule, severity, state, value) = (&n.rule, n.severity.as_str(), n.state.as_str(), n.value);
        let (threshold, description, subject) = (n.threshold, &n.description, &n.subject);
        macro_rules! ev {
            ($lvl:expr) => {
                tracing::event!(target: "obs_runtime::alerts", $lvl, alert = %rule, severity, state, %subject, value, threshold, %description, "alert {state}: {rule}")
            };
        }
        match (n.state, n.severity) {
            (AlertState::Firing, Severity::Critical) => ev!(tracing::Level::ERROR),
            (AlertState::Firing, Severity::Warning) => ev!(tracing::Level::WARN),
            _ => ev!(tracing::Level::INFO),
        }
        Ok(())
    }
}

#[cfg(feature = "otlp")]
mod webhook;
#[cfg(feature = "otlp")]
pub use webhook::WebhookNotifier;

// ---- The evaluator ----

/// The evaluator's settings (through the [`crate::Builder`]'s `alert_*` methods).
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) rules: Vec<AlertRule>,
    pub(crate) notifiers: Vec<Arc<dyn Notifier>>,
    pub(crate) interval: Duration,
    pub(crate) window: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config { rules: Vec::new(), notifiers: Vec::new(), interval: DEFAULT_INTERVAL, window: DEFAULT_WINDOW }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("rules", &self.rules)
            .field("notifiers", &self.notifiers.iter().map(|n| n.name().to_string()).collect::<Vec<_>>())
            .field("interval", &self.interval)
            .field("window", &self.window)
            .finish()
    }
}

/// Default time between evaluations.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
/// Default window of ratios, latencies and costs.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);
/// The longest wait, at shutdown, for the notifiers to deliver what they hold.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);
/// Notifications waiting per notifier; more are dropped and counted.
pub const QUEUE_CAPACITY: usize = 64;

/// One rule's view of a snapshot.
#[derive(Clone, Debug)]
enum Sample {
    Counts {
        fail: u64,
        total: u64,
    },
    Hist {
        bounds: Vec<f64>,
        buckets: Vec<u64>,
    },
    Pico(u64),
    Now(Option<f64>),
    /// A histogram's sum and count (for a mean over the window).
    SumCount {
        sum: f64,
        count: u64,
    },
}

/// Sum and count of the histograms `name` whose labels include `filter`.
fn sum_count(s: &Snapshot, name: &str, filter: &[(&str, &str)]) -> Sample {
    let (mut sum, mut count) = (0.0, 0u64);
    for (_, v) in s.series(name, filter) {
        if let Value::Histogram(h) = v {
            sum += h.sum;
            count += h.count;
        }
    }
    Sample::SumCount { sum, count }
}

fn read(cond: &Cond, s: &Snapshot) -> Sample {
    match cond {
        Cond::ErrorRatio { kind: kind @ (Kind::McpClient | Kind::McpServer), name, .. } => {
            let (mut fail, mut total) = (0u64, 0u64);
            for (labels, v) in
                s.series(kind.histogram(), &[("mcp_method_name", "tools/call"), ("gen_ai_tool_name", name)])
            {
                if let Value::Histogram(h) = v {
                    total += h.count;
                    let error = labels.iter().find(|(k, _)| k == "error_type").map(|(_, v)| v.as_str());
                    let failed = match (kind, error) {
                        (_, None | Some("")) => false,
                        (Kind::McpServer, Some(code)) => !code.parse::<i32>().is_ok_and(super::mcp_caller_error),
                        _ => true,
                    };
                    if failed {
                        fail += h.count;
                    }
                }
            }
            Sample::Counts { fail, total }
        }
        Cond::ErrorRatio { kind, name, .. } => {
            let (mut fail, mut total) = (0u64, 0u64);
            for (labels, v) in s.series(kind.counter(), &[(kind.label(), name)]) {
                if let Value::Counter(n) = v {
                    total += n;
                    if labels.iter().any(|(k, v)| k == "status" && (v == "error" || v == "panic")) {
                        fail += n;
                    }
                }
            }
            Sample::Counts { fail, total }
        }
        Cond::P95 { kind, name, .. } => {
            let mut bounds = Vec::new();
            let mut buckets: Vec<u64> = Vec::new();
            for (_, v) in s.series(kind.histogram(), &[(kind.label(), name)]) {
                if let Value::Histogram(h) = v {
                    if buckets.is_empty() {
                        bounds = h.bounds.to_vec();
                        buckets = vec![0; h.bounds.len() + 1];
                    }
                    for (i, n) in h.buckets.iter().enumerate() {
                        buckets[i] += n;
                    }
                    // Observations above the last bound (the +Inf bucket).
                    let finite: u64 = h.buckets.iter().sum();
                    buckets[h.bounds.len()] += h.count.saturating_sub(finite);
                }
            }
            Sample::Hist { bounds, buckets }
        }
        Cond::HourlyCost { model, .. } => {
            let filter: Vec<(&str, &str)> = model.iter().map(|m| ("model", m.as_str())).collect();
            Sample::Pico(
                s.series(names::LLM_COST.name, &filter)
                    .into_iter()
                    .map(|(_, v)| match v {
                        Value::Scaled { raw, .. } | Value::Counter(raw) => *raw,
                        _ => 0,
                    })
                    .sum(),
            )
        }
        Cond::BudgetFraction { budget, .. } => {
            let l = [("budget", budget.as_str())];
            Sample::Now(match (s.value(names::BUDGET_SPENT.name, &l), s.value(names::BUDGET_LIMIT.name, &l)) {
                (Some(spent), Some(limit)) if limit > 0.0 => Some(spent / limit),
                _ => None,
            })
        }
        Cond::HealthFailing { check } => Sample::Now(s.value("health_check_status", &[("check", check.as_str())])),
        Cond::EvalScoreBelow { evaluation, agent, .. } => {
            let mut f = vec![("evaluation", evaluation.as_str())];
            f.extend(agent.as_deref().map(|a| ("agent", a)));
            sum_count(s, names::EVAL_SCORE.name, &f)
        }
        Cond::EvalFailureRatio { evaluation, agent, .. } => {
            let mut f = vec![("evaluation", evaluation.as_str())];
            f.extend(agent.as_deref().map(|a| ("agent", a)));
            let (mut fail, mut total) = (0u64, 0u64);
            for (labels, v) in s.series(names::EVALUATIONS.name, &f) {
                if let Value::Counter(n) = v {
                    total += n;
                    if labels.iter().any(|(k, v)| k == "label" && v == "fail") {
                        fail += n;
                    }
                }
            }
            Sample::Counts { fail, total }
        }
        Cond::ConversationCost { agent, .. } => {
            let f: Vec<(&str, &str)> = agent.as_deref().map(|a| ("agent", a)).into_iter().collect();
            sum_count(s, names::CONVERSATION_COST.name, &f)
        }
        Cond::ForAgentMisused(_) => Sample::Now(None),
    }
}

/// The quantile of non-cumulative buckets (the last one is +Inf), by linear
/// interpolation inside the bucket; in the +Inf bucket, the last bound.
fn quantile(q: f64, bounds: &[f64], buckets: &[u64]) -> f64 {
    let count: u64 = buckets.iter().sum();
    if count == 0 {
        return f64::NAN;
    }
    let rank = q * count as f64;
    let mut seen = 0u64;
    for (i, &n) in buckets.iter().enumerate().take(bounds.len()) {
        if n > 0 && (seen + n) as f64 >= rank {
            let lo = if i == 0 { 0.0 } else { bounds[i - 1] };
            return lo + (bounds[i] - lo) * ((rank - seen as f64) / n as f64);
        }
        seen += n;
    }
    bounds.last().copied().unwrap_or(f64::NAN)
}

/// The value now, against the sample a window ago (`base`, taken `elapsed` earlier).
fn value(cond: &Cond, now: &Sample, base: Option<&Sample>, elapsed: Duration, window: Duration) -> f64 {
    match (now, base) {
        (Sample::Counts { fail, total }, Some(Sample::Counts { fail: f0, total: t0 })) => {
            let (f, t) = (fail.saturating_sub(*f0), total.saturating_sub(*t0));
            if t == 0 {
                f64::NAN
            } else {
                f as f64 / t as f64
            }
        }
        (Sample::Hist { bounds, buckets }, Some(Sample::Hist { buckets: b0, .. })) => {
            let d: Vec<u64> =
                buckets.iter().enumerate().map(|(i, n)| n.saturating_sub(b0.get(i).copied().unwrap_or(0))).collect();
            quantile(0.95, bounds, &d)
        }
        (Sample::Pico(p), Some(Sample::Pico(p0))) => {
            // The spend of the last window, per hour: divided by the window
            // even when less time has passed, so a first call right after
            // start-up is not extrapolated to an hour.
            let secs = elapsed.max(window).as_secs_f64();
            p.saturating_sub(*p0) as f64 * 1e-12 / secs * 3600.0
        }
        (Sample::SumCount { sum, count }, Some(Sample::SumCount { sum: s0, count: c0 })) => {
            match count.saturating_sub(*c0) {
                0 => f64::NAN,
                n => (sum - s0) / n as f64,
            }
        }
        (Sample::Now(v), _) => match cond {
            Cond::HealthFailing { .. } => v.map_or(f64::NAN, |v| v),
            _ => v.unwrap_or(f64::NAN),
        },
        _ => f64::NAN,
    }
}

fn holds(cond: &Cond, v: f64) -> bool {
    match cond {
        // A check that has not run (no series) is not failing.
        Cond::HealthFailing { .. } => v == 0.0,
        // NaN (nothing evaluated in the window) is not below anything.
        Cond::EvalScoreBelow { below, .. } => v < *below,
        _ => v > Condition(cond.clone()).threshold(),
    }
}

/// One rule's evaluation state.
struct RuleState {
    rule: AlertRule,
    /// Samples with their time, oldest first, trimmed to one older than the window.
    history: VecDeque<(Instant, Sample)>,
    pending_since: Option<(Instant, SystemTime)>,
    firing: bool,
    /// The condition's value at the last evaluation.
    last_value: f64,
    /// Whether the current firing was notified (not within the cooldown).
    notified: bool,
    last_notified: Option<Instant>,
}

impl RuleState {
    fn new(rule: AlertRule) -> RuleState {
        RuleState {
            rule,
            history: VecDeque::new(),
            pending_since: None,
            firing: false,
            last_value: f64::NAN,
            notified: false,
            last_notified: None,
        }
    }
}

/// Transitions to notify after one evaluation at `now`.
fn step(st: &mut RuleState, snap: &Snapshot, now: Instant, wall: SystemTime, window: Duration) -> Option<Notification> {
    let cond = &st.rule.condition.0;
    let sample = read(cond, snap);
    // The baseline: the newest sample at least a window old, else the oldest.
    while st.history.len() >= 2 && now.duration_since(st.history[1].0) >= window {
        st.history.pop_front();
    }
    let (elapsed, base) = match st.history.front() {
        Some((t, s)) => (now.duration_since(*t), Some(s)),
        None => (Duration::ZERO, None),
    };
    let v = value(cond, &sample, base, elapsed, window);
    st.last_value = v;
    st.history.push_back((now, sample));
    // Bounded whatever the interval and window.
    while st.history.len() > 4096 {
        st.history.pop_front();
    }
    let on = holds(cond, v);
    let note = |state, since| Notification {
        rule: st.rule.name.clone(),
        description: st.rule.description.clone(),
        severity: st.rule.severity,
        state,
        subject: st.rule.condition.subject(),
        value: v,
        threshold: st.rule.condition.threshold(),
        since,
        at: wall,
    };
    if on {
        let (t0, since) = *st.pending_since.get_or_insert((now, wall));
        if !st.firing && now.duration_since(t0) >= st.rule.for_duration {
            st.firing = true;
            let cooled = st.last_notified.map_or(true, |t| now.duration_since(t) >= st.rule.cooldown);
            st.notified = cooled;
            if cooled {
                st.last_notified = Some(now);
                return Some(note(AlertState::Firing, since));
            }
            tracing::debug!(target: "obs_runtime::alerts", alert = %st.rule.name, "alert firing again within its cooldown: not notified yet");
        } else if st.firing
            && !st.notified
            && st.last_notified.map_or(true, |t| now.duration_since(t) >= st.rule.cooldown)
        {
            // Still firing when the cooldown ends: notified now.
            st.notified = true;
            st.last_notified = Some(now);
            return Some(note(AlertState::Firing, since));
        }
        None
    } else {
        let since = st.pending_since.take().map_or(wall, |(_, s)| s);
        if std::mem::take(&mut st.firing) && std::mem::take(&mut st.notified) {
            return Some(note(AlertState::Resolved, since));
        }
        None
    }
}

/// A rule that is firing now, as the live view shows it.
#[cfg_attr(not(feature = "ui"), allow(dead_code))]
#[derive(Clone, Debug)]
pub(crate) struct Firing {
    pub(crate) rule: String,
    pub(crate) severity: Severity,
    pub(crate) subject: String,
    pub(crate) description: String,
    /// At the last evaluation.
    pub(crate) value: f64,
    pub(crate) threshold: f64,
    pub(crate) since: SystemTime,
}

static FIRING: std::sync::Mutex<Vec<Firing>> = std::sync::Mutex::new(Vec::new());

/// Publishes the rules firing after an evaluation.
fn publish_firing(states: &[RuleState]) {
    let now: Vec<Firing> = states
        .iter()
        .filter(|s| s.firing)
        .map(|s| Firing {
            rule: s.rule.name.clone(),
            severity: s.rule.severity,
            subject: s.rule.condition.subject(),
            description: s.rule.description.clone(),
            value: s.last_value,
            threshold: s.rule.condition.threshold(),
            since: s.pending_since.map_or(SystemTime::now(), |(_, wall)| wall),
        })
        .collect();
    *FIRING.lock().unwrap_or_else(|e| e.into_inner()) = now;
}

/// The rules firing at the last evaluation.
#[cfg_attr(not(feature = "ui"), allow(dead_code))]
pub(crate) fn firing() -> Vec<Firing> {
    FIRING.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A notifier's queue and thread.
struct Outlet {
    name: String,
    tx: Option<SyncSender<Notification>>,
    /// Disconnected when the thread ends (it holds the sender).
    done: Receiver<()>,
}

fn failed(notifier: &str, reason: &str) {
    metrics::builtin_counter(&names::ALERT_NOTIFY_FAILED, &[("notifier", notifier), ("reason", reason)]).increment(1);
}

fn outlet(n: Arc<dyn Notifier>) -> Result<Outlet, String> {
    let (tx, rx): (SyncSender<Notification>, Receiver<Notification>) = mpsc::sync_channel(QUEUE_CAPACITY);
    let name = n.name().to_string();
    let (done_tx, done) = mpsc::sync_channel::<()>(0);
    std::thread::Builder::new()
        .name(format!("obs-alert-{}", name.chars().take(10).collect::<String>()))
        .spawn(move || {
            let _done = done_tx;
            for note in rx {
                // A panicking notifier costs its notification, not the thread.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| n.notify(&note)));
                let err = match r {
                    Ok(Ok(())) => continue,
                    Ok(Err(e)) => e,
                    Err(_) => NotifyError::Failed("the notifier panicked".to_string()),
                };
                let reason = if matches!(err, NotifyError::Timeout(_)) { "timeout" } else { "error" };
                failed(n.name(), reason);
                tracing::warn!(target: "obs_runtime::alerts", notifier = n.name(), alert = %note.rule, state = note.state.as_str(), "alert notification not delivered: {err}");
            }
        })
        .map_err(|e| format!("cannot start the thread of notifier `{name}`: {e}"))?;
    Ok(Outlet { name, tx: Some(tx), done })
}

/// The running evaluator: stops its thread and the notifiers' (after they
/// drain their queues, each within its own timeouts) when shut down.
pub(crate) struct Evaluator {
    stop: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    rules: usize,
    notifiers: Vec<String>,
    interval: Duration,
}

impl Evaluator {
    /// Starts evaluating; a snapshot taken now is the first baseline.
    pub(crate) fn start(cfg: Config) -> Result<Evaluator, String> {
        let mut notifiers = cfg.notifiers.clone();
        if notifiers.is_empty() {
            notifiers.push(Arc::new(LogNotifier));
        }
        let mut outlets = Vec::new();
        for n in notifiers {
            outlets.push(outlet(n)?);
        }
        let names = outlets.iter().map(|o| o.name.clone()).collect();
        let (stop_tx, stop_rx) = mpsc::sync_channel::<()>(1);
        let rules = cfg.rules.len();
        let (interval, window) = (cfg.interval, cfg.window);
        let mut states: Vec<RuleState> = cfg.rules.into_iter().map(RuleState::new).collect();
        // The baseline, taken before `init()` returns: a call made right
        // after it is in the first window, whenever the thread first runs.
        let (snap, now) = (metrics::snapshot(), Instant::now());
        for st in &mut states {
            st.history.push_back((now, read(&st.rule.condition.0, &snap)));
        }
        let thread = std::thread::Builder::new()
            .name("obs-alerts".to_string())
            .spawn(move || {
                loop {
                    let snap = metrics::snapshot();
                    let (now, wall) = (Instant::now(), SystemTime::now());
                    for st in &mut states {
                        if let Some(note) = step(st, &snap, now, wall, window) {
                            for o in &outlets {
                                let Some(tx) = &o.tx else { continue };
                                if let Err(TrySendError::Full(n) | TrySendError::Disconnected(n)) = tx.try_send(note.clone()) {
                                    failed(&o.name, "queue_full");
                                    tracing::warn!(target: "obs_runtime::alerts", notifier = %o.name, alert = %n.rule, "alert notification dropped: the notifier's queue is full ({QUEUE_CAPACITY})");
                                }
                            }
                        }
                    }
                    publish_firing(&states);
                    match stop_rx.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => break,
                    }
                }
                publish_firing(&[]);
                // The notifiers finish their queues within SHUTDOWN_WAIT in
                // all; one that is still stuck after that is left behind
                // (its thread ends with the process), never waited for.
                let deadline = Instant::now() + SHUTDOWN_WAIT;
                for o in &mut outlets {
                    drop(o.tx.take());
                }
                for o in &outlets {
                    let _ = o.done.recv_timeout(deadline.saturating_duration_since(Instant::now()));
                }
            })
            .map_err(|e| format!("cannot start the alert evaluator's thread: {e}"))?;
        Ok(Evaluator { stop: Some(stop_tx), thread: Some(thread), rules, notifiers: names, interval })
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "alerts: {} rules evaluated every {:?}, notifiers: {}",
            self.rules,
            self.interval,
            self.notifiers.join(", ")
        )
    }

    pub(crate) fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.try_send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Evaluator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_histogram_quantile() {
        let b = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile(0.5, &b, &[0, 10, 10, 0, 0]), 2.0);
        assert_eq!(quantile(0.75, &b, &[0, 10, 10, 0, 0]), 3.0);
        assert_eq!(quantile(0.95, &b, &[0, 0, 0, 0, 3]), 8.0);
        assert!(quantile(0.95, &b, &[0; 5]).is_nan());
    }

    #[test]
    fn thresholds_out_of_range_are_refused_by_name() {
        let e = AlertRule::new("x", Severity::Info, Condition::agent_error_ratio("a", 1.5)).unwrap_err();
        assert_eq!(e.to_string(), "alert rule `x`: error ratio: a fraction, 0 < fraction <= 1, got 1.5");
        let e = AlertRule::new(" ", Severity::Info, Condition::hourly_cost(1.0)).unwrap_err();
        assert_eq!(e.to_string(), "alert rule name ` `: 1 to 128 characters");
    }

    /// The cooldown on the evaluator's own clock (`step` takes the time):
    /// exact, where a test against the wall clock would need a machine fast
    /// enough to stay within it.
    #[test]
    fn a_firing_within_the_cooldown_waits_for_its_end_and_a_later_one_is_notified_at_once() {
        let check = "alerts_unit_cooldown";
        let status = metrics::builtin_gauge(&names::HEALTH_STATUS, &[("check", check)]).unwrap();
        let rule = AlertRule::new("db down", Severity::Critical, Condition::health_check_failing(check))
            .unwrap()
            .cooldown(Duration::from_secs(60));
        let mut st = RuleState::new(rule);
        let t0 = Instant::now();
        let mut at = |secs: u64, failing: bool| {
            status.set(if failing { 0.0 } else { 1.0 });
            let now = t0 + Duration::from_secs(secs);
            step(&mut st, &metrics::snapshot(), now, SystemTime::UNIX_EPOCH, Duration::from_secs(10)).map(|n| n.state)
        };
        assert_eq!(at(0, true), Some(AlertState::Firing));
        assert_eq!(at(1, true), None, "still firing");
        assert_eq!(at(2, false), Some(AlertState::Resolved));
        assert_eq!(at(3, true), None, "firing again within the cooldown: held back");
        assert_eq!(at(30, false), None, "nor is its resolution notified");
        assert_eq!(at(31, true), None, "again, within the cooldown");
        assert_eq!(at(59, true), None, "a second before its end");
        assert_eq!(at(60, true), Some(AlertState::Firing), "still firing as the cooldown ends: notified then");
        assert_eq!(at(61, false), Some(AlertState::Resolved));
        assert_eq!(at(200, true), Some(AlertState::Firing), "past the cooldown: at once");
    }

    #[test]
    fn notification_text_names_rule_value_and_threshold() {
        let n = Notification {
            rule: "r".into(),
            description: String::new(),
            severity: Severity::Critical,
            state: AlertState::Firing,
            subject: "agent a error ratio".into(),
            value: 0.5,
            threshold: 0.2,
            since: SystemTime::UNIX_EPOCH,
            at: SystemTime::UNIX_EPOCH,
        };
        assert_eq!(n.text(), "[FIRING] r (critical): agent a error ratio 0.5 > 0.2");
    }
}
