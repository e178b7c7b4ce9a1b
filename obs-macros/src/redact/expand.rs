//! Generates, from a model already known to be valid: `Redact` (the
//! redacted form), `Debug` (calls it), `Serialize` (the same form as data),
//! `UnboundedLabelValue` (so a metric label is the redacted form) and, with
//! `#[redact(display)]`, `Display`. Generated code reaches its dependencies
//! through `obs_runtime::__private::redact`, so users need no extra crate.

use super::{Container, Data, Field, Strategy, Style, Variant};
use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Member, Type};

fn unraw(id: &Ident) -> String {
    let s = id.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}

/// The value written for a field, as an expression of type `&impl Debug +
/// Serialize` (and `Display` for every strategy but `Plain`); `acc` is a
/// reference to the field.
fn view(p: &TokenStream, f: &Field, acc: &TokenStream) -> TokenStream {
    let ty = f.ty;
    let span = ty.span();
    match &f.strategy {
        Strategy::Plain | Strategy::Skip => acc.clone(),
        Strategy::Full => quote!(&#p::Full),
        Strategy::PartialFirst(n) => quote_spanned!(span=> &#p::partial_first::<#ty>(#acc, #n)),
        Strategy::PartialLast(n) => quote_spanned!(span=> &#p::partial_last::<#ty>(#acc, #n)),
        Strategy::Fixed => quote_spanned!(span=> &#p::fixed::<#ty>(#acc)),
        Strategy::Hash => quote_spanned!(span=> &#p::hash::<#ty>(#acc)),
        Strategy::Scan => quote_spanned!(span=> &#p::scan::<#ty>(#acc)),
        Strategy::With(path) => quote_spanned!(path.span()=> &#p::With(#path(#acc))),
    }
}

fn name_of(m: &Member) -> String {
    match m {
        Member::Named(id) => unraw(id),
        Member::Unnamed(i) => i.index.to_string(),
    }
}

/// Whether `ty` mentions one of the type parameters.
fn mentions(ty: &Type, params: &[Ident]) -> bool {
    fn walk(ts: TokenStream, params: &[Ident]) -> bool {
        ts.into_iter().any(|t| match t {
            TokenTree::Ident(i) => params.contains(&i),
            TokenTree::Group(g) => walk(g.stream(), params),
            _ => false,
        })
    }
    walk(ty.to_token_stream(), params)
}

/// Bounds on the field types that mention a type parameter (concrete types
/// get no bound: a failing bound on them would only move the error).
fn bounds(p: &TokenStream, fields: &[&Field], params: &[Ident], serialize: bool) -> Vec<TokenStream> {
    fields
        .iter()
        .filter(|f| mentions(f.ty, params))
        .filter_map(|f| {
            let ty = f.ty;
            match &f.strategy {
                Strategy::Plain if serialize => Some(quote!(#ty: #p::serde::Serialize)),
                Strategy::Plain => Some(quote!(#ty: #p::fmt::Debug)),
                s if s.needs_text() => Some(quote!(#ty: #p::RedactText)),
                _ => None,
            }
        })
        .collect()
}

fn bindings(fields: &[Field]) -> Vec<Ident> {
    (0..fields.len()).map(|i| format_ident!("__f{}", i)).collect()
}

/// The pattern that binds every field of a variant by reference.
fn pattern(v: &Variant) -> TokenStream {
    let id = v.ident;
    let b = bindings(&v.fields);
    match v.style {
        Style::Unit => quote!(Self::#id),
        Style::Tuple => quote!(Self::#id(#(#b),*)),
        Style::Named => {
            let m = v.fields.iter().map(|f| &f.member);
            quote!(Self::#id { #(#m: #b),* })
        }
    }
}

/// `Debug`-style body for one struct or variant.
fn fmt_body(p: &TokenStream, name: &str, style: Style, fields: &[Field], accs: &[TokenStream]) -> TokenStream {
    match style {
        Style::Unit => quote!(__f.write_str(#name)),
        Style::Tuple => {
            let views = fields.iter().zip(accs).map(|(f, a)| view(p, f, a));
            quote!(__f.debug_tuple(#name) #(.field(#views))* .finish())
        }
        Style::Named => {
            let shown: Vec<TokenStream> = fields
                .iter()
                .zip(accs)
                .filter(|(f, _)| !matches!(f.strategy, Strategy::Skip))
                .map(|(f, a)| {
                    let n = name_of(&f.member);
                    let v = view(p, f, a);
                    quote!(.field(#n, #v))
                })
                .collect();
            let finish = if fields.iter().any(|f| matches!(f.strategy, Strategy::Skip)) {
                quote!(.finish_non_exhaustive())
            } else {
                quote!(.finish())
            };
            quote!(__f.debug_struct(#name) #(#shown)* #finish)
        }
    }
}

/// `Serialize` body for a struct (`variant` is `None`) or one variant.
fn ser_body(
    p: &TokenStream,
    ty_name: &str,
    variant: Option<(&str, u32)>,
    style: Style,
    fields: &[Field],
    accs: &[TokenStream],
) -> TokenStream {
    let s = quote!(#p::serde);
    let kept: Vec<(&Field, &TokenStream)> =
        fields.iter().zip(accs).filter(|(f, _)| !matches!(f.strategy, Strategy::Skip)).collect();
    let len = kept.len();
    match (style, variant) {
        (Style::Unit, None) => quote!(__s.serialize_unit_struct(#ty_name)),
        (Style::Unit, Some((v, i))) => quote!(__s.serialize_unit_variant(#ty_name, #i, #v)),
        (Style::Tuple, None) if len == 1 => {
            let v = view(p, kept[0].0, kept[0].1);
            quote!(__s.serialize_newtype_struct(#ty_name, #v))
        }
        (Style::Tuple, Some((vn, i))) if len == 1 => {
            let v = view(p, kept[0].0, kept[0].1);
            quote!(__s.serialize_newtype_variant(#ty_name, #i, #vn, #v))
        }
        (Style::Tuple, _) => {
            let views = kept.iter().map(|(f, a)| view(p, f, a));
            let (open, tr) = match variant {
                None => (quote!(__s.serialize_tuple_struct(#ty_name, #len)?), quote!(#s::ser::SerializeTupleStruct)),
                Some((vn, i)) => (
                    quote!(__s.serialize_tuple_variant(#ty_name, #i, #vn, #len)?),
                    quote!(#s::ser::SerializeTupleVariant),
                ),
            };
            quote!({
                let mut __st = #open;
                #( #tr::serialize_field(&mut __st, #views)?; )*
                #tr::end(__st)
            })
        }
        (Style::Named, _) => {
            let names = kept.iter().map(|(f, _)| name_of(&f.member));
            let views = kept.iter().map(|(f, a)| view(p, f, a));
            let (open, tr) = match variant {
                None => (quote!(__s.serialize_struct(#ty_name, #len)?), quote!(#s::ser::SerializeStruct)),
                Some((vn, i)) => (
                    quote!(__s.serialize_struct_variant(#ty_name, #i, #vn, #len)?),
                    quote!(#s::ser::SerializeStructVariant),
                ),
            };
            quote!({
                let mut __st = #open;
                #( #tr::serialize_field(&mut __st, #names, #views)?; )*
                #tr::end(__st)
            })
        }
    }
}

pub fn expand(c: &Container) -> TokenStream {
    let p = match &c.krate {
        Some(path) => quote!(#path::__private::redact),
        None => quote!(::obs_runtime::__private::redact),
    };
    let ident = c.ident;
    let ty_name = unraw(ident);
    // Type and const parameters: `[u8; N]` needs a bound as much as `T`.
    let params: Vec<Ident> = c
        .generics
        .type_params()
        .map(|t| t.ident.clone())
        .chain(c.generics.const_params().map(|p| p.ident.clone()))
        .collect();
    let (impl_g, ty_g, where_clause) = c.generics.split_for_impl();
    let existing: Vec<TokenStream> =
        where_clause.map(|w| w.predicates.iter().map(|p| p.to_token_stream()).collect()).unwrap_or_default();

    let all: Vec<&Field> = match &c.data {
        Data::Struct(_, f) => f.iter().collect(),
        Data::Enum(v) => v.iter().flat_map(|v| v.fields.iter()).collect(),
    };
    let fmt_bounds = bounds(&p, &all, &params, false);
    let ser_bounds = bounds(&p, &all, &params, true);
    let where_fmt = quote!(where #(#existing,)* #(#fmt_bounds,)*);
    let where_ser = quote!(where #(#existing,)* #(#ser_bounds,)*);

    let (fmt, ser, newtype_view) = match &c.data {
        Data::Struct(style, fields) => {
            let accs: Vec<TokenStream> = fields
                .iter()
                .map(|f| {
                    let m = &f.member;
                    quote!(&self.#m)
                })
                .collect();
            let newtype =
                (*style == Style::Tuple && fields.len() == 1 && !matches!(fields[0].strategy, Strategy::Plain))
                    .then(|| view(&p, &fields[0], &accs[0]));
            (
                fmt_body(&p, &ty_name, *style, fields, &accs),
                ser_body(&p, &ty_name, None, *style, fields, &accs),
                newtype,
            )
        }
        Data::Enum(variants) => {
            let mut fmt_arms = Vec::new();
            let mut ser_arms = Vec::new();
            for (i, v) in variants.iter().enumerate() {
                let pat = pattern(v);
                let accs: Vec<TokenStream> = bindings(&v.fields).iter().map(|b| b.to_token_stream()).collect();
                let vn = unraw(v.ident);
                let f = fmt_body(&p, &vn, v.style, &v.fields, &accs);
                let s = ser_body(&p, &ty_name, Some((&vn, i as u32)), v.style, &v.fields, &accs);
                fmt_arms.push(quote!(#pat => #f,));
                ser_arms.push(quote!(#pat => #s,));
            }
            let (fmt, ser) = if variants.is_empty() {
                (quote!(match *self {}), quote!(match *self {}))
            } else {
                (quote!(match self { #(#fmt_arms)* }), quote!(match self { #(#ser_arms)* }))
            };
            (fmt, ser, None)
        }
    };

    let label = match &newtype_view {
        Some(v) => quote!(#p::Cow::Owned(::std::string::ToString::to_string(#v))),
        None => quote!(#p::Cow::Owned(#p::Redact::to_redacted_string(self))),
    };
    let display = c.display.then(|| {
        let body = match &newtype_view {
            Some(v) => quote!(#p::fmt::Display::fmt(#v, __f)),
            None => quote!(#p::Redact::fmt_redacted(self, __f)),
        };
        quote! {
            #[automatically_derived]
            impl #impl_g #p::fmt::Display for #ident #ty_g #where_fmt {
                fn fmt(&self, __f: &mut #p::fmt::Formatter<'_>) -> #p::fmt::Result {
                    #body
                }
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_g #p::Redact for #ident #ty_g #where_fmt {
            fn fmt_redacted(&self, __f: &mut #p::fmt::Formatter<'_>) -> #p::fmt::Result {
                #fmt
            }
        }

        #[automatically_derived]
        impl #impl_g #p::fmt::Debug for #ident #ty_g #where_fmt {
            fn fmt(&self, __f: &mut #p::fmt::Formatter<'_>) -> #p::fmt::Result {
                #p::Redact::fmt_redacted(self, __f)
            }
        }

        #[automatically_derived]
        impl #impl_g #p::serde::Serialize for #ident #ty_g #where_ser {
            fn serialize<__S: #p::serde::Serializer>(&self, __s: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                #ser
            }
        }

        #[automatically_derived]
        impl #impl_g #p::UnboundedLabelValue for #ident #ty_g #where_fmt {
            fn unbounded_label(&self) -> #p::Cow<'_, str> {
                #label
            }
        }

        #display
    }
}

/// The impls without bodies, for a type with errors: the build fails on the
/// errors anyway, and uses of the type add no errors of their own.
pub fn placeholders(c: &Container) -> TokenStream {
    let p = match &c.krate {
        Some(path) => quote!(#path::__private::redact),
        None => quote!(::obs_runtime::__private::redact),
    };
    let ident = c.ident;
    let (impl_g, ty_g, where_clause) = c.generics.split_for_impl();
    let display = c.display.then(|| {
        quote! {
            impl #impl_g #p::fmt::Display for #ident #ty_g #where_clause {
                fn fmt(&self, _: &mut #p::fmt::Formatter<'_>) -> #p::fmt::Result { ::core::unreachable!() }
            }
        }
    });
    quote! {
        impl #impl_g #p::Redact for #ident #ty_g #where_clause {
            fn fmt_redacted(&self, _: &mut #p::fmt::Formatter<'_>) -> #p::fmt::Result { ::core::unreachable!() }
        }
        impl #impl_g #p::fmt::Debug for #ident #ty_g #where_clause {
            fn fmt(&self, _: &mut #p::fmt::Formatter<'_>) -> #p::fmt::Result { ::core::unreachable!() }
        }
        impl #impl_g #p::serde::Serialize for #ident #ty_g #where_clause {
            fn serialize<__S: #p::serde::Serializer>(&self, _: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                ::core::unreachable!()
            }
        }
        impl #impl_g #p::UnboundedLabelValue for #ident #ty_g #where_clause {
            fn unbounded_label(&self) -> #p::Cow<'_, str> { ::core::unreachable!() }
        }
        #display
    }
}
