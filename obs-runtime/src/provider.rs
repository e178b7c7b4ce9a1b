//! The provider of a model, from its name: a leaf of the module graph, used by
//! the call layer (the `provider` label), pricing (a price entry's default
//! provider) and generated code (the span of a runtime model name).

/// The GenAI `gen_ai.provider.name` for a model name, from its well-known
/// prefix (`openai/gpt-4o` and `gpt-4o` both give `openai`); `unknown` when
/// the name does not tell.
pub fn infer_provider(model: &str) -> &'static str {
    if let Some((prefix, _)) = model.split_once('/') {
        return match prefix {
            "openai" | "azure" => "openai",
            "anthropic" => "anthropic",
            "gemini" | "google" => "gcp.gemini",
            "vertex_ai" => "gcp.vertex_ai",
            "mistral" => "mistral_ai",
            "deepseek" => "deepseek",
            "groq" => "groq",
            "bedrock" => "aws.bedrock",
            "cohere" => "cohere",
            "xai" => "x_ai",
            "perplexity" => "perplexity",
            _ => "unknown",
        };
    }
    let m = model.to_ascii_lowercase();
    let starts = |p: &[&str]| p.iter().any(|p| m.starts_with(p));
    if starts(&["gpt-", "o1", "o3", "o4", "chatgpt", "text-embedding-", "davinci", "babbage"]) {
        "openai"
    } else if starts(&["claude"]) {
        "anthropic"
    } else if starts(&["gemini", "gemma"]) {
        "gcp.gemini"
    } else if starts(&["mistral", "ministral", "codestral", "magistral", "pixtral", "open-mistral"]) {
        "mistral_ai"
    } else if starts(&["deepseek"]) {
        "deepseek"
    } else if starts(&["command"]) {
        "cohere"
    } else if starts(&["grok"]) {
        "x_ai"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::infer_provider;

    #[test]
    fn providers_are_inferred_from_names_and_prefixes() {
        assert_eq!(infer_provider("gpt-4o-mini"), "openai");
        assert_eq!(infer_provider("openai/gpt-4o"), "openai");
        assert_eq!(infer_provider("claude-sonnet-4-5"), "anthropic");
        assert_eq!(infer_provider("gemini-2.5-pro"), "gcp.gemini");
        assert_eq!(infer_provider("groq/llama-3.3-70b-versatile"), "groq");
        assert_eq!(infer_provider("my-local-model"), "unknown");
    }
}
