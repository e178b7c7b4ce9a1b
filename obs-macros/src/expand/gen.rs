//! The thin expansion: the statics the registry needs (the descriptor, the
//! span's callsite, the call site, its `inventory` registration) and one call
//! into the runtime (`__private::run` with the body as a closure, or
//! `__private::Instrumented` with the body as a future). The logic of a call
//! lives in the runtime, compiled once; what is generated per function is
//! what only its own types can tell (label values, `fields(..)`, the probes
//! of its arguments and return value).
//!
//! A disabled check comes first: `SITE.call()` (or `SITE.quiet()` before
//! the label values are computed) is `None` before `init()` and whenever
//! the call would record nothing, and then the function runs its bare body.
//!
//! Steps, in order: [`Plan`] (names and runtime labels), [`statics`],
//! [`start`] (the disabled check and the call's start), [`tail`] (what the
//! end of the call reads from the return value), then one of
//! [`sync_body`], [`async_body`], [`async_trait_body`].

use super::{async_trait_body as async_trait_index, contains_impl, in_impl, respan, result_of_impl, self_tool_name};
use crate::valid::{Config, Kind, Value};
use obs_shared::semconv;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, ReturnType, Stmt, Type};

/// A generated name, invisible to the user's code (mixed-site hygiene).
fn hidden(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}

/// What every step shares.
struct Plan<'a> {
    cfg: &'a Config,
    /// `::obs_runtime::__private`, or under the `crate = ..` path.
    p: TokenStream,
    fn_name: String,
    /// The descriptor's name: the function's, or `#[traced(name = "..")]`'s.
    info_name: String,
    /// A tool's name: given, `Type::method` for a method, else the function's.
    tool_name: Option<Value>,
    /// Runtime label values, in the order of `FnInfo::dynamic`: (label, expression, unbounded).
    dynamic: Vec<(String, Expr, bool)>,
    /// A model call's GenAI operation.
    operation: String,
}

