//! Calls obs does not wrap: model calls, tools and agents run by a framework
//! that reports them through callbacks (start, first token, end) rather than
//! through a function you can put an attribute on.
//!
//! Each start function opens the same call the macros open, on a call site
//! of the same kind whose model, provider, tool or agent label is a runtime
//! value: [`llm`] is a `#[track_llm_call]` (metrics, GenAI span attributes,
//! tokens, cost, ledger, budget check, warnings), [`tool`] a `#[track_tool]`,
//! [`agent`] a `#[track_execution]`. A call is counted under the agent current
//! when it starts, and its span is a child of the span current then.
//!
//! Why a builder for model calls and plain functions for the others: a model
//! call has optional settings (provider, operation, budget, batch) that a
//! positional `start(model, provider, ..)` would force on every caller,
//! while a tool or an agent has only its name.
//!
//! A call ends with `finish` or `fail`; dropped before either, it is
//! `cancelled` (or `panic` while unwinding), as a dropped future is.
//!
//! ```
//! use obs_runtime::track;
//! use obs_runtime::TokenUsage;
//! use std::collections::HashMap;
//!
//! /// A framework's callbacks, keyed by its request id.
//! #[derive(Default)]
//! struct Hooks {
//!     open: HashMap<u64, track::ModelCall>,
//! }
//!
//! impl Hooks {
//!     fn on_request(&mut self, id: u64, model: &str) {
//!         match track::llm(model).provider("openai").start() {
//!             Ok(call) => drop(self.open.insert(id, call)),
//!             Err(refused) => eprintln!("{refused}"), // only with `.budget(..)`
//!         }
//!     }
//!     fn on_first_chunk(&mut self, id: u64) {
//!         if let Some(call) = self.open.get(&id) {
//!             call.first_token();
//!         }
//!     }
//!     fn on_response(&mut self, id: u64, input: u64, output: u64) {
//!         if let Some(call) = self.open.remove(&id) {
//!             call.finish(TokenUsage::new(input, output));
//!         }
//!     }
//!     fn on_error(&mut self, id: u64, status: u16) {
//!         if let Some(call) = self.open.remove(&id) {
//!             call.fail(&status.to_string()); // error.type = "429"
//!         }
//!     }
//! }
//!
//! obs_runtime::testing::enable();
//! let mut hooks = Hooks::default();
//! track::agent("planner").in_scope(|| {
//!     hooks.on_request(1, "gpt-4o-mini");
//!     hooks.on_first_chunk(1);
//!     hooks.on_response(1, 1200, 300);
//!     hooks.on_request(2, "gpt-4o-mini");
//!     hooks.on_error(2, 429);
//! });
//! let m = obs_runtime::testing::snapshot();
//! let calls = |status| {
//!     m.counter("llm_calls_total", &[("agent", "planner"), ("model", "gpt-4o-mini"), ("provider", "openai"), ("status", status)])
//! };
//! assert_eq!((calls("success"), calls("error")), (Some(1), Some(1)));
//! ```

use crate::budget::BudgetExceeded;
use crate::call::{Call, Entered, Site};
use crate::descriptor::{fn_info, FnInfo, FnKind};
use crate::llm::{Llm, LlmCall};
use crate::status::Outcome;
use crate::usage::LlmUsage;
use std::borrow::Cow;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::task::Poll;

/// The GenAI operation of a model call (`gen_ai.operation.name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `chat` (the default).
    Chat,
    /// `text_completion`.
    TextCompletion,
    /// `generate_content`.
    GenerateContent,
    /// `embeddings`.
    Embeddings,
    /// `retrieval`.
    Retrieval,
}

