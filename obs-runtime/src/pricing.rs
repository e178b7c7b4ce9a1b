//! Model prices and the cost engine.
//!
//! Prices are data: a table shipped with the runtime (`pricing/models.json`,
//! USD per 1M tokens, each entry with its `as_of` date and `source`), which
//! users extend or override from a file (obs's format, or LiteLLM's
//! `model_prices_and_context_window.json`) or in code. A file that does not
//! parse changes nothing and names the file, the entry and the field.
//!
//! Arithmetic is exact: a rate is an integer number of micro-dollars per
//! million tokens, so `tokens * rate` is an integer number of picodollars
//! (1e-12 USD). Costs are only turned into `f64` at export.
//!
//! The shipped table is LiteLLM's whole catalogue of chat, completion,
//! responses and embedding models (about 3,500 entries, each under its host's
//! key), parsed once: by `init()` on a thread of its own (so neither `init()`
//! nor the first priced call waits for it), or else on the first price
//! lookup; every model-call site then keeps its price, so the hot path never
//! looks anything up.
//!
//! Model names resolve the way each provider's API names them
//! ([`obs_shared::lookup_keys`], shared with the macros' compile-time check):
//! the exact key first (a host-qualified key such as `together_ai/..`,
//! `azure/..` or `us.anthropic.claude-..-v1:0` keeps its host's price, a dated
//! snapshot with its own entry keeps its own), then first-party prefixes
//! (`openai/`, `anthropic/`) strip and a maker's bare name finds the maker's
//! key (`grok-4.3` is `xai/grok-4.3`), Bedrock region prefixes and version
//! suffixes, `-latest` and dated suffixes strip, and an OpenAI fine-tune id
//! is priced at its base model's fine-tune rate, never at the base rate.
//! Last, a name as a host's own API takes it (`meta-llama/Llama-3.3-70B-Instruct-Turbo`)
//! finds the host's key (`together_ai/meta-llama/..`); when several hosts
//! serve that name at different prices, only the call's provider decides
//! ([`price_for`]): a third-party host never silently gets another's price.
//!
//! Billing rules are data: batch rates (cached and cache-write tokens
//! included, and per context tier; a tier without its own batch rates keeps
//! the base batch discount), inclusive or exclusive tier bounds, 1-hour cache
//! writes per tier, and off-peak windows ([`OffPeak`]).

use crate::usage::TokenUsage;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, RwLock};

/// The table shipped with this release.
const BUILTIN: &str = include_str!("../pricing/models.json");

/// Bumped whenever the table changes, so caches of prices (each model-call
/// site keeps one) know to refresh.
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The table's generation: changes whenever a price is set or loaded.
pub(crate) fn generation() -> u64 {
    GENERATION.load(std::sync::atomic::Ordering::Acquire)
}

/// Picodollars (1e-12 USD) per dollar.
pub const PICO_PER_USD: u64 = 1_000_000_000_000;

/// Rates of one price tier, in micro-dollars per 1M tokens (= picodollars per token).
///
/// Built from `Rates::default()` with fields set (it is `#[non_exhaustive]`:
/// providers keep adding billing dimensions):
///
/// ```
/// let mut r = obs_runtime::pricing::Rates::default();
/// r.input = 2_500_000; // $2.50 per 1M input tokens
/// r.output = 10_000_000;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rates {
    /// Uncached input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Cache reads (falls back to `input` when absent).
    pub cache_read: Option<u64>,
    /// Cache writes, 5-minute lifetime (falls back to `input`).
    pub cache_write: Option<u64>,
    /// Cache writes, 1-hour lifetime (falls back to `cache_write`).
    pub cache_write_1h: Option<u64>,
    /// Reasoning tokens, when priced apart from output.
    pub reasoning: Option<u64>,
    /// Batch API input.
    pub batch_input: Option<u64>,
    /// Batch API output.
    pub batch_output: Option<u64>,
    /// Batch API cache reads (falls back to `cache_read`).
    pub batch_cache_read: Option<u64>,
    /// Batch API cache writes (falls back to `cache_write`).
    pub batch_cache_write: Option<u64>,
}

/// Rates that apply when a call's input exceeds `above_input_tokens` (or
/// reaches it, when `inclusive`); fields left `None` keep the base rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tier {
    /// Threshold on all input tokens (cached included).
    pub above_input_tokens: u64,
    /// The tier starts at the threshold ("200k tokens and above", xAI)
    /// rather than past it ("over 200k", Google, OpenAI).
    pub inclusive: bool,
    /// Overrides of the base rates.
    pub input: Option<u64>,
    /// Overrides of the base rates.
    pub output: Option<u64>,
    /// Overrides of the base rates.
    pub cache_read: Option<u64>,
    /// Overrides of the base rates.
    pub cache_write: Option<u64>,
    /// Overrides of the base rates.
    pub cache_write_1h: Option<u64>,
    /// The tier's batch rates. When `None` and the tier changes the rate,
    /// the base batch discount (batch rate / rate) applies to the tier's rate.
    pub batch_input: Option<u64>,
    /// See `batch_input`.
    pub batch_output: Option<u64>,
    /// See `batch_input`.
    pub batch_cache_read: Option<u64>,
    /// See `batch_input`.
    pub batch_cache_write: Option<u64>,
}

/// Off-peak rates (DeepSeek: half price outside Beijing business hours) and
/// the UTC windows they apply in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OffPeak {
    /// Input rate off-peak (`None`: the base rate).
    pub input: Option<u64>,
    /// Output rate off-peak.
    pub output: Option<u64>,
    /// Cache-read rate off-peak.
    pub cache_read: Option<u64>,
    /// `(weekdays, start minute, end minute)` in UTC: bit 0 of `weekdays` is
    /// Monday, minutes count from 00:00 and the end is exclusive (1440 = midnight).
    pub windows: Vec<(u8, u16, u16)>,
}

impl OffPeak {
    /// Whether `unix_secs` (UTC) falls in one of the windows.
    pub fn contains(&self, unix_secs: u64) -> bool {
        let days = unix_secs / 86_400;
        // 1970-01-01 was a Thursday: weekday 3 counting Monday as 0.
        let weekday = ((days + 3) % 7) as u8;
        let minute = ((unix_secs % 86_400) / 60) as u16;
        self.windows.iter().any(|&(days, start, end)| days & (1 << weekday) != 0 && start <= minute && minute < end)
    }
}

