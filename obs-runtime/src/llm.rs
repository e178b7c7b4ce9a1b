//! The model-call layer, on top of the call layer: what a model call records
//! beyond calls and duration (tokens, cost, the GenAI semconv histograms, the
//! ledger, budgets), and the stream wrapper.
//!
//! It plugs into the call layer as an [`Extension`]: a model call's site is a
//! [`LlmSite`] (`Site<Llm>`), whose handles are resolved with the site's other
//! series (once per site and agent) and whose call guard is a [`LlmCall`].
//!
//! A warm model call takes no lock and touches no reference count shared by
//! threads: the price is a `&'static ModelPrice` cached per site and
//! re-resolved only when the pricing table changes (its generation), and the
//! `error_type`-labelled duration series are cached per site in a few
//! lock-free slots ([`ERROR_SLOTS`]; a site that fails with more distinct
//! error types than that looks the others up in the registry, whose family
//! lock it then takes). The ledger and budgets it feeds document their own
//! synchronisation (a per-shard ring; atomics).

use crate::call::{Call, Extension, Labels, Site};
use crate::context::Agent;
use crate::metrics::cells::{shard, CounterCells, HistogramCells};
use crate::metrics::names;
use crate::pricing::{self, CostOptions, ModelPrice};
use crate::slot::Slot;
use crate::status::{Outcome, Status};
use crate::usage::{LlmChunk, LlmUsage, TokenUsage};
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

/// The model-call extension of the call layer.
pub struct Llm;

impl Extension for Llm {
    type Series = LlmSeries;

    fn resolve(labels: &Labels<'_>) -> LlmSeries {
        let extra: Vec<(&str, &str)> = labels.extra().map(|n| (n, labels.value(n))).collect();
        let info = labels.info();
        LlmSeries::resolve(
            labels.value("model"),
            labels.provider(),
            info.operation().unwrap_or("chat"),
            info.batch(),
            labels.agent(),
            &extra,
        )
    }
}

/// The call site of a `#[track_llm_call]` function.
pub type LlmSite = Site<Llm>;

/// The call guard of a model call.
pub type LlmCall = Call<Llm>;

static HIGH_COST_PICO: AtomicU64 = AtomicU64::new(pricing::PICO_PER_USD);

/// Calls costing more than this log a `high-cost model call` warning
/// (default $1; `OBS_HIGH_COST_USD`).
pub(crate) fn set_high_cost_threshold_usd(usd: f64) {
    if usd.is_finite() && usd >= 0.0 {
        HIGH_COST_PICO.store((usd * pricing::PICO_PER_USD as f64) as u64, Ordering::Relaxed);
    }
}

/// Distinct model and provider names kept as `&'static str`; past it, names
/// share the overflow label (they are metric label values, already capped).
const INTERN_LIMIT: usize = 4096;

/// A `&'static` copy of a model or provider name, made once per name when a
/// call site resolves its series, so a call copies a pointer instead of
/// touching a shared reference count.
fn intern(s: &str) -> &'static str {
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let set = names.get_or_insert_with(HashSet::new);
    if let Some(n) = set.get(s) {
        return n;
    }
    if set.len() >= INTERN_LIMIT {
        return crate::metrics::registry::OVERFLOW_VALUE;
    }
    let leaked: &'static str = Box::leak(s.into());
    set.insert(leaked);
    leaked
}

/// Token types of `llm_tokens_total`, in index order.
pub const TOKEN_TYPES: [&str; 5] = ["input", "output", "cache_read", "cache_creation", "reasoning"];

/// A site's price as of one pricing-table generation. Published once per
/// site per generation and never freed, so the `Arc` it holds keeps the
/// price alive and calls borrow it as `&'static`.
struct PriceCache {
    generation: u64,
    price: Option<Arc<ModelPrice>>,
    /// The price's rates for this site (batch or not) when they do not
    /// depend on the call (no context tiers, no off-peak windows): then a
    /// call's cost is six multiplications.
    flat: Option<[u64; 6]>,
}

/// Distinct `error_type` values whose duration series a site caches.
pub const ERROR_SLOTS: usize = 8;

/// One cached `error_type`-labelled duration series.
struct ErrorSeries {
    error_type: &'static str,
    duration: &'static HistogramCells,
}