impl Operation {
    /// The `gen_ai.operation.name` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Chat => "chat",
            Operation::TextCompletion => "text_completion",
            Operation::GenerateContent => "generate_content",
            Operation::Embeddings => "embeddings",
            Operation::Retrieval => "retrieval",
        }
    }

    /// The operation named `name` (a GenAI `gen_ai.operation.name` value).
    pub fn parse(name: &str) -> Option<Operation> {
        Some(match name {
            "chat" => Operation::Chat,
            "text_completion" => Operation::TextCompletion,
            "generate_content" => Operation::GenerateContent,
            "embeddings" => Operation::Embeddings,
            "retrieval" => Operation::Retrieval,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

const MODEL_LABELS: &[&str] = &["model", "provider"];

macro_rules! llm_sites {
    ($($op:literal),*) => {
        [$(
            {
                static INFO: FnInfo = fn_info(FnKind::LlmCall, "track::llm", module_path!(), file!(), line!())
                    .operation($op)
                    .dynamic(MODEL_LABELS)
                    .build();
                static SITE: Site<Llm> = Site::new(&INFO);
                &SITE
            },
        )*]
    };
}

/// One call site per operation (the operation is part of a site's
/// descriptor), and the same with batch pricing.
static LLM_SITES: [&Site<Llm>; 5] =
    llm_sites!("chat", "text_completion", "generate_content", "embeddings", "retrieval");

static LLM_BATCH_SITES: [&Site<Llm>; 5] = {
    macro_rules! batch_sites {
        ($($op:literal),*) => {
            [$(
                {
                    static INFO: FnInfo = fn_info(FnKind::LlmCall, "track::llm", module_path!(), file!(), line!())
                        .operation($op)
                        .dynamic(MODEL_LABELS)
                        .batch()
                        .build();
                    static SITE: Site<Llm> = Site::new(&INFO);
                    &SITE
                },
            )*]
        };
    }
    batch_sites!("chat", "text_completion", "generate_content", "embeddings", "retrieval")
};

static TOOL_INFO: FnInfo =
    fn_info(FnKind::Tool, "track::tool", module_path!(), file!(), line!()).dynamic(&["tool"]).build();
static TOOL_SITE: Site = Site::new(&TOOL_INFO);

static AGENT_INFO: FnInfo =
    fn_info(FnKind::Agent, "track::agent", module_path!(), file!(), line!()).dynamic(&["agent"]).build();
static AGENT_SITE: Site = Site::new(&AGENT_INFO);

/// Starts a model call (when `span` is `None`, with a span like the one
/// `#[track_llm_call]` creates). The GenAI bridge passes the foreign span's
/// place with `Span::none()`: the span already exists.
pub(crate) fn start_llm(
    op: Operation,
    batch: bool,
    model: &str,
    provider: &str,
    span: Option<tracing::Span>,
) -> LlmCall {
    let span = span.unwrap_or_else(|| llm_span(op, model, provider));
    let sites = if batch { &LLM_BATCH_SITES } else { &LLM_SITES };
    let site = sites[op.index()];
    noted(site.info(), &[model, provider]);
    site.start_dynamic(span, &[Cow::Borrowed(model), Cow::Borrowed(provider)])
}

/// A recorded call joins the catalog (once per name), so the rules and
/// alerts generated from it cover the names given at run time.
#[inline]
fn noted(site: &'static FnInfo, values: &[&str]) {
    if crate::call::enabled() {
        crate::catalog::note_runtime(site, values);
    }
}

/// Starts a tool call (see [`start_llm`] for `span`).
pub(crate) fn start_tool(name: &str, span: Option<tracing::Span>) -> Call {
    let span = span.unwrap_or_else(|| {
        tracing::info_span!(
            target: "obs_runtime::track",
            "execute_tool",
            otel.name = format_args!("execute_tool {name}").to_string(),
            otel.kind = "internal",
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = name,
            gen_ai.tool.call.arguments = tracing::field::Empty,
            gen_ai.tool.call.result = tracing::field::Empty,
            error.type = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            obs.status = tracing::field::Empty,
        )
    });
    noted(&TOOL_INFO, &[name]);
    TOOL_SITE.start_dynamic(span, &[Cow::Borrowed(name)])
}

/// Starts an agent run (see [`start_llm`] for `span`).
pub(crate) fn start_agent(name: &str, span: Option<tracing::Span>) -> Call {
    let span = span.unwrap_or_else(|| {
        tracing::info_span!(
            target: "obs_runtime::track",
            "invoke_agent",
            otel.name = format_args!("invoke_agent {name}").to_string(),
            otel.kind = "internal",
            gen_ai.operation.name = "invoke_agent",
            gen_ai.provider.name = "obs",
            gen_ai.agent.name = name,
            error.type = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            obs.status = tracing::field::Empty,
        )
    });
    noted(&AGENT_INFO, &[name]);
    AGENT_SITE.start_dynamic(span, &[Cow::Borrowed(name)])
}

macro_rules! model_span {
    ($name:literal, $model:expr, $provider:expr) => {
        tracing::info_span!(
            target: "obs_runtime::track",
            $name,
            otel.name = format_args!("{} {}", $name, $model).to_string(),
            otel.kind = "client",
            gen_ai.operation.name = $name,
            gen_ai.provider.name = $provider,
            gen_ai.request.model = $model,
            gen_ai.response.model = tracing::field::Empty,
            gen_ai.response.finish_reasons = tracing::field::Empty,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
            gen_ai.usage.cache_read.input_tokens = tracing::field::Empty,
            gen_ai.usage.cache_creation.input_tokens = tracing::field::Empty,
            gen_ai.usage.reasoning.output_tokens = tracing::field::Empty,
            gen_ai.response.time_to_first_chunk = tracing::field::Empty,
            obs.cost.usd = tracing::field::Empty,
            obs.usage = tracing::field::Empty,
            error.type = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            obs.status = tracing::field::Empty,
        )
    };
}

/// The span `#[track_llm_call]` creates for a model named at run time.
fn llm_span(op: Operation, model: &str, provider: &str) -> tracing::Span {
    match op {
        Operation::Chat => model_span!("chat", model, provider),
        Operation::TextCompletion => model_span!("text_completion", model, provider),
        Operation::GenerateContent => model_span!("generate_content", model, provider),
        Operation::Embeddings => model_span!("embeddings", model, provider),
        Operation::Retrieval => model_span!("retrieval", model, provider),
    }
}

/// Distinct `error.type` values kept as `&'static str`; past it, `other`.
const ERROR_TYPES_LIMIT: usize = 256;
/// Longest `error.type` kept, in bytes.
const ERROR_TYPE_MAX_BYTES: usize = 64;

/// A `&'static` copy of an error type given at run time: bounded, since
/// each one is leaked once.
pub(crate) fn error_type(s: &str) -> &'static str {
    static SEEN: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let s = crate::metrics::registry::cut(s, ERROR_TYPE_MAX_BYTES);
    let s: &str = if s.is_empty() { "error" } else { &s };
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let set = seen.get_or_insert_with(HashSet::new);
    if let Some(v) = set.get(s) {
        return v;
    }
    if set.len() >= ERROR_TYPES_LIMIT {
        return "other";
    }
    let leaked: &'static str = Box::leak(s.into());
    set.insert(leaked);
    leaked
}

/// Starts describing a model call to `model` (its name as the provider's
/// API writes it: prices are looked up by it, as for `#[track_llm_call]`).
pub fn llm(model: &str) -> LlmBuilder<'_> {
    LlmBuilder { model, provider: None, operation: Operation::Chat, budget: None, batch: false }
}

/// A model call about to start: see [`llm`].
#[derive(Clone, Debug)]
#[must_use = "a model call starts with `.start()`"]
pub struct LlmBuilder<'a> {
    model: &'a str,
    provider: Option<&'a str>,
    operation: Operation,
    budget: Option<&'a str>,
    batch: bool,
}

