//! # obs: instrumentation for AI-agent code
//!
//! Put `#[track_execution(agent = "...")]` on agent entry points,
//! `#[track_llm_call(model = "...")]` on model calls, `#[track_tool(name = "...")]`
//! on tools and `#[traced]` on anything else; call [`init()`] once. Each call then
//! produces a `tracing` span named per the OpenTelemetry GenAI conventions and
//! updates counters and histograms served on an embedded Prometheus endpoint.
//!
//! ```no_run
//! use obs_runtime::{track_execution, track_llm_call, track_tool};
//!
//! #[derive(Debug)]
//! struct AgentError;
//!
//! #[track_tool(name = "web_search")]
//! async fn search(q: &str) -> Result<Vec<String>, AgentError> { Ok(vec![q.to_string()]) }
//!
//! /// What the model returned; `LlmUsage` tells obs its token counts (and so its cost).
//! struct Answer { text: String, prompt_tokens: u64, completion_tokens: u64 }
//!
//! impl obs_runtime::LlmUsage for Answer {
//!     fn usage(&self) -> Option<obs_runtime::TokenUsage> {
//!         Some(obs_runtime::TokenUsage::new(self.prompt_tokens, self.completion_tokens))
//!     }
//! }
//!
//! #[track_llm_call(model = "gpt-4o", provider = "openai")]
//! async fn ask(prompt: &str) -> Result<Answer, AgentError> {
//!     Ok(Answer { text: prompt.to_uppercase(), prompt_tokens: 12, completion_tokens: 4 })
//! }
//!
//! #[track_execution(agent = "researcher")]
//! async fn research(topic: &str) -> Result<String, AgentError> {
//!     let hits = search(topic).await?;
//!     let answer = ask(&hits.join("\n")).await?; // counted with agent="researcher", tokens and cost
//!     Ok(answer.text)
//! }
//!
//! #[tokio::main]
//! async fn main() {
//!     let _obs = obs_runtime::init().expect("obs"); // logs + http://127.0.0.1:9464/metrics
//!     research("rust").await.unwrap();
//! }
//! ```
//!
//! ## Layers
//!
//! Each module uses only modules of its own layer or the layers below it, and
//! the graph has no cycle: `tests/module_graph.rs` reads the sources and fails
//! on a cycle, on an edge that points up this table, or on a module missing
//! from it.
//!
//! ```text
//! L7  lib · init · testing
//! L6  export · trace · tower · ops · mcp · runs · eval · expansion
//! L5  catalog · redact · health · track · genai_bridge
//! L4  llm
//! L3  call
//! L2  pricing · ledger · budget · process · failure · conversation · span
//! L1  metrics · context · clients
//! L0  descriptor · status · provider · semconv · usage · labels · slot · time · json · events
//! ```
//!
//! * L0, vocabulary with no dependency in the crate: `descriptor` (`FnInfo`,
//!   `FnKind`), `status` (`Status`, `Outcome`, the autoref `Probe`), `provider`
//!   (`infer_provider`), `semconv` (span attribute names, shared with the
//!   macros), `usage` (`TokenUsage`, `LlmUsage`, `LlmChunk`),
//!   `labels` (`LabelValue`), `json` (string escaping for log lines and captured
//!   content), `slot` (the one audited `unsafe`: publishing a
//!   leaked `&'static T`), `time`, `events` (the audit/security/performance
//!   helpers).
//! * L1: `metrics` (sharded cells, the registry, the built-in names),
//!   `context` (interned agents, the current agent and request), `clients`
//!   (`LlmUsage` for client crates).
//! * L2, cost: `pricing` (the table, its generation counter, the cost engine),
//!   `ledger` (recent model calls), `budget` (and `budget::shared`, spend
//!   shared by a fleet through Redis, feature `redis`), `process` (the
//!   `process_*` metrics and `build_info`, read when an exporter reads),
//!   `failure` (the log line of a call that failed or panicked),
//!   `conversation` (model calls grouped by the request context's
//!   conversation id: turns, duration, cost, idle timeout), `span` (an
//!   instrumented call's span, built from its callsite's field list).
//! * L3, `call`: call sites, the call guard, `run` and `Instrumented`, runtime label sets, the
//!   slow-call warning. It knows no model call: a kind of call that records
//!   more plugs in through `call::Extension`.
//! * L4, `llm`: model calls (`LlmSite = Site<Llm>`), tokens, cost, the ledger
//!   and budget feeds, `TrackedStream`.
//! * L5: `catalog` (inventory of call sites, [`catalog()`], series at zero),
//!   `redact`, `health` (`#[health_check]` functions and run-time checks,
//!   run by `/ready`), `track` (calls obs does not wrap: model calls, tools and
//!   agents started and ended by code, on the macros' call sites),
//!   `genai_bridge` (GenAI-convention spans of other libraries become obs
//!   calls through `track`; part of [`layer()`], feature `logs`).
//! * L6, what reads the layers below: `export` (Prometheus, logs), `trace`
//!   (OpenTelemetry ids), `tower`, `ops` (Prometheus rules and a Grafana
//!   dashboard generated from the catalog, in-process alert rules), `mcp`
//!   (Model Context Protocol clients and servers through rmcp, features
//!   `rmcp-3` / `rmcp-2`), `runs` (the live view's bounded store of recent
//!   runs, collected from obs's own spans by a layer of [`layer()`]; feature
//!   `ui`), `eval` (evaluation scores and labels as
//!   `gen_ai.evaluation.result` events and series; feedback tokens),
//!   `expansion` (the entry points the macros' generated code calls).
//! * L7: `init` (`Builder`), `testing`, and this root (`init()`, `__private`
//!   for generated code).