/// The price of one model: [`ModelPrice::new`], then tiers if it has any.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelPrice {
    /// `gen_ai.provider.name` of the provider.
    pub provider: String,
    /// Base rates.
    pub rates: Rates,
    /// Context-size tiers, ascending.
    pub tiers: Vec<Tier>,
    /// The date the price was taken.
    pub as_of: String,
    /// Where it was taken from.
    pub source: String,
    /// The date (`YYYY-MM-DD`) the provider retires the model, if announced:
    /// a call past it logs one warning.
    pub deprecation_date: Option<String>,
    /// Off-peak rates, for providers that have them.
    pub off_peak: Option<OffPeak>,
}

/// A computed cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Total, in picodollars.
    pub pico: u64,
}

impl Cost {
    /// In US dollars (for export; do not accumulate the f64).
    pub fn usd(self) -> f64 {
        self.pico as f64 / PICO_PER_USD as f64
    }
}

/// Options that change which rates apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CostOptions {
    /// The call went through the provider's batch API.
    pub batch: bool,
    /// When the call was made (UNIX seconds, UTC): picks off-peak rates. The
    /// runtime sets it only for models that have them.
    pub unix_time: Option<u64>,
}

impl Tier {
    /// A tier from `above_input_tokens` on, every rate as the base until set.
    pub fn above(above_input_tokens: u64) -> Tier {
        Tier { above_input_tokens, ..Tier::default() }
    }
}

impl CostOptions {
    /// Priced at the provider's batch rates.
    pub fn batch(batch: bool) -> CostOptions {
        CostOptions { batch, unix_time: None }
    }

    /// Priced at the rates in force at `unix_secs` (off-peak windows).
    pub fn at(self, unix_secs: u64) -> CostOptions {
        CostOptions { unix_time: Some(unix_secs), ..self }
    }
}

impl ModelPrice {
    /// A price with these base rates and no tiers; `as_of` and `source` are
    /// empty (set them to say where the price came from).
    ///
    /// ```
    /// use obs_runtime::pricing::{self, ModelPrice, Rates};
    /// let mut rates = Rates::default();
    /// rates.input = 150_000; // $0.15 per 1M tokens
    /// rates.output = 600_000;
    /// pricing::set_price("acme-ft-7b", ModelPrice::new("acme", rates));
    /// ```
    pub fn new(provider: impl Into<String>, rates: Rates) -> ModelPrice {
        ModelPrice {
            provider: provider.into(),
            rates,
            tiers: Vec::new(),
            as_of: String::new(),
            source: String::new(),
            deprecation_date: None,
            off_peak: None,
        }
    }

    /// The cost of `usage` at these prices, tiers applied as the provider
    /// does (the tier of the whole prompt sets every rate). Cached tokens are
    /// billed at the cache rate and never also at the input rate; reasoning
    /// tokens at the output rate unless priced apart. A batch call takes the
    /// batch rates, for cache reads and writes too, and in a tier the tier's
    /// batch rates or else the base batch discount applied to the tier's rate.
    pub fn cost(&self, usage: &TokenUsage, opts: CostOptions) -> Cost {
        let input = usage.input.unwrap_or(0);
        let mut r = self.rates;
        if let (Some(op), Some(t)) = (&self.off_peak, opts.unix_time) {
            if op.contains(t) {
                r.input = op.input.unwrap_or(r.input);
                r.output = op.output.unwrap_or(r.output);
                r.cache_read = op.cache_read.or(r.cache_read);
            }
        }
        let tier = self.tiers.iter().rev().find(|t| {
            if t.inclusive {
                input >= t.above_input_tokens
            } else {
                input > t.above_input_tokens
            }
        });
        if let Some(t) = tier {
            let base = r;
            let base_read = base.cache_read.unwrap_or(base.input);
            let base_write = base.cache_write.unwrap_or(base.input);
            r.input = t.input.unwrap_or(base.input);
            r.output = t.output.unwrap_or(base.output);
            r.cache_read = t.cache_read.or(base.cache_read);
            r.cache_write = t.cache_write.or(base.cache_write);
            r.cache_write_1h = t.cache_write_1h.or(base.cache_write_1h);
            r.batch_input = tier_batch(t.batch_input, t.input, base.batch_input, base.input);
            r.batch_output = tier_batch(t.batch_output, t.output, base.batch_output, base.output);
            r.batch_cache_read = tier_batch(t.batch_cache_read, t.cache_read, base.batch_cache_read, base_read);
            r.batch_cache_write = tier_batch(t.batch_cache_write, t.cache_write, base.batch_cache_write, base_write);
        }
        cost_of(&token_parts(usage), &part_rates(&r, opts.batch))
    }

    /// The six rates [`cost`](Self::cost) applies (see [`token_parts`]), when
    /// they do not depend on the call: a price without context tiers or
    /// off-peak windows. What a model call's site caches with the price.
    pub(crate) fn flat_rates(&self, batch: bool) -> Option<[u64; 6]> {
        (self.tiers.is_empty() && self.off_peak.is_none()).then(|| part_rates(&self.rates, batch))
    }
}

/// A call's tokens split as they are billed: uncached input, cache reads,
/// 5-minute and 1-hour cache writes, output other than reasoning, reasoning.
/// Cached tokens are part of the input and never billed twice.
#[inline]
pub(crate) fn token_parts(usage: &TokenUsage) -> [u64; 6] {
    let input = usage.input.unwrap_or(0);
    let cache_read = usage.cache_read.unwrap_or(0).min(input);
    let cache_creation = usage.cache_creation.unwrap_or(0).min(input - cache_read);
    let creation_1h = usage.cache_creation_1h.unwrap_or(0).min(cache_creation);
    let output = usage.output.unwrap_or(0);
    let reasoning = usage.reasoning.unwrap_or(0).min(output);
    [
        input - cache_read - cache_creation,
        cache_read,
        cache_creation - creation_1h,
        creation_1h,
        output - reasoning,
        reasoning,
    ]
}

