//! Model names Rust agent code writes today (the 58 of issue 12 that were
//! compile errors, and current models of each major provider): every one
//! compiles. Known ones are priced by the runtime at their provider's rate
//! (`tests/tests/model_names.rs` checks each price); retired or unlisted ones
//! compile too and are counted as unpriced at run time, with one warning.
#![deny(warnings)]

use obs_runtime::track_llm_call;

#[track_llm_call(model = "gpt-4", usage = none)]
pub fn m0() {}

#[track_llm_call(model = "gpt-4-turbo", usage = none)]
pub fn m1() {}

#[track_llm_call(model = "gpt-3.5-turbo", usage = none)]
pub fn m2() {}

#[track_llm_call(model = "gpt-4o", usage = none)]
pub fn m3() {}

#[track_llm_call(model = "gpt-4o-mini", usage = none)]
pub fn m4() {}

#[track_llm_call(model = "gpt-4o-2024-08-06", usage = none)]
pub fn m5() {}

#[track_llm_call(model = "gpt-4.1", usage = none)]
pub fn m6() {}

#[track_llm_call(model = "gpt-4.1-mini", usage = none)]
pub fn m7() {}

#[track_llm_call(model = "gpt-4.1-nano", usage = none)]
pub fn m8() {}

#[track_llm_call(model = "o1", usage = none)]
pub fn m9() {}

#[track_llm_call(model = "o3", usage = none)]
pub fn m10() {}

#[track_llm_call(model = "o3-mini", usage = none)]
pub fn m11() {}

#[track_llm_call(model = "o3-pro", usage = none)]
pub fn m12() {}

#[track_llm_call(model = "o4-mini", usage = none)]
pub fn m13() {}

#[track_llm_call(model = "gpt-5", usage = none)]
pub fn m14() {}

#[track_llm_call(model = "gpt-5-mini", usage = none)]
pub fn m15() {}

#[track_llm_call(model = "gpt-5-nano", usage = none)]
pub fn m16() {}

#[track_llm_call(model = "gpt-5-codex", usage = none)]
pub fn m17() {}

#[track_llm_call(model = "gpt-5.1", usage = none)]
pub fn m18() {}

#[track_llm_call(model = "gpt-5.2", usage = none)]
pub fn m19() {}

#[track_llm_call(model = "gpt-5.4", usage = none)]
pub fn m20() {}

#[track_llm_call(model = "gpt-5.4-mini", usage = none)]
pub fn m21() {}

#[track_llm_call(model = "gpt-5.5", usage = none)]
pub fn m22() {}

#[track_llm_call(model = "text-embedding-3-small", usage = none)]
pub fn m23() {}

#[track_llm_call(model = "text-embedding-3-large", usage = none)]
pub fn m24() {}

#[track_llm_call(model = "openai/gpt-4o", usage = none)]
pub fn m25() {}

#[track_llm_call(model = "ft:gpt-4o-mini-2024-07-18:acme::abc123", usage = none)]
pub fn m26() {}

#[track_llm_call(model = "claude-3-5-sonnet-20241022", usage = none)]
pub fn m27() {}

#[track_llm_call(model = "claude-3-5-haiku-20241022", usage = none)]
pub fn m28() {}

#[track_llm_call(model = "claude-sonnet-4-20250514", usage = none)]
pub fn m29() {}

#[track_llm_call(model = "claude-opus-4-1-20250805", usage = none)]
pub fn m30() {}

#[track_llm_call(model = "claude-sonnet-4-5", usage = none)]
pub fn m31() {}

#[track_llm_call(model = "claude-sonnet-4-5-20250929", usage = none)]
pub fn m32() {}

#[track_llm_call(model = "claude-haiku-4-5", usage = none)]
pub fn m33() {}

#[track_llm_call(model = "claude-haiku-4-5-20251001", usage = none)]
pub fn m34() {}

#[track_llm_call(model = "claude-opus-4-5", usage = none)]
pub fn m35() {}

#[track_llm_call(model = "claude-opus-4-6", usage = none)]
pub fn m36() {}

#[track_llm_call(model = "claude-sonnet-4-6", usage = none)]
pub fn m37() {}

#[track_llm_call(model = "claude-opus-4-7", usage = none)]
pub fn m38() {}

#[track_llm_call(model = "anthropic/claude-sonnet-4-5", usage = none)]
pub fn m39() {}

#[track_llm_call(model = "gemini-2.0-flash", usage = none)]
pub fn m40() {}

