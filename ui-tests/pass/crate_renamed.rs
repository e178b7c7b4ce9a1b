//! `crate = ..` pointing at obs-runtime under another name. Cargo refuses a
//! second name for a package the test crate already depends on, so the
//! rename is made with `extern crate .. as ..` (same effect on paths).
#![deny(warnings)]

extern crate obs_runtime as obs;

#[obs::track_tool(name = "x", crate = obs)]
pub fn tool() -> u8 {
    1
}

#[obs::track_llm_call(model = "gpt-4o", usage = none, crate = obs)]
pub async fn ask() {}

#[obs::traced(metrics, crate = ::obs)]
pub fn absolute() {}

mod nested {
    #[obs::track_execution(agent = "nested", crate = crate::obs)]
    pub fn run() {}
}

fn main() {
    nested::run();
}
