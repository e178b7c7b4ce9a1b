//! Every rule a user of `#[derive(Redact)]` can break, checked while the
//! model is built. Each error is spanned on the offending token and says what
//! to write instead; all errors of one type are reported together.

use super::attr::{redact_attrs, Item, RedactAttr};
use super::{Container, Data, Field, Strategy, Style, Variant};
use crate::ctxt::Ctxt;
use crate::valid::suggest;
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Attribute, DeriveInput, Expr, ExprLit, Fields, Ident, Lit, Member, Path, Type};

/// Where an attribute sits; each place takes different options.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Type,
    Variant,
    NamedField,
    TupleField,
}

impl Place {
    fn options(self) -> &'static [&'static str] {
        match self {
            Place::Type => &["full", "partial", "fixed", "hash", "scan", "with", "display", "crate"],
            Place::Variant => &["full", "partial", "fixed", "hash", "scan", "with"],
            Place::NamedField => &["full", "partial", "fixed", "hash", "scan", "with", "skip", "allow"],
            Place::TupleField => &["full", "partial", "fixed", "hash", "scan", "with", "allow"],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Place::Type => "the type",
            Place::Variant => "a variant",
            Place::NamedField => "a field",
            Place::TupleField => "a tuple field",
        }
    }
}

/// Longest prefix or suffix `partial` may keep.
const MAX_PARTIAL: usize = 32;

/// A strategy as written, with the name and span it was written with.
struct Written {
    strategy: Strategy,
    /// How to name it in a message: `hash`, `partial(last = 4)`, `#[redact]`.
    name: String,
}

#[derive(Default)]
struct Opts {
    strategy: Option<Written>,
    allow: Option<Ident>,
    krate: Option<Path>,
    display: bool,
}

/// Builds the model of `input`, reporting every mistake to `cx`.
pub fn validate<'a>(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Container<'a>> {
    let top = options(cx, &input.attrs, Place::Type);
    let data = match &input.data {
        syn::Data::Struct(s) => {
            let (style, fields) = fields(cx, &s.fields, top.strategy.as_ref(), None);
            Data::Struct(style, fields)
        }
        syn::Data::Enum(e) => {
            let mut variants = Vec::new();
            for v in &e.variants {
                let opts = options(cx, &v.attrs, Place::Variant);
                let inherited = opts.strategy.as_ref().or(top.strategy.as_ref());
                let (style, fields) = fields(cx, &v.fields, inherited, opts.strategy.as_ref().map(|_| &v.ident));
                if style == Style::Unit {
                    if let (Some(w), Some(a)) = (&opts.strategy, v.attrs.iter().find(|a| a.path().is_ident("redact"))) {
                        cx.error(
                            a,
                            format!(
                                "`{}` on variant `{}` masks its fields, and it has none; remove the attribute",
                                w.name, v.ident
                            ),
                        );
                    }
                }
                variants.push(Variant { ident: &v.ident, style, fields });
            }
            Data::Enum(variants)
        }
        syn::Data::Union(u) => {
            cx.error(
                u.union_token,
                "`Redact` cannot be derived for a union: which field holds the value is unknown, so it cannot be written safely; use an enum, or wrap the union in a type that implements `Debug` by hand",
            );
            return None;
        }
    };
    if let (Some(w), Data::Struct(Style::Unit, _)) = (&top.strategy, &data) {
        cx.error(
            &input.ident,
            format!("`{}` masks the fields of `{}`, and it has none; remove the attribute", w.name, input.ident),
        );
    }
    let all: Vec<&Field> = match &data {
        Data::Struct(_, f) => f.iter().collect(),
        Data::Enum(v) => v.iter().flat_map(|v| v.fields.iter()).collect(),
    };
    if !all.is_empty() && all.iter().all(|f| matches!(f.strategy, Strategy::Plain)) && !cx.has_errors() {
        cx.error(
            &input.ident,
            format!(
                "`#[derive(Redact)]` on `{}` redacts nothing: no field has `#[redact]` and none is named like a secret; mark the secret fields with `#[redact]`, or derive `Debug` instead (fields whose types derive `Redact` stay redacted through it)",
                input.ident
            ),
        );
    }
    Some(Container { ident: &input.ident, generics: &input.generics, data, krate: top.krate, display: top.display })
}

