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

/// Instruments an agent entry point.
///
/// Each call opens a span `invoke_agent {agent}` and records
/// `agent_executions_total{agent, status}`,
/// `agent_execution_duration_seconds{agent, status}` and
/// `agent_executions_in_flight{agent}`. Model and tool calls made inside it
/// (across `.await`s, `join!` and `obs_runtime::spawn`) carry its `agent`
/// label.
///
/// # Arguments
///
/// | argument | meaning |
/// |---|---|
/// | `agent = "researcher"` | required: the agent's name. A string literal, an expression whose type implements `obs_runtime::LabelValue` (`&'static str`, `bool`, your enums), or `unbounded(expr)` for an open set (strings, integers) |
/// | `labels(team = "search", tier = t)` | up to 8 extra metric labels, literal or per-call values like `agent` |
/// | `fields(user = req.user_id)` | span fields, recorded with the value's `Debug` form; arguments are never captured otherwise |
/// | `level = "info"` | the span's level: `trace`, `debug`, `info` (default), `warn` or `error` |
/// | `slow = "30s"` | a call longer than this logs a warning (target `performance`); units `ns`, `us`, `ms`, `s`, `m` |
/// | `err = "warn"` / `err = false` | the level of the one log line (target `errors`) a call that fails or panics writes, with its agent, model or tool, `error.type`, the error's redacted `Display`, duration and trace ids (default: ERROR for agents, WARN otherwise, or `OBS_ERROR_LOG_LEVEL`); `false` writes none |
/// | `crate = obs` | the path of `obs-runtime` if your crate renamed it |
///
/// The call's `status` is `success` (returned, `Ok`), `error` (`Err`; the
/// span's `error.type` is the error type's name), `cancelled` (the future
/// was dropped) or `panic` (the panic keeps unwinding). The return value is
/// never changed.
///
/// # Example
///
/// ```
/// use obs_runtime::track_execution;
///
/// #[derive(Debug)]
/// struct AgentError;
///
/// #[track_execution(agent = "researcher", labels(team = "search"), slow = "30s")]
/// async fn research(topic: &str) -> Result<String, AgentError> {
///     Ok(format!("notes on {topic}"))
/// }
///
/// // The agent's name from a runtime value: a bounded type, or `unbounded(..)`.
/// struct Worker { name: &'static str }
///
/// impl Worker {
///     #[track_execution(agent = self.name)]
///     fn run(&self, steps: u32) -> u32 {
///         steps * 2
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// obs_runtime::testing::enable(); // `init()` in a program
/// assert_eq!(research("rust").await.unwrap(), "notes on rust");
/// assert_eq!(Worker { name: "worker" }.run(2), 4);
/// let m = obs_runtime::testing::snapshot();
/// assert_eq!(m.counter("agent_executions_total", &[("agent", "researcher"), ("team", "search"), ("status", "success")]), Some(1));
/// # }
/// ```
#[proc_macro_attribute]
pub fn track_execution(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::instrument(Kind::Agent, args.into(), item.into()).into()
}

