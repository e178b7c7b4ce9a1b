//! The `usage = ..` forms the docs and the compile errors show: the closure
//! gets a reference to the function's return value (`&Result<Reply, E>` for a
//! fallible call) and returns a `TokenUsage` or an `Option` of one; a function
//! path works the same way.
#![deny(warnings)]

use obs_runtime::{track_llm_call, TokenUsage};

pub struct Reply {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub usage: TokenUsage,
}

#[derive(Debug)]
pub struct CallFailed;

// A `Result`: map the `Ok` value; an error reports no usage.
#[track_llm_call(
    model = "gpt-4o",
    usage = |r| r.as_ref().ok().map(|reply| TokenUsage::new(reply.input_tokens, reply.output_tokens))
)]
fn fallible(ok: bool) -> Result<Reply, CallFailed> {
    if ok {
        Ok(Reply { input_tokens: 10, output_tokens: 5, usage: TokenUsage::new(10, 5) })
    } else {
        Err(CallFailed)
    }
}

// A field holding a `TokenUsage`, through the `Ok` value.
#[track_llm_call(model = "gpt-4o", usage = |r| r.as_ref().ok().map(|reply| reply.usage))]
fn field(ok: bool) -> Result<Reply, CallFailed> {
    fallible(ok)
}

// A plain return value: the closure gets `&Reply`.
#[track_llm_call(model = "gpt-4o-mini", usage = |reply| reply.usage)]
fn infallible() -> Reply {
    Reply { input_tokens: 1, output_tokens: 1, usage: TokenUsage::new(1, 1) }
}

// A function path taking `&ReturnType`.
fn usage_of(r: &Result<Reply, CallFailed>) -> Option<TokenUsage> {
    r.as_ref().ok().map(|reply| reply.usage)
}

#[track_llm_call(model = "gpt-4o", usage = usage_of)]
fn by_path(ok: bool) -> Result<Reply, CallFailed> {
    fallible(ok)
}

fn main() {
    let _ = fallible(true);
    let _ = field(false);
    let _ = infallible();
    let _ = by_path(true);
}
