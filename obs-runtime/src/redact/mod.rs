//! Redaction: one policy for every sink.
//!
//! This module owns what keeps secrets and personal data out of telemetry:
//! the [`Redact`] trait that `#[derive(Redact)]` implements, the field
//! strategies it uses ([`FULL_MASK`], [`partial`], [`FIXED_MASK`],
//! [`keyed_hash`], [`scan`]), the [`Redacted`] wrapper, the free-text
//! [`detectors`] and the runtime half of content capture ([`prepare_content`]).
//! It must not log, panic or block: it runs inside `Debug` and `Serialize`
//! implementations, possibly while a subscriber is formatting an event.
//!
//! # The derive
//!
//! ```
//! use obs_runtime::Redact;
//!
//! #[derive(Redact)]
//! struct Credentials {
//!     user: String,
//!     #[redact]
//!     api_key: String,
//!     #[redact(partial(last = 4))]
//!     card: String,
//!     password: String, // redacted by its name, without an attribute
//! }
//!
//! let c = Credentials {
//!     user: "alice".into(),
//!     api_key: "sk-123".into(),
//!     card: "4111111111111111".into(),
//!     password: "hunter2".into(),
//! };
//! assert_eq!(
//!     format!("{c:?}"),
//!     r#"Credentials { user: "alice", api_key: [REDACTED], card: ****1111, password: [REDACTED] }"#
//! );
//! assert_eq!(
//!     serde_json::to_string(&c).unwrap(),
//!     r#"{"user":"alice","api_key":"[REDACTED]","card":"****1111","password":"[REDACTED]"}"#
//! );
//! ```
//!
//! The derive writes `Debug`, `Serialize` (the redacted form, so JSON logs
//! and exporters are safe), [`crate::UnboundedLabelValue`] (so
//! `unbounded(value)` as a metric label is the redacted form) and, with
//! `#[redact(display)]` on the type, `Display`. Do not also derive `Debug` or
//! `Serialize`: the derive provides them. `tracing` records `Debug`, so
//! `#[traced(fields(req = request))]` and `tracing::info!(?request)` record
//! the redacted form. Code that needs a real value reads the field.
//!
//! Field strategies, written `#[redact(..)]` on a field (or on a variant or
//! the type, for each of its fields that has none):
//!
//! | attribute | output | field types |
//! |---|---|---|
//! | `#[redact]` | `[REDACTED]` | any |
//! | `#[redact(partial(last = 4))]`, `partial(first = 4)` | `****1234`, `abcd****` | text |
//! | `#[redact(fixed)]` | `********` whatever the length | text |
//! | `#[redact(hash)]` | `h:` and 16 hex digits of HMAC-SHA256 | text |
//! | `#[redact(scan)]` | the text with each [`detectors`] finding replaced by `[REDACTED:kind]` | text |
//! | `#[redact(with = path::to::fn)]` | `fn(&Field) -> impl Display`, written as is | any |
//! | `#[redact(skip)]` | the field is left out (named fields only) | any |
//! | `#[redact(allow)]` | the field is shown although its name looks secret | any |
//!
//! "Text" is any type implementing [`RedactText`]: strings, `char`,
//! integers, and `Option` of those (`None` stays `None`). Fields whose name
//! looks like a secret ([`is_secret_name`]) get `#[redact]` by default.

pub(crate) mod capture;
pub mod detectors;
#[cfg(feature = "redact-hash")]
pub(crate) mod hash;
mod strategy;

pub use capture::{capture, capture_enabled, capture_max_bytes, prepare_content, set_capture, set_capture_max_bytes};
#[cfg(feature = "redact-patterns")]
pub use detectors::add_pattern;
pub use detectors::{scan, Finding, Kind, PatternError};
#[cfg(feature = "redact-hash")]
pub use hash::{hash_key_source, keyed_hash, set_hash_key, HashKeyError, KeySource};
pub use strategy::{partial, Keep, FIXED_MASK, FULL_MASK};

use std::borrow::Cow;
use std::fmt;

/// A type whose `Debug` (and `Serialize`) write a redacted form. Implemented
/// by `#[derive(Redact)]`; bound on it where a generic function must only
/// receive values that are safe to record.
///
/// ```
/// use obs_runtime::redact::Redact;
///
/// fn log_request<T: Redact>(req: &T) {
///     tracing::info!(request = %req.to_redacted_string(), "sending");
/// }
/// # #[derive(obs_runtime::Redact)]
/// # struct Login { #[redact] password: String }
/// # log_request(&Login { password: "x".into() });
/// ```
pub trait Redact {
    /// Writes the redacted form (what `Debug` shows).
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// The redacted form as a `String`.
    fn to_redacted_string(&self) -> String {
        format!("{:?}", View(self))
    }
}

/// Formats a [`Redact`] value with its redacted form.
struct View<'a, T: ?Sized>(&'a T);

impl<T: Redact + ?Sized> fmt::Debug for View<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_redacted(f)
    }
}

impl<T: Redact + ?Sized> Redact for &T {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt_redacted(f)
    }
}

impl<T: Redact + ?Sized> Redact for Box<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt_redacted(f)
    }
}