/// The model-call handles of one call site and agent.
pub struct LlmSeries {
    model: &'static str,
    provider: &'static str,
    /// The same, as the ledger keeps them.
    names: &'static crate::ledger::Names,
    operation: &'static str,
    batch: bool,
    tokens: [&'static CounterCells; 5],
    cost: &'static CounterCells,
    genai_tokens: [&'static HistogramCells; 2],
    genai_duration: &'static HistogramCells,
    ttft: &'static HistogramCells,
    unpriced: &'static CounterCells,
    missing: &'static CounterCells,
    incomplete: &'static CounterCells,
    price: Slot<PriceCache>,
    errors: [Slot<ErrorSeries>; ERROR_SLOTS],
    warned_unpriced: AtomicBool,
}

impl LlmSeries {
    fn resolve(
        model: &str,
        provider: &str,
        operation: &'static str,
        batch: bool,
        agent: Agent,
        extra: &[(&str, &str)],
    ) -> Self {
        fn join<'a>(base: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
            base.iter().chain(extra).copied().collect()
        }
        let tokens = TOKEN_TYPES.map(|t| {
            names::LLM_TOKENS
                .family()
                .series(&join(&[("agent", agent.name()), ("model", model), ("provider", provider), ("type", t)], extra))
                .counter()
        });
        let cost = names::LLM_COST
            .family()
            .series(&join(&[("agent", agent.name()), ("model", model), ("provider", provider)], extra))
            .counter();
        let genai = |t: &str| {
            names::GENAI_TOKEN_USAGE
                .family()
                .series(&[
                    ("gen_ai_operation_name", operation),
                    ("gen_ai_provider_name", provider),
                    ("gen_ai_request_model", model),
                    ("gen_ai_token_type", t),
                ])
                .histogram()
        };
        let mp = [("model", model), ("provider", provider)];
        let (model_name, provider_name) = (intern(model), intern(provider));
        LlmSeries {
            model: model_name,
            provider: provider_name,
            names: crate::ledger::names(model_name, provider_name),
            operation,
            batch,
            tokens,
            cost,
            genai_tokens: [genai("input"), genai("output")],
            genai_duration: genai_duration(operation, provider, model, None),
            ttft: names::LLM_TTFT.family().series(&mp).histogram(),
            unpriced: names::LLM_UNPRICED.family().series(&mp).counter(),
            missing: names::LLM_NO_USAGE.family().series(&[mp[0], mp[1], ("usage", "missing")]).counter(),
            incomplete: names::LLM_NO_USAGE.family().series(&[mp[0], mp[1], ("usage", "incomplete")]).counter(),
            price: Slot::new(),
            errors: std::array::from_fn(|_| Slot::new()),
            warned_unpriced: AtomicBool::new(false),
        }
    }

    /// The model's price, borrowed from the site's cache: a pointer copy, no
    /// lock and no reference count, unless the pricing table changed.
    #[inline]
    fn price(&self) -> &'static PriceCache {
        let generation = pricing::generation();
        match self.price.get() {
            Some(c) if c.generation == generation => c,
            _ => self.refresh_price(generation),
        }
    }

