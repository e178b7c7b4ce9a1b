//! The GenAI span bridge, part of [`crate::layer()`]: a span from any library
//! that follows the OpenTelemetry GenAI conventions (rig, genai's `otel`
//! feature, ...) becomes an obs call when it closes.
//!
//! * `gen_ai.operation.name` = `chat`, `text_completion`, `generate_content`,
//!   `embeddings` (and rig's older `chat_streaming`, `interactions*`, as
//!   `chat`): a model call, with the tokens of `gen_ai.usage.input_tokens`,
//!   `output_tokens`, `cache_read.input_tokens`, `cache_creation.input_tokens`
//!   and `reasoning.output_tokens` (rig's `reasoning_tokens`; the deprecated
//!   `prompt_tokens` / `completion_tokens` too), priced from the catalogue by
//!   `gen_ai.response.model` when the table knows it, else by
//!   `gen_ai.request.model` (that name is the `model` label), with
//!   `gen_ai.response.time_to_first_chunk` as the time to first token;
//! * `execute_tool`: a tool call named by `gen_ai.tool.name`;
//! * `invoke_agent`: an agent run named by `gen_ai.agent.name`, started as
//!   soon as the span has that name (so it is in
//!   `agent_executions_in_flight` while the span is open); while such a
//!   span is entered, its agent is obs's current agent (the `agent` label of
//!   the calls and log lines inside it).
//!
//! Each is recorded through [`crate::track`], the path the macros take:
//! metrics, cost, ledger and soft budgets (a finished span cannot be
//! refused), under the agent current when the span was created, timed from
//! the span's creation to its close. The status is `error` when the span has
//! `error.type` (or rig's `gen_ai.tool.error.type`) or `otel.status_code`
//! `ERROR`, with that `error.type`; a model span of rig's (target `rig*`)
//! that closes without any response field (id, model, usage) is rig 0.44's
//! failed call, `error` with `error.type` `_OTHER`; else `success`.
//!
//! **No double counting.** A foreign span of a model call is not counted
//! when an obs model call (`#[track_llm_call]` or an entered
//! [`crate::track::ModelCall`]) is the innermost obs call where it is
//! created: that call counts it. The same holds for tools, and, the other
//! way round, for a foreign model or tool span inside which an obs call of
//! the same kind ran directly (an obs `#[track_tool]` that rig's
//! `execute_tool` span wraps counts; the span does not). A foreign
//! `invoke_agent` inside an obs agent of the same name is that agent.
//!
//! **Cost.** Whether a callsite is a GenAI span (it declares
//! `gen_ai.operation.name` and is not obs's own) is decided once per
//! callsite and kept in a lock-free table of callsites; any other span or
//! event costs one check of that table (spans) or nothing (events). GenAI
//! spans at `INFO` and above are seen whatever `RUST_LOG` and
//! `OBS_LOG_SPANS` say (obs's other layers still filter them for logs and
//! traces); lower levels only when some layer enables them.

use crate::context::{self, current_agent, Agent, AgentScope, ForeignSaved};
use crate::status::Outcome;
use crate::track::{self, Operation};
use crate::usage::{LlmUsage, TokenUsage};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Slots of the table of GenAI callsites (a power of two).
const SLOTS: usize = 1024;
/// Callsites kept before the table counts as full (then every span with
/// the field is checked by name, still correct).
const MAX_CALLSITES: usize = SLOTS / 2;

/// Addresses of the `Metadata` of GenAI span callsites; 0 is empty.
static CALLSITES: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static CALLSITE_COUNT: AtomicUsize = AtomicUsize::new(0);
static CALLSITES_FULL: AtomicBool = AtomicBool::new(false);

/// A GenAI span of another library: declares `gen_ai.operation.name`, and
/// not `obs.status` (obs's own spans are counted by their calls).
fn is_genai(meta: &Metadata<'_>) -> bool {
    meta.is_span()
        && meta.fields().field(crate::semconv::GEN_AI_OPERATION_NAME).is_some()
        && meta.fields().field(crate::semconv::OBS_STATUS).is_none()
}

