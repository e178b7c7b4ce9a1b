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
//! Model names resolve as: the exact key, then without a provider prefix
//! (`openai/gpt-4o`), then without a dated-snapshot suffix
//! (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`) — a snapshot with its
//! own entry (`gpt-4o-2024-05-13`) keeps its own price.

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
}

/// Rates that apply when a call's input exceeds `above_input_tokens`; fields
/// left `None` keep the base rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tier {
    /// Threshold on all input tokens (cached included).
    pub above_input_tokens: u64,
    /// Overrides of the base rates.
    pub input: Option<u64>,
    /// Overrides of the base rates.
    pub output: Option<u64>,
    /// Overrides of the base rates.
    pub cache_read: Option<u64>,
    /// Overrides of the base rates.
    pub cache_write: Option<u64>,
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
        CostOptions { batch }
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
        ModelPrice { provider: provider.into(), rates, tiers: Vec::new(), as_of: String::new(), source: String::new() }
    }

    /// The cost of `usage` at these prices, tiers applied as the provider
    /// does (the tier of the whole prompt sets every rate). Cached tokens are
    /// billed at the cache rate and never also at the input rate; reasoning
    /// tokens at the output rate unless priced apart.
    pub fn cost(&self, usage: &TokenUsage, opts: CostOptions) -> Cost {
        let input = usage.input.unwrap_or(0);
        let mut r = self.rates;
        if let Some(t) = self.tiers.iter().rev().find(|t| input > t.above_input_tokens) {
            r.input = t.input.unwrap_or(r.input);
            r.output = t.output.unwrap_or(r.output);
            r.cache_read = t.cache_read.or(r.cache_read);
            r.cache_write = t.cache_write.or(r.cache_write);
            // A tier replaces the batch rates too only when it names them; the
            // base batch discount is not applied on top of a tier price.
            if t.input.is_some() {
                r.batch_input = None;
            }
            if t.output.is_some() {
                r.batch_output = None;
            }
        }
        let input_rate = if opts.batch { r.batch_input.unwrap_or(r.input) } else { r.input };
        let output_rate = if opts.batch { r.batch_output.unwrap_or(r.output) } else { r.output };
        let cache_read = usage.cache_read.unwrap_or(0).min(input);
        let cache_creation = usage.cache_creation.unwrap_or(0).min(input - cache_read);
        let creation_1h = usage.cache_creation_1h.unwrap_or(0).min(cache_creation);
        let uncached = input - cache_read - cache_creation;
        let output = usage.output.unwrap_or(0);
        let reasoning = usage.reasoning.unwrap_or(0).min(output);
        let write_rate = r.cache_write.unwrap_or(input_rate);
        let parts: [(u64, u64); 6] = [
            (uncached, input_rate),
            (cache_read, r.cache_read.unwrap_or(input_rate)),
            (cache_creation - creation_1h, write_rate),
            (creation_1h, r.cache_write_1h.unwrap_or(write_rate)),
            (output - reasoning, output_rate),
            (reasoning, r.reasoning.unwrap_or(output_rate)),
        ];
        // Each product fits in u128 (u64 * u64), but their sum can pass it
        // with token counts and rates near u64::MAX (rates set in code, counts
        // reported by a provider): saturate rather than panic in the call.
        let pico: u128 =
            parts.iter().fold(0u128, |sum, &(n, rate)| sum.saturating_add(u128::from(n) * u128::from(rate)));
        Cost { pico: u64::try_from(pico).unwrap_or(u64::MAX) }
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

struct Table {
    models: HashMap<String, Arc<ModelPrice>>,
}

fn table() -> &'static RwLock<Table> {
    static T: LazyLock<RwLock<Table>> = LazyLock::new(|| {
        // The shipped table is checked by a unit test; should it ever not
        // parse, obs runs with an empty table (every model unpriced, and
        // counted as such) rather than panic in the application.
        let models = parse(BUILTIN, "<built-in>").unwrap_or_default();
        RwLock::new(Table { models })
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
    PricingError { file: file.into(), entry: entry.map(shown), field: field.map(shown), message: message.into() }
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
    "tiers",
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
                    input: opt_rate(t, "input", 1.0, file, name)?,
                    output: opt_rate(t, "output", 1.0, file, name)?,
                    cache_read: opt_rate(t, "cache_read", 1.0, file, name)?,
                    cache_write: opt_rate(t, "cache_write", 1.0, file, name)?,
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
        out.insert(name.clone(), Arc::new(ModelPrice { provider, rates, tiers, as_of, source: text(m, "source") }));
    }
    Ok(out)
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
            Arc::new(ModelPrice { provider, rates, tiers, as_of: String::new(), source: text(m, "source") }),
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

/// Reads and parses a price file without changing the table in force.
pub(crate) fn read_file(path: &Path) -> Result<Staged, PricingError> {
    let name = path.display().to_string();
    let json = std::fs::read_to_string(path).map_err(|e| err(&name, None, None, format!("cannot read it: {e}")))?;
    parse(&json, &name).map(Staged)
}

impl Staged {
    fn len(&self) -> usize {
        self.0.len()
    }

    /// Puts the staged entries in force over the table.
    pub(crate) fn commit(self) {
        let mut t = table().write().unwrap_or_else(|e| e.into_inner());
        t.models.extend(self.0);
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
    table().write().unwrap_or_else(|e| e.into_inner()).models.insert(model.to_string(), Arc::new(price));
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
}

/// The price of `model`: exact key, then without a provider prefix, then
/// without a dated-snapshot suffix (the normalisation the macros also use to
/// check literal model names: `obs_shared::lookup_keys`). `None` for an
/// unknown model.
pub fn price(model: &str) -> Option<Arc<ModelPrice>> {
    let t = table().read().unwrap_or_else(|e| e.into_inner());
    let get = |k: &str| t.models.get(k).or_else(|| t.models.get(&k.to_ascii_lowercase())).cloned();
    obs_shared::lookup_keys(model).into_iter().flatten().find_map(get)
}

/// Every model name in the table in force, sorted.
pub fn models() -> Vec<String> {
    let mut v: Vec<String> = table().read().unwrap_or_else(|e| e.into_inner()).models.keys().cloned().collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The macros reject a literal model name that is not in this table; they
    /// read the names from `obs-macros/src/models.txt` (written by
    /// `pricing/from_litellm.py`), which must list exactly the table's keys.
    #[test]
    fn macro_model_list_is_the_builtin_keys() {
        let listed: Vec<&str> = include_str!("../../obs-macros/src/models.txt").lines().collect();
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
        assert_eq!(price("openai/gpt-4o-2024-08-06"), price("gpt-4o"));
        assert!(price("gpt-4o").is_some());
    }

    /// Regression (found by `tests/tests/never_panics.rs`): the sum of the parts
    /// of a cost overflowed u128 with rates and token counts near u64::MAX.
    #[test]
    fn a_cost_past_u128_saturates() {
        let p = ModelPrice {
            provider: "p".into(),
            rates: Rates { input: u64::MAX, output: u64::MAX, ..Rates::default() },
            tiers: vec![],
            as_of: String::new(),
            source: String::new(),
        };
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
}
