//! `#[async_trait]` impls, with each macro, in either attribute order.
#![deny(warnings)]

use obs_runtime::{track_execution, track_tool, traced};

#[derive(Debug)]
pub struct E;

#[async_trait::async_trait]
pub trait Agent {
    async fn run(&self, task: &str) -> Result<usize, E>;
    async fn tool(&mut self) -> u8;
    async fn plain(self: Box<Self>) -> u8;
}

pub struct A(u8);

#[async_trait::async_trait]
impl Agent for A {
    #[track_execution(agent = "async_trait_agent", fields(task = task))]
    async fn run(&self, task: &str) -> Result<usize, E> {
        Ok(task.len() + usize::from(self.0))
    }

    #[track_tool(name = "trait_tool")]
    async fn tool(&mut self) -> u8 {
        self.0 += 1;
        self.0
    }

    #[traced]
    async fn plain(self: Box<Self>) -> u8 {
        self.0
    }
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    let a = A(1);
    assert_send(a.run("x"));
}
