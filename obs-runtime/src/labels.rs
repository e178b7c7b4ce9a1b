//! Label values computed at run time (`agent = self.name`, `labels(tier = t)`).
//!
//! Each distinct label value creates a new metric series that lives for the
//! rest of the process and costs memory here and money in the metrics backend.
//! So a runtime value must be of a type whose values are a small fixed set
//! ([`LabelValue`]: `bool`, `&'static str`, your enums), or the user opts in
//! to an open set explicitly with `unbounded(expr)` ([`UnboundedLabelValue`]);
//! the per-metric cardinality limit still applies then.

use std::borrow::Cow;

/// A type whose values form a small, fixed set, usable as a metric label.
///
/// ```
/// use obs_runtime::LabelValue;
/// enum Tier { Free, Pro }
/// impl LabelValue for Tier {
///     fn label_value(&self) -> &'static str {
///         match self { Tier::Free => "free", Tier::Pro => "pro" }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a metric label value: its values are not a bounded set",
    label = "each distinct value of this expression would create a new metric series",
    note = "every label value creates series that live for the whole process and are billed by metrics backends",
    note = "use a type with a fixed set of values (an enum implementing `obs_runtime::LabelValue`, a `bool`, a `&'static str`), or opt in with `unbounded(expr)` if the set of values is small in practice"
)]
pub trait LabelValue {
    /// The label value.
    fn label_value(&self) -> &'static str;
}

impl LabelValue for bool {
    fn label_value(&self) -> &'static str {
        if *self {
            "true"
        } else {
            "false"
        }
    }
}

impl LabelValue for &'static str {
    fn label_value(&self) -> &'static str {
        self
    }
}

impl<T: LabelValue + ?Sized> LabelValue for &T {
    fn label_value(&self) -> &'static str {
        (**self).label_value()
    }
}

/// A value the user explicitly allowed as an open-ended label with
/// `unbounded(expr)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be turned into a label value",
    note = "`unbounded(...)` takes strings, integers, `char` or `bool`; a type implementing `obs_runtime::LabelValue` is bounded and needs no `unbounded(...)`"
)]
pub trait UnboundedLabelValue {
    /// The label value.
    fn unbounded_label(&self) -> Cow<'_, str>;
}

impl UnboundedLabelValue for str {
    fn unbounded_label(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}
impl UnboundedLabelValue for String {
    fn unbounded_label(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}
impl UnboundedLabelValue for Cow<'_, str> {
    fn unbounded_label(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}
impl<T: UnboundedLabelValue + ?Sized> UnboundedLabelValue for &T {
    fn unbounded_label(&self) -> Cow<'_, str> {
        (**self).unbounded_label()
    }
}
impl<T: UnboundedLabelValue + ?Sized> UnboundedLabelValue for Box<T> {
    fn unbounded_label(&self) -> Cow<'_, str> {
        (**self).unbounded_label()
    }
}
impl<T: UnboundedLabelValue + ?Sized> UnboundedLabelValue for std::sync::Arc<T> {
    fn unbounded_label(&self) -> Cow<'_, str> {
        (**self).unbounded_label()
    }
}

macro_rules! display_labels {
    ($($t:ty),*) => {$(
        impl UnboundedLabelValue for $t {
            fn unbounded_label(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}
display_labels!(bool, char, u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

#[doc(hidden)]
pub mod __private {
    use super::*;

    /// Label value of a bounded expression (the default for runtime values).
    #[inline]
    pub fn bounded<T: LabelValue + ?Sized>(v: &T) -> Cow<'static, str> {
        Cow::Borrowed(v.label_value())
    }

    /// Label value of an `unbounded(expr)`.
    #[inline]
    pub fn unbounded<T: UnboundedLabelValue + ?Sized>(v: &T) -> Cow<'_, str> {
        v.unbounded_label()
    }
}
