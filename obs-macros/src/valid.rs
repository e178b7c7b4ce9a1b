//! Every rule a user can break, checked on the parsed arguments. Each error is
//! spanned on the offending token and says what to write instead; all errors
//! of one attribute are reported together.

use crate::attr::{Arg, ArgValue};
use crate::ctxt::Ctxt;
use quote::ToTokens;
use std::collections::HashSet;
use std::sync::OnceLock;
use syn::{Expr, ExprLit, FnArg, Ident, Lit, LitInt, LitStr, Pat, Path, Signature, Type};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Agent,
    LlmCall,
    Tool,
    Function,
}

impl Kind {
    pub fn macro_name(self) -> &'static str {
        match self {
            Kind::Agent => "track_execution",
            Kind::LlmCall => "track_llm_call",
            Kind::Tool => "track_tool",
            Kind::Function => "traced",
        }
    }

    fn own_args(self) -> &'static [&'static str] {
        match self {
            Kind::Agent => &["agent"],
            Kind::LlmCall => &[
                "model",
                "provider",
                "operation",
                "server_address",
                "server_port",
                "usage",
                "stream",
                "budget",
                "batch",
                "capture_content",
                "custom_model",
            ],
            Kind::Tool => &["name", "capture_content"],
            Kind::Function => &["name", "metrics"],
        }
    }

    fn allowed(self) -> impl Iterator<Item = &'static str> {
        self.own_args().iter().copied().chain(COMMON_ARGS.iter().copied())
    }
}

const COMMON_ARGS: &[&str] = &["labels", "fields", "level", "slow", "err", "crate"];
const ALL_KINDS: [Kind; 4] = [Kind::Agent, Kind::LlmCall, Kind::Tool, Kind::Function];

/// Label names the generated metrics already use.
pub const BUILTIN_LABELS: &[&str] = &["agent", "model", "provider", "tool", "function", "module", "status"];
/// Label names Prometheus reserves for histograms and summaries.
const RESERVED_LABELS: &[&str] = &["le", "quantile"];
/// Extra labels per function, so a label set always fits the runtime's fixed buffer.
const MAX_LABELS: usize = 8;

/// Well-known `gen_ai.operation.name` values for model calls.
const OPERATIONS: &[&str] = &["chat", "text_completion", "generate_content", "embeddings", "retrieval"];
const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];

/// A label value: fixed at compile time, or computed per call.
pub enum Value {
    Lit(LitStr),
    Dynamic { expr: Expr, unbounded: bool },
}

pub struct Config {
    pub kind: Kind,
    pub agent: Option<Value>,
    pub model: Option<Value>,
    pub provider: Option<Value>,
    pub operation: Option<LitStr>,
    pub server_address: Option<LitStr>,
    pub server_port: Option<LitInt>,
    /// `track_tool`'s `name` (the tool name) or `traced`'s span name.
    pub name: Option<Value>,
    pub metrics: bool,
    /// `usage = expr` (Some(Some)) or `usage = none` (Some(None)).
    pub usage: Option<Option<Expr>>,
    pub stream: bool,
    pub budget: Option<LitStr>,
    pub batch: bool,
    /// `custom_model`: a literal model name outside the built-in price table.
    pub custom_model: bool,
    /// `capture_content = true | false`; absent: the process setting decides.
    pub capture: Option<bool>,
    /// `slow = "500ms"`, in nanoseconds.
    pub slow: Option<u64>,
    pub labels: Vec<(Ident, Value)>,
    pub fields: Vec<(Ident, Expr)>,
    pub level: Option<LitStr>,
    /// `err = false` (1) or `err = "warn"` (2 TRACE to 6 ERROR): the level
    /// of the log line a failed call writes.
    pub err: Option<u8>,
    pub krate: Option<Path>,
}

/// Edit distance counting a swap of two neighbours as one edit (optimal
/// string alignment), so `agnet` is one edit from `agent`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The closest candidate within a small edit distance.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `"500ms"`, `"1.5s"`, `"250us"`, `"2m"` in nanoseconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        _ => return None,
    };
    let ns = n * scale;
    (ns.is_finite() && ns < u64::MAX as f64).then_some(ns.round() as u64)
}

