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

    pub use super::SelfToolName;
}

/// The default tool name of a `#[track_tool]` method without `name = ..`:
/// `Type::method`, from the implementing type's name. The method's name
/// alone would give every rig or `async-trait` tool the same series
/// (`call`), and the type alone would merge two tool methods of one type.
///
/// `std::any::type_name` is not `const`, so the name is made on the first
/// call and kept by the call site. A site inside a blanket impl
/// (`impl<T: X> Tool for T`) sees one `Self` per implementing type, so a call
/// whose type differs from the cached one looks its name up in a shared,
/// bounded table instead (`OTHER_TYPES_LIMIT`).
#[doc(hidden)]
pub struct SelfToolName {
    method: &'static str,
    first: std::sync::OnceLock<(&'static str, &'static str)>,
}

/// Names made for call sites reached with more than one `Self` type; past
/// it, such a call is named after the method and `other`.
const OTHER_TYPES_LIMIT: usize = 256;

impl SelfToolName {
    #[doc(hidden)]
    pub const fn new(method: &'static str) -> Self {
        SelfToolName { method, first: std::sync::OnceLock::new() }
    }

    /// The tool name for `type_name`, which is `std::any::type_name::<Self>()`.
    #[inline]
    pub fn get(&'static self, type_name: &'static str) -> &'static str {
        let (ty, name) = *self.first.get_or_init(|| (type_name, leak_name(type_name, self.method)));
        // `type_name` returns the same slice for a type in practice; the
        // content compare covers a copy made by another codegen unit.
        if std::ptr::eq(ty, type_name) || ty == type_name {
            name
        } else {
            self.other(type_name)
        }
    }

    #[cold]
    #[inline(never)]
    fn other(&self, type_name: &'static str) -> &'static str {
        use std::collections::HashMap;
        use std::sync::Mutex;
        type Names = HashMap<(&'static str, &'static str), &'static str>;
        static OTHERS: Mutex<Option<Names>> = Mutex::new(None);
        let mut others = OTHERS.lock().unwrap_or_else(|e| e.into_inner());
        let others = others.get_or_insert_with(HashMap::new);
        if let Some(n) = others.get(&(type_name, self.method)) {
            return n;
        }
        if others.len() >= OTHER_TYPES_LIMIT {
            return "other";
        }
        let n = leak_name(type_name, self.method);
        others.insert((type_name, self.method), n);
        n
    }
}

/// `Type::method` from a full type name: the path and generic arguments go
/// (`my_app::tools::Search<u8>` gives `Search`). Leaked once per call site
/// (and per extra `Self` type, bounded), never per call.
fn leak_name(type_name: &str, method: &str) -> &'static str {
    Box::leak(format!("{}::{method}", short_type_name(type_name)).into_boxed_str())
}

/// The last path segment of a type name, without generic arguments;
/// references, slices and tuples are kept whole.
pub(crate) fn short_type_name(type_name: &str) -> &str {
    let base = type_name.split('<').next().unwrap_or(type_name);
    let last = base.rsplit("::").next().unwrap_or(base);
    if last.is_empty() || !last.chars().all(|c| c.is_alphanumeric() || c == '_') {
        type_name
    } else {
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_type_names() {
        assert_eq!(short_type_name("my_app::tools::Search"), "Search");
        assert_eq!(short_type_name("my_app::Wrapper<alloc::string::String>"), "Wrapper");
        assert_eq!(short_type_name("Local"), "Local");
        assert_eq!(short_type_name("&str"), "&str");
        assert_eq!(short_type_name("(u8, u16)"), "(u8, u16)");
        assert_eq!(short_type_name("[u8]"), "[u8]");
        assert_eq!(short_type_name(""), "");
    }

    #[test]
    fn one_name_per_type_at_one_site() {
        static SITE: SelfToolName = SelfToolName::new("call");
        assert_eq!(SITE.get(std::any::type_name::<String>()), "String::call");
        assert_eq!(SITE.get(std::any::type_name::<String>()), "String::call");
        // A blanket impl reaches the same site with another `Self`.
        assert_eq!(SITE.get(std::any::type_name::<Vec<u8>>()), "Vec::call");
        assert_eq!(SITE.get(std::any::type_name::<String>()), "String::call");
    }
}
