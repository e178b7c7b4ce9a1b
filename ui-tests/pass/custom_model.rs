//! Model names: known ones in every form the price lookup accepts, custom
//! ones declared with `custom_model`, and runtime expressions (not checked).
#![deny(warnings)]

use obs_runtime::track_llm_call;

#[track_llm_call(model = "my-finetune", custom_model, usage = none)]
pub fn custom() {}

#[track_llm_call(model = "llama3:8b", custom_model = true, provider = "ollama", server_port = 11434, usage = none)]
pub async fn custom_with_provider() {}

#[track_llm_call(custom_model, model = "acme/frontier-2", usage = none, labels(team = "lab"))]
pub fn custom_before_model() {}

#[track_llm_call(model = "gpt-4o", custom_model, usage = none)]
pub fn known_and_custom() {}

#[track_llm_call(model = "GPT-4o-mini", usage = none)]
pub fn uppercase_known() {}

#[track_llm_call(model = "openai/gpt-4o-mini-2024-07-18", usage = none)]
pub fn prefixed_and_dated() {}

#[track_llm_call(model = "claude-sonnet-4-5@20250929", usage = none)]
pub fn vertex_dated() {}

#[track_llm_call(model = "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", usage = none)]
pub fn slashes_in_key() {}

#[track_llm_call(model = model, usage = none)]
pub fn runtime_model(model: &'static str) {
    let _ = model;
}

fn main() {}