fn str_lit(e: &Expr) -> Option<&LitStr> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s),
        _ => None,
    }
}

/// `unbounded(expr)` written as a value.
fn unbounded_arg(e: &Expr) -> Option<&Expr> {
    if let Expr::Call(call) = e {
        if let Expr::Path(p) = &*call.func {
            if p.path.is_ident("unbounded") && call.args.len() == 1 {
                return call.args.first();
            }
        }
    }
    None
}

/// Checks a label-like value: a non-empty string literal, a runtime
/// expression, or `unbounded(expr)`.
fn label_value(cx: &mut Ctxt, arg: &str, e: &Expr, example: &str) -> Option<Value> {
    if let Some(s) = str_lit(e) {
        let v = s.value();
        if v.trim().is_empty() {
            cx.error(s, format!("`{arg}` cannot be empty: give it a name, like `{arg} = \"{example}\"`"));
            return None;
        }
        if let Some(c) = v.chars().find(|c| c.is_control()) {
            cx.error(
                s,
                format!("`{arg}` contains the control character {c:?}, which cannot appear in a metric label value; use letters, digits, `-`, `_`, `.` or `/`"),
            );
            return None;
        }
        return Some(Value::Lit(s.clone()));
    }
    if let Expr::Lit(lit) = e {
        cx.error(
            lit,
            format!("`{arg}` takes a string, not this literal: write `{arg} = \"{example}\"` (or pass an expression whose type implements `obs_runtime::LabelValue`)"),
        );
        return None;
    }
    if let Expr::Call(call) = e {
        let is_unbounded = matches!(&*call.func, Expr::Path(p) if p.path.is_ident("unbounded"));
        if is_unbounded && call.args.len() != 1 {
            cx.error(
                &call.func,
                format!("`unbounded(..)` takes one expression, the value of `{arg}`: write `{arg} = unbounded(expr)`"),
            );
            return None;
        }
    }
    if let Some(inner) = unbounded_arg(e) {
        return Some(Value::Dynamic { expr: inner.clone(), unbounded: true });
    }
    Some(Value::Dynamic { expr: e.clone(), unbounded: false })
}

/// The tokens an error about `arg`'s value points at: the value if written.
fn value_or_name(arg: &Arg) -> proc_macro2::TokenStream {
    match &arg.value {
        ArgValue::Expr(e) => e.to_token_stream(),
        _ => arg.name.to_token_stream(),
    }
}

fn expect_expr<'a>(cx: &mut Ctxt, arg: &'a Arg, example: &str) -> Option<&'a Expr> {
    match &arg.value {
        ArgValue::Expr(e) => Some(e),
        _ => {
            cx.error(&arg.name, format!("`{}` needs a value: write `{}`", arg.name, example));
            None
        }
    }
}

fn literal_string(cx: &mut Ctxt, arg: &Arg, example: &str) -> Option<LitStr> {
    let e = expect_expr(cx, arg, example)?;
    match str_lit(e) {
        Some(s) if !s.value().trim().is_empty() => Some(s.clone()),
        Some(s) => {
            cx.error(s, format!("`{}` cannot be empty: write `{example}`", arg.name));
            None
        }
        None => {
            cx.error(e, format!("`{}` takes a string literal known at compile time: write `{example}`", arg.name));
            None
        }
    }
}

fn check_label_name(cx: &mut Ctxt, name: &Ident, what: &str) -> bool {
    let n = name.to_string();
    let n = n.strip_prefix("r#").unwrap_or(&n);
    if n.starts_with("__") {
        cx.error(name, format!("{what} `{n}` starts with `__`, which Prometheus reserves for its own labels; drop the leading underscores"));
        return false;
    }
    if RESERVED_LABELS.contains(&n) {
        cx.error(
            name,
            format!("{what} `{n}` is reserved by Prometheus for histogram buckets and quantiles; choose another name"),
        );
        return false;
    }
    if BUILTIN_LABELS.contains(&n) {
        cx.error(
            name,
            format!("{what} `{n}` is already set by obs on every series of this function; choose another name (e.g. `{n}_name`)"),
        );
        return false;
    }
    if !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        cx.error(name, format!("{what} `{n}` must match [a-zA-Z_][a-zA-Z0-9_]*"));
        return false;
    }
    true
}