fn fields<'a>(
    cx: &mut Ctxt,
    fields: &'a Fields,
    inherited: Option<&Written>,
    variant: Option<&Ident>,
) -> (Style, Vec<Field<'a>>) {
    let style = match fields {
        Fields::Named(_) => Style::Named,
        Fields::Unnamed(_) => Style::Tuple,
        Fields::Unit => Style::Unit,
    };
    let place = if style == Style::Named { Place::NamedField } else { Place::TupleField };
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let opts = options(cx, &f.attrs, place);
        let by_name = f.ident.as_ref().is_some_and(|id| is_secret_name(&id.unraw_string()));
        if let Some(allow) = &opts.allow {
            if !by_name && inherited.is_none() {
                let what = match &f.ident {
                    Some(id) => format!("`{}` is not redacted by its name", id.unraw_string()),
                    None => "tuple fields are never redacted by name".to_string(),
                };
                cx.error(allow, format!("`allow` does nothing here: {what}; remove it"));
            }
        }
        let (strategy, from) = if opts.allow.is_some() {
            (Strategy::Plain, None)
        } else if let Some(w) = &opts.strategy {
            (w.strategy.clone(), Some((w, "")))
        } else if let Some(w) = inherited {
            let whence = if variant.is_some() {
                " (from the attribute on the variant)"
            } else {
                " (from the attribute on the type)"
            };
            (w.strategy.clone(), Some((w, whence)))
        } else if by_name {
            (Strategy::Full, None)
        } else {
            (Strategy::Plain, None)
        };
        if let (true, Some((w, whence))) = (strategy.needs_text(), from) {
            if let Some(bad) = non_text(&f.ty) {
                let name = w.name.split('(').next().unwrap_or(&w.name).to_string();
                cx.error(
                    &f.ty,
                    format!(
                        "`{name}`{whence} reads the field as text, and `{bad}` is not text; use `#[redact]` (written `[REDACTED]`), or `#[redact(with = path::to::fn)]` with your own rule"
                    ),
                );
            }
        }
        let member = match &f.ident {
            Some(id) => Member::Named(id.clone()),
            None => Member::Unnamed(syn::Index { index: i as u32, span: f.ty.span() }),
        };
        out.push(Field { member, ty: &f.ty, strategy });
    }
    (style, out)
}

trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for Ident {
    fn unraw_string(&self) -> String {
        let s = self.to_string();
        s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
    }
}