fn slot_of(addr: usize) -> usize {
    // Metadata are statics: the low bits are alignment, mix the rest.
    (addr >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) >> (usize::BITS - SLOTS.trailing_zeros())
}

fn remember(meta: &'static Metadata<'static>) {
    let addr = meta as *const Metadata<'static> as usize;
    let mut i = slot_of(addr);
    loop {
        match CALLSITES[i].compare_exchange(0, addr, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                if CALLSITE_COUNT.fetch_add(1, Ordering::Relaxed) + 1 >= MAX_CALLSITES {
                    CALLSITES_FULL.store(true, Ordering::Relaxed);
                }
                return;
            }
            Err(a) if a == addr => return,
            Err(_) => i = (i + 1) & (SLOTS - 1),
        }
        if CALLSITES_FULL.load(Ordering::Relaxed) {
            return;
        }
    }
}

fn known(meta: &Metadata<'_>) -> bool {
    let addr = meta as *const Metadata<'_> as usize;
    let mut i = slot_of(addr);
    for _ in 0..SLOTS {
        match CALLSITES[i].load(Ordering::Acquire) {
            0 => return false,
            a if a == addr => return true,
            _ => i = (i + 1) & (SLOTS - 1),
        }
    }
    false
}

/// The bridge's per-layer filter: GenAI spans only, whatever the other
/// filters say. Its level hint is the log filter's, raised to `INFO`:
/// `tracing` combines the layers' hints so that a lower one would disable
/// the log part's lines (and a higher one would cost every disabled
/// `debug!` an interest check).
struct GenAiFilter {
    log_hint: fn() -> Option<LevelFilter>,
}

impl<S> Filter<S> for GenAiFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        if !meta.is_span() {
            return false;
        }
        known(meta) || (CALLSITES_FULL.load(Ordering::Relaxed) && is_genai(meta))
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_genai(meta) {
            remember(meta);
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some((self.log_hint)().map_or(LevelFilter::INFO, |h| h.max(LevelFilter::INFO)))
    }
}

/// What a foreign GenAI span said, kept in its extensions.
#[derive(Default)]
struct GenAiSpan {
    operation: Option<String>,
    request_model: Option<String>,
    response_model: Option<String>,
    provider: Option<String>,
    agent_name: Option<String>,
    tool_name: Option<String>,
    usage: TokenUsage,
    ttft_secs: Option<f64>,
    error_type: Option<String>,
    status_error: bool,
    /// Opened by rig (its target starts with `rig`).
    rig: bool,
    /// A response field was recorded: id, model or any usage.
    responded: bool,
    /// When a span of rig's was last exited: its model call's end (rig keeps
    /// the span open while the turn's tools run, entered only while it talks
    /// to the model).
    last_exit: Option<quanta::Instant>,
    /// When it was created, and what was current then.
    created: Option<quanta::Instant>,
    agent: Option<Agent>,
    innermost: u8,
    /// An obs call of its kind ran directly inside it.
    covered: bool,
    /// An agent run, started as soon as its name is known (so it is in
    /// `agent_executions_in_flight` while the span is open).
    run: Option<crate::call::Call>,
}

fn number(v: &str) -> Option<u64> {
    v.trim().parse::<u64>().ok().or_else(|| v.trim().parse::<f64>().ok().filter(|f| *f >= 0.0).map(|f| f as u64))
}