/// Validates the arguments of one macro into a [`Config`]. Errors go to `cx`.
pub fn validate(cx: &mut Ctxt, kind: Kind, args: &[Arg]) -> Config {
    let mut cfg = Config {
        kind,
        agent: None,
        model: None,
        provider: None,
        operation: None,
        server_address: None,
        server_port: None,
        name: None,
        metrics: kind != Kind::Function,
        usage: None,
        stream: false,
        budget: None,
        batch: false,
        custom_model: false,
        capture: None,
        slow: None,
        labels: Vec::new(),
        fields: Vec::new(),
        level: None,
        err: None,
        krate: None,
    };
    let mut seen: Vec<&Ident> = Vec::new();
    for arg in args {
        let name = arg.name.to_string();
        if seen.contains(&&arg.name) {
            cx.error(&arg.name, format!("`{name}` is given twice; keep one of them"));
            continue;
        }
        seen.push(&arg.name);
        if !kind.allowed().any(|a| a == name) {
            unknown_argument(cx, kind, &arg.name);
            continue;
        }
        match name.as_str() {
            "agent" => {
                if let Some(e) = expect_expr(cx, arg, "agent = \"researcher\"") {
                    cfg.agent = label_value(cx, "agent", e, "researcher");
                }
            }
            "model" => {
                if let Some(e) = expect_expr(cx, arg, "model = \"gpt-4o\"") {
                    cfg.model = label_value(cx, "model", e, "gpt-4o");
                }
            }
            "provider" => {
                if let Some(e) = expect_expr(cx, arg, "provider = \"openai\"") {
                    cfg.provider = label_value(cx, "provider", e, "openai");
                }
            }
            "operation" => {
                if let Some(s) = literal_string(cx, arg, "operation = \"chat\"") {
                    if OPERATIONS.contains(&s.value().as_str()) {
                        cfg.operation = Some(s);
                    } else {
                        let hint = suggest(&s.value(), OPERATIONS.iter().copied())
                            .map(|h| format!("did you mean `{h}`? "))
                            .unwrap_or_default();
                        cx.error(
                            &s,
                            format!("unknown operation `{}`: {hint}use one of {}", s.value(), OPERATIONS.join(", ")),
                        );
                    }
                }
            }
            "server_address" => cfg.server_address = literal_string(cx, arg, "server_address = \"api.openai.com\""),
            "server_port" => {
                if let Some(e) = expect_expr(cx, arg, "server_port = 443") {
                    match e {
                        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) if i.base10_parse::<u16>().is_ok_and(|p| p > 0) => {
                            cfg.server_port = Some(i.clone())
                        }
                        _ => cx.error(e, "`server_port` takes a port number from 1 to 65535, like `server_port = 443`"),
                    }
                }
            }
            "name" => {
                if let Some(e) = expect_expr(cx, arg, "name = \"web_search\"") {
                    cfg.name = match kind {
                        // A span name is static in `tracing`: it must be a literal.
                        Kind::Function => literal_string(cx, arg, "name = \"rank_results\"").map(Value::Lit),
                        _ => label_value(cx, "name", e, "web_search"),
                    };
                }
            }
            "usage" => match &arg.value {
                ArgValue::Expr(Expr::Path(p)) if p.path.is_ident("none") => cfg.usage = Some(None),
                ArgValue::Expr(e) => cfg.usage = Some(Some(e.clone())),
                _ => cx.error(
                    &arg.name,
                    "`usage` takes a closure or function from a reference to the return value to its `TokenUsage` (or an `Option` of one), like `usage = |r| r.as_ref().ok().map(|reply| reply.usage)` for a `Result`, or `usage = none`",
                ),
            },
            "slow" => {
                if let Some(s) = literal_string(cx, arg, "slow = \"500ms\"") {
                    match parse_duration(&s.value()) {
                        Some(ns) if ns > 0 => cfg.slow = Some(ns),
                        _ => cx.error(
                            &s,
                            format!("`{}` is not a duration: write a number and a unit (ns, us, ms, s, m), like `slow = \"500ms\"` or `slow = \"1.5s\"`", s.value()),
                        ),
                    }
                }
            }
            "capture_content" => match &arg.value {
                ArgValue::Flag => cfg.capture = Some(true),
                ArgValue::Expr(Expr::Lit(ExprLit { lit: Lit::Bool(b), .. })) => cfg.capture = Some(b.value),
                _ => cx.error(
                    value_or_name(arg),
                    "`capture_content` is `true` or `false`: write `capture_content` or `capture_content = false` (without it, OBS_CAPTURE_CONTENT decides)",
                ),
            },
            "stream" | "batch" | "custom_model" => {
                let on = match &arg.value {
                    ArgValue::Flag => true,
                    ArgValue::Expr(Expr::Lit(ExprLit { lit: Lit::Bool(b), .. })) => b.value,
                    _ => {
                        cx.error(value_or_name(arg), format!("`{name}` is a flag: write `{name}` (or `{name} = false`)"));
                        false
                    }
                };
                match name.as_str() {
                    "stream" => cfg.stream = on,
                    "batch" => cfg.batch = on,
                    _ => cfg.custom_model = on,
                }
            }
            "budget" => cfg.budget = literal_string(cx, arg, "budget = \"daily\""),
            "metrics" => match &arg.value {
                ArgValue::Flag => cfg.metrics = true,
                ArgValue::Expr(Expr::Lit(ExprLit { lit: Lit::Bool(b), .. })) => cfg.metrics = b.value,
                _ => cx.error(value_or_name(arg), "`metrics` is a flag: write `metrics` (or `metrics = false`)"),
            },
            "level" => {
                let lit = match &arg.value {
                    ArgValue::Expr(Expr::Path(p)) if p.path.get_ident().is_some() => {
                        let id = p.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                        Some(LitStr::new(&id.to_lowercase(), p.path.segments[0].ident.span()))
                    }
                    _ => literal_string(cx, arg, "level = \"debug\""),
                };
                if let Some(l) = lit {
                    let v = l.value().to_lowercase();
                    if LEVELS.contains(&v.as_str()) {
                        cfg.level = Some(LitStr::new(&v, l.span()));
                    } else {
                        let hint = suggest(&v, LEVELS.iter().copied())
                            .or_else(|| LEVELS.iter().copied().find(|l| v.starts_with(l) || l.starts_with(v.as_str())))
                            .map(|h| format!("did you mean `{h}`? "))
                            .unwrap_or_default();
                        cx.error(&l, format!("unknown level `{}`: {hint}use one of {}", l.value(), LEVELS.join(", ")));
                    }
                }
            }
            "err" => err_level(cx, arg, &mut cfg),
            "crate" => match &arg.value {
                ArgValue::Expr(Expr::Path(p)) => cfg.krate = Some(p.path.clone()),
                ArgValue::Expr(e) => match str_lit(e) {
                    Some(s) => cx.error(
                        s,
                        format!("`crate` takes a path, not a string: write it without quotes, `crate = {}`", s.value()),
                    ),
                    None => cx.error(e, "`crate` takes a path to obs-runtime as your crate names it: `crate = obs`"),
                },
                _ => cx.error(&arg.name, "`crate` takes a path to obs-runtime as your crate names it: `crate = obs`"),
            },
            "labels" => match &arg.value {
                ArgValue::List(items) => labels(cx, items, &mut cfg),
                _ => cx.error(&arg.name, "write labels as a list: `labels(team = \"search\", tier = \"pro\")`"),
            },
            "fields" => match &arg.value {
                ArgValue::List(items) => fields(cx, items, &mut cfg),
                _ => cx.error(&arg.name, "write fields as a list: `fields(user_id = req.user_id)`"),
            },
            _ => unknown_argument(cx, kind, &arg.name),
        }
    }
    if cfg.stream && cfg.usage.is_some() {
        if let Some(a) = args.iter().find(|a| a.name == "usage") {
            cx.error(&a.name, "`usage` does not apply with `stream`: a streamed call reads usage from its chunks (`obs_runtime::LlmChunk`); remove `usage`");
        }
    }
    if cfg.stream && cfg.batch {
        if let Some(a) = args.iter().find(|a| a.name == "batch") {
            cx.error(&a.name, "`batch` does not apply with `stream`: batch APIs return results later, never as a stream; remove one of them");
        }
    }
    match (&cfg.model, cfg.custom_model) {
        (Some(Value::Lit(m)), false) => check_model(cx, m),
        (Some(Value::Dynamic { .. }), true) => {
            if let Some(a) = args.iter().find(|a| a.name == "custom_model") {
                cx.error(
                    &a.name,
                    "`custom_model` declares a literal model name that is not in the price table; a model chosen at run time (`model = expr`) is not checked at compile time, so remove `custom_model`",
                );
            }
        }
        _ => {}
    }
    required(cx, kind, &cfg);
    cfg
}