    #[cold]
    #[inline(never)]
    fn refresh_price(&self, generation: u64) -> &'static PriceCache {
        // One small leak per site per pricing-table change (rare by nature).
        let provider = Some(self.provider).filter(|p| *p != "unknown");
        let price = pricing::price_for(self.model, provider);
        if let Some(date) = price.as_ref().and_then(|p| p.deprecation_date.as_deref()) {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            if pricing::is_past(date, now) {
                warn_deprecated_once(self.model, self.provider, date);
            }
        }
        let flat = price.as_ref().and_then(|p| p.flat_rates(self.batch));
        self.price.publish(PriceCache { generation, price, flat })
    }

    /// The `error_type`-labelled duration series: from the site's slots, or
    /// resolved into a free slot, or (all slots taken by other error types)
    /// looked up in the registry.
    #[inline]
    fn error_duration(&self, error_type: &'static str) -> &'static HistogramCells {
        for slot in &self.errors {
            match slot.get() {
                // Type names of one type usually share one address; compare
                // the text only when they do not.
                Some(e) if std::ptr::eq(e.error_type, error_type) || e.error_type == error_type => return e.duration,
                Some(_) => continue,
                None => return self.fill_error_slot(slot, error_type),
            }
        }
        genai_duration(self.operation, self.provider, self.model, Some(error_type))
    }

    #[cold]
    #[inline(never)]
    fn fill_error_slot(&self, slot: &Slot<ErrorSeries>, error_type: &'static str) -> &'static HistogramCells {
        let duration = genai_duration(self.operation, self.provider, self.model, Some(error_type));
        // Another thread may fill the slot with another type first; this
        // call's series is right either way (a later call takes the next slot).
        slot.get_or_publish(ErrorSeries { error_type, duration });
        duration
    }

    fn record_ttft(&self, ns: u64) {
        self.ttft.record_int(shard(), ns);
    }
}

fn genai_duration(operation: &str, provider: &str, model: &str, error_type: Option<&str>) -> &'static HistogramCells {
    let base =
        [("gen_ai_operation_name", operation), ("gen_ai_provider_name", provider), ("gen_ai_request_model", model)];
    let f = names::GENAI_DURATION.family();
    match error_type {
        None => f.series(&base),
        Some(e) => f.series(&[base[0], base[1], base[2], ("error_type", e)]),
    }
    .histogram()
}

/// How a call's usage is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UsageState {
    Reported(TokenUsage),
    /// The call succeeded and reported none.
    Missing,
    /// A stream ended (or was dropped) before its usage chunk.
    Incomplete,
    /// A failed call: no usage expected.
    NotApplicable,
}

/// Everything recorded at the end of a model call.
struct LlmEnd<'a> {
    status: Status,
    error_type: Option<&'static str>,
    elapsed_ns: u64,
    /// When the call ended (its `quanta` clock read), when it was timed.
    ended: Option<quanta::Instant>,
    usage: UsageState,
    response_model: Option<&'a str>,
    finish_reasons: &'a dyn Fn() -> Vec<String>,
    /// `gen_ai.response.id`, kept by the ledger for evaluations.
    response_id: Option<&'a str>,
}

/// One warning per model whose provider has retired it (or announced the
/// date, now past): its calls still count and are priced at the last rate.
fn warn_deprecated_once(model: &str, provider: &str, date: &str) {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen.get_or_insert_with(HashSet::new).insert(model.to_string()) {
        tracing::warn!(
            target: "obs_runtime::cost",
            model,
            provider,
            deprecation_date = date,
            "model `{model}` was deprecated on {date}: the provider may stop serving it or bill it differently; its cost uses the last known price"
        );
    }
}

fn warn_unpriced_once(model: &str, provider: &str) {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen.get_or_insert_with(HashSet::new).insert(model.to_string()) {
        if let Some(hosts) = pricing::unpriced_reason(model, Some(provider).filter(|p| *p != "unknown")) {
            let hosts = hosts.join(", ");
            tracing::warn!(
                target: "obs_runtime::cost",
                model,
                provider,
                "model `{model}` has no price: several hosts serve it at different prices ({hosts}); name the host with `provider = \"<host>\"` or a host-qualified model name (`<host>/{model}`); its calls count in llm_unpriced_calls_total"
            );
            return;
        }
        tracing::warn!(
            target: "obs_runtime::cost",
            model,
            provider,
            "model `{model}` has no price: its calls count in llm_unpriced_calls_total and their cost is unknown (not $0); add it with a pricing file (OBS_PRICING_FILE) or obs_runtime::pricing::set_price"
        );
    }
}

impl Call<Llm> {
    /// Records a model call's outcome and what its return value reports
    /// (tokens, cost, response model, finish reasons).
    #[inline]
    pub fn finish_llm(mut self, outcome: Outcome, ret: &dyn LlmUsage) {
        self.complete_llm(outcome, ret);
    }

