//! Token usage of a model call, read by `#[track_llm_call]` from the value
//! the function returns.
//!
//! Counts follow the OpenTelemetry GenAI rule: `input` includes cached tokens
//! (cache reads and cache writes), `output` includes reasoning tokens. Every
//! count is an `Option`: `None` is "the provider did not report it", never
//! zero. Providers differ (OpenAI includes cached tokens in `prompt_tokens`,
//! Anthropic does not), so build a [`TokenUsage`] with the constructor that
//! matches the provider's semantics.

/// Token counts of one model call, normalised to the GenAI conventions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// All input tokens, cached ones included.
    pub input: Option<u64>,
    /// All output tokens, reasoning ones included.
    pub output: Option<u64>,
    /// Input tokens read from the prompt cache (part of `input`).
    pub cache_read: Option<u64>,
    /// Input tokens written to the prompt cache (part of `input`).
    pub cache_creation: Option<u64>,
    /// Of `cache_creation`, those written with a 1-hour lifetime (Anthropic).
    pub cache_creation_1h: Option<u64>,
    /// Output tokens spent on reasoning (part of `output`).
    pub reasoning: Option<u64>,
}

impl TokenUsage {
    /// Usage reported the OpenAI way: `prompt_tokens` already includes
    /// `cached_tokens`, `completion_tokens` already includes `reasoning_tokens`.
    /// (xAI reports reasoning beside `completion_tokens`: use [`TokenUsage::xai`].)
    ///
    /// ```
    /// let u = obs_runtime::usage::TokenUsage::openai(1000, 200, Some(800), Some(50));
    /// assert_eq!((u.input, u.output, u.cache_read, u.reasoning), (Some(1000), Some(200), Some(800), Some(50)));
    /// ```
    pub fn openai(prompt_tokens: u64, completion_tokens: u64, cached: Option<u64>, reasoning: Option<u64>) -> Self {
        TokenUsage {
            input: Some(prompt_tokens),
            output: Some(completion_tokens),
            cache_read: cached,
            cache_creation: None,
            cache_creation_1h: None,
            reasoning,
        }
    }

    /// Usage reported the Anthropic way: `input_tokens` excludes cache reads
    /// and writes, so they are added to form the GenAI `input`.
    ///
    /// ```
    /// let u = obs_runtime::usage::TokenUsage::anthropic(100, 50, Some(2000), Some(300));
    /// assert_eq!(u.input, Some(2400));
    /// ```
    pub fn anthropic(
        input_tokens: u64,
        output_tokens: u64,
        cache_read: Option<u64>,
        cache_creation: Option<u64>,
    ) -> Self {
        let input = input_tokens.saturating_add(cache_read.unwrap_or(0)).saturating_add(cache_creation.unwrap_or(0));
        TokenUsage {
            input: Some(input),
            output: Some(output_tokens),
            cache_read,
            cache_creation,
            cache_creation_1h: None,
            reasoning: None,
        }
    }

    /// Usage reported the xAI way (chat completions): `prompt_tokens`
    /// includes `prompt_tokens_details.cached_tokens`, but
    /// `completion_tokens_details.reasoning_tokens` are **beside**
    /// `completion_tokens`, not in it (`total_tokens` = prompt + completion +
    /// reasoning), and are billed at the output rate: they are added to
    /// `output`. [`TokenUsage::openai`] would drop them.
    ///
    /// ```
    /// let u = obs_runtime::usage::TokenUsage::xai(1000, 200, Some(800), Some(500));
    /// assert_eq!((u.input, u.output, u.cache_read, u.reasoning), (Some(1000), Some(700), Some(800), Some(500)));
    /// ```
    pub fn xai(prompt_tokens: u64, completion_tokens: u64, cached: Option<u64>, reasoning: Option<u64>) -> Self {
        let output = completion_tokens.saturating_add(reasoning.unwrap_or(0));
        TokenUsage::openai(prompt_tokens, output, cached, reasoning)
    }

    /// Usage reported the Anthropic way with the split of cache writes by
    /// lifetime: `usage.input_tokens` (cache excluded), `output_tokens`,
    /// `cache_read_input_tokens`, and `cache_creation.ephemeral_5m_input_tokens`
    /// / `cache_creation.ephemeral_1h_input_tokens` (1-hour writes bill at
    /// their own rate, twice the input rate).
    ///
    /// ```
    /// let u = obs_runtime::usage::TokenUsage::anthropic_cache_ttl(100, 50, Some(2000), 300, 700);
    /// assert_eq!((u.input, u.cache_creation, u.cache_creation_1h), (Some(3100), Some(1000), Some(700)));
    /// ```
    pub fn anthropic_cache_ttl(
        input_tokens: u64,
        output_tokens: u64,
        cache_read: Option<u64>,
        ephemeral_5m: u64,
        ephemeral_1h: u64,
    ) -> Self {
        let mut u = TokenUsage::anthropic(
            input_tokens,
            output_tokens,
            cache_read,
            Some(ephemeral_5m.saturating_add(ephemeral_1h)),
        );
        u.cache_creation_1h = Some(ephemeral_1h);
        u
    }