/// The built-in price table's catalogue (`obs-runtime/pricing/models.json`):
/// `name<TAB>provider<TAB>input<TAB>output` a line (USD per 1M tokens),
/// written by `pricing/from_litellm.py` and tested equal to the table's keys
/// in obs-runtime.
const KNOWN_MODELS: &str = include_str!("models.txt");

/// One catalogue entry.
struct Known {
    name: &'static str,
    provider: &'static str,
    input: &'static str,
    output: &'static str,
}

/// The catalogue, indexed the way the runtime's price table is: by
/// lowercased key, and by the name on its host's own API.
struct Catalogue {
    models: Vec<Known>,
    lower: HashSet<String>,
    hosts: HashSet<String>,
}

/// Parsed once per compiler process (a proc-macro crate's statics live as
/// long as the compiler runs it), not once per attribute.
fn catalogue() -> &'static Catalogue {
    static C: OnceLock<Catalogue> = OnceLock::new();
    C.get_or_init(|| {
        let models: Vec<Known> = KNOWN_MODELS
            .lines()
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some(Known { name: f.next()?, provider: f.next()?, input: f.next()?, output: f.next()? })
            })
            .collect();
        let lower = models.iter().map(|m| m.name.to_ascii_lowercase()).collect();
        let hosts = models
            .iter()
            .filter_map(|m| obs_shared::host_name(m.name).map(|(_, rest)| rest.to_ascii_lowercase()))
            .collect();
        Catalogue { models, lower, hosts }
    })
}