    /// [`finish_llm`](Call::finish_llm) in place: the guard drops as done. A
    /// second completion records nothing.
    pub(crate) fn complete_llm(&mut self, outcome: Outcome, ret: &dyn LlmUsage) {
        if self.is_done() {
            return;
        }
        let (status, error_type) = outcome.status();
        let elapsed = self.end(status, error_type);
        let usage = match (status, ret.usage()) {
            (_, Some(u)) if u.is_reported() => UsageState::Reported(u),
            (Status::Success, _) => UsageState::Missing,
            _ => UsageState::NotApplicable,
        };
        self.end_llm(LlmEnd {
            status,
            error_type,
            elapsed_ns: elapsed.unwrap_or(0),
            ended: self.ended(elapsed),
            usage,
            response_model: ret.response_model(),
            finish_reasons: &|| ret.finish_reasons().into_iter().map(str::to_string).collect(),
            response_id: ret.response_id(),
        });
    }

    /// Records a model call that reports no usage (`usage = none`, or an
    /// `Err` before a stream started).
    #[inline]
    pub fn finish_llm_unreported(mut self, outcome: Outcome) {
        self.complete_llm_unreported(outcome);
    }

    /// [`finish_llm_unreported`](Call::finish_llm_unreported) in place.
    pub(crate) fn complete_llm_unreported(&mut self, outcome: Outcome) {
        if self.is_done() {
            return;
        }
        let (status, error_type) = outcome.status();
        let elapsed = self.end(status, error_type);
        self.end_llm(LlmEnd {
            status,
            error_type,
            elapsed_ns: elapsed.unwrap_or(0),
            ended: self.ended(elapsed),
            usage: UsageState::NotApplicable,
            response_model: None,
            finish_reasons: &Vec::new,
            response_id: None,
        });
    }

    fn finish_stream(
        mut self,
        status: Status,
        usage: UsageState,
        response_model: Option<&str>,
        finish_reasons: &dyn Fn() -> Vec<String>,
        response_id: Option<&str>,
    ) {
        let elapsed = self.end(status, None);
        self.end_llm(LlmEnd {
            status,
            error_type: None,
            elapsed_ns: elapsed.unwrap_or(0),
            ended: self.ended(elapsed),
            usage,
            response_model,
            finish_reasons,
            response_id,
        });
    }

    /// The instant the call ended: its start plus its duration, so no clock
    /// is read again.
    fn ended(&self, elapsed_ns: Option<u64>) -> Option<quanta::Instant> {
        Some(self.started()? + std::time::Duration::from_nanos(elapsed_ns?))
    }

    fn end_llm(&self, end: LlmEnd<'_>) {
        if let Some(l) = self.ext() {
            record_end(l, self.agent(), self.span(), end);
        }
    }

    /// Records a time to first token measured elsewhere (a bridged span's
    /// `gen_ai.response.time_to_first_chunk`).
    #[cfg(feature = "logs")]
    pub(crate) fn record_ttft_ns(&self, ns: u64) {
        if let Some(l) = self.ext() {
            l.record_ttft(ns);
        }
    }

    /// Marks the first content chunk of a streamed call.
    pub(crate) fn record_first_token(&self) {
        let Some(ns) = self.elapsed_ns() else { return };
        if let Some(l) = self.ext() {
            l.record_ttft(ns);
        }
        if !self.span().is_disabled() {
            self.span().record(crate::semconv::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ns as f64 * 1e-9);
        }
    }
}

