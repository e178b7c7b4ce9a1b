//! Generics with bounds, where clauses, lifetimes and const generics.
#![deny(warnings)]

use std::fmt::Debug;

use obs_runtime::{track_tool, traced};

#[traced]
pub fn pick<'a, T>(items: &'a [T], i: usize) -> Option<&'a T>
where
    T: Debug + 'a,
{
    items.get(i)
}

#[track_tool(name = "sum")]
pub async fn sum<I, const N: usize>(groups: [I; N]) -> u64
where
    I: IntoIterator<Item = u64> + Send,
{
    groups.into_iter().flat_map(|g| g.into_iter()).sum()
}

pub struct Store<K> {
    pub keys: Vec<K>,
}

impl<K: Clone + PartialEq> Store<K> {
    #[traced(metrics)]
    pub fn find<Q>(&self, q: &Q) -> Option<K>
    where
        Q: PartialEq<K> + ?Sized,
    {
        self.keys.iter().find(|k| q == *k).cloned()
    }
}

fn main() {}
