//! `unsafe fn`, sync and async, under every macro.
#![deny(warnings)]

use obs_runtime::{track_execution, track_tool, traced};

#[traced]
pub unsafe fn read(p: *const u8) -> u8 {
    unsafe { *p }
}

#[track_tool(name = "peek")]
pub unsafe fn peek(p: *const u8) -> u8 {
    unsafe { *p }
}

#[track_execution(agent = "raw")]
pub async unsafe fn run(p: *const u8) -> u8 {
    unsafe { *p }
}

fn main() {
    let x = 1u8;
    let _ = unsafe { read(&x) + peek(&x) };
    drop(unsafe { run(&x) });
}
