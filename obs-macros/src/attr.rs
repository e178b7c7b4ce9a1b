//! Parses attribute arguments into a list of [`Arg`]s, without judging them
//! (judging is `valid.rs`'s job, so that every mistake is reported).
//!
//! Grammar: `arg, arg, ..` where an arg is `name = expr`, `name(arg, ..)` or
//! a bare `name`; `crate` is accepted as a name.

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

pub enum ArgValue {
    /// `name = expr`
    Expr(Expr),
    /// `name(a = x, b)`
    List(Vec<Arg>),
    /// bare `name`
    Flag,
}

pub struct Arg {
    pub name: Ident,
    pub value: ArgValue,
}

pub struct Args(pub Vec<Arg>);

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = Ident::parse_any(input)
            .map_err(|e| syn::Error::new(e.span(), "expected an argument name, like `agent = \"researcher\"`"))?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            ArgValue::Expr(input.parse()?)
        } else if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let inner = Punctuated::<Arg, Token![,]>::parse_terminated(&content)?;
            ArgValue::List(inner.into_iter().collect())
        } else {
            ArgValue::Flag
        };
        Ok(Arg { name, value })
    }
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let list = Punctuated::<Arg, Token![,]>::parse_terminated(input)?;
        Ok(Args(list.into_iter().collect()))
    }
}
