//! Generates the instrumented function from a validated [`Config`].
//!
//! The signature, attributes, visibility and doc comments are emitted
//! unchanged, and the user's body is moved, token for token, into a closure
//! (sync) or an `async move` block (async), so its errors keep their spans.
//! When anything is wrong the function is emitted uninstrumented next to the
//! errors, so the rest of the crate (and rust-analyzer) keeps working.

use crate::attr::Args;
use crate::ctxt::Ctxt;
use crate::valid::{validate, Config, Kind, Value};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, ReturnType, Stmt, Type};

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

struct Gen<'a> {
    /// Runtime label values: (label name, expression, unbounded).
    dynamic: Vec<(String, &'a Expr, bool)>,
}

impl Gen<'_> {
    fn labels_ident() -> syn::Ident {
        format_ident!("__obs_labels", span = Span::mixed_site())
    }

    /// A span field value for a label: the literal, or the computed value.
    fn field(&self, name: &str, v: &Value) -> TokenStream {
        match v {
            Value::Lit(s) => s.to_token_stream(),
            Value::Dynamic { .. } => {
                let i = self.dynamic.iter().position(|(n, _, _)| n == name).unwrap_or(0);
                let labels = Self::labels_ident();
                quote!(&*#labels[#i])
            }
        }
    }

    fn lit(v: &Option<Value>) -> Option<String> {
        match v {
            Some(Value::Lit(s)) => Some(s.value()),
            _ => None,
        }
    }
}

