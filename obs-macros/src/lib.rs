//! Procedural macros of obs. Use them through `obs-runtime`, which
//! re-exports them: `use obs_runtime::{track_execution, track_llm_call, track_tool, traced};`
//!
//! Each macro runs three stages: `attr` parses the arguments, `valid`
//! checks them (collecting every mistake, each spanned on its token), and
//! `expand` generates the instrumented function.

mod attr;
mod ctxt;
mod doclinks;
mod expand;
mod health;
mod redact;
mod valid;

use proc_macro::TokenStream;
use valid::Kind;

/// Instruments an agent entry point: span `invoke_agent {agent}`, metrics
/// `agent_executions_total`, `agent_execution_duration_seconds`,
/// `agent_executions_in_flight`; model and tool calls inside carry its agent.
///
/// Arguments: `agent = "name"` (required; or a bounded expression, or
/// `unbounded(expr)`), `labels(key = value, ..)`, `fields(name = expr, ..)`,
/// `level = "info"`, `crate = path`.
#[proc_macro_attribute]
pub fn track_execution(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::instrument(Kind::Agent, args.into(), item.into()).into()
}

/// Instruments a model call: span `{operation} {model}` (kind CLIENT),
/// metrics `llm_calls_total` and `llm_call_duration_seconds`.
///
/// Arguments: `model = "gpt-4o"` (required; a literal name must be in the
/// built-in price table, or be declared with `custom_model`; a runtime
/// expression is not checked), `provider = "openai"` (inferred
/// from well-known model names when absent), `operation = "chat"`,
/// `server_address = "api.openai.com"`, `server_port = 443`, `labels(..)`,
/// `fields(..)`, `level`, `crate`.
#[proc_macro_attribute]
pub fn track_llm_call(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::instrument(Kind::LlmCall, args.into(), item.into()).into()
}

/// Instruments a tool: span `execute_tool {name}`, metrics `tool_calls_total`
/// and `tool_call_duration_seconds`.
///
/// Arguments: `name = "web_search"` (defaults to the function's name),
/// `labels(..)`, `fields(..)`, `level`, `crate`.
#[proc_macro_attribute]
pub fn track_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::instrument(Kind::Tool, args.into(), item.into()).into()
}

/// Instruments any function with a span (named after the function, or
/// `name = "..."`); with `metrics`, also `function_calls_total` and
/// `function_call_duration_seconds`.
#[proc_macro_attribute]
pub fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::instrument(Kind::Function, args.into(), item.into()).into()
}

/// Registers a health check, run by `/ready`: a sync or `async` function
/// without parameters returning `bool` or `Result<T, E>` (`T: Serialize`,
/// shown as the check's details; `E: Display`, its error).
///
/// Arguments: `critical` (a failure makes `/ready` answer 503 instead of
/// 207), `timeout = "2s"` (default 5 s; past it the run failed),
/// `name = "database"` (the `check` label; default: the function's name),
/// `crate`. See `obs_runtime::health`.
#[proc_macro_attribute]
pub fn health_check(args: TokenStream, item: TokenStream) -> TokenStream {
    health::expand(args.into(), item.into()).into()
}

/// Redacts a type in every sink: generates `Debug`, `Serialize`,
/// `obs_runtime::redact::Redact`, `obs_runtime::UnboundedLabelValue` and,
/// with `#[redact(display)]`, `Display`, all writing the redacted form.
///
/// Field options: `#[redact]` (`[REDACTED]`), `partial(last = 4)` /
/// `partial(first = 4)`, `fixed`, `hash`, `scan`, `with = path::to::fn`,
/// `skip`, `allow`; fields named like secrets are redacted by default. Type
/// options: `display`, `crate = path`, and any field strategy as a default
/// for every field (also on an enum variant). See `obs_runtime::redact`.
#[proc_macro_derive(Redact, attributes(redact))]
pub fn derive_redact(input: TokenStream) -> TokenStream {
    redact::derive(input.into()).into()
}