/// Reads every `#[redact]` attribute of one place into options.
fn options(cx: &mut Ctxt, attrs: &[Attribute], place: Place) -> Opts {
    let attrs = redact_attrs(cx, attrs);
    let mut opts = Opts::default();
    let mut seen: Vec<String> = Vec::new();
    for RedactAttr { attr, items } in &attrs {
        if items.is_empty() {
            let w = Written { strategy: Strategy::Full, name: "#[redact]".into() };
            set_strategy(cx, &mut opts, w, attr.path().span());
            continue;
        }
        for item in items {
            let Some(name) = item.name() else {
                if let Item::Other(e) = item {
                    cx.error(
                        e,
                        format!(
                            "not a redaction option: on {} write one of {}",
                            place.describe(),
                            place.options().join(", ")
                        ),
                    );
                }
                continue;
            };
            let n = name.unraw_string();
            if seen.contains(&n) {
                cx.error(name, format!("`{n}` is given twice; keep one"));
                continue;
            }
            seen.push(n.clone());
            if !place.options().contains(&n.as_str()) {
                misplaced(cx, name, place);
                continue;
            }
            match n.as_str() {
                "full" | "fixed" | "hash" | "scan" | "skip" => {
                    if !flag(cx, item, &n) {
                        continue;
                    }
                    let strategy = match n.as_str() {
                        "full" => Strategy::Full,
                        "fixed" => Strategy::Fixed,
                        "hash" => Strategy::Hash,
                        "scan" => Strategy::Scan,
                        _ => Strategy::Skip,
                    };
                    set_strategy(cx, &mut opts, Written { strategy, name: n.clone() }, name.span());
                }
                "partial" => {
                    if let Some(w) = partial(cx, item) {
                        set_strategy(cx, &mut opts, w, name.span());
                    }
                }
                "with" => match item {
                    Item::Value(_, Expr::Path(p)) if p.qself.is_none() => {
                        let w = Written { strategy: Strategy::With(p.path.clone()), name: "with".into() };
                        set_strategy(cx, &mut opts, w, name.span());
                    }
                    Item::Value(_, e) => cx.error(
                        e,
                        "`with` takes the path of a function `fn(&Field) -> impl Display`, without quotes: `with = mask_email`",
                    ),
                    _ => cx.error(name, "`with` needs a function: write `with = path::to::fn` (a `fn(&Field) -> impl Display`)"),
                },
                "allow" => {
                    if flag(cx, item, "allow") {
                        if let Some(w) = &opts.strategy {
                            cx.error(
                                name,
                                format!("`allow` shows the field as it is, so it cannot be combined with `{}`; keep one", w.name),
                            );
                        } else {
                            opts.allow = Some(name.clone());
                        }
                    }
                }
                "display" => {
                    if flag(cx, item, "display") {
                        opts.display = true;
                    }
                }
                "crate" => match item {
                    Item::Value(_, Expr::Path(p)) if p.qself.is_none() => opts.krate = Some(p.path.clone()),
                    _ => cx.error(name, "`crate` takes a path to obs-runtime as your crate names it: `crate = obs`"),
                },
                _ => misplaced(cx, name, place),
            }
        }
    }
    opts
}

fn set_strategy(cx: &mut Ctxt, opts: &mut Opts, new: Written, span: Span) {
    if let Some(old) = &opts.strategy {
        cx.error_at(
            span,
            format!(
                "`{}` conflicts with `{}`: a field is written with one strategy; keep one of them",
                new.name, old.name
            ),
        );
        return;
    }
    if opts.allow.is_some() {
        cx.error_at(span, format!("`{}` masks the field and `allow` shows it as it is; keep one of them", new.name));
        return;
    }
    opts.strategy = Some(new);
}

/// Checks that an option that takes no value has none.
fn flag(cx: &mut Ctxt, item: &Item, n: &str) -> bool {
    match item {
        Item::Flag(_) => true,
        Item::Value(name, _) | Item::List(name, _) => {
            cx.error(name, format!("`{n}` takes no value: write `{n}`"));
            false
        }
        Item::Other(_) => false,
    }
}

fn misplaced(cx: &mut Ctxt, name: &Ident, place: Place) {
    let n = name.unraw_string();
    let all = [Place::Type, Place::Variant, Place::NamedField, Place::TupleField];
    let msg = match n.as_str() {
        "skip" if place == Place::TupleField => "`skip` would shift the positions of the fields after this one in the output; mask it with `#[redact]` instead".to_string(),
        "skip" => format!("`skip` leaves out one named field; it does not apply to {}: mask the fields with `#[redact]`, or put `skip` on each field", place.describe()),
        "allow" => format!("`allow` keeps one field that is named like a secret visible; it belongs on that field, not on {}", place.describe()),
        "crate" | "display" => format!("`{n}` is an option of the whole type: put it in a `#[redact(..)]` above the `struct` or `enum`"),
        _ if all.iter().any(|p| p.options().contains(&n.as_str())) => {
            format!("`{n}` does not apply to {}; it takes {}", place.describe(), place.options().join(", "))
        }
        _ => match suggest(&n, place.options().iter().copied()) {
            Some(s) => format!("unknown redaction `{n}`: did you mean `{s}`?"),
            None => format!("unknown redaction `{n}`: on {} write one of {}", place.describe(), place.options().join(", ")),
        },
    };
    cx.error(name, msg);
}