/// The rate of each of [`token_parts`], from `r` (the rates in force).
fn part_rates(r: &Rates, batch: bool) -> [u64; 6] {
    let input_rate = if batch { r.batch_input.unwrap_or(r.input) } else { r.input };
    let output_rate = if batch { r.batch_output.unwrap_or(r.output) } else { r.output };
    let (read_rate, write_rate) = if batch {
        (r.batch_cache_read.or(r.cache_read), r.batch_cache_write.or(r.cache_write))
    } else {
        (r.cache_read, r.cache_write)
    };
    let write_rate = write_rate.unwrap_or(input_rate);
    [
        input_rate,
        read_rate.unwrap_or(input_rate),
        write_rate,
        r.cache_write_1h.unwrap_or(write_rate),
        output_rate,
        r.reasoning.unwrap_or(output_rate),
    ]
}

/// The cost of `parts` at `rates`, in picodollars. In u64 arithmetic while it
/// does not overflow (every real call); else each product in u128 (u64 * u64
/// fits) and their sum saturated, since counts and rates near u64::MAX (rates
/// set in code, counts reported by a provider) must not panic the call.
#[inline]
pub(crate) fn cost_of(parts: &[u64; 6], rates: &[u64; 6]) -> Cost {
    let mut sum = 0u64;
    for (n, r) in parts.iter().zip(rates) {
        match n.checked_mul(*r).and_then(|p| sum.checked_add(p)) {
            Some(s) => sum = s,
            None => {
                let pico = parts
                    .iter()
                    .zip(rates)
                    .fold(0u128, |acc, (&n, &r)| acc.saturating_add(u128::from(n) * u128::from(r)));
                return Cost { pico: u64::try_from(pico).unwrap_or(u64::MAX) };
            }
        }
    }
    Cost { pico: sum }
}

/// A tier's batch rate: its own, else the base batch rate when the tier
/// leaves the rate as it is, else the base batch discount (`base_batch /
/// base_rate`) applied to the tier's rate (OpenAI, Anthropic, Google and xAI
/// keep their batch discount above a context tier).
fn tier_batch(own: Option<u64>, tier_rate: Option<u64>, base_batch: Option<u64>, base_rate: u64) -> Option<u64> {
    match (own, tier_rate, base_batch) {
        (Some(b), _, _) => Some(b),
        (None, None, b) => b,
        (None, Some(t), Some(b)) if base_rate > 0 => {
            u64::try_from(u128::from(t) * u128::from(b) / u128::from(base_rate)).ok()
        }
        _ => None,
    }
}

/// Why a price file was not loaded. The table in force is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PricingError {
    /// The file (or `<built-in>` / `<code>`).
    pub file: String,
    /// The model entry, when the problem is inside one.
    pub entry: Option<String>,
    /// The field, when the problem is one field.
    pub field: Option<String>,
    /// What is wrong and what is expected.
    pub message: String,
    /// The file could not be read at all (missing, a directory, no
    /// permission), as opposed to read and found wrong.
    unreadable: bool,
}

impl PricingError {
    /// Whether the file could not be read at all (missing, a directory, not
    /// readable), rather than read and found wrong: the fix differs.
    pub(crate) fn unreadable(&self) -> bool {
        self.unreadable
    }
}

impl std::fmt::Display for PricingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pricing file `{}`", self.file)?;
        if let Some(e) = &self.entry {
            write!(f, ", entry `{e}`")?;
        }
        if let Some(fld) = &self.field {
            write!(f, ", field `{fld}`")?;
        }
        write!(f, ": {} (the prices in force are unchanged)", self.message)
    }
}

impl std::error::Error for PricingError {}

/// The prices in force, with the two indexes a lookup needs (O(1) each).
#[derive(Default)]
struct Table {
    /// Keys as written in the table or file.
    models: HashMap<String, Arc<ModelPrice>>,
    /// Lowercased key -> price (names are matched case-insensitively).
    lower: HashMap<String, Arc<ModelPrice>>,
    /// Lowercased name on its host's API (the key without its `host/`
    /// segment) -> every `(host, price)` with that name.
    hosts: HashMap<String, Vec<(String, Arc<ModelPrice>)>>,
    /// User-declared aliases ([`alias`]): lowercased name -> the model it is.
    aliases: HashMap<String, String>,
}

impl Table {
    fn insert(&mut self, key: String, price: Arc<ModelPrice>) {
        let lower = key.to_ascii_lowercase();
        if let Some((host, rest)) = obs_shared::host_name(&lower) {
            let list = self.hosts.entry(rest.to_string()).or_default();
            match list.iter_mut().find(|(h, _)| h == host) {
                Some(slot) => slot.1 = price.clone(),
                None => list.push((host.to_string(), price.clone())),
            }
        }
        self.lower.insert(lower, price.clone());
        self.models.insert(key, price);
    }

    fn resolve(&self, model: &str, provider: Option<&str>) -> Resolved {
        let model = match self.aliases.get(&model.to_ascii_lowercase()) {
            Some(target) => target.as_str(),
            None => model,
        };
        let keys = obs_shared::lookup_keys(model);
        for k in &keys {
            // A provider given at the call site picks its own key first.
            if let Some(p) = provider {
                if let Some(price) = self.lower.get(&format!("{p}/{k}").to_ascii_lowercase()) {
                    return Resolved::Priced(price.clone());
                }
            }
            if let Some(price) = self.lower.get(&k.to_ascii_lowercase()) {
                return Resolved::Priced(price.clone());
            }
        }
        // The host index: the name as a host's own API takes it, priced only
        // by a host of the call's provider or, when none is given, of the
        // name's maker (`accounts/fireworks/..` is Fireworks'). A name whose
        // host is not known is never priced at some host's rate, even when
        // only one host in the table serves it (Groq's `llama-3.3-70b-versatile`
        // is not a reseller's): the warning lists the hosts to choose from.
        let maker = provider.or(Some(obs_shared::infer_provider(model)).filter(|p| *p != "unknown"));
        for k in &keys {
            let Some(list) = self.hosts.get(&k.to_ascii_lowercase()) else { continue };
            let Some(p) = maker else {
                return Resolved::Ambiguous(list.iter().map(|(h, _)| h.clone()).collect());
            };
            let matching: Vec<&(String, Arc<ModelPrice>)> =
                list.iter().filter(|(h, price)| h == p || price.provider == p).collect();
            if matching.is_empty() {
                continue;
            }
            if same_rates(&matching) {
                return Resolved::Priced(matching[0].1.clone());
            }
            return Resolved::Ambiguous(matching.iter().map(|(h, _)| h.clone()).collect());
        }
        Resolved::Unknown
    }
}