impl<'a> Plan<'a> {
    fn new(cfg: &'a Config, sig: &syn::Signature) -> Self {
        let p = match &cfg.krate {
            Some(path) => quote!(#path::__private),
            None => quote!(::obs_runtime::__private),
        };
        let fn_name = sig.ident.to_string();
        let tool_name = match (&cfg.kind, &cfg.name) {
            (Kind::Tool, None) if in_impl(sig) => Some(self_tool_name(&p, &fn_name)),
            (Kind::Tool, None) => Some(Value::Lit(syn::LitStr::new(&fn_name, sig.ident.span()))),
            (Kind::Tool, Some(Value::Lit(s))) => Some(Value::Lit(s.clone())),
            (Kind::Tool, Some(Value::Dynamic { expr, unbounded })) => {
                Some(Value::Dynamic { expr: expr.clone(), unbounded: *unbounded })
            }
            _ => None,
        };
        let builtin = [("agent", &cfg.agent), ("model", &cfg.model), ("provider", &cfg.provider), ("tool", &tool_name)];
        let builtin = builtin.into_iter().filter_map(|(n, v)| Some((n.to_string(), v.as_ref()?)));
        let extra = cfg.labels.iter().map(|(name, v)| (name.to_string(), v));
        let dynamic = builtin
            .chain(extra)
            .filter_map(|(name, v)| match v {
                Value::Dynamic { expr, unbounded } => Some((name, expr.clone(), *unbounded)),
                Value::Lit(_) => None,
            })
            .collect();
        let info_name = match (&cfg.kind, &cfg.name) {
            (Kind::Function, Some(Value::Lit(s))) => s.value(),
            _ => fn_name.clone(),
        };
        let operation = cfg.operation.as_ref().map(|s| s.value()).unwrap_or_else(|| "chat".into());
        Plan { cfg, p, fn_name, info_name, tool_name, dynamic, operation }
    }

    fn lit(v: &Option<Value>) -> Option<String> {
        match v {
            Some(Value::Lit(s)) => Some(s.value()),
            _ => None,
        }
    }

    /// The span's name: literal names are part of it; a runtime name is the
    /// span's `otel.name`, formatted by the runtime.
    fn span_name(&self) -> String {
        let cfg = self.cfg;
        match (cfg.kind, Self::lit(&cfg.agent), Self::lit(&cfg.model), Self::lit(&self.tool_name)) {
            (Kind::Agent, Some(a), _, _) => format!("invoke_agent {a}"),
            (Kind::Agent, None, _, _) => "invoke_agent".into(),
            (Kind::LlmCall, _, Some(m), _) => format!("{} {m}", self.operation),
            (Kind::LlmCall, _, None, _) => self.operation.clone(),
            (Kind::Tool, _, _, Some(t)) => format!("execute_tool {t}"),
            (Kind::Tool, _, _, None) => "execute_tool".into(),
            (Kind::Function, ..) => self.info_name.clone(),
        }
    }

    fn level(&self) -> TokenStream {
        let p = &self.p;
        match self.cfg.level.as_ref().map(|l| l.value()).as_deref() {
            Some("trace") => quote!(#p::tracing::Level::TRACE),
            Some("debug") => quote!(#p::tracing::Level::DEBUG),
            Some("warn") => quote!(#p::tracing::Level::WARN),
            Some("error") => quote!(#p::tracing::Level::ERROR),
            _ => quote!(#p::tracing::Level::INFO),
        }
    }

    /// The kind's span fields (before the user's), as the runtime's constant and a count.
    fn kind_fields(&self) -> (TokenStream, usize) {
        let p = &self.p;
        match self.cfg.kind {
            Kind::Agent => (quote!(#p::AGENT_FIELDS), semconv::AGENT_FIELDS.len()),
            Kind::LlmCall => (quote!(#p::LLM_FIELDS), semconv::LLM_FIELDS.len()),
            Kind::Tool => (quote!(#p::TOOL_FIELDS), semconv::TOOL_FIELDS.len()),
            Kind::Function => (quote!(#p::FUNCTION_FIELDS), semconv::FUNCTION_FIELDS.len()),
        }
    }

    /// Whether arguments and the return value may be captured (tools and
    /// model calls, unless `capture_content = false`).
    fn captures(&self) -> bool {
        matches!(self.cfg.kind, Kind::Tool | Kind::LlmCall) && self.cfg.capture != Some(false)
    }
}

/// The descriptor, built by a `const fn` builder naming only the options this
/// function sets (a new option never changes other expansions).
fn descriptor(plan: &Plan<'_>) -> TokenStream {
    let (cfg, p) = (plan.cfg, &plan.p);
    let kind = match cfg.kind {
        Kind::Agent => quote!(#p::FnKind::Agent),
        Kind::LlmCall => quote!(#p::FnKind::LlmCall),
        Kind::Tool => quote!(#p::FnKind::Tool),
        Kind::Function => quote!(#p::FnKind::Function),
    };
    let mut options = Vec::new();
    for (method, v) in [
        ("agent", Plan::lit(&cfg.agent)),
        ("model", Plan::lit(&cfg.model)),
        ("provider", Plan::lit(&cfg.provider)),
        ("operation", (cfg.kind == Kind::LlmCall).then(|| plan.operation.clone())),
        ("tool", Plan::lit(&plan.tool_name)),
        ("budget", cfg.budget.as_ref().map(|b| b.value())),
        ("server_address", cfg.server_address.as_ref().map(|a| a.value())),
        ("function", (plan.info_name != plan.fn_name).then(|| plan.fn_name.clone())),
    ] {
        if let Some(v) = v {
            let m = format_ident!("{}", method);
            options.push(quote!(.#m(#v)));
        }
    }
    if let Some(port) = &cfg.server_port {
        options.push(quote!(.server_port(#port)));
    }
    let static_labels = cfg.labels.iter().filter_map(|(k, v)| match v {
        Value::Lit(s) => {
            let k = k.to_string();
            Some(quote!((#k, #s)))
        }
        _ => None,
    });
    let static_labels: Vec<TokenStream> = static_labels.collect();
    if !static_labels.is_empty() {
        options.push(quote!(.labels(&[#(#static_labels),*])));
    }
    if !plan.dynamic.is_empty() {
        let names = plan.dynamic.iter().map(|(n, _, _)| n);
        options.push(quote!(.dynamic(&[#(#names),*])));
    }
    if !cfg.metrics {
        options.push(quote!(.no_metrics()));
    }
    if cfg.batch {
        options.push(quote!(.batch()));
    }
    if let Some(ns) = cfg.slow {
        options.push(quote!(.slow_nanos(#ns)));
    }
    if let Some(code) = cfg.err {
        options.push(quote!(.err_level(#code)));
    }
    if let Some(on) = cfg.capture {
        options.push(quote!(.capture(#on)));
    }
    let (info, name) = (hidden("__OBS_INFO"), &plan.info_name);
    quote! {
        static #info: #p::FnInfo = #p::fn_info(
            #kind,
            #name,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        )#(#options)*.build();
    }
}

/// The statics: the descriptor, the span's callsite (its metadata: name,
/// level, the kind's fields then the user's), the call site, and the call
/// site's registration with the catalog (known before the first call).
fn statics(plan: &Plan<'_>) -> TokenStream {
    let (cfg, p) = (plan.cfg, &plan.p);
    let descriptor = descriptor(plan);
    let [info, meta, callsite, site] = ["__OBS_INFO", "__OBS_META", "__OBS_CALLSITE", "__OBS_SITE"].map(hidden);
    let (kind_fields, n_kind) = plan.kind_fields();
    let (fields_static, fields) = if cfg.fields.is_empty() {
        (TokenStream::new(), quote!(&#kind_fields))
    } else {
        let all = hidden("__OBS_FIELDS");
        let n = n_kind + cfg.fields.len();
        let names = cfg.fields.iter().map(|(name, _)| name.to_string());
        let decl = quote! {
            static #all: [&str; #n] = #p::with_user_fields::<#n>(&#kind_fields, &[#(#names),*]);
        };
        (decl, quote!(&#all))
    };
    let span_name = plan.span_name();
    let level = plan.level();
    // A model call's site carries the model-call series; the others are plain.
    let site_ty = if cfg.kind == Kind::LlmCall { quote!(#p::LlmSite) } else { quote!(#p::Site) };
    quote! {
        #descriptor
        #fields_static
        static #meta: #p::tracing::Metadata<'static> = #p::span_meta(
            #span_name,
            ::core::module_path!(),
            #level,
            ::core::file!(),
            ::core::line!(),
            #fields,
            &#callsite,
        );
        static #callsite: #p::tracing::callsite::DefaultCallsite = #p::tracing::callsite::DefaultCallsite::new(&#meta);
        static #site: #site_ty = #site_ty::with_span(&#info, &#callsite, #level);
        #p::inventory::submit! { #p::Registration(&#site) }
    }
}

/// The call's start, an `Option` of the call guard: `None` when the call is
/// quiet (the disabled check), before any label value, field or argument is
/// read. Runtime label values are each bound by reference first, so that
/// temporaries live long enough and places like `self.name` are borrowed,
/// not moved.
fn start(plan: &Plan<'_>, sig: &syn::Signature) -> TokenStream {
    let (cfg, p) = (plan.cfg, &plan.p);
    let site = hidden("__OBS_SITE");
    let capture = capture_input(plan, sig);
    if plan.dynamic.is_empty() && cfg.fields.is_empty() && capture.is_none() {
        return quote!(#site.call());
    }
    let mut bindings = Vec::new();
    let mut values = Vec::new();
    for (i, (_, expr, unbounded)) in plan.dynamic.iter().enumerate() {
        let v = format_ident!("__obs_value{}", i, span = Span::mixed_site());
        bindings.push(quote_spanned!(expr.span()=> let #v = &(#expr);));
        let conv = if *unbounded { quote!(unbounded) } else { quote!(bounded) };
        // Same hygiene, but located at the user's expression, so a type that
        // cannot be a label value is reported on that expression.
        let at = format_ident!("__obs_value{}", i, span = Span::mixed_site().located_at(expr.span()));
        values.push(quote_spanned!(expr.span()=> #p::#conv(#at)));
    }
    let fields = cfg.fields.iter().map(|(_, expr)| {
        quote_spanned!(expr.span()=> &#p::tracing::field::debug(&(#expr)) as &dyn #p::tracing::field::Value)
    });
    let c = hidden("__obs_c");
    quote! {
        if #site.quiet() {
            ::core::option::Option::None
        } else {
            #(#bindings)*
            let #c = #site.begin(&[#(#values),*], &[#(#fields),*]);
            #capture
            #c
        }
    }
}

/// A probe's trait imports and call: `(&&&Probe(&value)).method()` resolves,
/// by autoref, to the most specific of the traits for the value's type.
fn probe(p: &TokenStream, value: &syn::Ident) -> TokenStream {
    quote! {{
        #[allow(unused_imports)]
        use #p::{EndDisplay as _, EndPlain as _, EndResult as _};
        (&&&#p::Probe(&#value)).__obs_end()
    }}
}

fn capture_probe(p: &TokenStream, value: &TokenStream) -> TokenStream {
    quote! {{
        #[allow(unused_imports)]
        use #p::capture::{CaptureNothing as _, CaptureResult as _, CaptureSerialize as _};
        (&&&#p::capture::CaptureProbe(&#value)).__obs_capture()
    }}
}

/// Content capture of the arguments, after the span opens: only values whose
/// type implements `Serialize` (the choice is made per type, so other types
/// are skipped, not errors); `None` when nothing can be captured.
fn capture_input(plan: &Plan<'_>, sig: &syn::Signature) -> Option<TokenStream> {
    if !plan.captures() {
        return None;
    }
    let p = &plan.p;
    let args: Vec<TokenStream> = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(pi) => {
                    let id = &pi.ident;
                    let name = id.to_string();
                    let name = name.strip_prefix("r#").unwrap_or(&name).to_string();
                    let v = capture_probe(p, &quote!(#id));
                    // An argument under `#[cfg]` is captured under the same `#[cfg]`.
                    let cfgs = t.attrs.iter().filter(|a| a.path().is_ident("cfg"));
                    Some(quote!(#(#cfgs)* (#name, #v)))
                }
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    if args.is_empty() {
        return None;
    }
    let c = hidden("__obs_c");
    Some(quote! {
        if let ::core::option::Option::Some(#c) = &#c {
            if #p::capturing(#c) {
                #p::capture_input(#c, &[#(#args),*]);
            }
        }
    })
}

/// The end of the call, after the body: an expression of `__obs_call` (the
/// `Option` of the call guard) and `__obs_ret` (the body's value) that is
/// the function's value. It reads the return value with the probes (outcome,
/// error text, captured output) and calls the runtime's end of its kind; a
/// streaming model call moves the guard into its stream instead.
fn tail(plan: &Plan<'_>, sig: &syn::Signature) -> TokenStream {
    let (cfg, p) = (plan.cfg, &plan.p);
    let [call, c, r] = ["__obs_call", "__obs_c", "__obs_ret"].map(hidden);
    let probe = probe(p, &r);
    let capture = (plan.captures() && !cfg.stream).then(|| {
        let v = capture_probe(p, &quote!(#r));
        quote! {
            if #p::capturing(#c) {
                #p::capture_output(#c, #v);
            }
        }
    });
    let ret_ty: Option<&Type> = match &sig.output {
        ReturnType::Type(_, ty) => Some(ty),
        ReturnType::Default => None,
    };
    let ty_span = ret_ty.map_or_else(Span::call_site, |t| t.span());
    // Located at the return type, so that a type lacking a trait the end
    // needs (`LlmUsage`, `LlmChunk`) is reported there.
    let at_ty = syn::Ident::new("__obs_ret", Span::mixed_site().located_at(ty_span));
    let end = match cfg.kind {
        Kind::LlmCall if cfg.stream => {
            return match ret_ty {
                // The stream is wrapped whether the call is quiet or not.
                Some(Type::ImplTrait(_)) => quote!(#p::stream_impl(#call, #r)),
                Some(ty) if result_of_impl(ty) => quote! {{
                    if let ::core::option::Option::Some(#c) = &#call {
                        #p::note(#c, &#probe);
                    }
                    #p::stream_result(#call, #r)
                }},
                _ => {
                    let pt = respan(p.clone(), ty_span);
                    let track = quote_spanned!(ty_span=> #pt::TrackReturn::track(#at_ty, #c.take()));
                    quote! {
                        match &mut #call {
                            ::core::option::Option::Some(#c) => {
                                #p::note(#c, &#probe);
                                #track
                            }
                            ::core::option::Option::None => #r,
                        }
                    }
                }
            };
        }
        Kind::LlmCall => match &cfg.usage {
            Some(None) => quote!(#p::end_llm_unreported(#c, #probe);),
            Some(Some(expr)) => {
                let u = hidden("__obs_usage");
                // Located at the `usage = ..` expression (for a closure, at
                // its body: the value it returns is the usage), so a closure
                // that does not return an `LlmUsage` is reported there.
                let at = match expr {
                    Expr::Closure(c) => c.body.span(),
                    e => e.span(),
                };
                let pu = respan(p.clone(), at);
                let apply = quote_spanned!(at=> #pu::apply_usage(&#r, #expr));
                quote! {
                    let #u = #apply;
                    #p::end_llm(#c, #probe, &#u);
                }
            }
            None => {
                let usage = quote_spanned!(ty_span=> #p::as_usage(&#at_ty));
                quote!(#p::end_llm(#c, #probe, #usage);)
            }
        },
        _ => quote!(#p::end(#c, #probe);),
    };
    quote! {{
        if let ::core::option::Option::Some(#c) = &mut #call {
            #capture
            #end
        }
        #r
    }}
}

/// A budget check, first inside the body, so that its early `Err` return is
/// classified like any other error of the function.
fn budget_check(plan: &Plan<'_>) -> Option<TokenStream> {
    plan.cfg.budget.as_ref().map(|b| {
        let name = b.value();
        let e = format_ident!("__obs_budget", span = Span::mixed_site().located_at(b.span()));
        // Every token located at `budget = ".."`, so an error type that cannot
        // carry `BudgetExceeded` is reported there.
        let pb = respan(plan.p.clone(), b.span());
        quote_spanned! {b.span()=>
            if let ::core::result::Result::Err(#e) = #pb::budget_check(#name) {
                return #pb::BudgetReturn::budget_exceeded(#e);
            }
        }
    })
}

/// A sync function: the body as a `FnOnce` closure of the declared return
/// type, run by `__private::run`, then the end of the call.
fn sync_body(plan: &Plan<'_>, sig: &syn::Signature, block: TokenStream) -> TokenStream {
    let p = &plan.p;
    let [call, ret] = ["__obs_call", "__obs_ret"].map(hidden);
    let start = start(plan, sig);
    let out = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) if contains_impl(ty) => quote!(_),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let tail = tail(plan, sig);
    quote! {
        let mut #call = #start;
        // The closure returns the function's own value: lints on it are the
        // function's, already reported at its signature.
        #[allow(clippy::result_large_err)]
        let #ret = #p::run::<#out, _, _>(&mut #call, move || #block);
        #tail
    }
}

/// The `async` block of an `async fn`'s body. Its output type is pinned to
/// the declared return type before any of the user's code (a never-taken
/// `return` of that type comes first, as async-trait does), so `?`, early
/// returns and unsizing coercions (`Ok(Box::pin(stream))` to
/// `Pin<Box<dyn Stream>>`) behave exactly as in the original `async fn`.
fn async_block(sig: &syn::Signature, block: TokenStream) -> TokenStream {
    let output = match &sig.output {
        ReturnType::Type(_, ty) if contains_impl(ty) => return quote!(async move #block),
        output => output,
    };
    let out = match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let r = hidden("__obs_body");
    // Located at the declared return type, so rustc's "return type inferred
    // to be .. here" points at the signature.
    let out_span = match output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => Span::call_site(),
    };
    let never = format_ident!("__obs_never", span = Span::mixed_site().located_at(out_span));
    let pin = quote_spanned! {out_span=>
        #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::needless_return)]
        if let ::core::option::Option::Some(#never) = ::core::option::Option::None::<#out> {
            return #never;
        }
    };
    quote! {
        async move {
            #pin
            let #r: #out = #block;
            #r
        }
    }
}

/// Awaits the body future `__obs_fut` of a call started as `__obs_call`
/// (bare when the call is quiet, inside `__private::Instrumented`
/// otherwise), then ends the call.
fn await_in_call(plan: &Plan<'_>, sig: &syn::Signature) -> TokenStream {
    let p = &plan.p;
    let [call, fut, c, ret] = ["__obs_call", "__obs_fut", "__obs_c", "__obs_ret"].map(hidden);
    let tail = tail(plan, sig);
    quote! {
        let #ret = match &mut #call {
            ::core::option::Option::None => #fut.await,
            ::core::option::Option::Some(#c) => #p::Instrumented::new(#c, #fut).await,
        };
        #tail
    }
}

/// An `async fn`: the call starts at the first poll, as the body would.
fn async_body(plan: &Plan<'_>, sig: &syn::Signature, block: TokenStream) -> TokenStream {
    let [call, fut] = ["__obs_call", "__obs_fut"].map(hidden);
    let start = start(plan, sig);
    let fut_expr = async_block(sig, block);
    let awaited = await_in_call(plan, sig);
    quote! {
        let mut #call = #start;
        let #fut = #fut_expr;
        #awaited
    }
}

/// A method `#[async_trait]` already expanded (`Box::pin(async move { .. })`
/// as its last statement): the call starts when the method is called, and
/// the boxed future awaits the body in it.
fn async_trait_body(plan: &Plan<'_>, sig: &syn::Signature, orig: &syn::Block, idx: usize) -> TokenStream {
    let [call, fut] = ["__obs_call", "__obs_fut"].map(hidden);
    let mut stmts = orig.stmts.clone();
    let Stmt::Expr(Expr::Call(pin_call), None) = stmts.remove(idx) else { unreachable!("checked") };
    let func_path = &pin_call.func;
    let inner = &pin_call.args[0];
    let inner = match budget_check(plan) {
        Some(check) => quote!(async move { #check (#inner).await }),
        None => inner.to_token_stream(),
    };
    let start = start(plan, sig);
    let awaited = await_in_call(plan, sig);
    quote! {
        let mut #call = #start;
        #(#stmts)*
        #func_path(async move {
            let #fut = #inner;
            #awaited
        })
    }
}

/// The instrumented function: the signature, attributes, visibility and doc
/// comments unchanged, the PromQL of its series appended to its docs, and a
/// body of statics and one call into the runtime.
pub(super) fn generate(cfg: &Config, func: ItemFn) -> TokenStream {
    let plan = Plan::new(cfg, &func.sig);
    let statics = statics(&plan);
    let doc_links = crate::doclinks::lines(cfg, &plan.info_name, plan.tool_name.as_ref());
    let ItemFn { attrs, vis, sig, block } = func;
    let body = if let Some(idx) = async_trait_index(&sig, &block) {
        async_trait_body(&plan, &sig, &block, idx)
    } else {
        let block = match budget_check(&plan) {
            Some(check) => quote!({ #check #block }),
            None => block.to_token_stream(),
        };
        if sig.asyncness.is_some() {
            async_body(&plan, &sig, block)
        } else {
            sync_body(&plan, &sig, block)
        }
    };
    quote! {
        #(#attrs)*
        #(#[doc = #doc_links])*
        #vis #sig {
            #statics
            #body
        }
    }
}
