//! Logic and names that obs's proc macros and its runtime must share.
//!
//! The macros check a literal model name at compile time against the same
//! rules the runtime uses to look a price up, and mask the same field names
//! the runtime masks in captured JSON. Two copies of these rules drifted once
//! (only one guarded its string slicing, and the other panicked on non-ASCII
//! model names), so there is exactly one, here. Not a public API: its items
//! may change in any release; use them through `obs_runtime`.
//!
//! Every function here takes arbitrary user text and never panics on it.

#![forbid(unsafe_code)]

pub mod model;
pub mod provider;
pub mod secret;
pub mod semconv;

pub use model::{host_name, lookup_keys, strip_date, strip_provider};
pub use provider::{from_litellm, infer_provider};
pub use secret::is_secret_name;
