//! `level` as a string or an identifier, in any case.
#![deny(warnings)]

use obs_runtime::{track_execution, track_tool, traced};

#[traced(level = "trace")]
pub fn trace() {}

#[traced(level = debug)]
pub fn debug() {}

#[track_tool(level = "INFO")]
pub fn info() {}

#[track_tool(level = Warn)]
pub fn warn() {}

#[track_execution(agent = "lvl", level = "error")]
pub async fn error() {}

fn main() {}
