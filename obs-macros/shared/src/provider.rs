//! `gen_ai.provider.name` from a model name.

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
            // Hosts whose names are their LiteLLM provider names.
            "together_ai" | "fireworks_ai" | "ollama" | "deepinfra" | "openrouter" => {
                crate::provider::host_name_of(prefix)
            }
            // Fireworks' own API names: `accounts/fireworks/models/..`.
            "accounts" if model.starts_with("accounts/fireworks/") => "fireworks_ai",
            _ => "unknown",
        };
    }
    if crate::model::is_bedrock_id(model) {
        return "aws.bedrock";
    }
    let starts = |p: &[&str]| p.iter().any(|p| model.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p)));
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

/// The `&'static` name of a host prefix `infer_provider` recognises.
fn host_name_of(prefix: &str) -> &'static str {
    match prefix {
        "together_ai" => "together_ai",
        "fireworks_ai" => "fireworks_ai",
        "ollama" => "ollama",
        "deepinfra" => "deepinfra",
        "openrouter" => "openrouter",
        _ => "unknown",
    }
}

/// The GenAI provider name for a LiteLLM `litellm_provider` value, when the
/// two differ; `None` means the LiteLLM name is used as it is.
pub fn from_litellm(litellm_provider: &str) -> Option<&'static str> {
    // Keep in step with GENAI in obs-runtime/pricing/from_litellm.py.
    match litellm_provider {
        "gemini" | "vertex_ai-language-models" => Some("gcp.gemini"),
        "vertex_ai" => Some("gcp.vertex_ai"),
        "mistral" => Some("mistral_ai"),
        "xai" => Some("x_ai"),
        "bedrock" | "bedrock_converse" => Some("aws.bedrock"),
        "azure" => Some("azure.ai.openai"),
        "azure_ai" => Some("azure.ai.inference"),
        "text-completion-openai" => Some("openai"),
        "cohere_chat" => Some("cohere"),
        "watsonx" => Some("ibm.watsonx.ai"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_inferred_from_names_and_prefixes() {
        assert_eq!(infer_provider("gpt-4o-mini"), "openai");
        assert_eq!(infer_provider("GPT-4o"), "openai");
        assert_eq!(infer_provider("openai/gpt-4o"), "openai");
        assert_eq!(infer_provider("claude-sonnet-4-5"), "anthropic");
        assert_eq!(infer_provider("gemini-2.5-pro"), "gcp.gemini");
        assert_eq!(infer_provider("groq/llama-3.3-70b-versatile"), "groq");
        assert_eq!(infer_provider("my-local-model"), "unknown");
        assert_eq!(infer_provider("éclair"), "unknown");
        assert_eq!(infer_provider("o"), "unknown");
        assert_eq!(infer_provider("us.anthropic.claude-sonnet-4-5-20250929-v1:0"), "aws.bedrock");
        assert_eq!(infer_provider("meta.llama3-1-8b-instruct-v1:0"), "aws.bedrock");
        assert_eq!(infer_provider("accounts/fireworks/models/x"), "fireworks_ai");
    }

    #[test]
    fn litellm_providers_map_to_genai_names() {
        assert_eq!(from_litellm("gemini"), Some("gcp.gemini"));
        assert_eq!(from_litellm("vertex_ai-language-models"), Some("gcp.gemini"));
        assert_eq!(from_litellm("mistral"), Some("mistral_ai"));
        assert_eq!(from_litellm("openai"), None);
    }
}