/// Whether every price in the list bills the same (so which host served
/// the call does not change its cost).
fn same_rates(list: &[&(String, Arc<ModelPrice>)]) -> bool {
    list.windows(2).all(|w| {
        let (a, b) = (&w[0].1, &w[1].1);
        a.rates == b.rates && a.tiers == b.tiers && a.off_peak == b.off_peak
    })
}

/// How a model name resolved.
enum Resolved {
    Priced(Arc<ModelPrice>),
    /// Several hosts serve the name at different prices.
    Ambiguous(Vec<String>),
    Unknown,
}

fn table() -> &'static RwLock<Table> {
    static T: LazyLock<RwLock<Table>> = LazyLock::new(|| {
        // The shipped table is checked by a unit test; should it ever not
        // parse, obs runs with an empty table (every model unpriced, and
        // counted as such) rather than panic in the application.
        let mut t = Table::default();
        for (k, v) in parse(BUILTIN, "<built-in>").unwrap_or_default() {
            t.insert(k, v);
        }
        RwLock::new(t)
    });
    &T
}

/// Max USD per 1M tokens accepted in a price file: a guard against prices
/// written per token or per 1k tokens by mistake being off by 1e6.
const MAX_USD_PER_MILLION: f64 = 100_000.0;

/// Longest entry or field name an error repeats; longer ones are cut.
const SHOWN_NAME_BYTES: usize = 64;

fn err(file: &str, entry: Option<&str>, field: Option<&str>, message: impl Into<String>) -> PricingError {
    // Names come from the file: cut, so a hostile file cannot make a huge error.
    let shown = |s: &str| crate::metrics::registry::cut(s, SHOWN_NAME_BYTES).into_owned();
    PricingError {
        file: file.into(),
        entry: entry.map(shown),
        field: field.map(shown),
        message: message.into(),
        unreadable: false,
    }
}

/// What a value that is not a price is, without repeating it: a price file
/// value can be huge, or a secret pasted into the wrong field.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(_) => "a number".into(),
        Value::String(s) => format!("a string of {} bytes", s.len()),
        Value::Array(a) => format!("a list of {} items", a.len()),
        Value::Object(o) => format!("an object of {} fields", o.len()),
    }
}

/// Reads a USD amount into micro-dollars per 1M tokens; `scale` converts the
/// file's unit to USD per 1M tokens (1 for ours, 1e6 for LiteLLM's per-token).
fn rate(v: &Value, scale: f64, file: &str, entry: &str, field: &str) -> Result<u64, PricingError> {
    let per_million = match v {
        Value::Number(n) => n.as_f64().map(|x| x * scale),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|x| x * scale),
        _ => None,
    };
    match per_million {
        Some(x) if x.is_finite() && (0.0..=MAX_USD_PER_MILLION).contains(&x) => Ok((x * 1e6).round() as u64),
        Some(x) => Err(err(
            file,
            Some(entry),
            Some(field),
            format!("{x} USD per 1M tokens is out of range: expected 0 to {MAX_USD_PER_MILLION}"),
        )),
        None => Err(err(file, Some(entry), Some(field), format!("expected a number of USD, got {}", describe(v)))),
    }
}

fn opt_rate(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    scale: f64,
    file: &str,
    entry: &str,
) -> Result<Option<u64>, PricingError> {
    obj.get(key).filter(|v| !v.is_null()).map(|v| rate(v, scale, file, entry, key)).transpose()
}

