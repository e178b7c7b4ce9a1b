//! `#[traced]` options together, with warnings denied.
#![deny(warnings)]

use obs_runtime::traced;

#[traced(name = "rank", metrics, labels(stage = "rerank"), fields(n = n), level = "info", slow = "10ms")]
pub fn all_options(n: usize) -> usize {
    n
}

#[traced(metrics = false, slow = "1m")]
pub fn metrics_off_slow() {}

#[traced(level = error, fields(len = v.len()))]
pub fn level_ident_field_expr(v: &[u8]) -> usize {
    v.len()
}

fn main() {}