/// Whether the runtime's resolution rules (`obs_shared::lookup_keys`, then
/// the host index) find `model` in the catalogue. A name several hosts
/// serve at different prices counts as known: it is a real name, and the
/// runtime prices it once the call's provider says which host served it.
fn is_known_model(model: &str) -> bool {
    let c = catalogue();
    let keys = obs_shared::lookup_keys(model);
    keys.iter().any(|k| c.lower.contains(&k.to_ascii_lowercase()))
        || keys.iter().any(|k| c.hosts.contains(&k.to_ascii_lowercase()))
}

/// The digits of a name, in order: model names differ by version numbers
/// (`gpt-5.4` and `gpt-5.5`, `claude-opus-4-7` and `-4-8`), and a name whose
/// numbers differ from a known one is a different (often newer) model, not a
/// typo of it.
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Known names a typo of `model` is close to: at most a third of its
/// length in edits (3 at most), the same numbers, best distance only.
fn near_misses(model: &str) -> Vec<&'static Known> {
    let bare = obs_shared::lookup_keys(model).pop().unwrap_or_default().to_ascii_lowercase();
    let bare = obs_shared::strip_date(&bare).unwrap_or(&bare).to_string();
    let limit = (bare.chars().count() / 3).clamp(1, 3);
    let want = digits(&bare);
    // Equal but for separators: another host's spelling of a known model
    // (Ollama's `llama3.1:8b`, Cerebras' `llama3.1-8b`), priced differently
    // or not at all, so never offered as the same.
    let alnum = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>();
    let want_alnum = alnum(&bare);
    // (distance, via a host's name rather than the key itself, entry)
    let mut near: Vec<(usize, bool, &Known)> = Vec::new();
    for k in &catalogue().models {
        let lower = k.name.to_ascii_lowercase();
        let forms = [Some((lower.as_str(), false)), obs_shared::host_name(&lower).map(|(_, rest)| (rest, true))];
        let d = forms
            .into_iter()
            .flatten()
            .filter(|(f, _)| digits(f) == want && alnum(f) != want_alnum)
            .map(|(f, h)| (distance(&bare, f), h))
            .min();
        if let Some((d, via_host)) = d.filter(|(d, _)| *d <= limit) {
            near.push((d, via_host, k));
        }
    }
    // The closest; among equals, keys themselves before hosts' names
    // (`gpt-4o-mnii` suggests `gpt-4o-mini`, not also `azure/gpt-4o-mini`).
    let best = near.iter().map(|(d, h, _)| (*d, *h)).min().unwrap_or((0, false));
    near.retain(|(d, h, _)| (*d, *h) == best);
    near.into_iter().map(|(_, _, k)| k).collect()
}