fn record_end(llm: &LlmSeries, agent: Agent, span: &tracing::Span, end: LlmEnd<'_>) {
    let shard = shard();
    match end.error_type {
        None if end.status == Status::Success => llm.genai_duration.record_int(shard, end.elapsed_ns),
        _ => {
            let e = end.error_type.unwrap_or(end.status.as_str());
            llm.error_duration(e).record_int(shard, end.elapsed_ns);
        }
    }
    let mut cost_pico = None;
    match end.usage {
        UsageState::Reported(u) => {
            let counts = [u.input, u.output, u.cache_read, u.cache_creation, u.reasoning];
            for (cell, n) in llm.tokens.iter().zip(counts) {
                if let Some(n) = n {
                    cell.add(shard, n);
                }
            }
            if let Some(n) = u.input {
                llm.genai_tokens[0].record_int(shard, n);
            }
            if let Some(n) = u.output {
                llm.genai_tokens[1].record_int(shard, n);
            }
            let price = llm.price();
            match price.price.as_deref() {
                Some(p) => {
                    let c = match &price.flat {
                        Some(rates) => pricing::cost_of(&pricing::token_parts(&u), rates),
                        None => {
                            let mut opts = CostOptions::batch(llm.batch);
                            if p.off_peak.is_some() {
                                // Only models with off-peak rates read the clock.
                                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
                                opts = opts.at(now.map_or(0, |d| d.as_secs()));
                            }
                            p.cost(&u, opts)
                        }
                    };
                    llm.cost.add(shard, c.pico);
                    cost_pico = Some(c.pico);
                    if c.pico > HIGH_COST_PICO.load(Ordering::Relaxed) {
                        tracing::warn!(
                            target: "obs_runtime::cost",
                            model = llm.model,
                            agent = agent.name(),
                            input_tokens = u.input.unwrap_or(0),
                            output_tokens = u.output.unwrap_or(0),
                            cost_usd = c.usd(),
                            "high-cost model call"
                        );
                    }
                }
                None => {
                    llm.unpriced.add(shard, 1);
                    if !llm.warned_unpriced.swap(true, Ordering::Relaxed) {
                        warn_unpriced_once(llm.model, llm.provider);
                    }
                }
            }
            if !span.is_disabled() {
                let fields: [(&str, Option<u64>); 5] = [
                    (crate::semconv::GEN_AI_USAGE_INPUT_TOKENS, u.input),
                    (crate::semconv::GEN_AI_USAGE_OUTPUT_TOKENS, u.output),
                    (crate::semconv::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, u.cache_read),
                    (crate::semconv::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, u.cache_creation),
                    (crate::semconv::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, u.reasoning),
                ];
                for (f, v) in fields {
                    if let Some(v) = v {
                        span.record(f, v as i64);
                    }
                }
                if let Some(c) = cost_pico {
                    span.record(crate::semconv::OBS_COST_USD, c as f64 / pricing::PICO_PER_USD as f64);
                }
            }
        }
        UsageState::Missing => {
            llm.missing.add(shard, 1);
            span.record(crate::semconv::OBS_USAGE, "missing");
        }
        UsageState::Incomplete => {
            llm.incomplete.add(shard, 1);
            span.record(crate::semconv::OBS_USAGE, "incomplete");
        }
        UsageState::NotApplicable => {}
    }
    if !span.is_disabled() {
        if let Some(m) = end.response_model {
            span.record(crate::semconv::GEN_AI_RESPONSE_MODEL, m);
        }
        let reasons = (end.finish_reasons)();
        if !reasons.is_empty() {
            span.record(crate::semconv::GEN_AI_RESPONSE_FINISH_REASONS, format!("{reasons:?}"));
        }
        // Not a declared field of the macros' spans: set on the
        // OpenTelemetry span, for backends that correlate evaluations by it.
        #[cfg(feature = "logs")]
        if let Some(id) = end.response_id {
            use tracing_opentelemetry::OpenTelemetrySpanExt as _;
            span.set_attribute("gen_ai.response.id", id.to_string());
        }
    }
    let usage = match end.usage {
        UsageState::Reported(u) => Some(u),
        _ => None,
    };
    crate::ledger::record(crate::ledger::Call {
        ended: end.ended,
        agent,
        names: llm.names,
        usage,
        cost_pico,
        duration_ns: end.elapsed_ns,
        status: end.status,
        usage_incomplete: end.usage == UsageState::Incomplete,
        response_id: end.response_id,
        #[cfg(feature = "logs")]
        span: crate::ledger::SpanRef::of(span),
        #[cfg(not(feature = "logs"))]
        span: None,
    });
    if let Some(c) = cost_pico {
        crate::budget::add_cost(agent.name(), llm.model, c);
    }
    crate::conversation::on_model_call(agent, cost_pico);
}

pin_project_lite::pin_project! {
    /// The stream of a `#[track_llm_call(stream)]` function: the call (and its
    /// span) ends when the stream ends or is dropped. The first content chunk
    /// sets the time to first token; usage comes from the chunks (the last
    /// report wins); a stream dropped before its usage chunk is `incomplete`,
    /// never zero tokens.
    pub struct TrackedStream<S> {
        #[pin]
        inner: S,
        state: StreamState,
    }
}

