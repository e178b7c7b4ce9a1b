//! Model-name normalisation: how `openai/gpt-4o-2024-08-06` finds the price
//! of `gpt-4o`.

/// The name without its `provider/` prefix (`openai/gpt-4o` gives `gpt-4o`);
/// `None` when there is no `/`.
pub fn strip_provider(model: &str) -> Option<&str> {
    model.split_once('/').map(|(_, rest)| rest)
}

/// Strips a dated-snapshot suffix: `-2024-08-06`, `-20250929`, `@20250929`.
/// `None` when the name has none.
pub fn strip_date(model: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(i) = model.rfind(['-', '@']) {
        // `-` and `@` are ASCII, so `i + 1` is a character boundary.
        let tail = &model[i + 1..];
        if tail.len() == 8 && digits(tail) {
            return Some(&model[..i]);
        }
    }
    // `-YYYY-MM-DD` is 11 bytes; a non-ASCII name can put a character across
    // that cut, where slicing would panic, and such a tail is not a date anyway.
    let cut = model.len().checked_sub(11)?;
    if cut == 0 || !model.is_char_boundary(cut) {
        return None;
    }
    let (head, tail) = model.split_at(cut);
    let b = tail.as_bytes();
    // From here `tail` is 11 bytes starting at a boundary; the checks below
    // only slice it after its ASCII `-` separators are confirmed.
    if b[0] == b'-' && b[5] == b'-' && b[8] == b'-' && digits(&tail[1..5]) && digits(&tail[6..8]) && digits(&tail[9..])
    {
        return Some(head);
    }
    None
}

/// The most candidate keys [`lookup_keys`] returns: the rules below make
/// few, and a hostile name cannot make the list grow.
const MAX_KEYS: usize = 24;

/// Prefixes that name the model's maker itself: stripped, because the
/// maker's API takes the name without them (`openai/gpt-4o` is `gpt-4o`).
const FIRST_PARTY_STRIP: &[&str] = &["openai/", "anthropic/", "text-completion-openai/"];

/// Bedrock's cross-region inference profile prefixes (`us.anthropic.claude-..`).
const BEDROCK_REGIONS: &[&str] = &["us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.", "us-gov."];

/// Vendors of Bedrock model ids (`anthropic.claude-..-v1:0`).
const BEDROCK_VENDORS: &[&str] = &[
    "anthropic.",
    "meta.",
    "amazon.",
    "mistral.",
    "cohere.",
    "ai21.",
    "deepseek.",
    "qwen.",
    "openai.",
    "xai.",
    "writer.",
];

/// Whether `model` is an Amazon Bedrock model id: `vendor.model`, with an
/// optional cross-region prefix (`us.anthropic.claude-..`, `meta.llama3-..`).
pub fn is_bedrock_id(model: &str) -> bool {
    let rest = BEDROCK_REGIONS.iter().find_map(|p| strip_prefix_ci(model, p)).unwrap_or(model);
    !rest.contains('/') && BEDROCK_VENDORS.iter().any(|v| strip_prefix_ci(rest, v).is_some_and(|m| !m.is_empty()))
}

/// The price-table prefix of a maker whose own API names its models without
/// one (`grok-4.3` on xAI's API is LiteLLM's `xai/grok-4.3`).
fn first_party_table_prefix(model: &str) -> Option<&'static str> {
    match crate::infer_provider(model) {
        "gcp.gemini" if !model.to_ascii_lowercase().starts_with("gemma") => Some("gemini/"),
        "x_ai" => Some("xai/"),
        "mistral_ai" => Some("mistral/"),
        "deepseek" => Some("deepseek/"),
        _ => None,
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// `-v1:0`, `-v2:0`, `-v1`: a Bedrock version suffix.
fn strip_bedrock_version(model: &str) -> Option<&str> {
    let (head, tail) = model.rsplit_once("-v")?;
    let (major, minor) = tail.split_once(':').unwrap_or((tail, "0"));
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor) && !head.is_empty()).then_some(head)
}

