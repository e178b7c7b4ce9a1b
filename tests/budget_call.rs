//! What the budget tests' model calls return: a fixed usage (1,000 input and
//! 1,000 output tokens), and an error that carries a budget refusal.

use obs_runtime::budget::BudgetExceeded;
use obs_runtime::TokenUsage;

/// A model call's error: only ever a budget refusal here.
#[derive(Debug)]
pub enum CallError {
    /// The budget refused the call before its body ran.
    Budget(BudgetExceeded),
}

impl From<BudgetExceeded> for CallError {
    fn from(e: BudgetExceeded) -> Self {
        CallError::Budget(e)
    }
}

/// A model response of 1,000 input and 1,000 output tokens.
pub struct Resp;

impl obs_runtime::LlmUsage for Resp {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(1_000, 1_000))
    }
}