fn partial(cx: &mut Ctxt, item: &Item) -> Option<Written> {
    const HOW: &str = "write `partial(last = 4)` (keeps `****1234`) or `partial(first = 4)` (keeps `abcd****`)";
    let Item::List(name, inner) = item else {
        cx.error(item.name()?, format!("`partial` needs the end to keep and how many characters: {HOW}"));
        return None;
    };
    if inner.is_empty() {
        cx.error(name, format!("`partial` needs the end to keep and how many characters: {HOW}"));
        return None;
    }
    let mut found: Option<Written> = None;
    for i in inner {
        let (end, value) = match i {
            Item::Value(end, v) if end == "first" || end == "last" => (end, v),
            Item::Value(end, _) | Item::Flag(end) | Item::List(end, _) => {
                let hint = suggest(&end.unraw_string(), ["first", "last"])
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                cx.error(end, format!("`partial` keeps the `first` or the `last` characters: {hint}{HOW}"));
                continue;
            }
            Item::Other(e) => {
                cx.error(e, format!("`partial` needs to know which end to keep: {HOW}"));
                continue;
            }
        };
        let n = match value {
            Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<usize>().ok(),
            _ => None,
        };
        let n = match n {
            Some(0) => {
                cx.error(value, format!("`{end} = 0` keeps nothing: use `#[redact]` or `#[redact(fixed)]` to mask the whole value, or keep 1 to {MAX_PARTIAL} characters"));
                continue;
            }
            Some(n) if n > MAX_PARTIAL => {
                cx.error(value, format!("`{end} = {n}` keeps too much of a secret: keep 1 to {MAX_PARTIAL} characters, like `{end} = 4`"));
                continue;
            }
            Some(n) => n,
            None => {
                cx.error(
                    value,
                    format!("`{end}` takes a number of characters from 1 to {MAX_PARTIAL}, like `{end} = 4`"),
                );
                continue;
            }
        };
        if let Some(prev) = &found {
            cx.error(
                end,
                format!(
                    "`partial` keeps one end, and `{}` is already given: keep `first` or `last`, not both",
                    prev.name
                ),
            );
            continue;
        }
        let strategy = if end == "first" { Strategy::PartialFirst(n) } else { Strategy::PartialLast(n) };
        found = Some(Written { strategy, name: format!("partial({end} = {n})") });
    }
    found
}

/// The name of a type that is obviously not text, for the strategies that
/// read text; types it cannot judge are left to the `RedactText` bound.
fn non_text(ty: &Type) -> Option<String> {
    match ty {
        Type::Reference(r) => non_text(&r.elem),
        Type::Paren(p) => non_text(&p.elem),
        Type::Group(g) => non_text(&g.elem),
        Type::Tuple(_) | Type::Array(_) | Type::Slice(_) | Type::BareFn(_) | Type::Ptr(_) => {
            Some(ty.to_token_stream().to_string())
        }
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let name = last.ident.to_string();
            match name.as_str() {
                "bool" | "f32" | "f64" | "Vec" | "VecDeque" | "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet"
                | "Duration" | "Instant" | "SystemTime" => Some(ty.to_token_stream().to_string().replace(' ', "")),
                "Option" | "Box" | "Arc" | "Rc" => match &last.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                        syn::GenericArgument::Type(t) => non_text(t),
                        _ => None,
                    }),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

// The rule of `obs_runtime::redact::is_secret_name`, from the one copy both
// crates use.
pub use obs_shared::is_secret_name;