/// The keys a price lookup tries, in order, each to be matched exactly (or
/// lowercased). The first key is the name itself, so a name the table has
/// keeps its own price: a host-qualified key (`together_ai/..`, `azure/..`,
/// `us.anthropic.claude-..`) keeps its host's rate and a dated snapshot with
/// its own entry keeps its own. Then, in order:
///
/// - an OpenAI fine-tune id `ft:BASE:org::id` tries only `ft:BASE` (and
///   `ft:` + BASE undated): a fine-tune is billed at its own rate, never at
///   its base model's, so no other key is tried;
/// - a first-party prefix strips (`openai/`, `anthropic/`);
/// - a bare name of a maker whose prices the table keys with its prefix gets
///   it, first (`grok-4.3` tries `xai/grok-4.3`, `gemini-2.5-pro` tries
///   `gemini/gemini-2.5-pro` before Vertex's bare `gemini-2.5-pro`);
/// - `bedrock/` (and `bedrock/converse/`, `bedrock/invoke/`) strips, a
///   Bedrock region prefix (`us.`, `eu.`, `apac.`, `global.`..) strips, a
///   version suffix (`-v1:0`) strips, and a vendor id without one gets `-v1:0`;
/// - a `-latest` alias strips, a dated-snapshot suffix strips.
///
/// Any other `host/` prefix is never stripped: a third-party host never
/// silently gets the maker's price (`deepseek-ai/DeepSeek-V3.2` is not
/// `deepseek-chat`). Names served by third-party hosts under the same name
/// are resolved by the price table's host index, not here.
pub fn lookup_keys(model: &str) -> Vec<String> {
    let mut keys: Vec<String> = vec![model.to_string()];
    if let Some(rest) = strip_prefix_ci(model, "ft:") {
        let base = rest.split(':').next().unwrap_or_default();
        if !base.is_empty() {
            keys.push(format!("ft:{base}"));
            if let Some(undated) = strip_date(base) {
                keys.push(format!("ft:{undated}"));
            }
        }
        return keys;
    }
    // Each rule applies to every key found so far, in the order above, so a
    // key reached by fewer rules is tried before one reached by more.
    type Rule = fn(&str) -> Option<String>;
    let rules: &[Rule] = &[
        |k| FIRST_PARTY_STRIP.iter().find_map(|p| strip_prefix_ci(k, p)).map(str::to_string),
        |k| {
            ["bedrock/converse/", "bedrock/invoke/", "bedrock/"]
                .iter()
                .find_map(|p| strip_prefix_ci(k, p))
                .map(str::to_string)
        },
        |k| {
            let rest = BEDROCK_REGIONS.iter().find_map(|p| strip_prefix_ci(k, p))?;
            BEDROCK_VENDORS.iter().any(|v| strip_prefix_ci(rest, v).is_some()).then(|| rest.to_string())
        },
        |k| {
            let rest = strip_bedrock_version(k)?;
            (!k.contains('/') && BEDROCK_VENDORS.iter().any(|v| strip_prefix_ci(k, v).is_some()))
                .then(|| rest.to_string())
        },
        |k| {
            (!k.contains('/')
                && strip_bedrock_version(k).is_none()
                && BEDROCK_VENDORS.iter().any(|v| strip_prefix_ci(k, v).is_some()))
            .then(|| format!("{k}-v1:0"))
        },
        |k| {
            (!k.contains('/')
                && strip_bedrock_version(k).is_none()
                && BEDROCK_VENDORS.iter().any(|v| strip_prefix_ci(k, v).is_some()))
            .then(|| format!("{k}-v1"))
        },
        |k| strip_suffix_ci(k, "-latest").map(str::to_string),
        |k| strip_date(k).map(str::to_string),
    ];
    for rule in rules {
        let found: Vec<String> = keys.iter().filter_map(|k| rule(k)).collect();
        for k in found {
            if keys.len() < MAX_KEYS && !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    // The maker's own key first for each bare name (see above).
    let mut out: Vec<String> = Vec::with_capacity(keys.len() * 2);
    for k in keys {
        if !k.contains('/') {
            if let Some(p) = first_party_table_prefix(&k) {
                out.push(format!("{p}{k}"));
            }
        }
        out.push(k);
    }
    out.dedup();
    out.truncate(MAX_KEYS);
    out
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    (cut > 0 && tail.eq_ignore_ascii_case(suffix)).then(|| &s[..cut])
}

/// The name a host-qualified table key has on its host's own API: the key
/// without its first `host/` segment (`together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo`
/// gives `meta-llama/Llama-3.3-70B-Instruct-Turbo`). The price table indexes
/// its keys by it, so a name written the way the host's API takes it finds
/// the host's price, and a name several hosts serve at different prices is
/// known but ambiguous (priced once the call site names its provider).
pub fn host_name(key: &str) -> Option<(&str, &str)> {
    key.split_once('/').filter(|(host, rest)| !host.is_empty() && !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_stripped() {
        assert_eq!(strip_date("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(strip_date("claude-sonnet-4-5-20250929"), Some("claude-sonnet-4-5"));
        assert_eq!(strip_date("claude-sonnet-4-5@20250929"), Some("claude-sonnet-4-5"));
        assert_eq!(strip_date("gpt-4o"), None);
        assert_eq!(strip_date("o3"), None);
        // Exactly a date, with nothing before it, is not a dated model name.
        assert_eq!(strip_date("-2024-08-06"), None);
    }

    /// Regression: a multi-byte character across the 11-byte cut panicked in
    /// the runtime's copy (`obs_runtime::pricing::price("aé0123456789")`).
    #[test]
    fn a_character_across_the_cut_is_not_a_date() {
        assert_eq!(strip_date("aé0123456789"), None);
        assert_eq!(strip_date("é-2024-08-06"), Some("é"));
        assert_eq!(strip_date("ééééééé"), None);
        assert_eq!(strip_date("模型-20250929"), Some("模型"));
    }

    #[test]
    fn lookup_keys_in_order() {
        assert_eq!(
            lookup_keys("openai/gpt-4o-2024-08-06"),
            ["openai/gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "openai/gpt-4o", "gpt-4o"]
        );
        assert_eq!(lookup_keys("gpt-4o"), ["gpt-4o"]);
        assert_eq!(
            lookup_keys("grok-4.3-latest"),
            ["xai/grok-4.3-latest", "grok-4.3-latest", "xai/grok-4.3", "grok-4.3"]
        );
        assert_eq!(
            lookup_keys("ft:gpt-4o-mini-2024-07-18:acme::abc123"),
            ["ft:gpt-4o-mini-2024-07-18:acme::abc123", "ft:gpt-4o-mini-2024-07-18", "ft:gpt-4o-mini"]
        );
        let bedrock = lookup_keys("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assert_eq!(
            bedrock[..2],
            ["us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"]
        );
        assert!(lookup_keys("anthropic.claude-opus-4-6").contains(&"anthropic.claude-opus-4-6-v1:0".to_string()));
        // A third-party host prefix never strips to the maker's name.
        assert!(!lookup_keys("deepseek-ai/DeepSeek-V3.2").iter().any(|k| !k.starts_with("deepseek-ai/")));
        assert_eq!(host_name("together_ai/meta-llama/x"), Some(("together_ai", "meta-llama/x")));
    }

    #[test]
    fn hostile_names_make_a_bounded_list() {
        for n in ["", "/", "ft:", "ft::", "-v", "-latest", "us.anthropic.-v1:0-latest-2024-01-01", "é-v1:0é"] {
            assert!(lookup_keys(n).len() <= MAX_KEYS, "{n}");
        }
    }
}
