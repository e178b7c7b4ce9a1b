//! `impl Trait` in return and argument position, sync and async.
#![deny(warnings)]

use obs_runtime::{track_tool, traced};

#[traced]
pub fn evens(n: u32) -> impl Iterator<Item = u32> {
    (0..n).filter(|x| x % 2 == 0)
}

#[traced]
pub fn display(x: impl std::fmt::Display) -> impl std::fmt::Display {
    format!("<{x}>")
}

#[track_tool(name = "lazy")]
pub async fn lazy(v: Vec<u8>) -> impl Iterator<Item = u8> {
    v.into_iter()
}

#[traced]
pub fn boxed_closure(k: u32) -> Box<dyn Fn(u32) -> u32> {
    Box::new(move |x| x + k)
}

fn main() {}
