//! Every supported function shape compiles, with warnings denied.
#![deny(warnings)]

use obs_runtime::{track_execution, track_llm_call, track_tool, traced, LabelValue};

#[derive(Debug)]
pub struct E;

pub struct S {
    name: &'static str,
    v: Vec<u8>,
}

#[derive(Clone, Copy)]
pub enum Tier {
    Free,
}

impl LabelValue for Tier {
    fn label_value(&self) -> &'static str {
        match self {
            Tier::Free => "free",
        }
    }
}

impl S {
    #[track_execution(agent = self.name)]
    pub fn by_ref(&self) -> usize {
        self.v.len()
    }

    #[traced]
    pub fn by_mut(&mut self) -> &mut Vec<u8> {
        &mut self.v
    }

    #[traced(name = "consume", metrics)]
    pub fn by_value(self) -> Vec<u8> {
        self.v
    }

    #[track_tool(name = "method_tool", labels(tier = tier))]
    pub async fn async_method(&self, tier: Tier) -> Result<u8, E> {
        let _ = tier;
        self.v.first().copied().ok_or(E)
    }
}

#[track_llm_call(model = "gpt-4o", provider = "openai", operation = "chat", server_address = "api.openai.com", server_port = 443, labels(team = "search"), fields(n = n), level = "debug", usage = none)]
pub async fn all_llm_options(n: u32) -> Result<u32, E> {
    Ok(n)
}

#[track_llm_call(model = model, usage = none)]
pub fn dynamic_model(model: &'static str) -> u8 {
    model.len() as u8
}

#[track_tool(name = unbounded(name))]
pub fn unbounded_tool(name: String) -> usize {
    name.len()
}

#[traced]
pub fn generic<T, U: Into<T>>(u: U) -> T
where
    T: Default + Clone,
{
    u.into()
}

#[traced]
pub fn returns_impl(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[traced]
pub fn impl_arg(it: impl IntoIterator<Item = u32>) -> u32 {
    it.into_iter().sum()
}

#[traced]
pub unsafe fn unsafe_fn(p: *const u8) -> u8 {
    unsafe { *p }
}

#[traced]
pub fn patterns((a, b): (u8, u8), [c]: [u8; 1]) -> u8 {
    a + b + c
}

#[traced]
pub fn cfg_args(#[cfg(any())] _hidden: u8, shown: u8) -> u8 {
    shown
}

#[traced]
pub fn question_mark(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

#[traced]
pub fn early_return(x: i32) -> Box<dyn std::fmt::Debug> {
    if x > 0 {
        return Box::new(x);
    }
    Box::new("neg")
}

#[async_trait::async_trait]
pub trait Tool {
    async fn call(&self) -> Result<u8, E>;
}

#[async_trait::async_trait]
impl Tool for S {
    #[track_tool(name = "trait_tool")]
    async fn call(&self) -> Result<u8, E> {
        Ok(self.v.len() as u8)
    }
}

#[track_execution(agent = "sendable")]
pub async fn sendable() -> u8 {
    tokio::task::yield_now().await;
    1
}

fn assert_send<T: Send>(_: T) {}
fn assert_sync<T: Sync>(_: &T) {}

fn main() {
    assert_sync(&sendable());
    assert_send(sendable());
    assert_send(all_llm_options(1));
    let s = S { name: "a", v: vec![1] };
    assert_send(s.async_method(Tier::Free));
}