// docs.rs (`--cfg docsrs`, nightly) marks each feature-gated item with the
// feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod budget;
mod call;
mod catalog;
mod clients;
pub mod context;
pub mod conversation;
mod descriptor;
pub mod eval;
pub mod events;
mod expansion;
pub mod export;
mod failure;
#[cfg(feature = "logs")]
mod genai_bridge;
pub mod health;
mod init;
mod json;
pub mod labels;
pub mod ledger;
mod llm;
#[cfg(any(feature = "rmcp-3", feature = "rmcp-2"))]
pub mod mcp;
pub mod metrics;
pub mod ops;
pub mod pricing;
#[cfg(any(feature = "prometheus", feature = "otlp"))]
mod process;
mod provider;
pub mod redact;
#[cfg(feature = "ui")]
mod runs;
mod semconv;
mod slot;
mod span;
mod status;
pub mod testing;
mod time;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "logs")]
pub mod trace;
pub mod track;
pub mod usage;

pub use budget::BudgetExceeded;
// Whether recording is on, and the stream wrapper and provider rule the
// generated code uses: reachable for it, not part of the documented API.
#[doc(hidden)]
pub use call::enabled;
pub use catalog::catalog;
pub use context::current_agent;
#[cfg(feature = "tokio")]
pub use context::spawn;
pub use context::RequestContext;
pub use descriptor::{FnInfo, FnKind};
#[cfg(feature = "logs")]
pub use export::logs::layer;
pub use init::{Builder, ConfigError, ConfigOrigin, InitError, ObsGuard, DEFAULT_EXPORTERS};
pub use labels::{LabelValue, UnboundedLabelValue};
pub use llm::BoxedStream;
#[doc(hidden)]
pub use llm::TrackedStream;
pub use metrics::names::SEMCONV_VERSION;
pub use obs_macros::Redact;
pub use obs_macros::{health_check, traced, track_execution, track_llm_call, track_tool};
#[doc(hidden)]
pub use provider::infer_provider;
pub use status::Status;
pub use usage::{LlmChunk, LlmUsage, TokenUsage};

