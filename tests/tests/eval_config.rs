//! The quality settings through `init()`: a bad `OBS_CONVERSATION_IDLE_TIMEOUT`
//! or `OBS_FEEDBACK_KEY` (or builder value) is an error that names the
//! variable, the method and the fix, and shows no key; good values are in
//! force after `init()`.

use obs_runtime::eval::{FeedbackKeyError, FeedbackToken};
use obs_runtime::{Builder, InitError};
use std::time::Duration;

const KEY: &str = "eval-config-test-key-0123456789";

fn messages(r: Result<obs_runtime::ObsGuard, InitError>) -> Vec<String> {
    match r {
        Err(InitError::Invalid(errors)) => errors.iter().map(ToString::to_string).collect(),
        Err(other) => panic!("expected configuration errors, got {other}"),
        Ok(_) => panic!("expected configuration errors, init() succeeded"),
    }
}

#[test]
fn quality_settings_are_checked_then_in_force() {
    std::env::set_var("OBS_CONVERSATION_IDLE_TIMEOUT", "0s");
    std::env::set_var("OBS_FEEDBACK_KEY", "short");
    let got = messages(Builder::from_env().exporters(&[]).init());
    assert_eq!(
        got,
        [
            "OBS_CONVERSATION_IDLE_TIMEOUT=`0s` cannot be used: expected a duration from 1s to 7 days, such as 90s or 30m (units ms, s, m)",
            "OBS_FEEDBACK_KEY=`<5 bytes, not shown>` cannot be used: expected at least 16 bytes, random and kept secret (e.g. `openssl rand -hex 32`)",
        ]
    );
    let got = messages(
        Builder::new()
            .exporters(&[])
            .conversation_idle_timeout(Duration::from_millis(10))
            .feedback_key("also short")
            .init(),
    );
    assert_eq!(
        got,
        [
            "Builder::conversation_idle_timeout(`10ms`) cannot be used: expected a duration from 1s to 7 days, such as 90s or 30m (units ms, s, m)",
            "Builder::feedback_key(`<10 bytes, not shown>`) cannot be used: expected at least 16 bytes, random and kept secret (e.g. `openssl rand -hex 32`)",
        ]
    );
    // A builder call replaces the variable's value and its error.
    std::env::set_var("OBS_CONVERSATION_IDLE_TIMEOUT", "90s");
    let _obs = Builder::from_env().exporters(&[]).feedback_key(KEY).init().expect("init");
    assert_eq!(obs_runtime::conversation::idle_timeout(), Duration::from_secs(90));
    assert_eq!(obs_runtime::conversation::summary().idle_timeout_seconds, 90.0);
    // The key is in force: setting it again is accepted, another is not.
    assert_eq!(obs_runtime::eval::set_feedback_key(KEY.as_bytes()), Ok(()));
    assert_eq!(obs_runtime::eval::set_feedback_key(b"another-key-0123456789"), Err(FeedbackKeyError::AlreadySet));
    let token = FeedbackToken::current().to_string();
    assert_eq!(token.parse::<FeedbackToken>().map(|t| t.agent().to_string()), Ok("none".to_string()));
}