impl GenAiSpan {
    fn set_u64(&mut self, name: &str, v: u64) {
        if name.starts_with("gen_ai.usage.") {
            self.responded = true;
        }
        let u = &mut self.usage;
        match name {
            "gen_ai.usage.input_tokens" | "gen_ai.usage.prompt_tokens" => u.input = Some(v),
            "gen_ai.usage.output_tokens" | "gen_ai.usage.completion_tokens" => u.output = Some(v),
            "gen_ai.usage.cache_read.input_tokens" => u.cache_read = Some(v),
            "gen_ai.usage.cache_creation.input_tokens" => u.cache_creation = Some(v),
            "gen_ai.usage.reasoning.output_tokens" | "gen_ai.usage.reasoning_tokens" => u.reasoning = Some(v),
            crate::semconv::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK => self.ttft_secs = Some(v as f64),
            _ => {}
        }
    }

    fn set_str(&mut self, name: &str, v: &str) {
        let keep = |slot: &mut Option<String>| {
            if !v.is_empty() {
                *slot = Some(crate::metrics::registry::cut(v, 256).into_owned());
            }
        };
        match name {
            crate::semconv::GEN_AI_OPERATION_NAME => keep(&mut self.operation),
            crate::semconv::GEN_AI_REQUEST_MODEL => keep(&mut self.request_model),
            crate::semconv::GEN_AI_RESPONSE_MODEL | "gen_ai.response.model_name" => {
                self.responded = true;
                keep(&mut self.response_model)
            }
            "gen_ai.response.id" => self.responded |= !v.is_empty(),
            crate::semconv::GEN_AI_PROVIDER_NAME => keep(&mut self.provider),
            "gen_ai.system" if self.provider.is_none() => keep(&mut self.provider),
            crate::semconv::GEN_AI_AGENT_NAME => keep(&mut self.agent_name),
            crate::semconv::GEN_AI_TOOL_NAME => keep(&mut self.tool_name),
            crate::semconv::ERROR_TYPE | "gen_ai.tool.error.type" => keep(&mut self.error_type),
            crate::semconv::OTEL_STATUS_CODE => self.status_error = v.eq_ignore_ascii_case("error"),
            crate::semconv::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK => {
                self.ttft_secs = v.trim().parse::<f64>().ok();
            }
            n if n.starts_with("gen_ai.usage.") => {
                if let Some(x) = number(v) {
                    self.set_u64(n, x);
                }
            }
            _ => {}
        }
    }
}

impl Visit for GenAiSpan {
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.set_u64(f.name(), v);
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        if let Ok(v) = u64::try_from(v) {
            self.set_u64(f.name(), v);
        }
    }
    fn record_f64(&mut self, f: &Field, v: f64) {
        if f.name() == crate::semconv::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK {
            self.ttft_secs = Some(v);
        } else if v.is_finite() && v >= 0.0 {
            self.set_u64(f.name(), v as u64);
        }
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        self.set_str(f.name(), v);
    }
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        let name = f.name();
        if name.starts_with("gen_ai.usage.")
            || matches!(
                name,
                crate::semconv::GEN_AI_OPERATION_NAME
                    | crate::semconv::GEN_AI_REQUEST_MODEL
                    | crate::semconv::GEN_AI_RESPONSE_MODEL
                    | "gen_ai.response.model_name"
                    | "gen_ai.response.id"
                    | crate::semconv::GEN_AI_PROVIDER_NAME
                    | "gen_ai.system"
                    | crate::semconv::GEN_AI_AGENT_NAME
                    | crate::semconv::GEN_AI_TOOL_NAME
                    | crate::semconv::ERROR_TYPE
                    | "gen_ai.tool.error.type"
                    | crate::semconv::OTEL_STATUS_CODE
                    | crate::semconv::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
            )
        {
            let s = format!("{v:?}");
            self.set_str(name, s.trim_matches('"'));
        }
    }
}

/// What kind of obs call a foreign span is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Model(Operation),
    Tool,
    Agent,
}

fn kind_of(operation: Option<&str>) -> Option<Kind> {
    Some(match operation? {
        "execute_tool" => Kind::Tool,
        "invoke_agent" => Kind::Agent,
        // rig's names before 0.44 (streaming is a delivery mode, not an operation).
        "chat_streaming" | "interactions" | "interactions_streaming" => Kind::Model(Operation::Chat),
        "retrieval" => return None,
        op => Kind::Model(Operation::parse(op)?),
    })
}