/// A known model name compiles. A near miss of one (a typo: few edits,
/// same version numbers) is an error naming the candidates with their
/// prices, so following the hint never silently changes what calls cost.
/// Any other name compiles: it may be newer than obs's table, a local or a
/// fine-tuned model, and the runtime counts its calls as unpriced and warns
/// once (`custom_model` also silences a near miss that is a real model).
fn check_model(cx: &mut Ctxt, m: &LitStr) {
    let name = m.value();
    if is_known_model(&name) {
        return;
    }
    let near = near_misses(&name);
    if near.is_empty() {
        return;
    }
    let mut names: Vec<String> = Vec::new();
    for k in &near {
        let shown = format!("`{}` ({}, ${} input / ${} output per 1M tokens)", k.name, k.provider, k.input, k.output);
        if !names.contains(&shown) {
            names.push(shown);
        }
    }
    let more = names.len().saturating_sub(4);
    names.truncate(4);
    let candidates = match (names.len(), more) {
        (1, _) => format!("did you mean {}?", names[0]),
        (_, 0) => format!("did you mean one of {}?", names.join(", ")),
        _ => format!("did you mean one of {} (or {more} more)?", names.join(", ")),
    };
    cx.error(
        m,
        format!(
            "unknown model `{name}`: {candidates} Check the price before you switch, each model is billed at its own rate; \
             if `{name}` is a real model obs does not price yet, declare it with `model = \"{name}\", custom_model` and price it with `obs_runtime::pricing::set_price` or a pricing file"
        ),
    );
}

/// `err = false`, or `err = "warn"` (a level, as a string or bare).
fn err_level(cx: &mut Ctxt, arg: &Arg, cfg: &mut Config) {
    let hint = "write `err = false` (no log line when a call fails) or `err = \"warn\"` (its level: trace, debug, info, warn, error)";
    let text = match &arg.value {
        ArgValue::Expr(Expr::Lit(ExprLit { lit: Lit::Bool(b), .. })) => {
            if b.value {
                cx.error(b, format!("`err = true` is the default; {hint}"));
            } else {
                cfg.err = Some(1);
            }
            return;
        }
        ArgValue::Expr(Expr::Lit(ExprLit { lit: Lit::Str(s), .. })) => s.clone(),
        ArgValue::Expr(Expr::Path(p)) if p.path.get_ident().is_some() => {
            let id = p.path.segments[0].ident.clone();
            LitStr::new(&id.to_string(), id.span())
        }
        ArgValue::Expr(e) => {
            cx.error(e, format!("`err` takes `false` or a level: {hint}"));
            return;
        }
        _ => {
            cx.error(&arg.name, format!("`err` needs a value: {hint}"));
            return;
        }
    };
    let v = text.value().to_lowercase();
    match LEVELS.iter().position(|l| *l == v) {
        // LEVELS is trace..error: codes 2..=6.
        Some(i) => cfg.err = Some(i as u8 + 2),
        None => {
            let near = suggest(&v, LEVELS.iter().copied()).map(|h| format!("did you mean `{h}`? ")).unwrap_or_default();
            cx.error(&text, format!("unknown level `{}` for `err`: {near}{hint}", text.value()));
        }
    }
}