impl<'a> LlmBuilder<'a> {
    /// The provider (`gen_ai.provider.name`); inferred from well-known model
    /// names when not given, else `unknown`.
    pub fn provider(mut self, provider: &'a str) -> Self {
        self.provider = Some(provider);
        self
    }

    /// The operation (default [`Operation::Chat`]).
    pub fn operation(mut self, operation: Operation) -> Self {
        self.operation = operation;
        self
    }

    /// A hard budget checked before the call starts, as `budget = ".."`
    /// does on `#[track_llm_call]`.
    pub fn budget(mut self, budget: &'a str) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Priced at the provider's batch rates.
    pub fn batch(mut self) -> Self {
        self.batch = true;
        self
    }

    /// Starts the call, under the current agent and as a child of the
    /// current span. With a [`budget`](Self::budget) that is spent, the call
    /// is recorded as an `error` whose `error.type` is `BudgetExceeded` (as
    /// a refused `#[track_llm_call]` is) and the refusal is returned: do not
    /// call the model.
    pub fn start(self) -> Result<ModelCall, BudgetExceeded> {
        let provider = self.provider.unwrap_or_else(|| crate::provider::infer_provider(self.model));
        let refused = self.budget.and_then(|b| crate::budget::check(b).err());
        let call = start_llm(self.operation, self.batch, self.model, provider, None);
        if let Some(refused) = refused {
            call.finish_llm_unreported(Outcome::Error("BudgetExceeded"));
            return Err(refused);
        }
        Ok(ModelCall { call, first: AtomicBool::new(true) })
    }
}

/// An open model call: see [`llm`].
#[must_use = "dropping the call records it as cancelled; end it with `finish` or `fail`"]
pub struct ModelCall {
    call: LlmCall,
    first: AtomicBool,
}

impl std::fmt::Debug for ModelCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelCall").field("span", self.call.span()).finish_non_exhaustive()
    }
}

impl ModelCall {
    /// The first content token arrived: sets `llm_time_to_first_token_seconds`
    /// and `gen_ai.response.time_to_first_chunk` (the first call only).
    pub fn first_token(&self) {
        if self.first.swap(false, Ordering::Relaxed) {
            self.call.record_first_token();
        }
    }

