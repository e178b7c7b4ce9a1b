//! How a call ended, and how a returned value is classified: pure vocabulary
//! shared by the call layer, the model-call layer and the ledger (a leaf: it
//! depends on no other module of the crate).

/// How a call ended. The order is the index into a site's per-status handles.
///
/// `#[non_exhaustive]`: a later release may tell more endings apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Returned normally (an `Ok`, or any non-`Result` value).
    Success = 0,
    /// Returned `Err(_)`.
    Error = 1,
    /// The future was dropped before it completed.
    Cancelled = 2,
    /// The function panicked (the panic keeps unwinding).
    Panic = 3,
}

impl Status {
    /// Every status, in index order.
    pub const ALL: [Status; 4] = [Status::Success, Status::Error, Status::Cancelled, Status::Panic];

    /// The `status` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Error => "error",
            Status::Cancelled => "cancelled",
            Status::Panic => "panic",
        }
    }
}

/// The outcome of a returned value: success, or an error with a
/// low-cardinality type name for `error.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not an error.
    Success,
    /// An `Err` whose error type is named.
    Error(&'static str),
}

impl Outcome {
    /// The status and `error.type` of this outcome.
    #[inline(always)]
    pub(crate) fn status(self) -> (Status, Option<&'static str>) {
        match self {
            Outcome::Success => (Status::Success, None),
            Outcome::Error(ty) => (Status::Error, Some(ty)),
        }
    }
}

/// The last path segment of a type's name, without generic arguments:
/// `my_crate::errors::ToolError<io::Error>` gives `ToolError`. One pass over
/// the bytes up to the first `<` (a failed call computes it for its
/// `error.type`; the `str` searchers cost several times more).
pub fn short_type_name(full: &'static str) -> &'static str {
    let bytes = full.as_bytes();
    let mut start = 0;
    let mut end = bytes.len();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                end = i;
                break;
            }
            b':' if bytes.get(i + 1) == Some(&b':') => {
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    // `start` and `end` sit next to ASCII bytes (`::`, `<`), so on char boundaries.
    full.get(start..end).unwrap_or(full)
}

/// Wraps a return value for the generated code's probes:
/// `(&&&Probe(&ret)).__obs_end()` (see [`EndDisplay`]).
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// What the generated code reads from a call's return value for the end of
/// the call: the outcome, and for an `Err` whose type implements `Display`
/// the error itself (its text goes to the failure line).
#[derive(Clone, Copy)]
pub struct Ending<'a> {
    /// Success, or the error's type name.
    pub outcome: Outcome,
    /// The error, when the value is an `Err` of a `Display` type.
    pub error: Option<&'a dyn std::fmt::Display>,
}

impl Ending<'_> {
    /// A success.
    pub const SUCCESS: Ending<'static> = Ending { outcome: Outcome::Success, error: None };
}

/// An `Err` of a `Display` type: the outcome and the error. The generated
/// code calls `(&&&Probe(&ret)).__obs_end()`, which resolves to
/// [`EndDisplay`], else [`EndResult`], else [`EndPlain`] (autoref
/// specialization: a type without `Display` or without `Result` falls
/// through to the next, instead of failing to compile).
pub trait EndDisplay<'a> {
    /// The ending of this value.
    fn __obs_end(&self) -> Ending<'a>;
}

impl<'a, T, E: std::fmt::Display> EndDisplay<'a> for &&Probe<'a, Result<T, E>> {
    #[inline]
    fn __obs_end(&self) -> Ending<'a> {
        match self.0 {
            Ok(_) => Ending::SUCCESS,
            Err(e) => Ending { outcome: Outcome::Error(short_type_name(std::any::type_name::<E>())), error: Some(e) },
        }
    }
}

/// A `Result` whose error has no `Display`: the outcome only.
pub trait EndResult<'a> {
    /// The ending of this value.
    fn __obs_end(&self) -> Ending<'a>;
}

impl<'a, T, E> EndResult<'a> for &Probe<'a, Result<T, E>> {
    #[inline]
    fn __obs_end(&self) -> Ending<'a> {
        match self.0 {
            Ok(_) => Ending::SUCCESS,
            Err(_) => Ending { outcome: Outcome::Error(short_type_name(std::any::type_name::<E>())), error: None },
        }
    }
}

/// Any other value: a success.
pub trait EndPlain<'a> {
    /// Always a success.
    fn __obs_end(&self) -> Ending<'a>;
}

impl<'a, T: ?Sized> EndPlain<'a> for Probe<'a, T> {
    #[inline]
    fn __obs_end(&self) -> Ending<'a> {
        Ending::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_type_names() {
        assert_eq!(short_type_name("my_crate::errors::ToolError<std::io::Error>"), "ToolError");
        assert_eq!(short_type_name("ToolError"), "ToolError");
        assert_eq!(short_type_name("a::B<c::D<e::F>>"), "B");
        assert_eq!(short_type_name("alloc::string::String"), "String");
        assert_eq!(short_type_name("(u8, a::B)"), "B)");
        assert_eq!(short_type_name(""), "");
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrows pick the probe, as in generated code
    fn endings_read_results_and_display() {
        #[derive(Debug)]
        struct Opaque;
        let displayed: Result<u8, std::fmt::Error> = Err(std::fmt::Error);
        let e = (&&&Probe(&displayed)).__obs_end();
        assert_eq!(e.outcome, Outcome::Error("Error"));
        assert_eq!(e.error.map(|d| d.to_string()).as_deref(), Some("an error occurred when formatting an argument"));
        let opaque: Result<u8, Opaque> = Err(Opaque);
        let e = (&&&Probe(&opaque)).__obs_end();
        assert_eq!((e.outcome, e.error.is_none()), (Outcome::Error("Opaque"), true));
        let ok: Result<u8, Opaque> = Ok(1);
        assert_eq!((&&&Probe(&ok)).__obs_end().outcome, Outcome::Success);
        assert_eq!((&&&Probe(&3u8)).__obs_end().outcome, Outcome::Success);
    }
}
