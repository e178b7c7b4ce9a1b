//! The span attribute names obs writes: the OpenTelemetry GenAI semantic
//! conventions (v1.41.0) and obs's own `obs.*` attributes.
//!
//! The macros declare a span's fields with these names and the runtime
//! records into them later; `tracing` silently drops a record into a field
//! the span did not declare, so a misspelt name on either side would lose
//! the value without an error. Both sides use these constants instead.

/// `gen_ai.operation.name`: `invoke_agent`, `chat`, `execute_tool`, ...
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.agent.name`.
pub const GEN_AI_AGENT_NAME: &str = "gen_ai.agent.name";
/// `gen_ai.provider.name`.
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// `gen_ai.request.model`.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// `gen_ai.response.model`.
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// `gen_ai.response.finish_reasons`.
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// `gen_ai.response.time_to_first_chunk`, seconds.
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// `gen_ai.usage.input_tokens` (cached included).
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// `gen_ai.usage.output_tokens` (reasoning included).
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// `gen_ai.usage.cache_read.input_tokens`.
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// `gen_ai.usage.cache_creation.input_tokens`.
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
/// `gen_ai.usage.reasoning.output_tokens`.
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
/// `gen_ai.input.messages` (content capture).
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// `gen_ai.output.messages` (content capture).
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// `gen_ai.tool.name`.
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// `gen_ai.tool.call.arguments` (content capture).
pub const GEN_AI_TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// `gen_ai.tool.call.result` (content capture).
pub const GEN_AI_TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
/// `gen_ai.conversation.id`.
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// `user.id`.
pub const USER_ID: &str = "user.id";
/// `error.type`.
pub const ERROR_TYPE: &str = "error.type";
/// `server.address`.
pub const SERVER_ADDRESS: &str = "server.address";
/// `server.port`.
pub const SERVER_PORT: &str = "server.port";
/// `code.function`.
pub const CODE_FUNCTION: &str = "code.function";
/// `code.namespace`.
pub const CODE_NAMESPACE: &str = "code.namespace";
/// `otel.kind`: tracing-opentelemetry's span kind field.
pub const OTEL_KIND: &str = "otel.kind";
/// `otel.name`: tracing-opentelemetry's span name override.
pub const OTEL_NAME: &str = "otel.name";
/// `otel.status_code`: tracing-opentelemetry's span status field.
pub const OTEL_STATUS_CODE: &str = "otel.status_code";
/// `obs.status`: how the call ended. Every span an obs macro creates
/// declares it, which is how the log layer tells them apart.
pub const OBS_STATUS: &str = "obs.status";
/// `obs.cost.usd`: the model call's cost.
pub const OBS_COST_USD: &str = "obs.cost.usd";
/// `obs.usage`: `missing` or `incomplete` when a model call reported no usage.
pub const OBS_USAGE: &str = "obs.usage";
/// `obs.request_id`.
pub const OBS_REQUEST_ID: &str = "obs.request_id";
/// `obs.tenant_id`.
pub const OBS_TENANT_ID: &str = "obs.tenant_id";

// The fields of the span each macro's call opens, in order: the macros
// declare a callsite's fields as one of these lists followed by the user's
// `fields(..)`, and the runtime fills in each value at its place.

/// The fields of an agent's span (`#[track_execution]`), in order.
pub const AGENT_FIELDS: [&str; 8] = [
    OTEL_NAME,
    OTEL_KIND,
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_AGENT_NAME,
    ERROR_TYPE,
    OTEL_STATUS_CODE,
    OBS_STATUS,
];

/// The fields of a model call's span (`#[track_llm_call]`), in order: what
/// it knows when it starts, then what the end of the call records.
pub const LLM_FIELDS: [&str; 22] = [
    OTEL_NAME,
    OTEL_KIND,
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    SERVER_ADDRESS,
    SERVER_PORT,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
    OBS_COST_USD,
    OBS_USAGE,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    ERROR_TYPE,
    OTEL_STATUS_CODE,
    OBS_STATUS,
];

/// The fields of a tool's span (`#[track_tool]`), in order.
pub const TOOL_FIELDS: [&str; 9] = [
    OTEL_NAME,
    OTEL_KIND,
    GEN_AI_OPERATION_NAME,
    GEN_AI_TOOL_NAME,
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_RESULT,
    ERROR_TYPE,
    OTEL_STATUS_CODE,
    OBS_STATUS,
];

/// The fields of a `#[traced]` function's span, in order.
pub const FUNCTION_FIELDS: [&str; 7] =
    [OTEL_NAME, OTEL_KIND, CODE_FUNCTION, CODE_NAMESPACE, ERROR_TYPE, OTEL_STATUS_CODE, OBS_STATUS];

/// The most fields a `tracing` callsite holds, the user's `fields(..)` included.
pub const MAX_SPAN_FIELDS: usize = 32;