    /// Ends the call as a success with what the response reports: a
    /// [`TokenUsage`](crate::TokenUsage), or any response type that
    /// implements [`LlmUsage`] (its response model and finish reasons too).
    /// Tokens, cost, ledger and budgets as for `#[track_llm_call]`.
    pub fn finish(self, response: impl LlmUsage) {
        self.call.finish_llm(Outcome::Success, &response);
    }

    /// Ends the call as an error; `error_type` is the span's `error.type`
    /// and the duration histogram's `error_type` label (keep it low
    /// cardinality: an HTTP status, an error kind).
    pub fn fail(self, error_type: &str) {
        self.call.finish_llm_unreported(Outcome::Error(crate::track::error_type(error_type)));
    }

    /// The call's span.
    pub fn span(&self) -> &tracing::Span {
        self.call.span()
    }

    /// Makes this call the current one (its span entered) until the guard is
    /// dropped: spans and calls started meanwhile are its children, and a
    /// GenAI span of a client library started meanwhile is this call's, not
    /// counted again by the bridge in [`crate::layer()`].
    pub fn enter(&self) -> CallScope<'_> {
        CallScope { _entered: self.call.enter() }
    }

    /// Runs `f` inside the call (see [`enter`](Self::enter)).
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _scope = self.enter();
        f()
    }

    /// Runs `fut` inside the call on every poll (see [`enter`](Self::enter)).
    pub fn instrument<F: Future>(&self, fut: F) -> Scoped<'_, F> {
        Scoped { call: Either::Llm(&self.call), fut }
    }
}

/// Starts a tool call named `name`, under the current agent and as a child
/// of the current span, as `#[track_tool(name = ..)]` does.
pub fn tool(name: &str) -> ToolCall {
    ToolCall { call: start_tool(name, None) }
}

/// Starts an agent run named `name`, as `#[track_execution(agent = ..)]`
/// does. The agent is current (the `agent` label of model and tool calls,
/// and of log lines) for code run under [`AgentCall::in_scope`],
/// [`AgentCall::instrument`] or [`AgentCall::enter`].
///
/// ```
/// # obs_runtime::testing::enable();
/// let run = obs_runtime::track::agent("writer");
/// run.in_scope(|| assert_eq!(obs_runtime::current_agent().name(), "writer"));
/// run.finish();
/// ```
pub fn agent(name: &str) -> AgentCall {
    AgentCall { call: start_agent(name, None) }
}

macro_rules! plain_call {
    ($ty:ident, $what:literal) => {
        #[doc = concat!("An open ", $what, ": ends with `finish` or `fail`; dropped before, `cancelled`.")]
        #[must_use = "dropping the call records it as cancelled; end it with `finish` or `fail`"]
        pub struct $ty {
            call: Call,
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty)).field("span", self.call.span()).finish_non_exhaustive()
            }
        }

        impl $ty {
            /// Ends the call as a success.
            pub fn finish(self) {
                self.call.finish(Outcome::Success);
            }

            /// Ends the call as an error; `error_type` is the span's
            /// `error.type` (keep it low cardinality).
            pub fn fail(self, error_type: &str) {
                self.call.finish(Outcome::Error(crate::track::error_type(error_type)));
            }

            /// The call's span.
            pub fn span(&self) -> &tracing::Span {
                self.call.span()
            }

            /// Makes this call the current one until the guard is dropped
            /// (its span entered; for an agent, the current agent too).
            pub fn enter(&self) -> CallScope<'_> {
                CallScope { _entered: self.call.enter() }
            }

            /// Runs `f` inside the call (see `enter`).
            pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
                let _scope = self.enter();
                f()
            }

            /// Runs `fut` inside the call on every poll (see `enter`).
            pub fn instrument<F: Future>(&self, fut: F) -> Scoped<'_, F> {
                Scoped { call: Either::Plain(&self.call), fut }
            }
        }
    };
}

plain_call!(ToolCall, "tool call (see [`tool`])");
plain_call!(AgentCall, "agent run (see [`agent`])");

/// The guard of [`ModelCall::enter`], [`ToolCall::enter`] and [`AgentCall::enter`].
pub struct CallScope<'a> {
    _entered: Entered<'a>,
}

impl std::fmt::Debug for CallScope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallScope")
    }
}

enum Either<'a> {
    Llm(&'a LlmCall),
    Plain(&'a Call),
}

impl Either<'_> {
    fn enter(&self) -> Entered<'_> {
        match self {
            Either::Llm(c) => c.enter(),
            Either::Plain(c) => c.enter(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A future run inside a call on every poll: see `instrument` on
    /// [`ModelCall`], [`ToolCall`] and [`AgentCall`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<'a, F> {
        call: Either<'a>,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Scoped<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.call.enter();
        this.fut.poll(cx)
    }
}
