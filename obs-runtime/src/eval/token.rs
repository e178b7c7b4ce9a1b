//! Feedback tokens: what obs hands the application at the time of a call, to
//! store beside its answer, so that feedback given later (an HTTP handler,
//! days after, in another process) lands on the call's series and trace
//! without obs remembering anything.
//!
//! A token is `obs1.` and the URL-safe base64 (no padding) of:
//!
//! ```text
//! version (1) · flags (1: sampled, has ids) · [trace id (16) · span id (8)]
//! · agent (1 + ≤255) · model (1 + ≤255) · response id (1 + ≤255)
//! · tag (16): HMAC-SHA256 of all that under the feedback key, cut to 128 bits
//! ```
//!
//! about 100 characters for usual names. The agent and model become metric
//! labels when feedback arrives, so a token must not be forgeable: anyone
//! could otherwise invent agent and model names (new series) or point scores
//! at any trace. The tag is checked (in constant time) before anything in
//! the token is used; a token that does not decode, is too long, or whose tag
//! does not match is a [`TokenError`], never a panic. Checking names against
//! the catalog instead would refuse agents and models named at run time
//! (`track::llm(model)`) and still let anyone point a score at any trace, so
//! the signature is what is checked; the registry's cardinality limit still
//! bounds what a leaked key could add.
//!
//! The key: `OBS_FEEDBACK_KEY` ([`crate::Builder::feedback_key`], or
//! [`set_feedback_key`] without `init()`), at least 16 bytes, the same in
//! every process that hands out or takes tokens. Without one, a random key is
//! chosen per process (with a warning at the first token): tokens then work
//! in that process only, until it restarts.

use super::EvalError;
use crate::ledger::SpanRef;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::sync::OnceLock;

type HmacSha256 = Hmac<Sha256>;

/// What starts every token.
const PREFIX: &str = "obs1.";
const VERSION: u8 = 1;
const FLAG_SAMPLED: u8 = 1;
const FLAG_IDS: u8 = 2;
/// Bytes of the tag kept.
const TAG: usize = 16;
/// Longest agent, model or response id in a token, in bytes.
const MAX_FIELD: usize = 255;
/// Shortest key accepted, in bytes.
const MIN_KEY_LEN: usize = 16;
/// What the tag covers besides the token, so a tag made for anything else
/// under the same key never verifies here.
const DOMAIN: &[u8] = b"obs feedback token v1\0";

/// The longest token accepted, in characters: longer input is refused
/// before it is decoded.
pub const MAX_TOKEN_LEN: usize = PREFIX.len() + (2 + 24 + 3 * (1 + MAX_FIELD) + TAG).div_ceil(3) * 4;

/// Why a token cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Longer than [`MAX_TOKEN_LEN`].
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Not a token obs made: what is wrong with it.
    Malformed(&'static str),
    /// The tag does not match: the token was altered, forged, or made under
    /// another feedback key.
    BadSignature,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::TooLong { len } => {
                write!(f, "feedback token of {len} bytes: obs's tokens are at most {MAX_TOKEN_LEN}")
            }
            TokenError::Malformed(why) => write!(f, "not an obs feedback token: {why}"),
            TokenError::BadSignature => f.write_str(
                "feedback token signature does not match: it was altered, or made by a process with another feedback key; set the same OBS_FEEDBACK_KEY in every process that hands out or takes tokens",
            ),
        }
    }
}

impl std::error::Error for TokenError {}

/// Why [`set_feedback_key`] refused a key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedbackKeyError {
    /// Shorter than 16 bytes.
    TooShort {
        /// Its length.
        len: usize,
    },
    /// Another key is in use already (set earlier, or chosen at random for
    /// the first token); changing it would void the tokens handed out.
    AlreadySet,
}

impl fmt::Display for FeedbackKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedbackKeyError::TooShort { len } => write!(
                f,
                "the feedback key has {len} bytes; use at least {MIN_KEY_LEN} random bytes (e.g. `openssl rand -hex 32`)"
            ),
            FeedbackKeyError::AlreadySet => f.write_str(
                "a different feedback key is already in use; set the key once, before the first token is made or read",
            ),
        }
    }
}

impl std::error::Error for FeedbackKeyError {}

struct Key {
    mac: HmacSha256,
    /// The key's own tag of a fixed text, to tell a second, equal key apart.
    fingerprint: [u8; 32],
    random: bool,
}