/// Instruments a model call: tokens by type, cost, latency, time to first
/// token, budgets.
///
/// Each call opens a span `{operation} {model}` (kind CLIENT, GenAI
/// semantic conventions: `gen_ai.request.model`, `gen_ai.usage.*`,
/// `gen_ai.response.model`...) and records `llm_calls_total`,
/// `llm_call_duration_seconds`, `llm_tokens_total{token_type}`,
/// `llm_cost_usd_total` (exact integer arithmetic over the price table), the
/// OpenTelemetry GenAI histograms, and an entry in the ledger
/// (`obs_runtime::ledger`). Usage is read from the return value through
/// `obs_runtime::LlmUsage`, looked up through `Result`, `Option`, `Box`, `Arc`
/// and references; a return type without it is a compile error that names the
/// fix.
///
/// # Arguments
///
/// | argument | meaning |
/// |---|---|
/// | `model = "gpt-4o"` | required. A literal must be a model of the price table (a near miss is a compile error with the closest name and its price) or be declared with `custom_model`; a runtime expression (bounded, or `unbounded(..)`) is priced at run time |
/// | `provider = "openai"` | inferred from well-known model names when absent, else `unknown` |
/// | `operation = "chat"` | `chat` (default), `text_completion`, `generate_content`, `embeddings` or `retrieval` |
/// | `server_address = "api.openai.com"`, `server_port = 443` | span attributes of the endpoint |
/// | `usage = \|r\| ..` | where the usage is, when the return type does not implement `LlmUsage`: a closure (or function path) taking `&ReturnType` (so `&Result<T, E>` for a fallible call) and returning `TokenUsage` or `Option<TokenUsage>` |
/// | `usage = none` | the model reports no usage: count no tokens |
/// | `stream` | the function returns a stream (`impl Stream`, `Pin<Box<dyn Stream>>`, or a `Result` of one) whose items implement `obs_runtime::LlmChunk`; the call ends when the stream ends or is dropped, and the first content chunk sets the time to first token |
/// | `budget = "daily"` | check this hard budget (`obs_runtime::budget::register`) before calling: once spent, the function returns `Err(BudgetExceeded.into())` without running (the error type must implement `From<obs_runtime::BudgetExceeded>`) |
/// | `batch` | price at the provider's batch rates |
/// | `custom_model` | the literal `model` is a real model the built-in table does not price (price it with `obs_runtime::pricing::set_price` or a pricing file) |
/// | `capture_content = true` | record prompts and completions (redacted) on the span; `false` never does; absent, `OBS_CAPTURE_CONTENT` decides |
/// | `labels(..)`, `fields(..)`, `level`, `slow`, `err`, `crate` | as on [`macro@track_execution`] |
///
/// `stream` cannot be combined with `usage` or `batch`.
///
/// # Examples
///
/// A reply type that reports its usage:
///
/// ```
/// use obs_runtime::{track_llm_call, LlmUsage, TokenUsage};
///
/// #[derive(Debug)]
/// struct ApiError;
/// struct Reply { text: String, prompt_tokens: u64, cached: u64, completion_tokens: u64 }
///
/// impl LlmUsage for Reply {
///     fn usage(&self) -> Option<TokenUsage> {
///         // OpenAI's shape: cached tokens are counted inside prompt_tokens.
///         Some(TokenUsage::openai(self.prompt_tokens, self.completion_tokens, Some(self.cached), None))
///     }
/// }
///
/// #[track_llm_call(model = "gpt-4o", provider = "openai", server_address = "api.openai.com")]
/// async fn ask(prompt: &str) -> Result<Reply, ApiError> {
///     Ok(Reply { text: prompt.into(), prompt_tokens: 1200, cached: 1000, completion_tokens: 300 })
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// obs_runtime::testing::enable();
/// assert_eq!(ask("hi").await.unwrap().text, "hi");
/// let m = obs_runtime::testing::snapshot();
/// assert_eq!(m.counter("llm_tokens_total", &[("agent", "none"), ("model", "gpt-4o"), ("provider", "openai"), ("type", "input")]), Some(1200));
/// # }
/// ```
///
/// A type you do not own, through `usage`; the closure gets `&Result<..>`:
///
/// ```
/// use obs_runtime::{track_llm_call, TokenUsage};
///
/// struct Completion { input_tokens: u64, output_tokens: u64 }
///
/// #[track_llm_call(
///     model = "claude-3-5-haiku-20241022",
///     usage = |r| r.as_ref().ok().map(|c| TokenUsage::new(c.input_tokens, c.output_tokens)),
/// )]
/// fn complete(prompt: &str) -> Result<Completion, std::io::Error> {
///     Ok(Completion { input_tokens: prompt.len() as u64, output_tokens: 3 })
/// }
/// # obs_runtime::testing::enable();
/// # complete("hello").unwrap();
/// ```
///
/// A streamed call (each item implements `obs_runtime::LlmChunk`):
///
/// ```
/// use obs_runtime::{track_llm_call, LlmChunk, TokenUsage};
///
/// struct Chunk { text: String, usage: Option<TokenUsage> }
///
/// impl LlmChunk for Chunk {
///     fn has_content(&self) -> bool { !self.text.is_empty() }
///     fn usage(&self) -> Option<TokenUsage> { self.usage }
/// }
///
/// #[track_llm_call(model = "gpt-4o-mini", stream)]
/// fn stream_answer() -> impl futures::Stream<Item = Chunk> {
///     let chunks = vec![
///         Chunk { text: "Hel".into(), usage: None },
///         Chunk { text: "lo".into(), usage: None },
///         Chunk { text: String::new(), usage: Some(TokenUsage::new(10, 2)) },
///     ];
///     futures::stream::iter(chunks)
/// }
/// # fn main() { let _ = stream_answer(); }
/// ```
#[proc_macro_attribute]
pub fn track_llm_call(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::instrument(Kind::LlmCall, args.into(), item.into()).into()
}

