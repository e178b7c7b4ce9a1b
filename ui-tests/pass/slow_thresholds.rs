//! `slow` in every unit.
#![deny(warnings)]

use obs_runtime::traced;

#[traced(slow = "750ns")]
pub fn ns() {}

#[traced(slow = "250us")]
pub fn us() {}

#[traced(slow = "250µs")]
pub fn micro() {}

#[traced(slow = "500ms")]
pub fn ms() {}

#[traced(slow = "1.5s")]
pub fn fractional_s() {}

#[traced(slow = "2m")]
pub fn m() {}

#[traced(slow = "1 min")]
pub async fn min_with_space() {}

fn main() {}