fn labels(cx: &mut Ctxt, items: &[Arg], cfg: &mut Config) {
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        if !check_label_name(cx, &item.name, "label") {
            continue;
        }
        let n = item.name.to_string();
        if seen.contains(&n) {
            cx.error(&item.name, format!("label `{n}` is given twice; keep one"));
            continue;
        }
        seen.push(n.clone());
        let ArgValue::Expr(e) = &item.value else {
            cx.error(&item.name, format!("label `{n}` needs a value: write `{n} = \"value\"`"));
            continue;
        };
        if let Some(v) = label_value(cx, &n, e, "value") {
            cfg.labels.push((item.name.clone(), v));
        }
    }
    if seen.len() > MAX_LABELS {
        cx.error(
            &items[MAX_LABELS].name,
            format!("at most {MAX_LABELS} extra labels per function: every label multiplies the number of series"),
        );
    }
}

fn fields(cx: &mut Ctxt, items: &[Arg], cfg: &mut Config) {
    use obs_shared::semconv as sc;
    // A span's callsite holds at most MAX_SPAN_FIELDS fields, the kind's own first.
    let own = match cfg.kind {
        Kind::Agent => sc::AGENT_FIELDS.len(),
        Kind::LlmCall => sc::LLM_FIELDS.len(),
        Kind::Tool => sc::TOOL_FIELDS.len(),
        Kind::Function => sc::FUNCTION_FIELDS.len(),
    };
    let room = sc::MAX_SPAN_FIELDS - own;
    for item in items {
        let n = item.name.to_string();
        if cfg.fields.len() == room {
            cx.error(
                &item.name,
                format!(
                    "too many fields: a span holds {} attributes and #[{}] uses {own} of them; keep at most {room} in `fields(..)`",
                    sc::MAX_SPAN_FIELDS,
                    cfg.kind.macro_name()
                ),
            );
            break;
        }
        if cfg.fields.iter().any(|(i, _)| *i == item.name) {
            cx.error(&item.name, format!("field `{n}` is given twice; keep one"));
            continue;
        }
        match &item.value {
            ArgValue::Expr(e) => cfg.fields.push((item.name.clone(), e.clone())),
            _ => cx.error(
                &item.name,
                format!("field `{n}` needs a value: write `{n} = expr` (recorded with its Debug form)"),
            ),
        }
    }
}

fn unknown_argument(cx: &mut Ctxt, kind: Kind, name: &Ident) {
    let n = name.to_string();
    let owners: Vec<String> = ALL_KINDS
        .iter()
        .filter(|k| **k != kind && k.own_args().contains(&n.as_str()))
        .map(|k| format!("#[{}]", k.macro_name()))
        .collect();
    let allowed: Vec<&str> = kind.allowed().collect();
    let msg = if !owners.is_empty() {
        let hint = match (kind, n.as_str()) {
            (Kind::Tool, "model") | (Kind::Agent, "model") => {
                "; put #[track_llm_call(model = ..)] on the function that calls the model".to_string()
            }
            (Kind::Agent, "name") => "; the agent's name is `agent = \"...\"`".to_string(),
            _ => String::new(),
        };
        format!(
            "`{n}` is an argument of {}, not of #[{}]{hint}; #[{}] takes: {}",
            owners.join(" and "),
            kind.macro_name(),
            kind.macro_name(),
            allowed.join(", ")
        )
    } else if let Some(s) = suggest(&n, allowed.iter().copied()) {
        format!("unknown argument `{n}` for #[{}]: did you mean `{s}`?", kind.macro_name())
    } else {
        format!("unknown argument `{n}` for #[{}]: it takes {}", kind.macro_name(), allowed.join(", "))
    };
    cx.error(name, msg);
}