/// Instruments a tool.
///
/// Each call opens a span `execute_tool {name}` and records
/// `tool_calls_total{agent, tool, status}` and
/// `tool_call_duration_seconds{agent, tool, status}`, with the `agent` of
/// the enclosing [`macro@track_execution`] call.
///
/// # Arguments
///
/// | argument | meaning |
/// |---|---|
/// | `name = "web_search"` | the tool's name: a literal, a bounded expression such as an associated constant (`name = Self::NAME`, as rig's `Tool` trait has), or `unbounded(expr)`. Default: the function's name for a free function; `Type::method` for a method or associated function (one that takes `self` or names `Self`), so tools implementing one trait get one series each |
/// | `capture_content = true` | record the arguments and result (redacted) on the span; `false` never does; absent, `OBS_CAPTURE_CONTENT` decides |
/// | `labels(..)`, `fields(..)`, `level`, `slow`, `err`, `crate` | as on [`macro@track_execution`] |
///
/// A method's default name is made from `std::any::type_name::<Self>()` on
/// its first call (the path and generic arguments are dropped:
/// `my_app::Fetch<u8>` gives `Fetch::call`), so its series appear when it is
/// first called rather than at zero from `init()`. Give `name` to have them
/// from the start.
///
/// # Example
///
/// ```
/// use obs_runtime::track_tool;
///
/// #[track_tool(name = "web_search", slow = "2s")]
/// fn search(q: &str) -> Result<Vec<String>, std::io::Error> {
///     Ok(vec![q.to_string()])
/// }
///
/// trait Tool {
///     const NAME: &'static str;
///     fn call(&self, input: &str) -> usize;
/// }
///
/// struct Calculator;
/// struct WordCount;
///
/// impl Tool for Calculator {
///     const NAME: &'static str = "calculator";
///     #[track_tool(name = Self::NAME)]
///     fn call(&self, input: &str) -> usize { input.len() }
/// }
///
/// impl Tool for WordCount {
///     const NAME: &'static str = "word_count";
///     #[track_tool] // `WordCount::call`
///     fn call(&self, input: &str) -> usize { input.split_whitespace().count() }
/// }
///
/// obs_runtime::testing::enable();
/// search("rust").unwrap();
/// assert_eq!((Calculator.call("1+1"), WordCount.call("a b")), (3, 2));
/// let m = obs_runtime::testing::snapshot();
/// for tool in ["web_search", "calculator", "WordCount::call"] {
///     assert_eq!(m.counter("tool_calls_total", &[("agent", "none"), ("tool", tool), ("status", "success")]), Some(1));
/// }
/// ```
#[proc_macro_attribute]
pub fn track_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::instrument(Kind::Tool, args.into(), item.into()).into()
}

/// Instruments any other function with a span, and optionally metrics.
///
/// The span is named after the function (or `name`), with `code.function`
/// and `code.namespace`; it nests under the current span like any `tracing`
/// span. With `metrics`, calls also record
/// `function_calls_total{function, module, status}` and
/// `function_call_duration_seconds{function, module, status}`.
///
/// # Arguments
///
/// | argument | meaning |
/// |---|---|
/// | `name = "rank_results"` | the span's name (a string literal: `tracing` span names are static) |
/// | `metrics` (or `metrics = true`) | also record the call metrics (off by default: a span alone is cheaper) |
/// | `labels(..)`, `fields(..)`, `level`, `slow`, `err`, `crate` | as on [`macro@track_execution`] |
///
/// # Example
///
/// ```
/// use obs_runtime::traced;
///
/// #[traced(name = "rank_results", metrics, fields(n = hits.len()), level = "debug")]
/// fn rank(hits: &[u32]) -> Vec<u32> {
///     let mut v = hits.to_vec();
///     v.sort_unstable_by(|a, b| b.cmp(a));
///     v
/// }
///
/// obs_runtime::testing::enable();
/// assert_eq!(rank(&[1, 3, 2]), vec![3, 2, 1]);
/// let m = obs_runtime::testing::snapshot();
/// let labels = [("function", "rank_results"), ("module", module_path!()), ("status", "success")];
/// assert_eq!(m.counter("function_calls_total", &labels), Some(1));
/// ```
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
///
/// ```
/// use obs_runtime::health_check;
///
/// #[derive(serde::Serialize)]
/// struct Pool { idle: u32 }
///
/// /// The model provider answers: without it no agent can run.
/// #[health_check(critical, timeout = "2s", name = "provider")]
/// async fn provider_reachable() -> Result<Pool, std::io::Error> {
///     Ok(Pool { idle: 4 })
/// }
///
/// /// A cache that only slows us down when missing: `/ready` answers 207.
/// #[health_check]
/// fn cache_warm() -> bool {
///     true
/// }
///
/// let names: Vec<String> = obs_runtime::health::checks().iter().map(|c| c.name().to_string()).collect();
/// assert!(names.iter().any(|n| n == "provider") && names.iter().any(|n| n == "cache_warm"));
/// ```
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
