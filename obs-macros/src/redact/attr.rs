//! Parses `#[redact]` and `#[redact(item, ..)]` into [`Item`]s, without
//! judging them (`valid.rs` does, so that every mistake is reported).
//!
//! Grammar: `item, item, ..` where an item is `name`, `name = expr`,
//! `name(item, ..)` or, so that a misplaced literal gets a helpful message
//! rather than a parse error, any expression.

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, Meta, Token};

pub enum Item {
    /// `name`
    Flag(Ident),
    /// `name = expr`
    Value(Ident, Expr),
    /// `name(item, ..)`
    List(Ident, Vec<Item>),
    /// Anything else, like `4` in `partial(4)`.
    Other(Expr),
}

impl Item {
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Flag(n) | Item::Value(n, _) | Item::List(n, _) => Some(n),
            Item::Other(_) => None,
        }
    }
}

impl Parse for Item {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !(input.peek(Ident::peek_any)) {
            return Ok(Item::Other(input.parse()?));
        }
        let name = Ident::parse_any(input)?;
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Ok(Item::Value(name, input.parse()?))
        } else if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let inner = Punctuated::<Item, Token![,]>::parse_terminated(&content)?;
            Ok(Item::List(name, inner.into_iter().collect()))
        } else {
            Ok(Item::Flag(name))
        }
    }
}

/// One `#[redact..]` attribute: its path (for spans) and its items; a bare
/// `#[redact]` has none.
pub struct RedactAttr<'a> {
    pub attr: &'a Attribute,
    pub items: Vec<Item>,
}

/// The `#[redact]` attributes among `attrs`; malformed ones are reported.
pub fn redact_attrs<'a>(cx: &mut crate::ctxt::Ctxt, attrs: &'a [Attribute]) -> Vec<RedactAttr<'a>> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("redact")) {
        match &attr.meta {
            Meta::Path(_) => out.push(RedactAttr { attr, items: Vec::new() }),
            Meta::List(list) => match list.parse_args_with(Punctuated::<Item, Token![,]>::parse_terminated) {
                Ok(items) => out.push(RedactAttr { attr, items: items.into_iter().collect() }),
                Err(e) => cx.error_at(
                    e.span(),
                    "expected redaction options, like `#[redact(partial(last = 4))]`, `#[redact(hash)]` or `#[redact(skip)]`",
                ),
            },
            Meta::NameValue(nv) => cx.error(
                nv,
                "write `#[redact]` to mask a field, or `#[redact(option)]`, like `#[redact(hash)]`; `#[redact = ..]` is not a form it takes",
            ),
        }
    }
    out
}
