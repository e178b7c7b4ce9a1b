//! Every metric obs generates: names, label names, help texts and buckets.
//!
//! This is the one place that documents them; the README's metric table and
//! the exporters read from here. Names are Prometheus names; a namespace
//! prefix (`{ns}_`) is applied at export time, never in the hot path.

use super::registry::{Family, MetricKind};
use std::borrow::Cow;
use std::sync::OnceLock;

/// OpenTelemetry semantic conventions version the span and metric names follow.
pub const SEMCONV_VERSION: &str = "1.41.0";

/// Bucket bounds (seconds) for agent executions: 5 ms to 10 min.
pub const AGENT_DURATION_BUCKETS: &[f64] =
    &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

/// Bucket bounds (seconds) for model calls: the GenAI semconv
/// `gen_ai.client.operation.duration` boundaries, 10 ms to 82 s.
pub const LLM_DURATION_BUCKETS: &[f64] =
    &[0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/// Bucket bounds (seconds) for tool and plain function calls: 100 µs to 30 s.
pub const FUNCTION_DURATION_BUCKETS: &[f64] =
    &[0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Bucket bounds (tokens) of `gen_ai.client.token.usage`, from the GenAI semconv.
pub const TOKEN_BUCKETS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
    67108864.0,
];

/// Default bucket bounds for users' own histograms (Prometheus client defaults).
pub const DEFAULT_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A built-in metric: name, help, kind and label names (in export order;
/// a function's extra `labels(...)` follow these).
pub struct Builtin {
    /// Metric name.
    pub name: &'static str,
    /// Help text.
    pub help: &'static str,
    /// Kind and buckets.
    pub kind: MetricKind,
    /// Label names, in order.
    pub labels: &'static [&'static str],
    family: OnceLock<&'static Family>,
}

impl Builtin {
    const fn new(name: &'static str, help: &'static str, kind: MetricKind, labels: &'static [&'static str]) -> Self {
        Builtin { name, help, kind, labels, family: OnceLock::new() }
    }

    /// The family: made here, once, rather than through the registry's
    /// checks, because built-in names are valid, unique and reserved. The
    /// registry lists every [`reserved`] family from its creation, so this is
    /// infallible whatever the user registered before.
    pub fn family(&'static self) -> &'static Family {
        self.family.get_or_init(|| {
            // Leaked on purpose: one per built-in, never removed.
            Box::leak(Box::new(Family::new(Cow::Borrowed(self.name), Cow::Borrowed(self.help), self.kind)))
        })
    }
}

/// Whether `name` is reserved for one of obs's own metrics ([`reserved`]).
pub fn is_reserved(name: &str) -> bool {
    reserved().any(|b| b.name == name)
}

const fn seconds(bounds: &'static [f64]) -> MetricKind {
    MetricKind::Histogram { bounds, scale: 1e-9, float_sum: false }
}

/// `agent_executions_total{agent, status}`.
pub static AGENT_EXECUTIONS: Builtin = Builtin::new(
    "agent_executions_total",
    "Agent executions (#[track_execution]) by agent and status.",
    MetricKind::Counter,
    &["agent", "status"],
);
/// `agent_execution_duration_seconds{agent, status}`.
pub static AGENT_DURATION: Builtin = Builtin::new(
    "agent_execution_duration_seconds",
    "Duration of agent executions in seconds.",
    seconds(AGENT_DURATION_BUCKETS),
    &["agent", "status"],
);
/// `agent_executions_in_flight{agent}`.
pub static AGENT_IN_FLIGHT: Builtin =
    Builtin::new("agent_executions_in_flight", "Agent executions currently running.", MetricKind::UpDown, &["agent"]);
/// `llm_calls_total{agent, model, provider, status}`.
pub static LLM_CALLS: Builtin = Builtin::new(
    "llm_calls_total",
    "Model calls (#[track_llm_call]) by calling agent, model, provider and status.",
    MetricKind::Counter,
    &["agent", "model", "provider", "status"],
);
/// `llm_call_duration_seconds{model, provider, status}`.
pub static LLM_DURATION: Builtin = Builtin::new(
    "llm_call_duration_seconds",
    "Duration of model calls in seconds (GenAI semconv buckets).",
    seconds(LLM_DURATION_BUCKETS),
    &["model", "provider", "status"],
);
/// `tool_calls_total{agent, tool, status}`.
pub static TOOL_CALLS: Builtin = Builtin::new(
    "tool_calls_total",
    "Tool calls (#[track_tool]) by calling agent, tool and status.",
    MetricKind::Counter,
    &["agent", "tool", "status"],
);
/// `tool_call_duration_seconds{tool, status}`.
pub static TOOL_DURATION: Builtin = Builtin::new(
    "tool_call_duration_seconds",
    "Duration of tool calls in seconds.",
    seconds(FUNCTION_DURATION_BUCKETS),
    &["tool", "status"],
);
/// `function_calls_total{function, module, status}`.
pub static FUNCTION_CALLS: Builtin = Builtin::new(
    "function_calls_total",
    "Calls of #[traced(metrics)] functions by function, module and status.",
    MetricKind::Counter,
    &["function", "module", "status"],
);
/// `function_call_duration_seconds{function, module, status}`.
pub static FUNCTION_DURATION: Builtin = Builtin::new(
    "function_call_duration_seconds",
    "Duration of #[traced(metrics)] function calls in seconds.",
    seconds(FUNCTION_DURATION_BUCKETS),
    &["function", "module", "status"],
);

/// `llm_time_to_first_token_seconds{model, provider}`.
pub static LLM_TTFT: Builtin = Builtin::new(
    "llm_time_to_first_token_seconds",
    "Time from the start of a streamed model call to its first content chunk, in seconds.",
    seconds(LLM_DURATION_BUCKETS),
    &["model", "provider"],
);
/// `llm_tokens_total{agent, model, provider, type}`.
pub static LLM_TOKENS: Builtin = Builtin::new(
    "llm_tokens_total",
    "Tokens of model calls by type: input (cached included), output (reasoning included), cache_read, cache_creation, reasoning.",
    MetricKind::Counter,
    &["agent", "model", "provider", "type"],
);
/// `llm_cost_usd_total{agent, model, provider}`.
pub static LLM_COST: Builtin = Builtin::new(
    "llm_cost_usd_total",
    "Cost of model calls in US dollars, from the pricing table (summed exactly, in picodollars).",
    MetricKind::ScaledCounter { scale: 1e-12 },
    &["agent", "model", "provider"],
);
/// `llm_unpriced_calls_total{model, provider}`.
pub static LLM_UNPRICED: Builtin = Builtin::new(
    "llm_unpriced_calls_total",
    "Model calls with usage but no price in the pricing table (their cost is unknown, not zero).",
    MetricKind::Counter,
    &["model", "provider"],
);
/// `llm_calls_without_usage_total{model, provider, usage}`.
pub static LLM_NO_USAGE: Builtin = Builtin::new(
    "llm_calls_without_usage_total",
    "Successful model calls that reported no usage: usage=\"missing\" (not reported) or usage=\"incomplete\" (a stream that ended before its usage chunk).",
    MetricKind::Counter,
    &["model", "provider", "usage"],
);
/// `gen_ai_client_token_usage{gen_ai_operation_name, gen_ai_provider_name, gen_ai_request_model, gen_ai_token_type}`.
pub static GENAI_TOKEN_USAGE: Builtin = Builtin::new(
    "gen_ai_client_token_usage",
    "GenAI semconv gen_ai.client.token.usage: input and output tokens per call.",
    MetricKind::Histogram { bounds: TOKEN_BUCKETS, scale: 1.0, float_sum: false },
    &["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_token_type"],
);
/// `gen_ai_client_operation_duration_seconds{gen_ai_operation_name, gen_ai_provider_name, gen_ai_request_model}` (+ `error_type` on errors).
pub static GENAI_DURATION: Builtin = Builtin::new(
    "gen_ai_client_operation_duration_seconds",
    "GenAI semconv gen_ai.client.operation.duration, in seconds; failed calls carry error_type.",
    seconds(LLM_DURATION_BUCKETS),
    &["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model"],
);

/// Every built-in family, in the order the README documents them.
pub static ALL: &[&Builtin] = &[
    &AGENT_EXECUTIONS,
    &AGENT_DURATION,
    &AGENT_IN_FLIGHT,
    &LLM_CALLS,
    &LLM_DURATION,
    &LLM_TTFT,
    &LLM_TOKENS,
    &LLM_COST,
    &LLM_UNPRICED,
    &LLM_NO_USAGE,
    &GENAI_TOKEN_USAGE,
    &GENAI_DURATION,
    &TOOL_CALLS,
    &TOOL_DURATION,
    &FUNCTION_CALLS,
    &FUNCTION_DURATION,
];

/// `obs_cardinality_overflow_total{metric}`: has no series until the first
/// overflow (absent means zero, as for any labelled counter), so the page
/// does not carry a zero series for every metric.
pub static CARDINALITY_OVERFLOW: Builtin = Builtin::new(
    "obs_cardinality_overflow_total",
    "Label sets that went to a metric's overflow series because it reached its cardinality limit.",
    MetricKind::Counter,
    &["metric"],
);

/// Bucket bounds of `http_request_duration_seconds`, from the HTTP semantic
/// conventions (`http.server.request.duration`).
pub const HTTP_DURATION_BUCKETS: &[f64] =
    &[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

/// `redactions_total{kind}`: free-text detector findings replaced.
pub static REDACTIONS: Builtin = Builtin::new(
    "redactions_total",
    "Findings of the free-text detectors replaced by [REDACTED:kind], by kind.",
    MetricKind::Counter,
    &["kind"],
);
/// `obs_log_lines_dropped_total{reason}`.
pub static LOG_LINES_DROPPED: Builtin = Builtin::new(
    "obs_log_lines_dropped_total",
    "Log lines not written: the writer's queue was full, or the output failed.",
    MetricKind::Counter,
    &["reason"],
);
/// `obs_otlp_dropped_total{signal, reason}`.
pub static OTLP_DROPPED: Builtin = Builtin::new(
    "obs_otlp_dropped_total",
    "Spans, metric points and log records the OTLP exporter did not deliver: its queue was full, or a send failed.",
    MetricKind::Counter,
    &["signal", "reason"],
);
/// `budget_spent_usd{budget}`.
pub static BUDGET_SPENT: Builtin =
    Builtin::new("budget_spent_usd", "Spent in the budget's current period, USD.", MetricKind::Gauge, &["budget"]);
/// `budget_limit_usd{budget}`.
pub static BUDGET_LIMIT: Builtin =
    Builtin::new("budget_limit_usd", "Limit of the budget per period, USD.", MetricKind::Gauge, &["budget"]);
/// `budget_spent_local_usd{budget}`: with a shared budget store, this
/// process's share of `budget_spent_usd` (which is then the fleet's).
pub static BUDGET_SPENT_LOCAL: Builtin = Builtin::new(
    "budget_spent_local_usd",
    "With a shared budget store: this process's own spend in the budget's current period, USD (budget_spent_usd is the fleet's).",
    MetricKind::Gauge,
    &["budget"],
);
/// `budget_store_up`: 1 while the shared budget store answers, 0 while
/// budgets apply their failure policy.
pub static BUDGET_STORE_UP: Builtin = Builtin::new(
    "budget_store_up",
    "1 while the shared budget store (Redis) answers within its timeout; 0 while budgets fail open or closed.",
    MetricKind::Gauge,
    &[],
);
/// `budget_store_errors_total{reason}`: round trips to the shared budget
/// store that failed (`reason="error"`) or took longer than the timeout
/// (`reason="timeout"`).
pub static BUDGET_STORE_ERRORS: Builtin = Builtin::new(
    "budget_store_errors_total",
    "Round trips to the shared budget store that failed (reason=error) or exceeded the timeout (reason=timeout).",
    MetricKind::Counter,
    &["reason"],
);
/// `budget_store_degraded_calls_total{budget, policy}`: hard-budget checks
/// made while the shared store was unreachable, by the budget's policy
/// (`fail_open`: admitted on this process's count; `fail_closed`: refused).
pub static BUDGET_STORE_DEGRADED_CALLS: Builtin = Builtin::new(
    "budget_store_degraded_calls_total",
    "Hard-budget checks while the shared budget store was unreachable: policy=fail_open (checked against this process's count) or fail_closed (refused).",
    MetricKind::Counter,
    &["budget", "policy"],
);
/// `budget_store_reconciled_usd_total{budget}`: spend the shared store had
/// not confirmed when it became unreachable (or lost on a restart), added
/// once it answered again.
pub static BUDGET_STORE_RECONCILED: Builtin = Builtin::new(
    "budget_store_reconciled_usd_total",
    "Spend added to the shared budget store after an outage or a loss of its data (recorded locally meanwhile), USD, exactly once.",
    MetricKind::ScaledCounter { scale: 1e-12 },
    &["budget"],
);
/// `http_requests_total{method, route, status}` (the tower layer).
pub static HTTP_REQUESTS: Builtin = Builtin::new(
    "http_requests_total",
    "HTTP requests served, by method, route template and status code.",
    MetricKind::Counter,
    &["method", "route", "status"],
);
/// `http_request_duration_seconds{method, route}` (the tower layer).
pub static HTTP_DURATION: Builtin = Builtin::new(
    "http_request_duration_seconds",
    "Time from a request's arrival to its response headers, by method and route template.",
    MetricKind::Histogram { bounds: HTTP_DURATION_BUCKETS, scale: 1.0, float_sum: true },
    &["method", "route"],
);

/// Bucket bounds (seconds) of the four MCP histograms, from the OpenTelemetry
/// MCP conventions: 10 ms to 5 min.
pub const MCP_DURATION_BUCKETS: &[f64] =
    &[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

/// The labels an MCP operation histogram may carry, in export order: the
/// method always; the tool or prompt and `gen_ai_operation_name` when they
/// apply; `error_type` and `rpc_response_status_code` on failures; the
/// protocol version and transport when known. Never a session or request id.
pub const MCP_OPERATION_LABELS: &[&str] = &[
    "mcp_method_name",
    "gen_ai_tool_name",
    "gen_ai_prompt_name",
    "gen_ai_operation_name",
    "error_type",
    "rpc_response_status_code",
    "mcp_protocol_version",
    "network_transport",
];

/// `mcp_client_operation_duration_seconds{mcp_method_name, ..}`: the
/// conventions' `mcp.client.operation.duration` (OTLP keeps that name).
pub static MCP_CLIENT_DURATION: Builtin = Builtin::new(
    "mcp_client_operation_duration_seconds",
    "MCP semconv mcp.client.operation.duration: time from sending an MCP request to its response, in seconds, by method, tool or prompt; failures carry error_type.",
    seconds(MCP_DURATION_BUCKETS),
    MCP_OPERATION_LABELS,
);
/// `mcp_server_operation_duration_seconds{mcp_method_name, ..}`: the
/// conventions' `mcp.server.operation.duration`.
pub static MCP_SERVER_DURATION: Builtin = Builtin::new(
    "mcp_server_operation_duration_seconds",
    "MCP semconv mcp.server.operation.duration: time an MCP server took to handle a request, in seconds, by method, tool or prompt; failures carry error_type.",
    seconds(MCP_DURATION_BUCKETS),
    MCP_OPERATION_LABELS,
);
/// `mcp_client_session_duration_seconds{mcp_protocol_version, network_transport}`.
pub static MCP_CLIENT_SESSION: Builtin = Builtin::new(
    "mcp_client_session_duration_seconds",
    "MCP semconv mcp.client.session.duration: how long MCP client sessions lasted, in seconds.",
    seconds(MCP_DURATION_BUCKETS),
    &["mcp_protocol_version", "network_transport"],
);
/// `mcp_server_session_duration_seconds{mcp_protocol_version, network_transport}`.
pub static MCP_SERVER_SESSION: Builtin = Builtin::new(
    "mcp_server_session_duration_seconds",
    "MCP semconv mcp.server.session.duration: how long MCP server sessions lasted, in seconds.",
    seconds(MCP_DURATION_BUCKETS),
    &["mcp_protocol_version", "network_transport"],
);

/// `obs_alert_notifications_failed_total{notifier, reason}`: alert
/// notifications not delivered (`queue_full`, `error`, `timeout`).
pub static ALERT_NOTIFY_FAILED: Builtin = Builtin::new(
    "obs_alert_notifications_failed_total",
    "Alert notifications not delivered, by notifier and reason: queue_full (its queue was full), error (refused or unreachable after retries), timeout.",
    MetricKind::Counter,
    &["notifier", "reason"],
);

/// `process_cpu_seconds_total`: user and system CPU time (kept in µs).
pub static PROCESS_CPU: Builtin = Builtin::new(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
    MetricKind::ScaledCounter { scale: 1e-6 },
    &[],
);
/// `process_resident_memory_bytes`.
pub static PROCESS_RESIDENT: Builtin =
    Builtin::new("process_resident_memory_bytes", "Resident memory size in bytes.", MetricKind::Gauge, &[]);
/// `process_virtual_memory_bytes`.
pub static PROCESS_VIRTUAL: Builtin =
    Builtin::new("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricKind::Gauge, &[]);
/// `process_open_fds`.
pub static PROCESS_OPEN_FDS: Builtin =
    Builtin::new("process_open_fds", "Number of open file descriptors.", MetricKind::Gauge, &[]);
/// `process_max_fds`.
pub static PROCESS_MAX_FDS: Builtin =
    Builtin::new("process_max_fds", "Maximum number of open file descriptors.", MetricKind::Gauge, &[]);
/// `process_threads`.
pub static PROCESS_THREADS: Builtin =
    Builtin::new("process_threads", "Number of OS threads in the process.", MetricKind::Gauge, &[]);
/// `process_start_time_seconds`.
pub static PROCESS_START_TIME: Builtin = Builtin::new(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    MetricKind::Gauge,
    &[],
);
/// `build_info{service, version, obs_version, semconv_version}`: always 1.
pub static BUILD_INFO: Builtin = Builtin::new(
    "build_info",
    "1, labelled with the service, its version (service.version), obs's version and the semantic conventions version.",
    MetricKind::Gauge,
    &["service", "version", "obs_version", "semconv_version"],
);

/// `health_check_status{check}`: 1 when the check passed its last run, 0
/// when it failed or timed out.
pub static HEALTH_STATUS: Builtin = Builtin::new(
    "health_check_status",
    "1 when the health check passed its last run, 0 when it failed or timed out.",
    MetricKind::Gauge,
    &["check"],
);
/// `health_check_duration_seconds{check}`: how long the last run took.
pub static HEALTH_DURATION: Builtin = Builtin::new(
    "health_check_duration_seconds",
    "How long the health check's last run took, in seconds (its timeout when it timed out).",
    MetricKind::Gauge,
    &["check"],
);

// ---- Quality and conversations (issue 25). The GenAI conventions define no
// evaluation or conversation metric: these names are obs's own.

/// Bucket bounds of `evaluation_score`: scores from 0 to 1 in tenths, then
/// ratings up to 5 and 10 and percentages.
pub const SCORE_BUCKETS: &[f64] =
    &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 100.0];

/// Bucket bounds of `conversation_turns`.
pub const TURN_BUCKETS: &[f64] = &[1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0];

/// Bucket bounds (seconds) of `conversation_duration_seconds`: 10 s to a day.
pub const CONVERSATION_DURATION_BUCKETS: &[f64] =
    &[10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0];

/// Bucket bounds (USD) of `conversation_cost_usd`.
pub const CONVERSATION_COST_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 50.0];

/// `evaluation_score{evaluation, agent, model}`: the scores of
/// `gen_ai.evaluation.result` events ([`crate::eval`]).
pub static EVAL_SCORE: Builtin = Builtin::new(
    "evaluation_score",
    "Scores of evaluations (gen_ai.evaluation.result) by evaluation, agent and model; obs's own metric, the GenAI conventions define none.",
    MetricKind::Histogram { bounds: SCORE_BUCKETS, scale: 1.0, float_sum: true },
    &["evaluation", "agent", "model"],
);
/// `evaluations_total{evaluation, agent, model, label}`: evaluations by
/// label (`none` without one, `error` when the evaluation itself failed).
pub static EVALUATIONS: Builtin = Builtin::new(
    "evaluations_total",
    "Evaluations (gen_ai.evaluation.result) by evaluation, agent, model and label (none without one; error when the evaluation failed; fail counts as a failure).",
    MetricKind::Counter,
    &["evaluation", "agent", "model", "label"],
);
/// `conversations_active{agent}`.
pub static CONVERSATIONS_ACTIVE: Builtin = Builtin::new(
    "conversations_active",
    "Conversations (request contexts with a conversation id) with a model call within the idle timeout, by the agent of their first call.",
    MetricKind::UpDown,
    &["agent"],
);
/// `conversation_turns{agent}`: turns of each ended conversation.
pub static CONVERSATION_TURNS: Builtin = Builtin::new(
    "conversation_turns",
    "Turns (requests with a model call) of each ended conversation.",
    MetricKind::Histogram { bounds: TURN_BUCKETS, scale: 1.0, float_sum: false },
    &["agent"],
);
/// `conversation_duration_seconds{agent}` (kept in milliseconds).
pub static CONVERSATION_DURATION: Builtin = Builtin::new(
    "conversation_duration_seconds",
    "Duration of each ended conversation, from its first model call to its last, in seconds.",
    MetricKind::Histogram { bounds: CONVERSATION_DURATION_BUCKETS, scale: 1e-3, float_sum: false },
    &["agent"],
);
/// `conversation_cost_usd{agent}` (kept in picodollars, summed exactly).
pub static CONVERSATION_COST: Builtin = Builtin::new(
    "conversation_cost_usd",
    "Cost of each ended conversation's priced model calls, USD.",
    MetricKind::Histogram { bounds: CONVERSATION_COST_BUCKETS, scale: 1e-12, float_sum: false },
    &["agent"],
);

/// obs's self-metrics: recorded outside the instrumented call path (overflow,
/// redaction, log drops, budgets and their shared store, the HTTP layer,
/// the MCP wrappers, evaluations and conversations), but reserved like
/// [`ALL`].
pub static SELF_METRICS: &[&Builtin] = &[
    &CARDINALITY_OVERFLOW,
    &REDACTIONS,
    &LOG_LINES_DROPPED,
    &OTLP_DROPPED,
    &BUDGET_SPENT,
    &BUDGET_LIMIT,
    &BUDGET_SPENT_LOCAL,
    &BUDGET_STORE_UP,
    &BUDGET_STORE_ERRORS,
    &BUDGET_STORE_DEGRADED_CALLS,
    &BUDGET_STORE_RECONCILED,
    &HTTP_REQUESTS,
    &HTTP_DURATION,
    &ALERT_NOTIFY_FAILED,
    &PROCESS_CPU,
    &PROCESS_RESIDENT,
    &PROCESS_VIRTUAL,
    &PROCESS_OPEN_FDS,
    &PROCESS_MAX_FDS,
    &PROCESS_THREADS,
    &PROCESS_START_TIME,
    &BUILD_INFO,
    &HEALTH_STATUS,
    &HEALTH_DURATION,
    &MCP_CLIENT_DURATION,
    &MCP_SERVER_DURATION,
    &MCP_CLIENT_SESSION,
    &MCP_SERVER_SESSION,
    &EVAL_SCORE,
    &EVALUATIONS,
    &CONVERSATIONS_ACTIVE,
    &CONVERSATION_TURNS,
    &CONVERSATION_DURATION,
    &CONVERSATION_COST,
];

/// Every metric obs records itself: [`ALL`], then [`SELF_METRICS`]. User code
/// cannot register these names (`FamilyError::Reserved`).
pub fn reserved() -> impl Iterator<Item = &'static Builtin> {
    ALL.iter().chain(SELF_METRICS).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_unique() {
        let mut names: Vec<&str> = reserved().map(|b| b.name).collect();
        let n = names.len();
        assert_eq!(n, ALL.len() + SELF_METRICS.len());
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a built-in name is listed twice");
    }
}
