//! Generates the instrumented function from a validated [`Config`].
//!
//! The signature, attributes, visibility and doc comments are emitted
//! unchanged, and the user's body is moved, token for token, into a closure
//! (sync) or an `async move` block (async), so its errors keep their spans.
//! When anything is wrong the function is emitted uninstrumented next to the
//! errors, so the rest of the crate (and rust-analyzer) keeps working.

use crate::attr::Args;
use crate::ctxt::Ctxt;
use crate::valid::{validate, Kind, Value};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::{Expr, ItemFn, Stmt, Type};

mod gen;
use gen::generate;

pub fn instrument(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let args = match syn::parse2::<Args>(args) {
        Ok(a) => a,
        Err(e) => {
            cx.push(e);
            Args(Vec::new())
        }
    };
    let func = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            if let Some(err) = not_a_function(kind, &item) {
                let err = err.to_compile_error();
                return quote!(#item #err);
            }
            if is_fn_with_unparsed_body(&item) {
                // A function whose body does not parse (often: mid-edit). It
                // passes through untouched: rustc reports the syntax error
                // once, at its own place, and rust-analyzer keeps seeing the
                // function. The arguments are still checked.
                let _ = validate(&mut cx, kind, &args.0);
                let errors = cx.into_compile_errors();
                return quote!(#item #errors);
            }
            let err = e.to_compile_error();
            return quote!(#item #err);
        }
    };
    let cfg = validate(&mut cx, kind, &args.0);
    check_signature(&mut cx, kind, &func);
    crate::valid::check_dynamic_sources(&mut cx, &cfg, &func.sig);
    if let Some(errors) = cx.into_compile_errors() {
        return quote!(#func #errors);
    }
    generate(&cfg, func)
}

/// `attrs vis signature { .. }`, whatever is inside the braces.
fn is_fn_with_unparsed_body(item: &TokenStream) -> bool {
    use syn::parse::{ParseStream, Parser};
    let shell = |input: ParseStream| -> syn::Result<()> {
        input.call(syn::Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        input.parse::<syn::Signature>()?;
        let body: proc_macro2::Group = input.parse()?;
        if body.delimiter() != proc_macro2::Delimiter::Brace || !input.is_empty() {
            return Err(input.error("not a function body"));
        }
        Ok(())
    };
    shell.parse2(item.clone()).is_ok()
}

/// A precise message when the item is not a function with a body.
fn not_a_function(kind: Kind, item: &TokenStream) -> Option<syn::Error> {
    let m = kind.macro_name();
    if let Ok(t) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        if t.default.is_none() {
            return Some(syn::Error::new_spanned(
                &t.sig.ident,
                format!("#[{m}] needs a function body: put it on the function in each `impl`, not on the trait's declaration"),
            ));
        }
    }
    let what = match syn::parse2::<syn::Item>(item.clone()).ok()? {
        syn::Item::Struct(s) => ("a struct", s.ident.span()),
        syn::Item::Enum(e) => ("an enum", e.ident.span()),
        syn::Item::Union(u) => ("a union", u.ident.span()),
        syn::Item::Const(c) => ("a const", c.ident.span()),
        syn::Item::Static(s) => ("a static", s.ident.span()),
        syn::Item::Trait(t) => ("a trait", t.ident.span()),
        syn::Item::Impl(i) => ("an impl block", i.impl_token.span),
        syn::Item::Mod(md) => ("a module", md.ident.span()),
        syn::Item::Type(t) => ("a type alias", t.ident.span()),
        syn::Item::Use(u) => ("a use declaration", u.use_token.span),
        _ => return None,
    };
    let extra = if matches!(what.0, "an impl block" | "a trait") { " inside it" } else { "" };
    Some(syn::Error::new(
        what.1,
        format!("#[{m}] goes on a function, not on {}; put it on each function{extra} you want to instrument", what.0),
    ))
}

fn check_signature(cx: &mut Ctxt, kind: Kind, f: &ItemFn) {
    let m = kind.macro_name();
    if let Some(c) = &f.sig.constness {
        cx.error(c, format!("#[{m}] cannot instrument a `const fn`: recording metrics and spans happens at run time; remove `const` or the attribute"));
    }
    if let Some(abi) = &f.sig.abi {
        cx.error(
            abi,
            format!("#[{m}] cannot instrument an `extern` function: its calls may come from foreign code that cannot unwind through the instrumentation; wrap it in a Rust function and instrument that"),
        );
    }
    if let Some(v) = &f.sig.variadic {
        cx.error(v, format!("#[{m}] cannot instrument a variadic function"));
    }
}

/// The same tokens, located at `span` (hygiene unchanged).
fn respan(ts: TokenStream, span: Span) -> TokenStream {
    ts.into_iter()
        .map(|mut t| {
            if let TokenTree::Group(g) = &t {
                let mut ng = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                ng.set_span(span);
                t = TokenTree::Group(ng);
            } else {
                t.set_span(t.span().located_at(span));
            }
            t
        })
        .collect()
}

fn contains_impl(ty: &Type) -> bool {
    fn walk(ts: TokenStream) -> bool {
        ts.into_iter().any(|t| match t {
            TokenTree::Ident(i) => i == "impl",
            TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(ty.to_token_stream())
}

/// `Box::pin(async move { .. })` as the last statement: a method that
/// `#[async_trait]` already expanded.
fn async_trait_body(sig: &syn::Signature, block: &syn::Block) -> Option<usize> {
    if sig.asyncness.is_some() {
        return None;
    }
    let idx = block.stmts.len().checked_sub(1)?;
    let Stmt::Expr(Expr::Call(call), None) = &block.stmts[idx] else { return None };
    let Expr::Path(p) = &*call.func else { return None };
    let is_pin = p.path.segments.last().is_some_and(|s| s.ident == "pin");
    let async_arg = call.args.len() == 1 && matches!(call.args.first(), Some(Expr::Async(_)));
    (is_pin && async_arg).then_some(idx)
}

/// Whether the function is a method or associated function: it has a
/// receiver or names `Self` in its signature. (An attribute sees only its
/// function, never the `impl` around it.)
fn in_impl(sig: &syn::Signature) -> bool {
    fn names_self(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            TokenTree::Ident(i) => i == "Self",
            TokenTree::Group(g) => names_self(g.stream()),
            _ => false,
        })
    }
    sig.receiver().is_some() || names_self(sig.inputs.to_token_stream()) || names_self(sig.output.to_token_stream())
}

/// The default tool name of a method, `Type::method`, made at run time from
/// `Self`'s type name (see `obs_runtime::labels::SelfToolName`): the method's
/// name alone would give every tool implementing one trait the same series.
fn self_tool_name(p: &TokenStream, method: &str) -> Value {
    let name = format_ident!("__OBS_TOOL_NAME", span = Span::mixed_site());
    let expr = syn::parse_quote! {{
        static #name: #p::SelfToolName = #p::SelfToolName::new(#method);
        #name.get(::core::any::type_name::<Self>())
    }};
    Value::Dynamic { expr, unbounded: false }
}

/// `Result<impl Stream, E>`.
fn result_of_impl(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else { return false };
    if last.ident != "Result" {
        return false;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => {
            matches!(a.args.first(), Some(syn::GenericArgument::Type(Type::ImplTrait(_))))
        }
        _ => false,
    }
}
