//! Methods with each kind of receiver.
#![deny(warnings)]

use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use obs_runtime::{track_tool, traced};

pub struct S {
    v: Vec<u8>,
}

impl S {
    #[traced]
    pub fn by_ref(&self) -> usize {
        self.v.len()
    }

    #[traced]
    pub fn by_mut(&mut self) {
        self.v.push(1);
    }

    #[traced]
    pub fn by_value(self) -> Vec<u8> {
        self.v
    }

    #[traced]
    pub fn by_mut_value(mut self) -> Vec<u8> {
        self.v.push(2);
        self.v
    }

    #[traced]
    pub fn boxed(self: Box<Self>) -> usize {
        self.v.len()
    }

    #[traced]
    pub fn rc(self: Rc<Self>) -> usize {
        self.v.len()
    }

    #[track_tool(name = "arc_tool")]
    pub async fn arc(self: Arc<Self>) -> usize {
        self.v.len()
    }

    #[traced]
    pub fn pinned(self: Pin<&mut Self>) -> usize {
        self.v.len()
    }

    #[track_tool(name = "async_mut")]
    pub async fn async_mut(&mut self) -> usize {
        self.v.push(3);
        self.v.len()
    }

    #[traced]
    pub fn explicit_lifetime<'a>(&'a self) -> &'a [u8] {
        &self.v
    }

    #[traced]
    pub fn associated() -> Self {
        S { v: Vec::new() }
    }
}

fn main() {}