fn text(obj: &serde_json::Map<String, Value>, key: &str) -> String {
    obj.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

const OBS_FIELDS: &[&str] = &[
    "provider",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "batch_input",
    "batch_output",
    "batch_cache_read",
    "batch_cache_write",
    "tiers",
    "off_peak",
    "mode",
    "deprecation_date",
    "max_input_tokens",
    "as_of",
    "source",
];

/// Parses obs's format (`{"format": "obs-pricing/1", "models": {...}}`) or
/// LiteLLM's (`{"gpt-4o": {"input_cost_per_token": ..}, ..}`).
fn parse(json: &str, file: &str) -> Result<HashMap<String, Arc<ModelPrice>>, PricingError> {
    let root: Value = serde_json::from_str(json).map_err(|e| {
        err(file, None, None, format!("not valid JSON at line {} column {}: {e}", e.line(), e.column()))
    })?;
    let Value::Object(root) = root else {
        return Err(err(file, None, None, "expected a JSON object of models"));
    };
    match root.get("format").and_then(Value::as_str) {
        Some("obs-pricing/1") => parse_obs(&root, file),
        Some(other) => {
            let other = crate::metrics::registry::cut(other, SHOWN_NAME_BYTES);
            Err(err(file, None, Some("format"), format!("unknown format `{other}`: expected `obs-pricing/1`")))
        }
        None => parse_litellm(&root, file),
    }
}

fn parse_obs(
    root: &serde_json::Map<String, Value>,
    file: &str,
) -> Result<HashMap<String, Arc<ModelPrice>>, PricingError> {
    let Some(Value::Object(models)) = root.get("models") else {
        return Err(err(file, None, Some("models"), "expected an object mapping model names to prices"));
    };
    let default_as_of = text(root, "as_of");
    let default_source = text(root, "source");
    let mut out = HashMap::new();
    for (name, v) in models {
        let Value::Object(m) = v else {
            return Err(err(file, Some(name), None, "expected an object with at least `input` and `output`"));
        };
        if let Some(unknown) = m.keys().find(|k| !OBS_FIELDS.contains(&k.as_str())) {
            return Err(err(
                file,
                Some(name),
                Some(unknown),
                format!("unknown field: the fields are {}", OBS_FIELDS.join(", ")),
            ));
        }
        let need = |k: &str| match m.get(k) {
            Some(v) => rate(v, 1.0, file, name, k),
            None => Err(err(
                file,
                Some(name),
                Some(k),
                "missing: every model needs `input` and `output` (USD per 1M tokens)",
            )),
        };
        let rates = Rates {
            input: need("input")?,
            output: need("output")?,
            cache_read: opt_rate(m, "cache_read", 1.0, file, name)?,
            cache_write: opt_rate(m, "cache_write", 1.0, file, name)?,
            cache_write_1h: opt_rate(m, "cache_write_1h", 1.0, file, name)?,
            reasoning: opt_rate(m, "reasoning", 1.0, file, name)?,
            batch_input: opt_rate(m, "batch_input", 1.0, file, name)?,
            batch_output: opt_rate(m, "batch_output", 1.0, file, name)?,
            batch_cache_read: opt_rate(m, "batch_cache_read", 1.0, file, name)?,
            batch_cache_write: opt_rate(m, "batch_cache_write", 1.0, file, name)?,
        };
        let mut tiers = Vec::new();
        if let Some(t) = m.get("tiers") {
            let Value::Array(list) = t else {
                return Err(err(
                    file,
                    Some(name),
                    Some("tiers"),
                    "expected a list of {above_input_tokens, input, output, ..}",
                ));
            };
            for t in list {
                let Value::Object(t) = t else {
                    return Err(err(file, Some(name), Some("tiers"), "each tier is an object"));
                };
                let Some(above) = t.get("above_input_tokens").and_then(Value::as_u64) else {
                    return Err(err(
                        file,
                        Some(name),
                        Some("tiers.above_input_tokens"),
                        "expected a whole number of tokens",
                    ));
                };
                tiers.push(Tier {
                    above_input_tokens: above,
                    inclusive: t.get("inclusive").and_then(Value::as_bool).unwrap_or(false),
                    input: opt_rate(t, "input", 1.0, file, name)?,
                    output: opt_rate(t, "output", 1.0, file, name)?,
                    cache_read: opt_rate(t, "cache_read", 1.0, file, name)?,
                    cache_write: opt_rate(t, "cache_write", 1.0, file, name)?,
                    cache_write_1h: opt_rate(t, "cache_write_1h", 1.0, file, name)?,
                    batch_input: opt_rate(t, "batch_input", 1.0, file, name)?,
                    batch_output: opt_rate(t, "batch_output", 1.0, file, name)?,
                    batch_cache_read: opt_rate(t, "batch_cache_read", 1.0, file, name)?,
                    batch_cache_write: opt_rate(t, "batch_cache_write", 1.0, file, name)?,
                });
            }
            tiers.sort_by_key(|t| t.above_input_tokens);
        }
        let as_of = match text(m, "as_of") {
            s if s.is_empty() => default_as_of.clone(),
            s => s,
        };
        let provider = match text(m, "provider") {
            p if p.is_empty() => crate::provider::infer_provider(name).to_string(),
            p => p,
        };
        let source = match text(m, "source") {
            s if s.is_empty() => default_source.clone(),
            s => s,
        };
        let off_peak = match m.get("off_peak") {
            Some(Value::Object(op)) => Some(parse_off_peak(op, file, name)?),
            Some(_) => {
                return Err(err(
                    file,
                    Some(name),
                    Some("off_peak"),
                    "expected {input, output, cache_read, windows: [[weekdays, start minute, end minute], ..]}",
                ))
            }
            None => None,
        };
        let deprecation_date = Some(text(m, "deprecation_date")).filter(|d| !d.is_empty());
        out.insert(
            name.clone(),
            Arc::new(ModelPrice { provider, rates, tiers, as_of, source, deprecation_date, off_peak }),
        );
    }
    Ok(out)
}

fn parse_off_peak(op: &serde_json::Map<String, Value>, file: &str, name: &str) -> Result<OffPeak, PricingError> {
    let mut windows = Vec::new();
    for w in op.get("windows").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let n = |i: usize| w.get(i).and_then(Value::as_u64);
        match (n(0), n(1), n(2)) {
            (Some(d), Some(a), Some(b)) if d < 128 && a < b && b <= 1440 => windows.push((d as u8, a as u16, b as u16)),
            _ => {
                return Err(err(
                    file,
                    Some(name),
                    Some("off_peak.windows"),
                    "each window is [weekdays (bit 0 = Monday, below 128), start minute, end minute (after start, at most 1440)]",
                ))
            }
        }
    }
    Ok(OffPeak {
        input: opt_rate(op, "input", 1.0, file, name)?,
        output: opt_rate(op, "output", 1.0, file, name)?,
        cache_read: opt_rate(op, "cache_read", 1.0, file, name)?,
        windows,
    })
}

/// Where a LiteLLM key's rate goes in [`Rates`].
type RateSlot = fn(&mut Rates) -> &mut Option<u64>;

/// LiteLLM's keys, in USD per token.
const LITELLM_RATES: &[(&str, RateSlot)] = &[
    ("cache_read_input_token_cost", |r| &mut r.cache_read),
    ("cache_creation_input_token_cost", |r| &mut r.cache_write),
    ("cache_creation_input_token_cost_above_1hr", |r| &mut r.cache_write_1h),
    ("output_cost_per_reasoning_token", |r| &mut r.reasoning),
    ("input_cost_per_token_batches", |r| &mut r.batch_input),
    ("output_cost_per_token_batches", |r| &mut r.batch_output),
    ("cache_read_input_token_cost_batches", |r| &mut r.batch_cache_read),
    ("cache_creation_input_token_cost_batches", |r| &mut r.batch_cache_write),
];

