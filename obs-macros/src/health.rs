//! `#[health_check]`: registers a function as a health check run by
//! `/ready`. Arguments are checked like the other macros' (every mistake
//! reported, each on its token, saying what to write); the function is
//! emitted unchanged, next to a registration in `inventory`.

use crate::attr::{ArgValue, Args};
use crate::ctxt::Ctxt;
use crate::valid::{parse_duration, suggest};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, LitStr, Path, ReturnType};

const ARGS: &[&str] = &["critical", "timeout", "name", "crate"];
/// The longest timeout a check may have: a probe must answer.
const MAX_TIMEOUT_NS: u64 = 300_000_000_000;
const DEFAULT_TIMEOUT_NS: u64 = 5_000_000_000;

struct Config {
    critical: bool,
    timeout_ns: u64,
    name: Option<LitStr>,
    krate: Option<Path>,
}

fn str_lit(e: &Expr) -> Option<&LitStr> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s),
        _ => None,
    }
}

fn validate(cx: &mut Ctxt, args: &Args) -> Config {
    let mut cfg = Config { critical: false, timeout_ns: DEFAULT_TIMEOUT_NS, name: None, krate: None };
    let mut seen: Vec<String> = Vec::new();
    for arg in &args.0 {
        let n = arg.name.to_string();
        if seen.contains(&n) {
            cx.error(&arg.name, format!("`{n}` is given twice; keep one"));
            continue;
        }
        seen.push(n.clone());
        match n.as_str() {
            "critical" => match &arg.value {
                ArgValue::Flag => cfg.critical = true,
                ArgValue::Expr(Expr::Lit(ExprLit { lit: Lit::Bool(b), .. })) => cfg.critical = b.value,
                ArgValue::Expr(e) => cx.error(
                    e,
                    "`critical` is a flag: write `critical` (a failure makes /ready answer 503), or leave it out (207)",
                ),
                ArgValue::List(_) => cx.error(&arg.name, "`critical` is a flag: write `#[health_check(critical)]`"),
            },
            "timeout" => {
                let hint = "write `timeout = \"2s\"` (units ms, s, m; above zero, at most 5m)";
                match &arg.value {
                    ArgValue::Expr(e) => match str_lit(e) {
                        Some(s) => match parse_duration(&s.value()) {
                            Some(ns) if ns > 0 && ns <= MAX_TIMEOUT_NS => cfg.timeout_ns = ns,
                            Some(0) => cx.error(s, format!("a zero timeout fails every run; {hint}")),
                            Some(_) => {
                                cx.error(s, format!("a timeout over 5 minutes keeps /ready from answering; {hint}"))
                            }
                            None => cx.error(s, format!("`{}` is not a duration: {hint}", s.value())),
                        },
                        None => cx.error(e, format!("`timeout` takes a string literal: {hint}")),
                    },
                    _ => cx.error(&arg.name, format!("`timeout` needs a value: {hint}")),
                }
            }
            "name" => {
                let hint = "write `name = \"database\"` (the check's `check` label; default: the function's name)";
                match &arg.value {
                    ArgValue::Expr(e) => match str_lit(e) {
                        Some(s) if s.value().trim().is_empty() => {
                            cx.error(s, format!("`name` cannot be empty: {hint}"))
                        }
                        Some(s) if s.value().chars().any(char::is_control) => {
                            cx.error(s, format!("`name` cannot hold a control character: {hint}"))
                        }
                        Some(s) => cfg.name = Some(s.clone()),
                        None => cx.error(e, format!("`name` takes a string literal known at compile time: {hint}")),
                    },
                    _ => cx.error(&arg.name, format!("`name` needs a value: {hint}")),
                }
            }
            "crate" => match &arg.value {
                ArgValue::Expr(Expr::Path(p)) => cfg.krate = Some(p.path.clone()),
                _ => cx.error(&arg.name, "`crate` takes a path to obs-runtime as your crate names it: `crate = obs`"),
            },
            _ => {
                let msg = match suggest(&n, ARGS.iter().copied()) {
                    Some(s) => format!("unknown argument `{n}` for #[health_check]: did you mean `{s}`?"),
                    None => format!("unknown argument `{n}` for #[health_check]: it takes {}", ARGS.join(", ")),
                };
                cx.error(&arg.name, msg);
            }
        }
    }
    cfg
}