/// Starts obs with the embedded defaults, overridden by the environment
/// (see [`Builder::from_env`]): console logs on stderr and Prometheus on
/// `127.0.0.1:9464`. Keep the returned guard alive for the life of the
/// program; it flushes and stops the exporters when dropped.
///
/// Calling it a second time returns [`InitError::AlreadyInitialized`];
/// never calling it is fine: instrumented functions then record nothing and
/// cost about 20 ns per call beyond the function itself (measured with
/// `cargo bench -p obs-runtime --bench uninit`).
pub fn init() -> Result<ObsGuard, InitError> {
    Builder::from_env().init()
}

/// What generated code uses. Not a public API: it may change in any release.
///
/// The entry points of an expansion (see the README, "What a macro expands
/// to"): the statics (`fn_info`, `Site::with_span`, `span_meta`,
/// `Registration`), the disabled check and start (`Site::quiet`,
/// `Site::call`, `Site::begin`), the runners (`run`, `run_map`,
/// `Instrumented`), the ends (`end`, `end_llm`, `end_llm_unreported`,
/// `stream`, `stream_impl`, `stream_result`, `note`), content capture
/// (`capturing`, `capture_input`, `capture_output`, `capture::CaptureProbe`),
/// and the probes that read a return value (`Probe` with `EndDisplay`,
/// `EndResult`, `EndPlain`).
#[doc(hidden)]
pub mod __private {
    pub use crate::budget::__private::BudgetReturn;
    pub use crate::budget::check as budget_check;
    pub use crate::call::slow_call;
    pub use crate::call::{Call, Site};
    pub use crate::catalog::Registration;
    pub use crate::descriptor::{fn_info, FnInfo, FnInfoBuilder, FnKind};
    pub use crate::expansion::*;
    pub use crate::health::{
        CheckFuture, CheckOutput, CheckResult, Registration as HealthRegistration, StaticRun as HealthRun,
    };
    pub use crate::labels::__private::{bounded, unbounded, SelfToolName};
    pub use crate::llm::{LlmCall, LlmSite, TrackReturn, TrackedStream};
    pub use crate::provider::infer_provider;
    pub use crate::redact::__private as redact;
    pub use crate::redact::capture::__private as capture;
    pub use crate::span::{with_user_fields, AGENT_FIELDS, FUNCTION_FIELDS, LLM_FIELDS, TOOL_FIELDS};
    pub use crate::status::{EndDisplay, EndPlain, EndResult, Ending, Outcome, Probe};
    pub use crate::usage::LlmUsage;
    pub use inventory;
    pub use tracing;

    /// The return value as usage; spanned on the return type by the macro, so
    /// a type without `LlmUsage` is reported there.
    #[inline]
    pub fn as_usage<R: crate::usage::LlmUsage>(ret: &R) -> &dyn crate::usage::LlmUsage {
        ret
    }

    /// Applies a `usage = expr` closure (or function) to the return value;
    /// its parameter type comes from here, so `|r| r.usage` needs no annotation.
    #[inline]
    pub fn apply_usage<'a, R: ?Sized, U: crate::usage::LlmUsage, F: FnOnce(&'a R) -> U>(ret: &'a R, f: F) -> U {
        f(ret)
    }

    /// The static metadata of a generated span's callsite: what
    /// `tracing::span!` builds, as one `const fn` instead of a macro in every
    /// expansion. `fields` is the kind's field list, then the user's.
    pub const fn span_meta(
        name: &'static str,
        target: &'static str,
        level: tracing::Level,
        file: &'static str,
        line: u32,
        fields: &'static [&'static str],
        callsite: &'static tracing::callsite::DefaultCallsite,
    ) -> tracing::Metadata<'static> {
        tracing::Metadata::new(
            name,
            target,
            level,
            Some(file),
            Some(line),
            Some(target),
            tracing::field::FieldSet::new(fields, tracing::callsite::Identifier(callsite)),
            tracing::metadata::Kind::SPAN,
        )
    }
}
