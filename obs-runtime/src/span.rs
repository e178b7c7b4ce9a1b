//! The span of an instrumented call, built here from the call site's static
//! `tracing` metadata rather than by a `tracing::span!` in every expansion:
//! the macros emit the callsite (name, level, the field list of their kind
//! below, then the user's `fields(..)`), and this module fills in the values
//! from the function's descriptor and its runtime labels. The field lists are
//! fixed per kind, so the runtime knows each attribute's place without
//! looking a name up.
//!
//! A span is built only when a subscriber may want it: [`possible`] makes the
//! checks `tracing::span!` makes before asking the dispatcher (the static
//! and global level filters, the callsite's cached interest), so a function
//! whose span nobody records never reaches [`build`].

use crate::descriptor::{FnInfo, FnKind};
use std::borrow::Cow;
use tracing::callsite::{Callsite as _, DefaultCallsite};
use tracing::field::Value;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::{Level, Span};

pub use obs_shared::semconv::{AGENT_FIELDS, FUNCTION_FIELDS, LLM_FIELDS, MAX_SPAN_FIELDS as MAX_FIELDS, TOOL_FIELDS};

/// The fields of a kind's span, before the user's.
pub const fn kind_fields(kind: FnKind) -> &'static [&'static str] {
    match kind {
        FnKind::Agent => &AGENT_FIELDS,
        FnKind::LlmCall => &LLM_FIELDS,
        FnKind::Tool => &TOOL_FIELDS,
        FnKind::Function => &FUNCTION_FIELDS,
    }
}

/// A kind's fields followed by the user's `fields(..)` names: the field list
/// of a callsite, built at compile time (`N` is the sum of the two lengths).
pub const fn with_user_fields<const N: usize>(
    kind: &'static [&'static str],
    user: &'static [&'static str],
) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < kind.len() {
        out[i] = kind[i];
        i += 1;
    }
    let mut j = 0;
    while j < user.len() {
        out[i + j] = user[j];
        j += 1;
    }
    out
}

/// A call site's span: its `tracing` callsite and level.
#[derive(Clone, Copy)]
pub(crate) struct SpanSite {
    pub(crate) callsite: &'static DefaultCallsite,
    pub(crate) level: Level,
}

impl SpanSite {
    /// Whether a subscriber may want this span: the level filters, then the
    /// callsite's interest (registered on first use). `false` is certain;
    /// `true` still asks the dispatcher in [`build`].
    #[inline(always)]
    pub(crate) fn possible(&self) -> bool {
        self.level <= STATIC_MAX_LEVEL && self.level <= LevelFilter::current() && !self.callsite.interest().is_never()
    }
}

/// The value of runtime label `name`, when the function has one.
fn label<'a>(info: &FnInfo, labels: &'a [Cow<'a, str>], name: &str) -> Option<&'a str> {
    let i = info.dynamic().iter().position(|d| *d == name)?;
    labels.get(i).map(|c| &**c)
}

/// The span of one call of `info`, with its attributes at creation:
/// `labels` are the runtime label values (in the order of `info.dynamic()`),
/// `provider` the call's provider label (model calls), `user` the values of
/// the user's `fields(..)`. A disabled span when the dispatcher wants none.
pub(crate) fn build(
    site: SpanSite,
    info: &FnInfo,
    provider: &str,
    labels: &[Cow<'_, str>],
    user: &[&dyn Value],
) -> Span {
    let meta = site.callsite.metadata();
    let interest = site.callsite.interest();
    if !(interest.is_always() || tracing::dispatcher::get_default(|d| d.enabled(meta))) {
        return Span::new_disabled(meta);
    }
    let fields = meta.fields();
    let mut values: [Option<&dyn Value>; MAX_FIELDS] = [None; MAX_FIELDS];
    let kind = kind_fields(info.kind());
    let n = fields.len().min(MAX_FIELDS);
    for (slot, v) in values[kind.len().min(n)..n].iter_mut().zip(user) {
        *slot = Some(*v);
    }
    let port = info.server_port().map(i64::from);
    let address = info.server_address();
    let model = info.model().or_else(|| label(info, labels, "model")).unwrap_or("");
    let operation = info.operation().unwrap_or("chat");
    let agent = info.agent().or_else(|| label(info, labels, "agent")).unwrap_or("");
    let tool = info.tool().or_else(|| label(info, labels, "tool")).unwrap_or("");
    let module = info.module();
    let function = info.function();
    // A name computed at run time is formatted by the subscriber that records
    // it (no `String` is built for a span nobody stores).
    let name: Option<std::fmt::Arguments<'_>> = match info.kind() {
        FnKind::Agent if info.agent().is_none() => Some(format_args!("invoke_agent {agent}")),
        FnKind::LlmCall if info.model().is_none() => Some(format_args!("{operation} {model}")),
        FnKind::Tool if info.tool().is_none() => Some(format_args!("execute_tool {tool}")),
        _ => None,
    };
    values[0] = name.as_ref().map(|a| a as &dyn Value);
    match info.kind() {
        FnKind::Agent => {
            // An in-process agent's provider is the instrumentation that runs
            // it (as CrewAI's and LangChain's instrumentations name theirs);
            // its model calls carry their real providers.
            values[1] = Some(&"internal");
            values[2] = Some(&"invoke_agent");
            values[3] = Some(&"obs");
            values[4] = Some(&agent);
        }
        FnKind::LlmCall => {
            values[1] = Some(&"client");
            values[2] = Some(&operation);
            values[3] = Some(&provider);
            values[4] = Some(&model);
            values[5] = address.as_ref().map(|a| a as &dyn Value);
            values[6] = port.as_ref().map(|p| p as &dyn Value);
        }
        FnKind::Tool => {
            values[1] = Some(&"internal");
            values[2] = Some(&"execute_tool");
            values[3] = Some(&tool);
        }
        FnKind::Function => {
            values[1] = Some(&"internal");
            values[2] = Some(&function);
            values[3] = Some(&module);
        }
    }
    Span::new(meta, &fields.value_set_all(&values[..n]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semconv as sc;

    #[test]
    fn every_kind_ends_with_the_status_fields() {
        for k in [FnKind::Agent, FnKind::LlmCall, FnKind::Tool, FnKind::Function] {
            let f = kind_fields(k);
            let n = f.len();
            assert_eq!((f[0], f[1]), (sc::OTEL_NAME, sc::OTEL_KIND));
            assert_eq!((f[n - 3], f[n - 2], f[n - 1]), (sc::ERROR_TYPE, sc::OTEL_STATUS_CODE, sc::OBS_STATUS));
        }
        const ALL: [&str; 9] = with_user_fields::<9>(&FUNCTION_FIELDS, &["n", "doubled"]);
        assert_eq!((ALL[6], ALL[7], ALL[8]), (sc::OBS_STATUS, "n", "doubled"));
    }
}
