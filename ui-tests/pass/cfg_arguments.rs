//! Arguments under `#[cfg]` and other argument attributes.
#![deny(warnings)]

use obs_runtime::{track_tool, traced};

#[traced]
pub fn hidden_first(#[cfg(any())] _gone: u8, kept: u8) -> u8 {
    kept
}

#[track_tool(name = "cfg_tool", fields(kept = kept))]
pub async fn async_cfg(kept: u8, #[cfg(all())] present: u8, #[cfg(any())] _gone: String) -> u8 {
    kept + present
}

#[traced]
pub fn allowed_unused(#[allow(unused_variables)] unused: u8) {}

fn main() {}