fn call_kind(k: Kind) -> u8 {
    match k {
        Kind::Model(_) => context::CALL_MODEL,
        Kind::Tool => context::CALL_TOOL,
        Kind::Agent => context::CALL_AGENT,
    }
}

/// What entering a foreign span changed on this thread.
struct Entered {
    id: Id,
    _agent: Option<AgentScope>,
    foreign: Option<ForeignSaved>,
}

thread_local! {
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

/// The bridge layer.
struct Bridge;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Bridge {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut rec = GenAiSpan::default();
        attrs.record(&mut rec);
        rec.rig = attrs.metadata().target().starts_with("rig");
        rec.created = Some(quanta::Instant::now());
        rec.agent = Some(current_agent());
        rec.innermost = context::innermost_call();
        start_agent_run(&mut rec);
        span.extensions_mut().insert(rec);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(rec) = ext.get_mut::<GenAiSpan>() {
            values.record(rec);
            start_agent_run(rec);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let (kind, agent) = {
            let ext = span.extensions();
            let Some(rec) = ext.get::<GenAiSpan>() else { return };
            (kind_of(rec.operation.as_deref()), rec.agent_name.as_deref().map(Agent::intern))
        };
        let entered = match kind {
            Some(Kind::Agent) => Entered { id: id.clone(), _agent: agent.map(AgentScope::enter), foreign: None },
            Some(k) => Entered { id: id.clone(), _agent: None, foreign: Some(context::foreign_enter(call_kind(k))) },
            None => Entered { id: id.clone(), _agent: None, foreign: None },
        };
        let _ = ENTERED.try_with(|e| e.borrow_mut().push(entered));
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let popped = ENTERED
            .try_with(|e| {
                let mut e = e.borrow_mut();
                let at = e.iter().rposition(|x| x.id == *id)?;
                Some(e.remove(at))
            })
            .ok()
            .flatten();
        let Some(entered) = popped else { return };
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            if let Some(rec) = ext.get_mut::<GenAiSpan>().filter(|r| r.rig) {
                rec.last_exit = Some(quanta::Instant::now());
            }
        }
        if let Some(saved) = entered.foreign {
            if context::foreign_exit(saved) {
                if let Some(span) = ctx.span(id) {
                    let mut ext = span.extensions_mut();
                    if let Some(rec) = ext.get_mut::<GenAiSpan>() {
                        rec.covered = true;
                    }
                }
            }
        }
        // `entered._agent` restores the previous agent here.
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let rec = {
            let Some(span) = ctx.span(&id) else { return };
            let mut ext = span.extensions_mut();
            ext.remove::<GenAiSpan>()
        };
        if let Some(rec) = rec {
            record(rec);
        }
    }
}

/// The response as the model-call layer reads it.
struct Reported<'a> {
    usage: TokenUsage,
    response_model: Option<&'a str>,
}

impl LlmUsage for Reported<'_> {
    fn usage(&self) -> Option<TokenUsage> {
        Some(self.usage)
    }
    fn response_model(&self) -> Option<&str> {
        self.response_model
    }
}

/// Whether an obs call counts the foreign span `rec` (see the module's
/// "No double counting").
fn duplicate(rec: &GenAiSpan, kind: Kind) -> bool {
    let agent = rec.agent.unwrap_or(Agent::NONE);
    match kind {
        Kind::Agent => rec.innermost == context::CALL_AGENT && rec.agent_name.as_deref() == Some(agent.name()),
        _ => rec.innermost == call_kind(kind) || rec.covered,
    }
}