impl<T: Redact> Redact for Option<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(v) => f.debug_tuple("Some").field(&View(v)).finish(),
            None => f.write_str("None"),
        }
    }
}

impl<T: Redact> Redact for [T] {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(View)).finish()
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt_redacted(f)
    }
}

/// A value that every sink shows as `[REDACTED]`, for secrets held outside a
/// `#[derive(Redact)]` type. [`Redacted::expose`] gives code the real value,
/// explicitly. It deserializes transparently, so a configuration file can
/// fill it.
///
/// ```
/// use obs_runtime::redact::Redacted;
///
/// let key = Redacted::new(String::from("sk-live-123"));
/// assert_eq!(format!("{key:?} {key}"), "[REDACTED] [REDACTED]");
/// assert_eq!(serde_json::to_string(&key).unwrap(), r#""[REDACTED]""#);
/// assert_eq!(key.expose(), "sk-live-123");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a secret.
    pub const fn new(value: T) -> Self {
        Redacted(value)
    }
    /// The real value.
    pub fn expose(&self) -> &T {
        &self.0
    }
    /// The real value, mutably.
    pub fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }
    /// Unwraps the real value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Redacted<T> {
    fn from(value: T) -> Self {
        Redacted(value)
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(FULL_MASK)
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(FULL_MASK)
    }
}

impl<T> Redact for Redacted<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(FULL_MASK)
    }
}

impl<T> serde::Serialize for Redacted<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(FULL_MASK)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Redacted<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Redacted)
    }
}

impl<T> crate::UnboundedLabelValue for Redacted<T> {
    fn unbounded_label(&self) -> Cow<'_, str> {
        Cow::Borrowed(FULL_MASK)
    }
}

/// A value that the text strategies (`partial`, `fixed`, `hash`, `scan`) can
/// read as text. `None` means "no value" and is shown as `None`.
#[diagnostic::on_unimplemented(
    message = "this redaction strategy needs text, and `{Self}` is not text",
    label = "`partial`, `fixed`, `hash` and `scan` read the field as text",
    note = "they work on `String`, `&str`, `Cow<str>`, `Box<str>`, `Arc<str>`, `char`, integers and `Option` of those",
    note = "for other types use `#[redact]` (shown as `[REDACTED]`) or `#[redact(with = path::to::fn)]` with your own rule, or implement `obs_runtime::redact::RedactText`"
)]
pub trait RedactText {
    /// The text, or `None` when there is no value.
    fn redact_text(&self) -> Option<Cow<'_, str>>;
}

impl RedactText for str {
    fn redact_text(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self))
    }
}
impl RedactText for String {
    fn redact_text(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self))
    }
}
impl RedactText for Cow<'_, str> {
    fn redact_text(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self))
    }
}
impl<T: RedactText + ?Sized> RedactText for &T {
    fn redact_text(&self) -> Option<Cow<'_, str>> {
        (**self).redact_text()
    }
}
impl<T: RedactText + ?Sized> RedactText for Box<T> {
    fn redact_text(&self) -> Option<Cow<'_, str>> {
        (**self).redact_text()
    }
}
impl<T: RedactText + ?Sized> RedactText for std::sync::Arc<T> {
    fn redact_text(&self) -> Option<Cow<'_, str>> {
        (**self).redact_text()
    }
}
impl<T: RedactText + ?Sized> RedactText for std::rc::Rc<T> {
    fn redact_text(&self) -> Option<Cow<'_, str>> {
        (**self).redact_text()
    }
}
impl<T: RedactText> RedactText for Option<T> {
    fn redact_text(&self) -> Option<Cow<'_, str>> {
        self.as_ref().and_then(RedactText::redact_text)
    }
}
impl<T: RedactText> RedactText for Redacted<T> {
    fn redact_text(&self) -> Option<Cow<'_, str>> {
        self.0.redact_text()
    }
}

macro_rules! display_text {
    ($($t:ty),*) => {$(
        impl RedactText for $t {
            fn redact_text(&self) -> Option<Cow<'_, str>> {
                Some(Cow::Owned(self.to_string()))
            }
        }
    )*};
}
display_text!(char, u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

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
/// use obs_runtime::redact::is_secret_name;
/// assert!(is_secret_name("api_key") && is_secret_name("apiKey") && is_secret_name("X-Api-Key"));
/// assert!(is_secret_name("refresh_token") && is_secret_name("DB_PASSWORD") && is_secret_name("session_id"));
/// assert!(!is_secret_name("max_tokens") && !is_secret_name("token_count") && !is_secret_name("user"));
/// ```
// The rule lives in `obs-shared`, so the derive (at compile time) and
// content capture (at run time) cannot disagree.
pub fn is_secret_name(name: &str) -> bool {
    obs_shared::is_secret_name(name)
}

/// What `#[derive(Redact)]` generates code against. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::strategy::{fixed, hash, partial_first, partial_last, scan, Full, Mask, Scanned, With};
    pub use super::{Redact, RedactText};
    pub use crate::UnboundedLabelValue;
    pub use serde;
    pub use std::borrow::Cow;
    pub use std::fmt;
}