fn parse_litellm(
    root: &serde_json::Map<String, Value>,
    file: &str,
) -> Result<HashMap<String, Arc<ModelPrice>>, PricingError> {
    const PER_TOKEN: f64 = 1e6;
    let mut out = HashMap::new();
    for (name, v) in root {
        if name == "sample_spec" {
            continue;
        }
        let Value::Object(m) = v else {
            return Err(err(
                file,
                Some(name),
                None,
                "expected an object with `input_cost_per_token` and `output_cost_per_token`",
            ));
        };
        // Image, audio and rerank entries price other units: not token models.
        let (Some(i), Some(o)) = (m.get("input_cost_per_token"), m.get("output_cost_per_token")) else {
            continue;
        };
        let mut rates = Rates {
            input: rate(i, PER_TOKEN, file, name, "input_cost_per_token")?,
            output: rate(o, PER_TOKEN, file, name, "output_cost_per_token")?,
            ..Rates::default()
        };
        for (key, slot) in LITELLM_RATES {
            *slot(&mut rates) = opt_rate(m, key, PER_TOKEN, file, name)?;
        }
        let mut tiers: Vec<Tier> = Vec::new();
        for (key, v) in m {
            let Some((base, n)) =
                key.split_once("_above_").and_then(|(b, rest)| Some((b, rest.strip_suffix("_tokens")?)))
            else {
                continue;
            };
            // Checked: `_above_99999999999999999k_tokens` overflowed u64
            // and panicked in the multiplication.
            let threshold = match n.strip_suffix('k') {
                Some(k) => k.parse::<u64>().ok().and_then(|k| k.checked_mul(1000)),
                None => n.parse::<u64>().ok(),
            };
            let Some(threshold) = threshold else { continue };
            let value = Some(rate(v, PER_TOKEN, file, name, key)?);
            let idx = match tiers.iter().position(|t| t.above_input_tokens == threshold) {
                Some(i) => i,
                None => {
                    tiers.push(Tier { above_input_tokens: threshold, ..Tier::default() });
                    tiers.len() - 1
                }
            };
            let t = &mut tiers[idx];
            match base {
                "input_cost_per_token" => t.input = value,
                "output_cost_per_token" => t.output = value,
                "cache_read_input_token_cost" => t.cache_read = value,
                "cache_creation_input_token_cost" => t.cache_write = value,
                _ => {}
            }
        }
        tiers.sort_by_key(|t| t.above_input_tokens);
        let provider = match text(m, "litellm_provider").as_str() {
            "" => crate::provider::infer_provider(name).to_string(),
            p => obs_shared::from_litellm(p).unwrap_or(p).to_string(),
        };
        out.insert(
            name.clone(),
            Arc::new(ModelPrice {
                provider,
                rates,
                tiers,
                as_of: String::new(),
                source: text(m, "source"),
                deprecation_date: Some(text(m, "deprecation_date")).filter(|d| !d.is_empty()),
                off_peak: None,
            }),
        );
    }
    Ok(out)
}

/// Loads a price file (obs's format or LiteLLM's) over the table in force:
/// its entries override same-named ones and add new models. All or nothing.
/// Returns the number of entries loaded.
pub fn load_file(path: impl AsRef<Path>) -> Result<usize, PricingError> {
    let staged = read_file(path.as_ref())?;
    let n = staged.len();
    staged.commit();
    Ok(n)
}

/// Like [`load_file`], from a string; `origin` names it in errors.
pub fn load_str(json: &str, origin: &str) -> Result<usize, PricingError> {
    let staged = Staged(parse(json, origin)?);
    let n = staged.len();
    staged.commit();
    Ok(n)
}

/// A parsed price file not yet in force: `init()` reads the file before it
/// starts anything and commits it only once every exporter has started, so
/// a failed `init()` leaves the prices as they were.
pub(crate) struct Staged(HashMap<String, Arc<ModelPrice>>);

/// The prices in force, for `init()`'s start-up line: how many models, the
/// latest `as_of` date and the most common source (the built-in table's is
/// the LiteLLM release it was generated from).
pub(crate) fn describe_table() -> String {
    let t = table().read().unwrap_or_else(|e| e.into_inner());
    let (n, as_of, source) = summarise(t.models.values().map(|p| &**p));
    let mut line = format!("{n} models");
    if let Some(d) = as_of {
        line.push_str(&format!(", as of {d}"));
    }
    if let Some(s) = source {
        line.push_str(&format!(", from {s}"));
    }
    line
}

/// Count, latest `as_of` (dates are `YYYY-MM-DD`, so the greatest string is
/// the latest) and most common non-empty source of some prices.
fn summarise<'a>(prices: impl Iterator<Item = &'a ModelPrice>) -> (usize, Option<&'a str>, Option<&'a str>) {
    let mut n = 0;
    let mut latest: Option<&str> = None;
    let mut sources: HashMap<&str, usize> = HashMap::new();
    for p in prices {
        n += 1;
        if !p.as_of.is_empty() && latest.map_or(true, |l| p.as_of.as_str() > l) {
            latest = Some(&p.as_of);
        }
        if !p.source.is_empty() {
            *sources.entry(&p.source).or_default() += 1;
        }
    }
    let source = sources.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).map(|(s, _)| s);
    (n, latest, source)
}

/// Reads and parses a price file without changing the table in force.
pub(crate) fn read_file(path: &Path) -> Result<Staged, PricingError> {
    let name = path.display().to_string();
    let unreadable = |message: String| PricingError { unreadable: true, ..err(&name, None, None, message) };
    if path.is_dir() {
        return Err(unreadable("it is a directory, not a file".into()));
    }
    let json = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => unreadable("no such file".into()),
        _ => unreadable(format!("cannot read it: {e}")),
    })?;
    parse(&json, &name).map(Staged)
}

impl Staged {
    fn len(&self) -> usize {
        self.0.len()
    }

    /// What the file holds, for `init()`'s start-up line: `path (N models,
    /// as of DATE)`.
    pub(crate) fn describe(&self, path: &Path) -> String {
        let (_, as_of, _) = summarise(self.0.values().map(|p| &**p));
        let as_of = as_of.map_or_else(|| "no as_of date".to_string(), |d| format!("as of {d}"));
        format!("{} ({} models, {as_of})", path.display(), self.len())
    }