fn required(cx: &mut Ctxt, kind: Kind, cfg: &Config) {
    let span = proc_macro2::Span::call_site();
    match kind {
        Kind::Agent if cfg.agent.is_none() && !cx.has_errors() => cx.error_at(
            span,
            "#[track_execution] needs the agent's name: write #[track_execution(agent = \"researcher\")]",
        ),
        Kind::LlmCall if cfg.model.is_none() && !cx.has_errors() => cx.error_at(
            span,
            "#[track_llm_call] needs the model: write #[track_llm_call(model = \"gpt-4o\")] (or `model = expr` for a model chosen at run time)",
        ),
        _ => {}
    }
}

/// A runtime value taken straight from an argument whose type is a borrowed
/// `&str`: any string can arrive there, so it is rejected here with the reason
/// (the runtime trait would only report a lifetime error). `&'static str`
/// stays allowed, like in the runtime's `LabelValue`.
pub fn check_dynamic_sources(cx: &mut Ctxt, cfg: &Config, sig: &Signature) {
    let borrowed_str = |name: &Ident| {
        sig.inputs.iter().find_map(|a| match a {
            FnArg::Typed(t) => match (&*t.pat, &*t.ty) {
                (Pat::Ident(p), Type::Reference(r)) if p.ident == *name => {
                    let is_str = matches!(&*r.elem, Type::Path(tp) if tp.path.is_ident("str"));
                    let is_static = r.lifetime.as_ref().is_some_and(|l| l.ident == "static");
                    (is_str && !is_static).then(|| t.ty.to_token_stream().to_string().replace("& ", "&"))
                }
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
    };
    let named = [("agent", &cfg.agent), ("model", &cfg.model), ("provider", &cfg.provider), ("name", &cfg.name)];
    let labels = cfg.labels.iter().map(|(n, v)| (n.to_string(), v));
    let all = named.iter().filter_map(|(n, v)| v.as_ref().map(|v| (n.to_string(), v))).chain(labels);
    for (what, v) in all {
        let Value::Dynamic { expr: Expr::Path(p), unbounded: false } = v else { continue };
        let Some(id) = p.path.get_ident() else { continue };
        if let Some(ty) = borrowed_str(id) {
            cx.error(
                p,
                format!(
                    "`{what}` takes its value from `{id}: {ty}`, which can be any string: every distinct value creates metric series that live for the whole process and are billed by metrics backends; \
                     use a type with a fixed set of values (an enum implementing `obs_runtime::LabelValue`), or opt in with `{what} = unbounded({id})` if the set of values is small in practice"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_match_like_the_runtime() {
        for known in [
            "gpt-4o",
            "GPT-4o",
            "openai/gpt-4o",
            "gpt-4o-2024-08-06",
            "claude-sonnet-4-5-20250929",
            "vertex_ai/claude-sonnet-4-5@20250929",
            "grok-4.3",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "ft:gpt-4o-mini-2024-07-18:acme::abc123",
        ] {
            assert!(is_known_model(known), "{known}");
        }
        for unknown in ["gpt-4o-mnii", "my-finetune", "gpt-4o-2024", ""] {
            assert!(!is_known_model(unknown), "{unknown}");
        }
    }

    #[test]
    fn near_misses_are_typos_not_new_versions() {
        let names = |m: &str| near_misses(m).iter().map(|k| k.name).collect::<Vec<_>>();
        assert_eq!(names("gpt-4o-mnii"), ["gpt-4o-mini"]);
        assert_eq!(names("claude-sonet-4-5"), ["claude-sonnet-4-5"]);
        // Other numbers: a newer or older model, not a typo.
        assert!(names("claude-opus-4-9").is_empty());
        assert!(names("gpt-5.9").is_empty());
        assert!(names("llama3.1:8b").is_empty());
    }

    #[test]
    fn transpositions_are_one_edit() {
        assert_eq!(distance("agnet", "agent"), 1);
        assert_eq!(suggest("agnet", ["agent", "model"]), Some("agent"));
    }
}