static KEY: OnceLock<Key> = OnceLock::new();

fn make(key: &[u8], random: bool) -> Option<Key> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mac = <HmacSha256 as Mac>::new_from_slice(key).ok()?;
    let mut fp = mac.clone();
    fp.update(b"obs feedback key fingerprint");
    Some(Key { mac, fingerprint: fp.finalize().into_bytes().into(), random })
}

fn key() -> Option<&'static Key> {
    if let Some(k) = KEY.get() {
        return Some(k);
    }
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        return None;
    }
    let _ = KEY.set(make(&bytes, true)?);
    let k = KEY.get()?;
    if k.random {
        tracing::warn!(
            target: "obs_runtime::eval",
            "feedback tokens are signed with a random key of this process: they stop working when it restarts and in other processes; set OBS_FEEDBACK_KEY (at least 16 random bytes, the same everywhere)"
        );
    }
    Some(k)
}

/// Whether `key` can become the feedback key: long enough, and either no key
/// is in use yet or it is this one.
pub(crate) fn check_key(key: &[u8]) -> Result<(), FeedbackKeyError> {
    if key.len() < MIN_KEY_LEN {
        return Err(FeedbackKeyError::TooShort { len: key.len() });
    }
    match (KEY.get(), make(key, false)) {
        (Some(current), Some(new)) if current.fingerprint != new.fingerprint => Err(FeedbackKeyError::AlreadySet),
        _ => Ok(()),
    }
}

/// Sets the key that signs and checks feedback tokens (`OBS_FEEDBACK_KEY`;
/// [`crate::Builder::feedback_key`] applies it at `init()`): at least 16
/// bytes, kept secret, the same in every process that hands out or takes
/// tokens. Setting the key in use again is accepted.
///
/// ```
/// obs_runtime::eval::set_feedback_key(b"0123456789abcdef0123456789abcdef").unwrap();
/// assert!(obs_runtime::eval::set_feedback_key(b"short").is_err());
/// ```
pub fn set_feedback_key(key: &[u8]) -> Result<(), FeedbackKeyError> {
    check_key(key)?;
    let new = make(key, false).ok_or(FeedbackKeyError::TooShort { len: key.len() })?;
    let fingerprint = new.fingerprint;
    if KEY.set(new).is_ok() {
        return Ok(());
    }
    match KEY.get() {
        Some(k) if k.fingerprint == fingerprint => Ok(()),
        _ => Err(FeedbackKeyError::AlreadySet),
    }
}

/// What a feedback token names: the call's agent and model (its series), its
/// response id, and its trace and span ids (its place in a trace backend).
///
/// Hand one out with the answer ([`FeedbackToken::for_response`] right
/// after the model call, or [`FeedbackToken::current`] inside the agent),
/// as text (`to_string()`, URL-safe); take the feedback later with
/// [`super::Evaluation::record_with_token`].
///
/// ```
/// use obs_runtime::eval::{Evaluation, FeedbackToken};
/// obs_runtime::testing::enable();
/// obs_runtime::eval::set_feedback_key(b"0123456789abcdef0123456789abcdef").unwrap();
/// let token = FeedbackToken::current().to_string(); // stored beside the answer
/// assert!(token.starts_with("obs1."));
/// // Later, in the feedback endpoint:
/// Evaluation::new("user_feedback").score(1.0).passed(true).evaluator("user").record_with_token(&token).unwrap();
/// // A token that was tampered with is an error, never a new series.
/// let forged = format!("{}A", &token[..token.len() - 1]);
/// assert!(Evaluation::new("user_feedback").score(0.0).record_with_token(&forged).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedbackToken {
    agent: String,
    model: String,
    response_id: Option<String>,
    span: Option<SpanRef>,
}

impl FeedbackToken {
    /// The token of the model call that returned response `id`, from the
    /// ledger of recent calls.
    pub fn for_response(id: &str) -> Result<FeedbackToken, EvalError> {
        let r = crate::ledger::find_response(id).ok_or_else(|| EvalError::UnknownResponse(id.to_string()))?;
        Ok(FeedbackToken::for_call(&r))
    }

    /// The token of a model call of the ledger.
    pub fn for_call(r: &crate::ledger::CallRecord) -> FeedbackToken {
        FeedbackToken::new(r.agent, r.model, r.response_id.as_deref(), r.span)
    }