struct StreamState {
    /// The call, until the stream ends; `None` from the start for a quiet call.
    call: Option<LlmCall>,
    ended: bool,
    first: bool,
    usage: Option<TokenUsage>,
    response_model: Option<String>,
    finish_reasons: Vec<String>,
    errored: bool,
    response_id: Option<String>,
}

impl<S> TrackedStream<S> {
    /// Wraps `inner`; the call ends with the stream.
    pub fn new(inner: S, call: LlmCall) -> Self {
        Self::maybe(inner, Some(call))
    }

    /// Wraps `inner`; without a call (a quiet one) the stream is passed
    /// through untouched.
    pub fn maybe(inner: S, call: Option<LlmCall>) -> Self {
        TrackedStream {
            inner,
            state: StreamState {
                call,
                ended: false,
                first: true,
                usage: None,
                response_model: None,
                finish_reasons: Vec::new(),
                errored: false,
                response_id: None,
            },
        }
    }
}

impl StreamState {
    fn end(&mut self, completed: bool) {
        self.ended = true;
        let Some(call) = self.call.take() else { return };
        let reasons = std::mem::take(&mut self.finish_reasons);
        let usage = match (self.usage, completed, self.errored) {
            (Some(u), _, _) => UsageState::Reported(u),
            (None, _, true) => UsageState::NotApplicable,
            (None, true, false) => UsageState::Missing,
            (None, false, false) => UsageState::Incomplete,
        };
        let status = match (completed, self.errored) {
            (_, true) => Status::Error,
            (true, false) => Status::Success,
            (false, false) => Status::Cancelled,
        };
        call.finish_stream(
            status,
            usage,
            self.response_model.as_deref(),
            &move || reasons.clone(),
            self.response_id.as_deref(),
        );
    }

    fn observe<T: LlmChunk>(&mut self, item: &T) {
        if self.first && item.has_content() {
            self.first = false;
            if let Some(call) = &self.call {
                call.record_first_token();
            }
        }
        if let Some(u) = item.usage() {
            self.usage = Some(u);
        }
        if let Some(m) = item.response_model() {
            if self.response_model.as_deref() != Some(m) {
                self.response_model = Some(m.to_string());
            }
        }
        if let Some(r) = item.finish_reason() {
            self.finish_reasons.push(r.to_string());
        }
        if item.is_error() {
            self.errored = true;
        }
        if self.response_id.is_none() {
            self.response_id = item.response_id().map(str::to_string);
        }
    }
}

impl Drop for StreamState {
    fn drop(&mut self) {
        self.end(false);
    }
}

impl<S: futures_core::Stream> futures_core::Stream for TrackedStream<S>
where
    S::Item: LlmChunk,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let state = this.state;
        if state.ended {
            return Poll::Ready(None);
        }
        let polled = match &state.call {
            Some(call) => {
                let _entered = call.enter();
                this.inner.poll_next(cx)
            }
            None => this.inner.poll_next(cx),
        };
        match polled {
            Poll::Ready(Some(item)) => {
                if state.call.is_some() {
                    state.observe(&item);
                }
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                state.end(true);
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A boxed stream as clients return it (`async-openai`'s
/// `ChatCompletionResponseStream`, for one).
pub type BoxedStream<'a, T> = Pin<Box<dyn futures_core::Stream<Item = T> + Send + 'a>>;

/// Wraps the value a streaming function returns: a stream, a boxed stream,
/// or a `Result` of either (an `Err` ends the call as an error at once).
pub trait TrackReturn: Sized {
    /// Wraps `self`, moving the call into the stream.
    fn track(self, call: LlmCall) -> Self;
}

impl<'a, T: LlmChunk + Send + 'a> TrackReturn for BoxedStream<'a, T> {
    fn track(self, call: LlmCall) -> Self {
        Box::pin(TrackedStream::new(self, call))
    }
}

impl<S: TrackReturn, E> TrackReturn for Result<S, E> {
    fn track(self, call: LlmCall) -> Self {
        match self {
            Ok(s) => Ok(s.track(call)),
            Err(e) => {
                call.finish_stream(Status::Error, UsageState::NotApplicable, None, &Vec::new, None);
                Err(e)
            }
        }
    }
}
