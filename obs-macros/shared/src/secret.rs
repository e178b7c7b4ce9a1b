//! The secret-name rule: which field and JSON key names hold secrets.
//!
//! `#[derive(Redact)]` applies it at compile time to field names, content
//! capture at run time to JSON keys; both read it from here.

/// Words that make a field name secret-like. `tokens` (plural) is left out
/// on purpose: in model code `max_tokens` and `input_tokens` are counts.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "apikey",
    "authorization",
    "cookie",
    "cookies",
    "session",
    "privatekey",
    "credential",
    "credentials",
];

/// A last word that makes a secret-like name describe the secret rather than
/// hold it (`token_count`, `secret_name`, `password_file`).
const DESCRIPTIVE_SUFFIXES: &[&str] = &[
    "count",
    "counts",
    "len",
    "length",
    "limit",
    "max",
    "min",
    "size",
    "total",
    "ttl",
    "timeout",
    "expiry",
    "expires",
    "expiration",
    "at",
    "type",
    "kind",
    "name",
    "path",
    "file",
    "url",
    "uri",
    "endpoint",
];

/// Whether a field or key name looks like it holds a secret: one of its
/// words (split at `_`, `-` and camelCase humps, compared case-insensitively)
/// or two adjacent words joined is `password`, `passwd`, `passphrase`,
/// `secret`, `token`, `api key`, `authorization`, `cookie`, `session`,
/// `private key` or `credential` (or their plurals, except `tokens`), unless
/// the last word says it describes the secret (`token_count`, `secret_name`,
/// `password_file`, `session_ttl`, ...). `#[derive(Redact)]` masks such
/// fields by default, and content capture masks such JSON keys' values.
///
/// ```
/// use obs_shared::is_secret_name;
/// assert!(is_secret_name("api_key") && is_secret_name("apiKey") && is_secret_name("X-Api-Key"));
/// assert!(is_secret_name("refresh_token") && is_secret_name("DB_PASSWORD") && is_secret_name("session_id"));
/// assert!(!is_secret_name("max_tokens") && !is_secret_name("token_count") && !is_secret_name("user"));
/// ```
pub fn is_secret_name(name: &str) -> bool {
    let words = split_words(name);
    if words.last().is_some_and(|w| DESCRIPTIVE_SUFFIXES.contains(&w.as_str())) && words.len() > 1 {
        return false;
    }
    let one = words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()));
    one || words.windows(2).any(|p| {
        let joined = format!("{}{}", p[0], p[1]);
        SECRET_WORDS.contains(&joined.as_str())
    })
}

/// Lowercase words of an identifier: `X-Api-Key` and `xApiKey` give `x api key`.
fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}