    /// Usage reported by Gemini (`usageMetadata`): `promptTokenCount`
    /// includes `cachedContentTokenCount`, but `candidatesTokenCount`
    /// excludes `thoughtsTokenCount` (thinking is billed as output), so the
    /// thoughts are added to `output`.
    ///
    /// ```
    /// let u = obs_runtime::usage::TokenUsage::gemini(1000, 200, Some(600), Some(300));
    /// assert_eq!((u.input, u.output, u.cache_read, u.reasoning), (Some(1000), Some(500), Some(600), Some(300)));
    /// ```
    pub fn gemini(
        prompt_token_count: u64,
        candidates_token_count: u64,
        cached_content_token_count: Option<u64>,
        thoughts_token_count: Option<u64>,
    ) -> Self {
        let output = candidates_token_count.saturating_add(thoughts_token_count.unwrap_or(0));
        TokenUsage::openai(prompt_token_count, output, cached_content_token_count, thoughts_token_count)
    }

    /// Usage reported by Amazon Bedrock's Converse API (`usage`):
    /// `inputTokens` excludes `cacheReadInputTokens` and
    /// `cacheWriteInputTokens` (`totalTokens` adds all four), as Anthropic's does.
    ///
    /// ```
    /// let u = obs_runtime::usage::TokenUsage::bedrock_converse(100, 50, Some(2000), Some(300));
    /// assert_eq!((u.input, u.cache_read, u.cache_creation), (Some(2400), Some(2000), Some(300)));
    /// ```
    pub fn bedrock_converse(
        input_tokens: u64,
        output_tokens: u64,
        cache_read_input_tokens: Option<u64>,
        cache_write_input_tokens: Option<u64>,
    ) -> Self {
        TokenUsage::anthropic(input_tokens, output_tokens, cache_read_input_tokens, cache_write_input_tokens)
    }

    /// Usage reported by Mistral (`usage`): `prompt_tokens` (cached
    /// included, `prompt_tokens_details.cached_tokens`) and
    /// `completion_tokens`; the OpenAI semantics, without reasoning counts
    /// (Magistral's thinking is inside `completion_tokens`).
    ///
    /// ```
    /// let u = obs_runtime::usage::TokenUsage::mistral(1000, 200, Some(400));
    /// assert_eq!((u.input, u.output, u.cache_read), (Some(1000), Some(200), Some(400)));
    /// ```
    pub fn mistral(prompt_tokens: u64, completion_tokens: u64, cached: Option<u64>) -> Self {
        TokenUsage::openai(prompt_tokens, completion_tokens, cached, None)
    }

    /// Plain input and output counts.
    pub fn new(input: u64, output: u64) -> Self {
        TokenUsage { input: Some(input), output: Some(output), ..TokenUsage::default() }
    }

    /// Whether any count was reported.
    pub fn is_reported(&self) -> bool {
        self.input.is_some() || self.output.is_some()
    }
}

/// What `#[track_llm_call]` reads from a function's return value.
///
/// Implemented for the response types of supported clients (feature-gated),
/// and through `Result<T, E>` (the `Ok` value), `Option<T>`, `Box<T>`,
/// `Arc<T>` and references. Implement it for your own response type:
///
/// ```
/// use obs_runtime::usage::{LlmUsage, TokenUsage};
/// struct Reply { text: String, prompt_tokens: u64, completion_tokens: u64 }
/// impl LlmUsage for Reply {
///     fn usage(&self) -> Option<TokenUsage> {
///         Some(TokenUsage::new(self.prompt_tokens, self.completion_tokens))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not report token usage: #[track_llm_call] needs the return type to implement `obs_runtime::usage::LlmUsage`",
    label = "the token counts and cost of the call are read from this type",
    note = "implement `obs_runtime::usage::LlmUsage` for your response type (return `Some(TokenUsage::openai(..))` or `TokenUsage::anthropic(..)`)",
    note = "or name the usage in the attribute: the closure gets a reference to the return value and returns a `TokenUsage` (or an `Option` of one): `usage = |r| r.as_ref().ok().map(|reply| TokenUsage::new(reply.input_tokens, reply.output_tokens))` for a `Result`, or `usage = none` when the model reports none"
)]
pub trait LlmUsage {
    /// The call's token usage, if reported.
    fn usage(&self) -> Option<TokenUsage>;
    /// The model that answered (`gen_ai.response.model`), if reported.
    fn response_model(&self) -> Option<&str> {
        None
    }
    /// Why generation stopped, one per choice (`gen_ai.response.finish_reasons`).
    fn finish_reasons(&self) -> Vec<&str> {
        Vec::new()
    }
    /// The provider's id of the response (`gen_ai.response.id`), if
    /// reported: the ledger keeps it, so an evaluation or a feedback token
    /// can name the call later ([`crate::eval`]).
    fn response_id(&self) -> Option<&str> {
        None
    }
}

