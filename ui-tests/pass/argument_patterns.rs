//! Patterns in arguments, sync and async.
#![deny(warnings)]

use obs_runtime::{track_tool, traced};

pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[traced]
pub fn tuple((a, b): (u8, u8)) -> u8 {
    a + b
}

#[traced(fields(x = x))]
pub fn destructured(Point { x, y }: Point) -> i32 {
    x + y
}

#[track_tool(name = "pattern_tool")]
pub async fn async_patterns([first, ..]: [u8; 3], mut acc: u8, _: u8, ref r: u8) -> u8 {
    acc += first + *r;
    acc
}

fn main() {}
