//! Simulated model calls, one `#[track_llm_call]` function per model.
//!
//! Each call sleeps for a deterministic latency, may fail deterministically
//! (rate limits, overloads), and returns token counts in [`Completion`].

use crate::rng::SplitMix64;
use crate::Sim;
use obs_runtime::track_llm_call;
use std::fmt;

/// What a model is asked: the task, what it is about, and the attempt number
/// (a retry is a different call, with its own latency and outcome).
#[derive(Clone, Copy, Debug)]
pub struct Ask<'a> {
    /// What the call is for (`plan`, `summarise`, `synthesise`, `write`).
    pub task: &'a str,
    /// The subject: a topic, a URL, a report title.
    pub subject: &'a str,
    /// 0 for the first try.
    pub attempt: u64,
}

/// A model's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The model that answered.
    pub model: &'static str,
    /// The (simulated) text.
    pub text: String,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// The provider's response id, when it gives one (the HTTP service's
    /// model does: feedback names the call by it).
    pub id: Option<String>,
}

impl obs_runtime::LlmUsage for Completion {
    fn usage(&self) -> Option<obs_runtime::TokenUsage> {
        Some(obs_runtime::TokenUsage::new(self.input_tokens, self.output_tokens))
    }
    fn response_model(&self) -> Option<&str> {
        Some(self.model)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        vec!["stop"]
    }
    fn response_id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// Why a model call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LlmError {
    /// HTTP 429.
    RateLimited {
        /// The model.
        model: &'static str,
    },
    /// HTTP 529 (the provider is overloaded).
    Overloaded {
        /// The model.
        model: &'static str,
    },
}

impl fmt::Display for LlmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LlmError::RateLimited { model } => write!(f, "{model}: rate limited (429)"),
            LlmError::Overloaded { model } => write!(f, "{model}: overloaded (529)"),
        }
    }
}

impl std::error::Error for LlmError {}

/// How a simulated model behaves.
struct Profile {
    model: &'static str,
    /// Latency of a successful call, in ms (before scaling).
    latency_ms: (u64, u64),
    /// Probability that a call fails.
    failure_rate: f64,
    failure: fn(&'static str) -> LlmError,
    input_tokens: (u64, u64),
    output_tokens: (u64, u64),
}

const GPT_5_4: Profile = Profile {
    model: "gpt-5.4",
    latency_ms: (550, 900),
    failure_rate: 0.0,
    failure: |model| LlmError::RateLimited { model },
    input_tokens: (1_200, 6_000),
    output_tokens: (300, 1_200),
};

const GPT_5_4_MINI: Profile = Profile {
    model: "gpt-5.4-mini",
    latency_ms: (120, 400),
    failure_rate: 0.15,
    failure: |model| LlmError::RateLimited { model },
    input_tokens: (800, 4_000),
    output_tokens: (60, 400),
};

const CLAUDE_SONNET: Profile = Profile {
    model: "claude-sonnet-4-6",
    latency_ms: (450, 900),
    failure_rate: 0.1,
    failure: |model| LlmError::Overloaded { model },
    input_tokens: (1_500, 8_000),
    output_tokens: (200, 900),
};

async fn simulate(p: &Profile, sim: Sim, ask: Ask<'_>) -> Result<Completion, LlmError> {
    let mut rng = SplitMix64::seeded(&[ask.task, ask.subject, p.model], ask.attempt);
    if rng.chance(p.failure_rate) {
        // Errors come back fast.
        sim.wait(&mut rng, 30, 90).await;
        return Err((p.failure)(p.model));
    }
    sim.wait(&mut rng, p.latency_ms.0, p.latency_ms.1).await;
    Ok(Completion {
        model: p.model,
        text: format!("[{}] {} of {}", p.model, ask.task, ask.subject),
        input_tokens: rng.range(p.input_tokens.0, p.input_tokens.1),
        output_tokens: rng.range(p.output_tokens.0, p.output_tokens.1),
        id: None,
    })
}

/// OpenAI `gpt-5.4`: planning and writing.
#[track_llm_call(model = "gpt-5.4", provider = "openai")]
pub async fn gpt_5_4(sim: Sim, ask: Ask<'_>) -> Result<Completion, LlmError> {
    simulate(&GPT_5_4, sim, ask).await
}

/// OpenAI `gpt-5.4-mini`: cheap page summaries (provider inferred: `openai`).
#[track_llm_call(model = "gpt-5.4-mini")]
pub async fn gpt_5_4_mini(sim: Sim, ask: Ask<'_>) -> Result<Completion, LlmError> {
    simulate(&GPT_5_4_MINI, sim, ask).await
}

/// Anthropic `claude-sonnet-4-6`: synthesis (provider inferred: `anthropic`).
#[track_llm_call(model = "claude-sonnet-4-6")]
pub async fn claude_sonnet(sim: Sim, ask: Ask<'_>) -> Result<Completion, LlmError> {
    simulate(&CLAUDE_SONNET, sim, ask).await
}