    /// The token of the current call: the current span and agent, model
    /// `none` (as [`super::Evaluation::record`]).
    pub fn current() -> FeedbackToken {
        #[cfg(feature = "logs")]
        let span = SpanRef::of(&tracing::Span::current());
        #[cfg(not(feature = "logs"))]
        let span = None;
        FeedbackToken::new(crate::context::current_agent().name(), super::NO_MODEL, None, span)
    }

    fn new(agent: &str, model: &str, response_id: Option<&str>, span: Option<SpanRef>) -> FeedbackToken {
        // Names past 255 bytes are cut like label values (a label that long
        // is already cut by the registry), an empty one is `none`; a
        // response id that long is left out, since a cut one names nothing.
        let fit = |s: &str| match s {
            "" => super::NO_MODEL.to_string(),
            s => crate::metrics::registry::cut(s, MAX_FIELD - crate::metrics::registry::CUT_MARKER.len()).into_owned(),
        };
        FeedbackToken {
            agent: fit(agent),
            model: fit(model),
            response_id: response_id.filter(|r| r.len() <= MAX_FIELD && !r.is_empty()).map(str::to_string),
            span,
        }
    }

    /// The agent (`agent` label).
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// The model (`model` label; `none` for an agent's run).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The response id, when the call reported one.
    pub fn response_id(&self) -> Option<&str> {
        self.response_id.as_deref()
    }

    /// The call's span ids, when it had them.
    pub fn span(&self) -> Option<SpanRef> {
        self.span
    }

    pub(crate) fn into_parts(self) -> (String, String, Option<String>, Option<SpanRef>) {
        (self.agent, self.model, self.response_id, self.span)
    }

    fn payload(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.agent.len() + self.model.len());
        b.push(VERSION);
        let mut flags = 0;
        if let Some(s) = self.span {
            flags |= FLAG_IDS;
            if s.sampled {
                flags |= FLAG_SAMPLED;
            }
        }
        b.push(flags);
        if let Some(s) = self.span {
            b.extend_from_slice(&s.trace_id);
            b.extend_from_slice(&s.span_id);
        }
        for f in [self.agent.as_str(), self.model.as_str(), self.response_id.as_deref().unwrap_or("")] {
            // `new` keeps every field within 255 bytes.
            let f = &f.as_bytes()[..f.len().min(MAX_FIELD)];
            b.push(f.len() as u8);
            b.extend_from_slice(f);
        }
        b
    }

    fn parse_payload(b: &[u8]) -> Result<FeedbackToken, TokenError> {
        let mut r = Reader(b);
        if r.byte()? != VERSION {
            return Err(TokenError::Malformed("unknown version (it is not `obs1`)"));
        }
        let flags = r.byte()?;
        if flags & !(FLAG_SAMPLED | FLAG_IDS) != 0 {
            return Err(TokenError::Malformed("unknown flags"));
        }
        let span = if flags & FLAG_IDS != 0 {
            let trace_id: [u8; 16] = r.take(16)?.try_into().map_err(|_| TokenError::Malformed("cut short"))?;
            let span_id: [u8; 8] = r.take(8)?.try_into().map_err(|_| TokenError::Malformed("cut short"))?;
            if trace_id == [0; 16] || span_id == [0; 8] {
                return Err(TokenError::Malformed("zero trace or span id"));
            }
            Some(SpanRef { trace_id, span_id, sampled: flags & FLAG_SAMPLED != 0 })
        } else {
            None
        };
        let agent = r.text()?;
        let model = r.text()?;
        let response_id = r.text()?;
        if !r.0.is_empty() {
            return Err(TokenError::Malformed("bytes after its fields"));
        }
        if agent.is_empty() || model.is_empty() {
            return Err(TokenError::Malformed("empty agent or model"));
        }
        Ok(FeedbackToken { agent, model, response_id: Some(response_id).filter(|r| !r.is_empty()), span })
    }
}

/// Reads a payload front to back; every read is bounds-checked.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], TokenError> {
        if self.0.len() < n {
            return Err(TokenError::Malformed("cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn byte(&mut self) -> Result<u8, TokenError> {
        Ok(self.take(1)?[0])
    }
    fn text(&mut self) -> Result<String, TokenError> {
        let n = usize::from(self.byte()?);
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| TokenError::Malformed("a field is not UTF-8"))
    }
}

fn tag(key: &Key, payload: &[u8]) -> HmacSha256 {
    let mut mac = key.mac.clone();
    mac.update(DOMAIN);
    mac.update(payload);
    mac
}