/// Content capture for model and tool calls: the arguments after the span
/// opens, the return value before the call ends. Off unless the function
/// says `capture_content = true` or the process turned capture on; only
/// values whose type implements `Serialize` are captured (the choice is made
/// per type at the call site, so other types are skipped, not errors).
fn capture_tokens(
    cfg: &Config,
    p: &TokenStream,
    sig: &syn::Signature,
    call: &syn::Ident,
    ret: &syn::Ident,
) -> (TokenStream, TokenStream) {
    // Model calls' content goes in the GenAI message schema; tools' as JSON.
    let (input_field, output_field, in_fn, out_fn) = match cfg.kind {
        Kind::LlmCall => (
            obs_shared::semconv::GEN_AI_INPUT_MESSAGES,
            obs_shared::semconv::GEN_AI_OUTPUT_MESSAGES,
            quote!(input_messages),
            quote!(output_messages),
        ),
        Kind::Tool => (
            obs_shared::semconv::GEN_AI_TOOL_CALL_ARGUMENTS,
            obs_shared::semconv::GEN_AI_TOOL_CALL_RESULT,
            quote!(arguments),
            quote!(value),
        ),
        _ => return (TokenStream::new(), TokenStream::new()),
    };
    if cfg.capture == Some(false) {
        return (TokenStream::new(), TokenStream::new());
    }
    let forced = match cfg.capture {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    };
    let on = format_ident!("__obs_capture", span = Span::mixed_site());
    let text = format_ident!("__obs_text", span = Span::mixed_site());
    let probe = |e: TokenStream| {
        quote! {{
            #[allow(unused_imports)]
            use #p::capture::{CaptureNothing as _, CaptureResult as _, CaptureSerialize as _};
            (&&&#p::capture::CaptureProbe(&#e)).__obs_capture()
        }}
    };
    let args = sig.inputs.iter().filter_map(|a| match a {
        syn::FnArg::Typed(t) => match &*t.pat {
            syn::Pat::Ident(pi) => {
                let id = &pi.ident;
                let name = id.to_string();
                let name = name.strip_prefix("r#").unwrap_or(&name).to_string();
                let v = probe(quote!(#id));
                // An argument under `#[cfg]` is captured under the same `#[cfg]`.
                let cfgs = t.attrs.iter().filter(|a| a.path().is_ident("cfg"));
                Some(quote!(#(#cfgs)* (#name, #v)))
            }
            _ => None,
        },
        syn::FnArg::Receiver(_) => None,
    });
    let capture_in = quote! {
        let #on = #p::capture::capture_on(#forced) && !#call.span().is_disabled();
        if #on {
            if let ::core::option::Option::Some(#text) = #p::capture::#in_fn(&[#(#args),*]) {
                #call.span().record(#input_field, #text.as_str());
            }
        }
    };
    let capture_out = if cfg.stream {
        // Streamed output is not captured (the GenAI conventions leave chunk capture open).
        quote!(let _ = #on;)
    } else {
        let v = probe(quote!(#ret));
        quote! {
            if #on {
                if let ::core::option::Option::Some(#text) = #p::capture::#out_fn(#v) {
                    #call.span().record(#output_field, #text.as_str());
                }
            }
        }
    };
    (capture_in, capture_out)
}

/// The statements that end the call and produce the function's value.
fn finish_tokens(
    cfg: &Config,
    p: &TokenStream,
    sig: &syn::Signature,
    ret: &syn::Ident,
    call: &syn::Ident,
    outcome: &TokenStream,
) -> TokenStream {
    if cfg.kind != Kind::LlmCall {
        return quote! {
            #call.finish(#outcome);
            #ret
        };
    }
    let ret_ty: Option<&Type> = match &sig.output {
        ReturnType::Type(_, ty) => Some(ty),
        ReturnType::Default => None,
    };
    let ty_span = ret_ty.map_or_else(Span::call_site, |t| t.span());
    if cfg.stream {
        let stream = format_ident!("__obs_stream", span = Span::mixed_site());
        let err = format_ident!("__obs_err", span = Span::mixed_site());
        return match ret_ty {
            Some(Type::ImplTrait(_)) => quote!(#p::TrackedStream::new(#ret, #call)),
            Some(ty) if result_of_impl(ty) => quote! {
                match #ret {
                    ::core::result::Result::Ok(#stream) => ::core::result::Result::Ok(#p::TrackedStream::new(#stream, #call)),
                    ::core::result::Result::Err(#err) => {
                        #call.finish_llm_unreported(#p::Outcome::Error(#p::error_type_of(&#err)));
                        ::core::result::Result::Err(#err)
                    }
                }
            },
            _ => {
                // Located at the return type, so a stream item that is not an
                // `LlmChunk` is reported there.
                let pt = respan(p.clone(), ty_span);
                let at = syn::Ident::new(&ret.to_string(), Span::mixed_site().located_at(ty_span));
                quote_spanned!(ty_span=> #pt::TrackReturn::track(#at, #call))
            }
        };
    }
    match &cfg.usage {
        Some(None) => quote! {
            #call.finish_llm_unreported(#outcome);
            #ret
        },
        Some(Some(expr)) => {
            let u = format_ident!("__obs_usage", span = Span::mixed_site());
            // Located at the `usage = ..` expression, so a closure that does not
            // return an `LlmUsage` is reported there.
            // For a closure, at its body: the value it returns is the usage.
            let at = match expr {
                Expr::Closure(c) => c.body.span(),
                e => e.span(),
            };
            let pu = respan(p.clone(), at);
            let apply = quote_spanned!(at=> #pu::apply_usage(&#ret, #expr));
            quote! {
                let #u = #apply;
                #call.finish_llm(#outcome, &#u);
                #ret
            }
        }
        None => {
            let at = syn::Ident::new(&ret.to_string(), Span::mixed_site().located_at(ty_span));
            let usage = quote_spanned!(ty_span=> #p::as_usage(&#at));
            quote! {
                #call.finish_llm(#outcome, #usage);
                #ret
            }
        }
    }
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

fn generate(cfg: &Config, func: ItemFn) -> TokenStream {
    let p = match &cfg.krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::obs_runtime::__private),
    };
    let fn_name = func.sig.ident.to_string();
    let tool_name = match (&cfg.kind, &cfg.name) {
        (Kind::Tool, None) if in_impl(&func.sig) => Some(self_tool_name(&p, &fn_name)),
        (Kind::Tool, None) => Some(Value::Lit(syn::LitStr::new(&fn_name, func.sig.ident.span()))),
        (Kind::Tool, Some(Value::Lit(s))) => Some(Value::Lit(s.clone())),
        (Kind::Tool, Some(Value::Dynamic { expr, unbounded })) => {
            Some(Value::Dynamic { expr: expr.clone(), unbounded: *unbounded })
        }
        _ => None,
    };
    let mut g = Gen { dynamic: Vec::new() };
    for (name, v) in [("agent", &cfg.agent), ("model", &cfg.model), ("provider", &cfg.provider), ("tool", &tool_name)] {
        if let Some(Value::Dynamic { expr, unbounded }) = v {
            g.dynamic.push((name.to_string(), expr, *unbounded));
        }
    }
    for (name, v) in &cfg.labels {
        if let Value::Dynamic { expr, unbounded } = v {
            g.dynamic.push((name.to_string(), expr, *unbounded));
        }
    }

    // The descriptor.
    let kind_tokens = match cfg.kind {
        Kind::Agent => quote!(#p::FnKind::Agent),
        Kind::LlmCall => quote!(#p::FnKind::LlmCall),
        Kind::Tool => quote!(#p::FnKind::Tool),
        Kind::Function => quote!(#p::FnKind::Function),
    };
    let info_name = match (&cfg.kind, &cfg.name) {
        (Kind::Function, Some(Value::Lit(s))) => s.value(),
        _ => fn_name.clone(),
    };
    let operation = cfg.operation.as_ref().map(|s| s.value()).unwrap_or_else(|| "chat".into());
    // The descriptor is built by a `const fn` builder, naming only the options
    // this function sets: a new option never changes other expansions.
    let mut options = Vec::new();
    for (method, v) in [
        ("agent", Gen::lit(&cfg.agent)),
        ("model", Gen::lit(&cfg.model)),
        ("provider", Gen::lit(&cfg.provider)),
        ("operation", (cfg.kind == Kind::LlmCall).then(|| operation.clone())),
        ("tool", Gen::lit(&tool_name)),
        ("budget", cfg.budget.as_ref().map(|b| b.value())),
    ] {
        if let Some(v) = v {
            let m = format_ident!("{}", method);
            options.push(quote!(.#m(#v)));
        }
    }
    let static_labels: Vec<TokenStream> = cfg
        .labels
        .iter()
        .filter_map(|(k, v)| match v {
            Value::Lit(s) => {
                let k = k.to_string();
                Some(quote!((#k, #s)))
            }
            _ => None,
        })
        .collect();
    if !static_labels.is_empty() {
        options.push(quote!(.labels(&[#(#static_labels),*])));
    }
    if !g.dynamic.is_empty() {
        let dyn_names = g.dynamic.iter().map(|(n, _, _)| n);
        options.push(quote!(.dynamic(&[#(#dyn_names),*])));
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
    let info = format_ident!("__OBS_INFO", span = Span::mixed_site());
    let site = format_ident!("__OBS_SITE", span = Span::mixed_site());
    // A model call's site carries the model-call series; the others are plain.
    let site_ty = if cfg.kind == Kind::LlmCall { quote!(#p::LlmSite) } else { quote!(#p::Site) };
    let statics = quote! {
        static #info: #p::FnInfo = #p::fn_info(
            #kind_tokens,
            #info_name,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        )#(#options)*.build();
        static #site: #site_ty = #site_ty::new(&#info);
        #p::inventory::submit! { #p::Registration(&#site) }
    };

    // Runtime label values, each bound by reference first so that temporaries
    // live long enough and places like `self.name` are borrowed, not moved.
    let labels = Gen::labels_ident();
    let mut bindings = Vec::new();
    let mut values = Vec::new();
    for (i, (_, expr, unbounded)) in g.dynamic.iter().enumerate() {
        let v = format_ident!("__obs_value{}", i, span = Span::mixed_site());
        bindings.push(quote_spanned!(expr.span()=> let #v = &(#expr);));
        let conv = if *unbounded { quote!(unbounded) } else { quote!(bounded) };
        // Same hygiene, but located at the user's expression, so a type that
        // cannot be a label value is reported on that expression.
        let at = format_ident!("__obs_value{}", i, span = Span::mixed_site().located_at(expr.span()));
        values.push(quote_spanned!(expr.span()=> #p::#conv(#at)));
    }

    // The span.
    let level = match cfg.level.as_ref().map(|l| l.value()).as_deref() {
        Some("trace") => quote!(#p::tracing::Level::TRACE),
        Some("debug") => quote!(#p::tracing::Level::DEBUG),
        Some("warn") => quote!(#p::tracing::Level::WARN),
        Some("error") => quote!(#p::tracing::Level::ERROR),
        _ => quote!(#p::tracing::Level::INFO),
    };
    let empty = quote!(#p::tracing::field::Empty);
    let user_fields =
        cfg.fields.iter().map(|(name, expr)| quote_spanned!(expr.span()=> #name = #p::tracing::field::debug(&(#expr))));
    // Field names from the one list the runtime records into.
    let code_function = semconv(obs_shared::semconv::CODE_FUNCTION);
    let code_namespace = semconv(obs_shared::semconv::CODE_NAMESPACE);
    let error_type = semconv(obs_shared::semconv::ERROR_TYPE);
    let gen_ai_agent_name = semconv(obs_shared::semconv::GEN_AI_AGENT_NAME);
    let gen_ai_input_messages = semconv(obs_shared::semconv::GEN_AI_INPUT_MESSAGES);
    let gen_ai_operation_name = semconv(obs_shared::semconv::GEN_AI_OPERATION_NAME);
    let gen_ai_output_messages = semconv(obs_shared::semconv::GEN_AI_OUTPUT_MESSAGES);
    let gen_ai_provider_name = semconv(obs_shared::semconv::GEN_AI_PROVIDER_NAME);
    let gen_ai_request_model = semconv(obs_shared::semconv::GEN_AI_REQUEST_MODEL);
    let gen_ai_response_finish_reasons = semconv(obs_shared::semconv::GEN_AI_RESPONSE_FINISH_REASONS);
    let gen_ai_response_model = semconv(obs_shared::semconv::GEN_AI_RESPONSE_MODEL);
    let gen_ai_response_time_to_first_chunk = semconv(obs_shared::semconv::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK);
    let gen_ai_tool_call_arguments = semconv(obs_shared::semconv::GEN_AI_TOOL_CALL_ARGUMENTS);
    let gen_ai_tool_call_result = semconv(obs_shared::semconv::GEN_AI_TOOL_CALL_RESULT);
    let gen_ai_tool_name = semconv(obs_shared::semconv::GEN_AI_TOOL_NAME);
    let gen_ai_usage_cache_creation_input_tokens =
        semconv(obs_shared::semconv::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS);
    let gen_ai_usage_cache_read_input_tokens = semconv(obs_shared::semconv::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS);
    let gen_ai_usage_input_tokens = semconv(obs_shared::semconv::GEN_AI_USAGE_INPUT_TOKENS);
    let gen_ai_usage_output_tokens = semconv(obs_shared::semconv::GEN_AI_USAGE_OUTPUT_TOKENS);
    let gen_ai_usage_reasoning_output_tokens = semconv(obs_shared::semconv::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS);
    let obs_cost_usd = semconv(obs_shared::semconv::OBS_COST_USD);
    let obs_status = semconv(obs_shared::semconv::OBS_STATUS);
    let obs_usage = semconv(obs_shared::semconv::OBS_USAGE);
    let otel_kind = semconv(obs_shared::semconv::OTEL_KIND);
    let otel_name_field = semconv(obs_shared::semconv::OTEL_NAME);
    let otel_status_code = semconv(obs_shared::semconv::OTEL_STATUS_CODE);
    let server_address_field = semconv(obs_shared::semconv::SERVER_ADDRESS);
    let server_port_field = semconv(obs_shared::semconv::SERVER_PORT);
    let (span_name, otel_name, kind_fields) = match cfg.kind {
        Kind::Agent => {
            let a = cfg.agent.as_ref().map(|v| g.field("agent", v)).unwrap_or_else(|| quote!(""));
            let (name, otel) = match Gen::lit(&cfg.agent) {
                Some(a) => (format!("invoke_agent {a}"), None),
                None => ("invoke_agent".to_string(), Some(quote!(::core::format_args!("invoke_agent {}", #a)))),
            };
            (
                name,
                otel,
                // An in-process agent's provider is the instrumentation that
                // runs it (as CrewAI's and LangChain's instrumentations name
                // theirs); its model calls carry their real providers.
                quote! {
                    #otel_kind = "internal",
                    #gen_ai_operation_name = "invoke_agent",
                    #gen_ai_provider_name = "obs",
                    #gen_ai_agent_name = #a,
                },
            )
        }
        Kind::LlmCall => {
            let m = cfg.model.as_ref().map(|v| g.field("model", v)).unwrap_or_else(|| quote!(""));
            let provider = match (&cfg.provider, &cfg.model) {
                (Some(v), _) => g.field("provider", v),
                (None, Some(Value::Dynamic { .. })) => quote!(#p::infer_provider(#m)),
                (None, _) => quote!(#site.provider()),
            };
            let (name, otel) = match Gen::lit(&cfg.model) {
                Some(model) => (format!("{operation} {model}"), None),
                None => (operation.clone(), Some(quote!(::core::format_args!("{} {}", #operation, #m)))),
            };
            let server_address = cfg.server_address.as_ref().map(|a| quote!(#server_address_field = #a,));
            let server_port = cfg.server_port.as_ref().map(|port| quote!(#server_port_field = #port as i64,));
            (
                name,
                otel,
                quote! {
                    #otel_kind = "client",
                    #gen_ai_operation_name = #operation,
                    #gen_ai_provider_name = #provider,
                    #gen_ai_request_model = #m,
                    #server_address
                    #server_port
                    #gen_ai_response_model = #empty,
                    #gen_ai_response_finish_reasons = #empty,
                    #gen_ai_usage_input_tokens = #empty,
                    #gen_ai_usage_output_tokens = #empty,
                    #gen_ai_usage_cache_read_input_tokens = #empty,
                    #gen_ai_usage_cache_creation_input_tokens = #empty,
                    #gen_ai_usage_reasoning_output_tokens = #empty,
                    #gen_ai_response_time_to_first_chunk = #empty,
                    #obs_cost_usd = #empty,
                    #obs_usage = #empty,
                    #gen_ai_input_messages = #empty,
                    #gen_ai_output_messages = #empty,
                },
            )
        }
        Kind::Tool => {
            let t = tool_name.as_ref().map(|v| g.field("tool", v)).unwrap_or_else(|| quote!(""));
            let (name, otel) = match Gen::lit(&tool_name) {
                Some(t) => (format!("execute_tool {t}"), None),
                None => ("execute_tool".to_string(), Some(quote!(::core::format_args!("execute_tool {}", #t)))),
            };
            (
                name,
                otel,
                quote! {
                    #otel_kind = "internal",
                    #gen_ai_operation_name = "execute_tool",
                    #gen_ai_tool_name = #t,
                    #gen_ai_tool_call_arguments = #empty,
                    #gen_ai_tool_call_result = #empty,
                },
            )
        }
        Kind::Function => (
            info_name.clone(),
            None,
            quote! {
                #otel_kind = "internal",
                #code_function = #fn_name,
                #code_namespace = ::core::module_path!(),
            },
        ),
    };
    // A runtime name is formatted by the subscriber that records it (no
    // `String` is built for a span nobody stores).
    let otel_name = otel_name.map(|n| quote!(#otel_name_field = #n,));
    let span_var = format_ident!("__obs_span", span = Span::mixed_site());
    let start = if g.dynamic.is_empty() {
        quote!(#site.start(#span_var))
    } else {
        quote!(#site.start_dynamic(#span_var, &#labels))
    };
    let n_dyn = g.dynamic.len();
    let label_array =
        (!g.dynamic.is_empty()).then(|| quote!(let #labels: [::std::borrow::Cow<'_, str>; #n_dyn] = [#(#values),*];));
    let call = format_ident!("__obs_call", span = Span::mixed_site());
    let begin = quote! {
        let #call = {
            #(#bindings)*
            #label_array
            let #span_var = #p::tracing::span!(
                target: ::core::module_path!(),
                #level,
                #span_name,
                #otel_name
                #kind_fields
                #error_type = #empty,
                #otel_status_code = #empty,
                #obs_status = #empty,
                #(#user_fields,)*
            );
            #start
        };
    };

    let ret = format_ident!("__obs_ret", span = Span::mixed_site());
    let outcome = quote! {{
        #[allow(unused_imports)]
        use #p::{PlainOutcome as _, ResultOutcome as _};
        (&#p::Probe(&#ret)).__obs_outcome()
    }};

    let doc_links = crate::doclinks::lines(cfg, &info_name, tool_name.as_ref());
    let ItemFn { attrs, vis, sig, block } = func;
    let (capture_in, capture_out) = capture_tokens(cfg, &p, &sig, &call, &ret);
    let tail = finish_tokens(cfg, &p, &sig, &ret, &call, &outcome);
    // A failed call hands its error's `Display` (when its type has one) to
    // the failure log line, just before it ends; `err = false` skips it.
    let err_text = (cfg.err != Some(1)).then(|| {
        let e = format_ident!("__obs_err_text", span = Span::mixed_site());
        quote! {
            if let ::core::option::Option::Some(#e) = {
                #[allow(unused_imports)]
                use #p::{ErrDisplay as _, ErrOpaque as _};
                (&#p::ErrProbe(&#ret)).__obs_err()
            } {
                #p::error_text(&#info, #e);
            }
        }
    });
    let tail = quote!(#capture_out #err_text #tail);
    let begin = quote!(#begin #capture_in);
    // A budget check runs first inside the body, so its early `Err` return is
    // classified like any other error of the function.
    let check = cfg.budget.as_ref().map(|b| {
        let name = b.value();
        let e = format_ident!("__obs_budget", span = Span::mixed_site().located_at(b.span()));
        // Every token located at `budget = ".."`, so an error type that cannot
        // carry `BudgetExceeded` is reported there.
        let pb = respan(p.clone(), b.span());
        quote_spanned! {b.span()=>
            if let ::core::result::Result::Err(#e) = #pb::budget_check(#name) {
                return #pb::BudgetReturn::budget_exceeded(#e);
            }
        }
    });
    let async_trait = async_trait_body(&sig, &block);
    let orig = block;
    let block: TokenStream = match &check {
        Some(check) => quote!({ #check #orig }),
        None => orig.to_token_stream(),
    };
    let body = if sig.asyncness.is_some() {
        // The body's output type is pinned to the declared return type before
        // any of the user's code (a never-taken `return` of that type comes
        // first, as async-trait does), so `?`, early returns and unsizing
        // coercions (`Ok(Box::pin(stream))` to `Pin<Box<dyn Stream>>`) behave
        // exactly as in the original `async fn`.
        let fut = match &sig.output {
            ReturnType::Type(_, ty) if contains_impl(ty) => quote!(async move #block),
            output => {
                let out = match output {
                    ReturnType::Default => quote!(()),
                    ReturnType::Type(_, ty) => quote!(#ty),
                };
                let r = format_ident!("__obs_body", span = Span::mixed_site());
                // Located at the declared return type, so rustc's "return type
                // inferred to be .. here" points at the signature.
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
        };
        quote! {
            #statics
            #begin
            let (#ret, #call) = #p::Tracked::new(#call, #fut).await;
            #tail
        }
    } else if let Some(idx) = async_trait {
        let mut stmts = orig.stmts.clone();
        let Stmt::Expr(Expr::Call(pin_call), None) = stmts.remove(idx) else { unreachable!("checked") };
        let func_path = &pin_call.func;
        let inner = &pin_call.args[0];
        let inner = match &check {
            Some(check) => quote!(async move { #check (#inner).await }),
            None => inner.to_token_stream(),
        };
        quote! {
            #statics
            #begin
            #(#stmts)*
            #func_path(async move {
                let (#ret, #call) = #p::Tracked::new(#call, #inner).await;
                #tail
            })
        }
    } else {
        let out = match &sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) if contains_impl(ty) => quote!(_),
            ReturnType::Type(_, ty) => quote!(#ty),
        };
        let entered = format_ident!("__obs_entered", span = Span::mixed_site());
        quote! {
            #statics
            #begin
            let #ret = {
                let #entered = #call.enter();
                #p::once::<#out, _>(move || #block)
            };
            #tail
        }
    };
    quote! {
        #(#attrs)*
        #(#[doc = #doc_links])*
        #vis #sig {
            #body
        }
    }
}

/// A span field name as the string literal `tracing::span!` takes.
fn semconv(name: &str) -> syn::LitStr {
    syn::LitStr::new(name, Span::call_site())
}