/// Starts the agent run of an `invoke_agent` span once its name is known
/// (at creation, or when recorded later), under the agent current at the
/// span's creation: it is then in flight until the span closes.
fn start_agent_run(rec: &mut GenAiSpan) {
    if rec.run.is_some() || !crate::call::enabled() || kind_of(rec.operation.as_deref()) != Some(Kind::Agent) {
        return;
    }
    let Some(name) = rec.agent_name.as_deref() else { return };
    if duplicate(rec, Kind::Agent) {
        return;
    }
    let _agent = AgentScope::enter(rec.agent.unwrap_or(Agent::NONE));
    let mut call = track::start_agent(name, Some(tracing::Span::none()));
    if let Some(start) = rec.created {
        call.started_at(start);
    }
    rec.run = Some(call);
}

/// Turns a closed foreign span into an obs call, unless an obs call counts it.
fn record(mut rec: GenAiSpan) {
    let run = rec.run.take();
    if !crate::call::enabled() && run.is_none() {
        return;
    }
    let Some(kind) = kind_of(rec.operation.as_deref()) else { return };
    let agent = rec.agent.unwrap_or(Agent::NONE);
    if run.is_none() && duplicate(&rec, kind) {
        return;
    }
    // rig (0.44) marks a failed model call's span with nothing: it closes
    // without any response field (id, model, usage), which a reply always
    // sets. `_OTHER` is the conventions' error.type for an unknown error.
    let rig_failed = rec.rig && matches!(kind, Kind::Model(_)) && !rec.responded;
    let outcome = if rec.error_type.is_some() || rec.status_error {
        Outcome::Error(track::error_type(rec.error_type.as_deref().unwrap_or("error")))
    } else if rig_failed {
        Outcome::Error(track::error_type("_OTHER"))
    } else {
        Outcome::Success
    };
    // Counted under the agent current where the span was created.
    let _agent = AgentScope::enter(agent);
    match kind {
        Kind::Model(op) => {
            let request = rec.request_model.as_deref().or(rec.response_model.as_deref()).unwrap_or("unknown");
            let provider_given = rec.provider.as_deref();
            let priced = |m: &str| crate::pricing::price_for(m, provider_given).is_some();
            let model = match rec.response_model.as_deref() {
                Some(r) if r != request && priced(r) => r,
                _ => request,
            };
            let provider = provider_given.unwrap_or_else(|| crate::provider::infer_provider(model));
            let mut call = track::start_llm(op, false, model, provider, Some(tracing::Span::none()));
            match (rec.created, rec.last_exit) {
                // rig: from creation to the last exit. The call ends now, so
                // its start moves by the time the span stayed open after.
                (Some(start), Some(end)) if end >= start => {
                    call.started_at(quanta::Instant::now() - end.duration_since(start))
                }
                (Some(start), _) => call.started_at(start),
                _ => {}
            }
            if let Some(s) = rec.ttft_secs.filter(|s| s.is_finite() && *s >= 0.0) {
                call.record_ttft_ns((s * 1e9) as u64);
            }
            let reported = Reported { usage: rec.usage, response_model: rec.response_model.as_deref() };
            call.finish_llm(outcome, &reported);
        }
        Kind::Tool => {
            let mut call =
                track::start_tool(rec.tool_name.as_deref().unwrap_or("unknown"), Some(tracing::Span::none()));
            if let Some(start) = rec.created {
                call.started_at(start);
            }
            call.finish(outcome);
        }
        Kind::Agent => {
            // Started when its name was known; a span that never named its
            // agent is counted now, as `unknown`.
            let call = run.unwrap_or_else(|| {
                let mut call = track::start_agent("unknown", Some(tracing::Span::none()));
                if let Some(start) = rec.created {
                    call.started_at(start);
                }
                call
            });
            call.finish(outcome);
        }
    }
}

/// The bridge with its filter, as [`crate::layer()`] adds it; `log_hint`
/// is the level hint of obs's log filter.
pub(crate) fn layer<S>(log_hint: fn() -> Option<LevelFilter>) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    Bridge.with_filter(GenAiFilter { log_hint })
}