fn check_signature(cx: &mut Ctxt, f: &ItemFn) {
    let sig = &f.sig;
    if let Some(c) = &sig.constness {
        cx.error(c, "#[health_check] cannot be a `const fn`: a check runs when /ready is probed; remove `const`");
    }
    if let Some(abi) = &sig.abi {
        cx.error(abi, "#[health_check] cannot be an `extern` function: wrap it in a Rust function and mark that");
    }
    if !sig.generics.params.is_empty() {
        cx.error(
            &sig.generics,
            "#[health_check] needs a function without generic parameters: obs calls it with no type to choose; make it concrete",
        );
    }
    if let Some(first) = sig.inputs.first() {
        let msg = match first {
            syn::FnArg::Receiver(_) => {
                "#[health_check] goes on a free function without `self`: obs calls it on its own; reach shared state through a `static` or register a closure with `obs_runtime::health::register(Check::new(..))`"
            }
            syn::FnArg::Typed(_) => {
                "#[health_check] needs a function without parameters: obs calls it with none; reach shared state through a `static` or register a closure with `obs_runtime::health::register(Check::new(..))`"
            }
        };
        cx.error(&sig.inputs, msg);
    }
    if let ReturnType::Default = sig.output {
        cx.error(
            &sig.ident,
            "a health check says whether it passed: return `bool`, or `Result<T, E>` (`T: Serialize` shown as details, `E: Display` as the error)",
        );
    }
}

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
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
        Err(_) => {
            let err = syn::Error::new(
                Span::call_site(),
                "#[health_check] goes on a function with a body, e.g. `#[health_check] async fn database() -> Result<(), Error> { .. }`",
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    let cfg = validate(&mut cx, &args);
    check_signature(&mut cx, &func);
    if let Some(errors) = cx.into_compile_errors() {
        return quote!(#func #errors);
    }
    let p = match &cfg.krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::obs_runtime::__private),
    };
    let ident = &func.sig.ident;
    let name = cfg.name.map(|s| s.value()).unwrap_or_else(|| ident.to_string());
    let name = name.strip_prefix("r#").unwrap_or(&name).to_string();
    let (critical, timeout_ns) = (cfg.critical, cfg.timeout_ns);
    let run = format_ident!("__obs_health_run", span = Span::mixed_site());
    // Located at the return type, so a type that is not a check's output is
    // reported there.
    let ret_span = match &func.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => Span::call_site(),
    };
    let pr = {
        let p2: TokenStream = p.clone();
        quote_spanned!(ret_span=> #p2)
    };
    let (body, variant) = if func.sig.asyncness.is_some() {
        let out = quote_spanned!(ret_span=> <_ as #pr::CheckOutput>::into_check_result(#ident().await));
        (
            quote! {
                fn #run() -> #p::CheckFuture {
                    ::std::boxed::Box::pin(async move { #out })
                }
            },
            quote!(Async),
        )
    } else {
        let out = quote_spanned!(ret_span=> <_ as #pr::CheckOutput>::into_check_result(#ident()));
        (quote!(fn #run() -> #p::CheckResult { #out }), quote!(Blocking))
    };
    quote! {
        #func
        #[doc(hidden)]
        const _: () = {
            #body
            #p::inventory::submit! {
                #p::HealthRegistration {
                    name: #name,
                    critical: #critical,
                    timeout_ns: #timeout_ns,
                    run: #p::HealthRun::#variant(#run),
                }
            }
        };
    }
}
