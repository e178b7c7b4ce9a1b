//! Event categories: `audit`, `security` and `performance` targets, and
//! helpers for the events agent services log again and again.
//!
//! Each helper emits one `tracing` event on its category's target, with an
//! `event` field naming it, so `RUST_LOG=audit=info,performance=warn` selects
//! categories and `jq 'select(.event == "auth_attempt")'` finds them. Like any
//! event, they carry the request, agent and trace ids of where they are
//! emitted. Helpers never log a credential: [`auth_attempt`] logs its SHA-256.
//! (The `slow = ".."` warning of instrumented functions uses the same target
//! and is emitted by the call layer.)
//!
//! ```
//! use obs_runtime::events;
//! use std::time::Duration;
//!
//! events::auth_attempt("agent-123", false, "sk-secret-token");
//! let exceeded = events::rate_limit_check("agent-123", "requests_per_minute", 61, 60);
//! assert!(exceeded);
//! events::slow_operation("vector_search", Duration::from_millis(730), Duration::from_millis(500));
//! ```

#[cfg(feature = "redact-hash")]
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Target of who-did-what events (authentication, permission changes).
pub const AUDIT: &str = "audit";
/// Target of abuse-related events (rate limits, rejected input).
pub const SECURITY: &str = "security";
/// Target of latency events (slow calls and operations).
pub const PERFORMANCE: &str = "performance";

#[cfg(feature = "redact-hash")]
/// Hex SHA-256 of `secret`: what logs may show of a token or key.
pub fn sha256_hex(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(b & 0xf) as usize]));
    }
    s
}

#[cfg(feature = "redact-hash")]
/// An authentication attempt, on target `audit`: `agent_id`, `success`, and
/// `token_sha256` (the hash, never the token). INFO on success, WARN on failure.
pub fn auth_attempt(agent_id: &str, success: bool, token: &str) {
    let token_sha256 = sha256_hex(token.as_bytes());
    if success {
        tracing::info!(target: "audit", event = "auth_attempt", agent_id, success, token_sha256 = %token_sha256, "authentication succeeded");
    } else {
        tracing::warn!(target: "audit", event = "auth_attempt", agent_id, success, token_sha256 = %token_sha256, "authentication failed");
    }
}

/// A rate-limit check, on target `security`: `identifier`, `limit_type`,
/// `current`, `limit` and `exceeded` (`current > limit`), which it returns.
/// WARN when exceeded, DEBUG otherwise (a check per request is not news).
pub fn rate_limit_check(identifier: &str, limit_type: &str, current: u64, limit: u64) -> bool {
    let exceeded = current > limit;
    if exceeded {
        tracing::warn!(target: "security", event = "rate_limit", identifier, limit_type, current, limit, exceeded, "rate limit exceeded");
    } else {
        tracing::debug!(target: "security", event = "rate_limit", identifier, limit_type, current, limit, exceeded, "rate limit checked");
    }
    exceeded
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A slow operation, on target `performance` at WARN: `operation`,
/// `duration_ms` and `threshold_ms`.
pub fn slow_operation(operation: &str, elapsed: Duration, threshold: Duration) {
    tracing::warn!(
        target: "performance",
        event = "slow_operation",
        operation,
        duration_ms = millis(elapsed),
        threshold_ms = millis(threshold),
        "slow operation: {operation} took {:.1} ms (threshold {:.1} ms)",
        millis(elapsed),
        millis(threshold)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "redact-hash")]
    fn sha256_matches_the_standard_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn helpers_do_not_panic_without_a_subscriber() {
        #[cfg(feature = "redact-hash")]
        auth_attempt("a", true, "t");
        assert!(!rate_limit_check("a", "rpm", 1, 1));
        slow_operation("op", Duration::from_millis(2), Duration::from_millis(1));
    }
}
