//! The field strategies, as functions and as the small views that derived
//! `Debug` and `Serialize` implementations write.

use super::RedactText;
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// What `#[redact]` writes in place of a value, in every sink.
pub const FULL_MASK: &str = "[REDACTED]";

/// What `#[redact(fixed)]` writes: the same eight characters whatever the
/// length of the value, so the length is not revealed either.
pub const FIXED_MASK: &str = "********";

/// The mask that stands for the hidden part of a `partial` value. Its width
/// is fixed, so the length of the value is not revealed.
const PARTIAL_MASK: &str = "****";

/// Which end of a value `partial` keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Keep the first N characters: `abcd****`.
    First(usize),
    /// Keep the last N characters: `****1234`.
    Last(usize),
}

/// Keeps N characters of `text` and masks the rest with `****`. A value
/// shorter than twice N is masked whole (`****`): showing N of fewer than 2N
/// characters would reveal most of it.
///
/// ```
/// use obs_runtime::redact::{partial, Keep};
/// assert_eq!(partial("4111111111111111", Keep::Last(4)), "****1111");
/// assert_eq!(partial("alice@example.com", Keep::First(3)), "ali****");
/// assert_eq!(partial("1234", Keep::Last(4)), "****");
/// ```
pub fn partial(text: &str, keep: Keep) -> String {
    let n = text.chars().count();
    let k = match keep {
        Keep::First(k) | Keep::Last(k) => k,
    };
    if k == 0 || n < k.saturating_mul(2) {
        return PARTIAL_MASK.to_string();
    }
    match keep {
        Keep::First(_) => {
            let end = text.char_indices().nth(k).map_or(text.len(), |(i, _)| i);
            format!("{}{PARTIAL_MASK}", &text[..end])
        }
        Keep::Last(_) => {
            let start = text.char_indices().nth(n - k).map_or(text.len(), |(i, _)| i);
            format!("{PARTIAL_MASK}{}", &text[start..])
        }
    }
}

/// `[REDACTED]` in every sink.
pub struct Full;

impl fmt::Debug for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(FULL_MASK)
    }
}

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(FULL_MASK)
    }
}

impl Serialize for Full {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(FULL_MASK)
    }
}

/// A masked text value, shown without quotes (it is a mask, not the text);
/// `None` when the field had no value.
pub struct Mask(Option<String>);

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or("None"))
    }
}

impl fmt::Display for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Serialize for Mask {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(m) => s.serialize_str(m),
            None => s.serialize_none(),
        }
    }
}

/// Text after the detectors ran over it: `Debug` quotes it like a string,
/// since it is the real text with only the findings masked.
pub struct Scanned<'a>(Option<Cow<'a, str>>);

impl fmt::Debug for Scanned<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(t) => fmt::Debug::fmt(t.as_ref(), f),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Display for Scanned<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or("None"))
    }
}

impl Serialize for Scanned<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(t) => s.serialize_str(t),
            None => s.serialize_none(),
        }
    }
}

/// The output of a `with = path` rule, written with its `Display`.
pub struct With<R>(pub R);

impl<R: fmt::Display> fmt::Debug for With<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<R: fmt::Display> fmt::Display for With<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<R: fmt::Display> Serialize for With<R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// `partial(last = n)`.
pub fn partial_last<T: RedactText + ?Sized>(v: &T, n: usize) -> Mask {
    Mask(v.redact_text().map(|t| partial(&t, Keep::Last(n))))
}

/// `partial(first = n)`.
pub fn partial_first<T: RedactText + ?Sized>(v: &T, n: usize) -> Mask {
    Mask(v.redact_text().map(|t| partial(&t, Keep::First(n))))
}

/// `fixed`.
pub fn fixed<T: RedactText + ?Sized>(v: &T) -> Mask {
    Mask(v.redact_text().map(|_| FIXED_MASK.to_string()))
}

/// `hash`.
#[cfg(feature = "redact-hash")]
pub fn hash<T: RedactText + ?Sized>(v: &T) -> Mask {
    Mask(v.redact_text().map(|t| super::keyed_hash(&t)))
}

/// Not implemented by any type: `#[redact(hash)]` in a build without the
/// `redact-hash` feature is a compile error that says which feature to turn on.
#[cfg(not(feature = "redact-hash"))]
#[diagnostic::on_unimplemented(
    message = "`#[redact(hash)]` needs obs-runtime's `redact-hash` feature",
    label = "keyed hashing is not compiled into this build of obs-runtime",
    note = "turn it on with `features = [\"redact-hash\"]` on obs-runtime (it is a default feature), or use `#[redact]` or `#[redact(partial = ..)]`"
)]
pub trait HashingEnabled {}

/// `hash`, in a build without keyed hashing: never compiles (see [`HashingEnabled`]).
#[cfg(not(feature = "redact-hash"))]
pub fn hash<T: RedactText + ?Sized + HashingEnabled>(v: &T) -> Mask {
    Mask(v.redact_text().map(|_| FULL_MASK.to_string()))
}

/// `scan`.
pub fn scan<T: RedactText + ?Sized>(v: &T) -> Scanned<'_> {
    Scanned(v.redact_text().map(|t| match t {
        Cow::Borrowed(b) => super::scan(b),
        Cow::Owned(o) => Cow::Owned(super::scan(&o).into_owned()),
    }))
}
