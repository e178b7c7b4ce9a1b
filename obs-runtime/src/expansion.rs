//! The runtime half of the macros' expansion: the entry points the
//! generated code calls (re-exported in `__private`), so that the logic of a
//! call is compiled once, here, and each instrumented function carries only
//! its statics, its probes (what only its concrete types can tell: `Result`
//! or not, `Display` or not, `Serialize` or not) and one call into [`run`]
//! or [`Instrumented`].
//!
//! The shape of a sync expansion (see the README, "What a macro expands to"):
//!
//! ```text
//! static INFO; static META; static CALLSITE; static SITE; inventory::submit!(SITE)
//! let mut call = SITE.call();                   // None when quiet: Site::quiet
//! let ret = run::<R, _, _>(&mut call, move || body);
//! if let Some(c) = &mut call { end(c, probe(&ret)) }
//! ret
//! ```
//!
//! An async one awaits the body itself when the call is quiet, and
//! [`Instrumented`] otherwise. The functions here that do the work are
//! plain functions of the crate (the generic ones are generic over a call
//! kind or a stream, never over the function), so a program with hundreds of
//! instrumented functions compiles them once.

use crate::call::Call;
use crate::llm::{LlmCall, TrackedStream};
use crate::redact::capture::__private::CaptureArg;
use crate::status::{Ending, Outcome};
use crate::usage::LlmUsage;

pub use crate::call::{run, Instrumented};

/// Ends a call of an agent, a tool or a `#[traced]` function with what the
/// generated probe read from its return value.
#[inline(never)]
pub fn end(call: &mut Call, ending: Ending<'_>) {
    note(call, &ending);
    call.complete(ending.outcome);
}

/// Ends a model call whose return value reports its usage (`LlmUsage`, or
/// the `usage = ..` closure's value).
#[inline(never)]
pub fn end_llm(call: &mut LlmCall, ending: Ending<'_>, usage: &dyn LlmUsage) {
    note(call, &ending);
    call.complete_llm(ending.outcome, usage);
}

/// Ends a model call that reports no usage (`usage = none`).
#[inline(never)]
pub fn end_llm_unreported(call: &mut LlmCall, ending: Ending<'_>) {
    note(call, &ending);
    call.complete_llm_unreported(ending.outcome);
}

/// Hands a failed call's error text to its failure line, which the end of
/// the call writes: for a value that moves on before the call ends (a
/// streaming model call's stream).
#[inline]
pub fn note<X: crate::call::Extension>(call: &Call<X>, ending: &Ending<'_>) {
    if let (Outcome::Error(_), Some(e)) = (ending.outcome, ending.error) {
        error_text(call.info(), e);
    }
}

/// A streaming model call returning `impl Stream`: wrapped whether the call
/// is quiet (`None`, the stream passes through) or not.
pub fn stream_impl<S>(call: Option<LlmCall>, ret: S) -> TrackedStream<S> {
    TrackedStream::maybe(ret, call)
}

/// A streaming model call returning `Result<impl Stream, E>`: an `Err` ends
/// the call at once, as an error of `E`'s type.
pub fn stream_result<S, E>(call: Option<LlmCall>, ret: Result<S, E>) -> Result<TrackedStream<S>, E> {
    match ret {
        Ok(s) => Ok(TrackedStream::maybe(s, call)),
        Err(e) => {
            if let Some(call) = call {
                call.finish_llm_unreported(Outcome::Error(error_type_of(&e)));
            }
            Err(e)
        }
    }
}

/// Hands the error's `Display` (cut to 1 KiB, through the secret
/// detectors) to the failure line of the call of `info` about to end.
#[cold]
#[inline(never)]
pub fn error_text(info: &'static crate::FnInfo, e: &dyn std::fmt::Display) {
    // Before init() no failure line is written: formatting the error
    // would only allocate.
    if !crate::call::enabled() {
        return;
    }
    crate::failure::stash(info, || {
        let s = e.to_string();
        let cut = crate::metrics::registry::cut(&s, 1024);
        crate::redact::scan(&cut).into_owned()
    });
}

/// Whether this call captures content: the function's own
/// `capture_content = ..`, else the process setting, and only into a span
/// that records (decided when the call started).
#[inline(always)]
pub fn capturing<X: crate::call::Extension>(call: &Call<X>) -> bool {
    call.capturing()
}

/// Records the captured arguments of a tool (`gen_ai.tool.call.arguments`)
/// or a model call (`gen_ai.input.messages`), detectors and size limit
/// applied: what the generated probes of the arguments read.
#[inline(never)]
pub fn capture_input<X: crate::call::Extension>(call: &Call<X>, args: &[(&str, Option<&dyn CaptureArg>)]) {
    record_input(call.info(), call.span(), &crate::redact::capture::__private::to_json(args));
}

fn record_input(info: &crate::FnInfo, span: &tracing::Span, args: &[(&str, Option<serde_json::Value>)]) {
    use crate::redact::capture::__private as c;
    let (field, text) = match info.kind() {
        crate::FnKind::LlmCall => (crate::semconv::GEN_AI_INPUT_MESSAGES, c::input_messages(args)),
        _ => (crate::semconv::GEN_AI_TOOL_CALL_ARGUMENTS, c::arguments(args)),
    };
    if let Some(text) = text {
        span.record(field, text.as_str());
    }
}

/// Records the captured return value of a tool (`gen_ai.tool.call.result`)
/// or a model call (`gen_ai.output.messages`): what the generated probe of
/// the return value read.
#[inline(never)]
pub fn capture_output<X: crate::call::Extension>(call: &Call<X>, value: Option<&dyn CaptureArg>) {
    record_output(call.info(), call.span(), value.and_then(CaptureArg::json));
}

fn record_output(info: &crate::FnInfo, span: &tracing::Span, value: Option<serde_json::Value>) {
    use crate::redact::capture::__private as c;
    let (field, text) = match info.kind() {
        crate::FnKind::LlmCall => (crate::semconv::GEN_AI_OUTPUT_MESSAGES, c::output_messages(value)),
        _ => (crate::semconv::GEN_AI_TOOL_CALL_RESULT, c::value(value)),
    };
    if let Some(text) = text {
        span.record(field, text.as_str());
    }
}

/// `error.type` of an error value: its type's short name.
#[inline]
pub fn error_type_of<E>(_: &E) -> &'static str {
    crate::status::short_type_name(std::any::type_name::<E>())
}
