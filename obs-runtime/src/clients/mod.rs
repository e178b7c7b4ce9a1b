//! `LlmUsage` / `LlmChunk` for the response types of popular clients, each
//! behind a cargo feature of the same name, normalised to the GenAI rule
//! (input includes cached tokens, output includes reasoning tokens).

#[cfg(feature = "async-openai-0_43")]
mod async_openai;
#[cfg(feature = "genai-0_7")]
mod genai;
#[cfg(feature = "rig-0_44")]
mod rig;

/// Client counts are `u32`/`i32`; negative values (never sent by a sane
/// provider) read as "not reported".
#[allow(dead_code)]
fn count<T: TryInto<u64>>(n: T) -> Option<u64> {
    n.try_into().ok()
}