impl LlmUsage for TokenUsage {
    fn usage(&self) -> Option<TokenUsage> {
        Some(*self)
    }
}

impl<T: LlmUsage, E> LlmUsage for Result<T, E> {
    fn usage(&self) -> Option<TokenUsage> {
        self.as_ref().ok().and_then(T::usage)
    }
    fn response_model(&self) -> Option<&str> {
        self.as_ref().ok().and_then(T::response_model)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        self.as_ref().map(T::finish_reasons).unwrap_or_default()
    }
    fn response_id(&self) -> Option<&str> {
        self.as_ref().ok().and_then(T::response_id)
    }
}

impl<T: LlmUsage> LlmUsage for Option<T> {
    fn usage(&self) -> Option<TokenUsage> {
        self.as_ref().and_then(T::usage)
    }
    fn response_model(&self) -> Option<&str> {
        self.as_ref().and_then(T::response_model)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        self.as_ref().map(T::finish_reasons).unwrap_or_default()
    }
    fn response_id(&self) -> Option<&str> {
        self.as_ref().and_then(T::response_id)
    }
}

macro_rules! forward_usage {
    ($($t:ty),*) => {$(
        impl<T: LlmUsage + ?Sized> LlmUsage for $t {
            fn usage(&self) -> Option<TokenUsage> {
                (**self).usage()
            }
            fn response_model(&self) -> Option<&str> {
                (**self).response_model()
            }
            fn finish_reasons(&self) -> Vec<&str> {
                (**self).finish_reasons()
            }
            fn response_id(&self) -> Option<&str> {
                (**self).response_id()
            }
        }
    )*};
}
forward_usage!(&T, Box<T>, std::sync::Arc<T>, std::rc::Rc<T>);

/// One chunk of a streamed model response, read by the stream wrapper of
/// `#[track_llm_call(stream)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a known streaming chunk: #[track_llm_call(stream)] needs stream items implementing `obs_runtime::usage::LlmChunk`",
    note = "implement `obs_runtime::usage::LlmChunk` for the item type (content presence for time to first token, usage from the final chunk)"
)]
pub trait LlmChunk {
    /// Whether the chunk carries generated content (the first such chunk
    /// sets the time to first token).
    fn has_content(&self) -> bool;
    /// Usage, usually only on the final chunk.
    fn usage(&self) -> Option<TokenUsage> {
        None
    }
    /// The model that answered.
    fn response_model(&self) -> Option<&str> {
        None
    }
    /// A finish reason carried by this chunk.
    fn finish_reason(&self) -> Option<&str> {
        None
    }
    /// Whether the item is an error (the stream then ends as `error`).
    fn is_error(&self) -> bool {
        false
    }
    /// The provider's id of the response this chunk belongs to.
    fn response_id(&self) -> Option<&str> {
        None
    }
}

impl<T: LlmChunk, E> LlmChunk for Result<T, E> {
    fn has_content(&self) -> bool {
        self.as_ref().is_ok_and(T::has_content)
    }
    fn usage(&self) -> Option<TokenUsage> {
        self.as_ref().ok().and_then(T::usage)
    }
    fn response_model(&self) -> Option<&str> {
        self.as_ref().ok().and_then(T::response_model)
    }
    fn finish_reason(&self) -> Option<&str> {
        self.as_ref().ok().and_then(T::finish_reason)
    }
    fn is_error(&self) -> bool {
        self.is_err()
    }
    fn response_id(&self) -> Option<&str> {
        self.as_ref().ok().and_then(T::response_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R(u64);
    impl LlmUsage for R {
        fn usage(&self) -> Option<TokenUsage> {
            Some(TokenUsage::new(self.0, 1))
        }
        fn response_model(&self) -> Option<&str> {
            Some("m-2025")
        }
    }

    #[test]
    fn usage_reads_through_wrappers_and_errors_report_none() {
        let ok: Result<Box<R>, ()> = Ok(Box::new(R(5)));
        assert_eq!(ok.usage(), Some(TokenUsage::new(5, 1)));
        assert_eq!(ok.response_model(), Some("m-2025"));
        let err: Result<R, ()> = Err(());
        assert_eq!(err.usage(), None);
        assert_eq!(None::<R>.usage(), None);
        assert!(!TokenUsage::default().is_reported());
    }

    #[test]
    fn anthropic_input_includes_cache() {
        let u = TokenUsage::anthropic(10, 20, Some(30), None);
        assert_eq!((u.input, u.cache_read, u.cache_creation), (Some(40), Some(30), None));
    }
}