    /// Puts the staged entries in force over the table.
    pub(crate) fn commit(self) {
        let mut t = table().write().unwrap_or_else(|e| e.into_inner());
        for (k, v) in self.0 {
            t.insert(k, v);
        }
        GENERATION.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Sets (or replaces) one model's price in code.
///
/// ```
/// use obs_runtime::pricing::{self, ModelPrice, Rates};
/// let mut rates = Rates::default();
/// (rates.input, rates.output) = (3_000_000, 12_000_000); // $3 / $12 per 1M
/// let mut price = ModelPrice::new("openai", rates);
/// (price.as_of, price.source) = ("2026-11-01".into(), "contract".into());
/// pricing::set_price("my-finetune", price);
/// assert!(pricing::price("my-finetune").is_some());
/// ```
pub fn set_price(model: &str, price: ModelPrice) {
    table().write().unwrap_or_else(|e| e.into_inner()).insert(model.to_string(), Arc::new(price));
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
}

/// Prices `name` as `model`: for an Azure deployment name, a gateway's
/// route or any name the table cannot know. Resolved at lookup, so a later
/// price file changes both.
///
/// ```
/// use obs_runtime::pricing;
/// pricing::alias("prod-gpt4o-eastus", "azure/gpt-4o");
/// assert_eq!(pricing::price("prod-gpt4o-eastus"), pricing::price("azure/gpt-4o"));
/// ```
pub fn alias(name: &str, model: &str) {
    let mut t = table().write().unwrap_or_else(|e| e.into_inner());
    t.aliases.insert(name.to_ascii_lowercase(), model.to_string());
    drop(t);
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
}

/// The price of `model`, resolved as the module docs say (the rules the
/// macros also use to check literal model names). `None` for an unknown
/// model, and for a name several hosts serve at different prices (use
/// [`price_for`] with the provider, or the host-qualified key).
pub fn price(model: &str) -> Option<Arc<ModelPrice>> {
    price_for(model, None)
}

/// Like [`price`], for a call to `provider` (LiteLLM's host name, such as
/// `together_ai`, or the `gen_ai.provider.name`): its key for the model
/// (`together_ai/<model>`) comes first, and it picks among hosts that serve
/// the same name at different prices.
///
/// ```
/// use obs_runtime::pricing;
/// let together = pricing::price_for("meta-llama/Llama-3.3-70B-Instruct-Turbo", Some("together_ai"));
/// assert_eq!(together, pricing::price("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo"));
/// // Served by several hosts at different prices: no host is guessed.
/// assert_eq!(pricing::price("meta-llama/Llama-3.3-70B-Instruct-Turbo"), None);
/// ```
pub fn price_for(model: &str, provider: Option<&str>) -> Option<Arc<ModelPrice>> {
    match table().read().unwrap_or_else(|e| e.into_inner()).resolve(model, provider) {
        Resolved::Priced(p) => Some(p),
        _ => None,
    }
}

/// Why `model` has no price, for the run-time warning: the hosts that
/// serve it at different prices, when that is the reason.
pub(crate) fn unpriced_reason(model: &str, provider: Option<&str>) -> Option<Vec<String>> {
    match table().read().unwrap_or_else(|e| e.into_inner()).resolve(model, provider) {
        Resolved::Ambiguous(hosts) => Some(hosts),
        _ => None,
    }
}

/// Whether `date` (`YYYY-MM-DD`) is before the day of `unix_secs` (UTC).
/// A date that does not parse is never past.
pub(crate) fn is_past(date: &str, unix_secs: u64) -> bool {
    let b = date.as_bytes();
    let num = |r: std::ops::Range<usize>| date.get(r)?.parse::<i64>().ok();
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return false;
    }
    // Days from 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days < (unix_secs / 86_400) as i64
}

/// Every model name in the table in force, sorted.
pub fn models() -> Vec<String> {
    let mut v: Vec<String> = table().read().unwrap_or_else(|e| e.into_inner()).models.keys().cloned().collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn flat_rates_cost_the_same_as_the_full_rule() {
        let r = Rates {
            input: 2_500_000,
            output: 10_000_000,
            cache_read: Some(1_250_000),
            cache_write: Some(3_750_000),
            cache_write_1h: Some(5_000_000),
            reasoning: Some(12_000_000),
            batch_input: Some(1_250_000),
            batch_output: Some(5_000_000),
            ..Rates::default()
        };
        let p = ModelPrice::new("openai", r);
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for i in 0..2_000 {
            let big = if i % 100 == 0 { u64::MAX } else { 3_000_000 };
            let pick = |v: u64, on: bool| on.then_some(v);
            let u = TokenUsage {
                input: pick(next(big), i % 7 != 0),
                output: pick(next(big), i % 5 != 0),
                cache_read: pick(next(big), i % 3 == 0),
                cache_creation: pick(next(big), i % 4 == 0),
                cache_creation_1h: pick(next(big), i % 8 == 0),
                reasoning: pick(next(big), i % 6 == 0),
            };
            for batch in [false, true] {
                let flat = p.flat_rates(batch).expect("no tiers, no off-peak");
                assert_eq!(cost_of(&token_parts(&u), &flat), p.cost(&u, CostOptions::batch(batch)), "{u:?} {batch}");
            }
        }
    }

    use super::*;

    /// The macros reject a literal model name that is not in this table; they
    /// read the names from `obs-macros/src/models.txt` (written by
    /// `pricing/from_litellm.py`), which must list exactly the table's keys.
    #[test]
    fn macro_model_list_is_the_builtin_keys() {
        let listed: Vec<&str> =
            include_str!("../../obs-macros/src/models.txt").lines().filter_map(|l| l.split('\t').next()).collect();
        let mut keys: Vec<String> =
            parse(BUILTIN, "<built-in>").expect("the shipped table parses").into_keys().collect();
        keys.sort();
        assert_eq!(listed, keys, "regenerate obs-macros/src/models.txt with pricing/from_litellm.py");
    }

    #[test]
    fn builtin_table_parses_and_covers_providers() {
        let m = parse(BUILTIN, "<built-in>").expect("the shipped table parses");
        assert!(m.len() >= 40, "{} models", m.len());
        for provider in ["openai", "anthropic", "gcp.gemini", "mistral_ai", "deepseek", "together_ai"] {
            assert!(m.values().any(|p| p.provider == provider), "{provider}");
        }
        assert!(m.values().all(|p| !p.as_of.is_empty() && !p.source.is_empty()));
    }

    /// Regression: a multi-byte character across the 11-byte date cut
    /// panicked here (the runtime's copy of `strip_date` did not check
    /// character boundaries; the macros' copy did).
    #[test]
    fn a_non_ascii_model_name_is_unpriced_not_a_panic() {
        assert!(price("aé0123456789").is_none());
        // The snapshot has its own entry (with its own retirement date).
        assert_eq!(price("openai/gpt-4o-2024-08-06"), price("gpt-4o-2024-08-06"));
        assert_eq!(price("openai/gpt-4o-2024-08-06").map(|p| p.rates), price("gpt-4o").map(|p| p.rates));
        assert!(price("gpt-4o").is_some());
    }

    /// Regression (found by `tests/tests/never_panics.rs`): the sum of the parts
    /// of a cost overflowed u128 with rates and token counts near u64::MAX.
    #[test]
    fn a_cost_past_u128_saturates() {
        let p = ModelPrice::new("p", Rates { input: u64::MAX, output: u64::MAX, ..Rates::default() });
        let c = p.cost(&TokenUsage::new(u64::MAX, u64::MAX), CostOptions::default());
        assert_eq!(c.pico, u64::MAX);
    }

    /// Regression (found by `tests/tests/never_panics.rs`): a LiteLLM tier
    /// threshold in thousands past u64 overflowed the multiplication.
    #[test]
    fn a_litellm_threshold_past_u64_is_not_a_tier() {
        let json = r#"{"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
            "input_cost_per_token_above_99999999999999999k_tokens": 3e-6}}"#;
        let m = parse(json, "f.json").expect("parses");
        assert_eq!(m["m"].tiers, vec![]);
    }

    fn usd(pico: u64) -> f64 {
        pico as f64 / PICO_PER_USD as f64
    }

    /// The catalogue resolves names the way each provider's API writes them.
    #[test]
    fn names_resolve_to_their_providers_price() {
        let rate = |m: &str| price(m).map(|p| (p.provider.clone(), p.rates.input, p.rates.output));
        assert_eq!(rate("gpt-4"), Some(("openai".into(), 30_000_000, 60_000_000)));
        assert_eq!(rate("grok-4.3"), rate("xai/grok-4.3"));
        assert_eq!(rate("grok-4.3").unwrap().0, "x_ai");
        assert_eq!(rate("gemini-2.5-pro"), rate("gemini/gemini-2.5-pro"));
        // Bedrock's cross-region profile keeps its own (uplifted) price.
        assert_eq!(rate("us.anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap().1, 3_300_000);
        assert_eq!(rate("anthropic.claude-3-5-sonnet-20240620-v1:0").unwrap().0, "aws.bedrock");
        assert_eq!(rate("azure/gpt-35-turbo").unwrap().0, "azure.ai.openai");
        // A fine-tune at its base's fine-tune rate, never the base rate.
        assert_eq!(rate("ft:gpt-4o-mini-2024-07-18:acme::abc123").unwrap().1, 300_000);
        assert_eq!(price("ft:acme-unknown:org::x"), None);
        // A third-party name served by several hosts at different prices:
        // no host is guessed; the provider picks.
        assert_eq!(price("deepseek-ai/DeepSeek-V3.2"), None);
        assert_eq!(
            price_for("deepseek-ai/DeepSeek-V3.2", Some("deepinfra")),
            price("deepinfra/deepseek-ai/DeepSeek-V3.2")
        );
        assert_eq!(
            price("accounts/fireworks/models/llama-v3p3-70b-instruct"),
            price("fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct")
        );
        // Azure's own name for a model, with the Azure provider.
        assert_eq!(price_for("gpt-35-turbo", Some("azure")), price("azure/gpt-35-turbo"));
        assert_eq!(price_for("gpt-35-turbo", Some("azure.ai.openai")), price("azure/gpt-35-turbo"));
        // One host in the table serves Groq's name: still not guessed.
        assert_eq!(price("llama-3.3-70b-versatile"), None);
        assert_eq!(rate("anthropic.claude-opus-4-6").unwrap().0, "aws.bedrock");
        assert!(unpriced_reason("deepseek-ai/DeepSeek-V3.2", None).is_some_and(|h| h.len() >= 2));
    }

    #[test]
    fn batch_calls_take_batch_cache_rates_and_keep_the_discount_above_a_tier() {
        let p = price("gpt-5.5").expect("priced");
        // 300k input (above the 272k tier), 100k of it cached, 10k output.
        let mut u = TokenUsage::new(300_000, 10_000);
        u.cache_read = Some(100_000);
        let batch = p.cost(&u, CostOptions::batch(true)).pico;
        let interactive = p.cost(&u, CostOptions::default()).pico;
        // Tier rates $10 / $45, cache $1; batch halves each.
        assert_eq!(interactive, 200_000 * 10_000_000 + 100_000 * 1_000_000 + 10_000 * 45_000_000);
        assert_eq!(batch * 2, interactive);
    }

    #[test]
    fn inclusive_tiers_start_at_their_bound() {
        let p = price("xai/grok-4.3").expect("priced");
        let at = p.cost(&TokenUsage::new(200_000, 0), CostOptions::default()).pico;
        assert_eq!(usd(at), 0.5, "200k tokens at the 200k-and-above rate of $2.50");
        let mut own = (*p).clone();
        own.tiers[0].inclusive = false;
        assert_eq!(usd(own.cost(&TokenUsage::new(200_000, 0), CostOptions::default()).pico), 0.25);
    }

    #[test]
    fn off_peak_windows_apply_by_utc_time() {
        let p = price("deepseek/deepseek-v4-flash").expect("priced");
        let u = TokenUsage::new(1_000_000, 1_000_000);
        // 2026-12-01 is a Tuesday; 08:00 UTC is peak, 12:00 UTC off-peak.
        let tuesday = 1_796_083_200;
        assert!(is_past("2026-11-30", tuesday) && !is_past("2026-12-01", tuesday));
        let peak = p.cost(&u, CostOptions::default().at(tuesday + 8 * 3600)).pico;
        let off = p.cost(&u, CostOptions::default().at(tuesday + 12 * 3600)).pico;
        assert_eq!((usd(peak), usd(off)), (1.5, 0.75));
        // Saturday, all day.
        assert_eq!(usd(p.cost(&u, CostOptions::default().at(tuesday + 4 * 86_400 + 8 * 3600)).pico), 0.75);
    }

    #[test]
    fn one_hour_cache_writes_and_aliases() {
        let p = price("claude-opus-4-7").expect("priced");
        let mut u = TokenUsage::new(1_000_000, 0);
        u.cache_creation = Some(1_000_000);
        u.cache_creation_1h = Some(400_000);
        // 600k at $6.25 + 400k at $10.
        assert_eq!(usd(p.cost(&u, CostOptions::default()).pico), 3.75 + 4.0);
        alias("prod-deployment-eastus", "azure/gpt-4o");
        assert_eq!(price("Prod-Deployment-EastUS"), price("azure/gpt-4o"));
    }
}