/// The token's text: `obs1.` and URL-safe base64, signed with the feedback key.
impl fmt::Display for FeedbackToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = self.payload();
        match key() {
            Some(k) => bytes.extend_from_slice(&tag(k, &bytes).finalize().into_bytes()[..TAG]),
            // No key and no randomness for one: a tag no process accepts.
            None => bytes.extend_from_slice(&[0; TAG]),
        }
        f.write_str(PREFIX)?;
        f.write_str(&base64url(&bytes))
    }
}

impl std::str::FromStr for FeedbackToken {
    type Err = TokenError;

    /// Decodes and checks a token: its length first, then its encoding,
    /// then its tag, and only then its fields.
    fn from_str(s: &str) -> Result<FeedbackToken, TokenError> {
        if s.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong { len: s.len() });
        }
        let body = s.strip_prefix(PREFIX).ok_or(TokenError::Malformed("it does not start with `obs1.`"))?;
        let bytes = unbase64url(body).ok_or(TokenError::Malformed("not URL-safe base64"))?;
        if bytes.len() < 2 + 3 + TAG {
            return Err(TokenError::Malformed("too short"));
        }
        let (payload, sig) = bytes.split_at(bytes.len() - TAG);
        let k = key().ok_or(TokenError::BadSignature)?;
        tag(k, payload).verify_truncated_left(sig).map_err(|_| TokenError::BadSignature)?;
        FeedbackToken::parse_payload(payload)
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 without padding (RFC 4648 §5). Written here, a dozen
/// lines, rather than adding a crate to the library core.
fn base64url(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &c)| n | u32::from(c) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The bytes of URL-safe base64 without padding; `None` for any other
/// character, a length no encoding has, or non-zero trailing bits.
fn unbase64url(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32);
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    for chunk in s.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= digit(c)? << (18 - 6 * i);
        }
        let bytes = chunk.len() - 1;
        // Bits past the last whole byte must be zero: one encoding per token.
        if n & ((1 << (24 - 8 * bytes)) - 1) != 0 {
            return None;
        }
        out.extend((0..bytes).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_and_refuses_other_encodings() {
        for len in 0..40 {
            let b: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let s = base64url(&b);
            assert!(!s.contains(['+', '/', '=']));
            assert_eq!(unbase64url(&s), Some(b), "{s}");
        }
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
        assert_eq!(unbase64url("-_8"), Some(b"\xfb\xff".to_vec()));
        assert_eq!(unbase64url("-_9"), None, "non-zero trailing bits");
        assert_eq!(unbase64url("abcde"), None, "impossible length");
        assert_eq!(unbase64url("ab+/"), None, "standard alphabet");
    }

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        set_feedback_key(b"unit-test-feedback-key-0123456789").unwrap();
        let ids = SpanRef::parse("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7").unwrap();
        let t = FeedbackToken::new("support", "gpt-4o-mini", Some("chatcmpl-1"), Some(ids));
        let text = t.to_string();
        assert!(text.len() < 120, "{} bytes: {text}", text.len());
        assert_eq!(text.parse::<FeedbackToken>(), Ok(t.clone()));
        let bare = FeedbackToken::new("a", "none", None, None);
        assert_eq!(bare.to_string().parse::<FeedbackToken>(), Ok(bare));
        // Any changed character is refused.
        let bytes = text.as_bytes();
        for i in PREFIX.len()..bytes.len() {
            let mut b = bytes.to_vec();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(b).unwrap();
            assert!(altered.parse::<FeedbackToken>().is_err(), "{altered}");
        }
        assert_eq!("obs1.".parse::<FeedbackToken>(), Err(TokenError::Malformed("too short")));
        assert_eq!(
            "x".repeat(MAX_TOKEN_LEN + 1).parse::<FeedbackToken>(),
            Err(TokenError::TooLong { len: MAX_TOKEN_LEN + 1 })
        );
        // Longest fields still fit within the bound.
        let long = "é".repeat(200);
        let t = FeedbackToken::new(&long, &long, Some(&"r".repeat(255)), Some(ids));
        let text = t.to_string();
        assert!(text.len() <= MAX_TOKEN_LEN, "{}", text.len());
        assert_eq!(text.parse::<FeedbackToken>(), Ok(t));
        assert_eq!(set_feedback_key(b"another-key-another-key"), Err(FeedbackKeyError::AlreadySet));
    }
}
