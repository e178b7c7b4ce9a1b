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
/// `my_crate::errors::ToolError<io::Error>` gives `ToolError`.
pub fn short_type_name(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Classifies a return value without specialization: the generated code calls
/// `(&Probe(&ret)).__obs_outcome()`, which resolves to [`ResultOutcome`] for a
/// `Result` and to [`PlainOutcome`] for anything else.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Outcome of a `Result`.
pub trait ResultOutcome {
    /// `Error` for `Err`.
    fn __obs_outcome(&self) -> Outcome;
}

impl<T, E> ResultOutcome for Probe<'_, Result<T, E>> {
    #[inline]
    fn __obs_outcome(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Error(short_type_name(std::any::type_name::<E>())),
        }
    }
}

/// Outcome of any value that is not a `Result`: success.
pub trait PlainOutcome {
    /// Always `Success`.
    fn __obs_outcome(&self) -> Outcome;
}

impl<T: ?Sized> PlainOutcome for &Probe<'_, T> {
    #[inline]
    fn __obs_outcome(&self) -> Outcome {
        Outcome::Success
    }
}