#[track_llm_call(model = "gemini-2.5-pro", usage = none)]
pub fn m41() {}

#[track_llm_call(model = "gemini-2.5-flash", usage = none)]
pub fn m42() {}

#[track_llm_call(model = "gemini-2.5-flash-lite", usage = none)]
pub fn m43() {}

#[track_llm_call(model = "gemini-3-flash-preview", usage = none)]
pub fn m44() {}

#[track_llm_call(model = "gemini-3.1-pro-preview", usage = none)]
pub fn m45() {}

#[track_llm_call(model = "gemini-3.5-flash", usage = none)]
pub fn m46() {}

#[track_llm_call(model = "grok-4", usage = none)]
pub fn m47() {}

#[track_llm_call(model = "grok-4.3", usage = none)]
pub fn m48() {}

#[track_llm_call(model = "grok-4.5", usage = none)]
pub fn m49() {}

#[track_llm_call(model = "grok-4.6", usage = none)]
pub fn m50() {}

#[track_llm_call(model = "grok-3-mini", usage = none)]
pub fn m51() {}

#[track_llm_call(model = "llama-3.3-70b-versatile", usage = none)]
pub fn m52() {}

#[track_llm_call(model = "mistral-small-2501", usage = none)]
pub fn m53() {}

#[track_llm_call(model = "mistral-large-latest", usage = none)]
pub fn m54() {}

#[track_llm_call(model = "mistral-medium-latest", usage = none)]
pub fn m55() {}

#[track_llm_call(model = "mistral-small-latest", usage = none)]
pub fn m56() {}

#[track_llm_call(model = "codestral-latest", usage = none)]
pub fn m57() {}

#[track_llm_call(model = "magistral-medium-latest", usage = none)]
pub fn m58() {}

#[track_llm_call(model = "deepseek-chat", usage = none)]
pub fn m59() {}

#[track_llm_call(model = "deepseek-reasoner", usage = none)]
pub fn m60() {}

#[track_llm_call(model = "deepseek-v4-pro", usage = none)]
pub fn m61() {}

#[track_llm_call(model = "deepseek-v4-flash", usage = none)]
pub fn m62() {}

#[track_llm_call(model = "anthropic.claude-3-5-sonnet-20240620-v1:0", usage = none)]
pub fn m63() {}

#[track_llm_call(model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0", usage = none)]
pub fn m64() {}

#[track_llm_call(model = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", usage = none)]
pub fn m65() {}

#[track_llm_call(model = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", usage = none)]
pub fn m66() {}

#[track_llm_call(model = "anthropic.claude-opus-4-6", usage = none)]
pub fn m67() {}

#[track_llm_call(model = "gpt-35-turbo", usage = none)]
pub fn m68() {}

#[track_llm_call(model = "azure/gpt-4o", usage = none)]
pub fn m69() {}

#[track_llm_call(model = "azure/gpt-35-turbo", usage = none)]
pub fn m70() {}

#[track_llm_call(model = "meta-llama/Llama-3.3-70B-Instruct-Turbo", usage = none)]
pub fn m71() {}

#[track_llm_call(model = "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", usage = none)]
pub fn m72() {}

#[track_llm_call(model = "accounts/fireworks/models/llama-v3p3-70b-instruct", usage = none)]
pub fn m73() {}

#[track_llm_call(model = "fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct", usage = none)]
pub fn m74() {}

#[track_llm_call(model = "llama3.1:8b", usage = none)]
pub fn m75() {}

#[track_llm_call(model = "ollama/llama3.1", usage = none)]
pub fn m76() {}

#[track_llm_call(model = "deepseek-ai/DeepSeek-V3.2", usage = none)]
pub fn m77() {}

#[track_llm_call(model = "command-r-plus", usage = none)]
pub fn m78() {}

#[track_llm_call(model = "command-a-03-2025", usage = none)]
pub fn m79() {}

#[track_llm_call(model = "meta-llama/Llama-3.3-70B-Instruct-Turbo", provider = "together_ai", usage = none)]
pub fn together_by_provider() {}

#[track_llm_call(model = "gpt-35-turbo", provider = "azure", usage = none)]
pub fn azure_by_provider() {}

// Newer than the table, a local model, a fine-tune obs cannot know: compile,
// reported at run time.
#[track_llm_call(model = "claude-opus-4-9", usage = none)]
pub fn newer_version() {}

#[track_llm_call(model = "my-finetune", provider = "openai", usage = none)]
pub fn unknown_name() {}

fn main() {}
