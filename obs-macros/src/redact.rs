//! `#[derive(Redact)]`, in three stages like the attribute macros:
//! `attr` parses `#[redact(..)]` attributes without judging them, `valid`
//! checks them against the type (collecting every mistake, each spanned on
//! its token) into the model below, and `expand` generates `Debug`,
//! `Serialize`, `Redact`, `UnboundedLabelValue` and, when asked, `Display`.

mod attr;
mod expand;
mod valid;

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use syn::{Generics, Ident, Member, Path, Type};

/// How one field is written in every sink.
#[derive(Clone)]
pub enum Strategy {
    /// As is (its own `Debug` / `Serialize`).
    Plain,
    /// `[REDACTED]`.
    Full,
    PartialFirst(usize),
    PartialLast(usize),
    Fixed,
    Hash,
    Scan,
    With(Path),
    /// Left out.
    Skip,
}

impl Strategy {
    /// Whether the strategy reads the field as text (`RedactText`).
    pub fn needs_text(&self) -> bool {
        matches!(
            self,
            Strategy::PartialFirst(_) | Strategy::PartialLast(_) | Strategy::Fixed | Strategy::Hash | Strategy::Scan
        )
    }
}

pub struct Field<'a> {
    pub member: Member,
    pub ty: &'a Type,
    pub strategy: Strategy,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Named,
    Tuple,
    Unit,
}

pub struct Variant<'a> {
    pub ident: &'a Ident,
    pub style: Style,
    pub fields: Vec<Field<'a>>,
}

pub enum Data<'a> {
    Struct(Style, Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

/// A type known to be valid, ready to expand.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub data: Data<'a>,
    pub krate: Option<Path>,
    pub display: bool,
}

/// The derive's entry point.
pub fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let model = valid::validate(&mut cx, &input);
    match (cx.into_compile_errors(), model) {
        // Placeholder impls keep the user's build to the errors above, not
        // one more "does not implement Debug" per use of the type.
        (Some(errors), Some(m)) => {
            let placeholders = expand::placeholders(&m);
            quote::quote!(#errors #placeholders)
        }
        (Some(errors), None) => errors,
        (None, Some(m)) => expand::expand(&m),
        (None, None) => TokenStream::new(),
    }
}
