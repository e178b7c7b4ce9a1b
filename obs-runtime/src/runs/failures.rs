//! Recent failures, grouped: every instrumented call that ends in `error` or
//! `panic` while runs are collected adds to the group of its function,
//! name (agent, model or tool), status and `error.type`, which keeps the
//! count, when it was first and last seen, its first few distinct messages
//! (from the call's failure log line, already through the secret detectors;
//! a line the rate limit or the log level left out brings none) and the
//! run of the last one.
//!
//! Counted from the calls' spans, not from the failure lines, so the count
//! is every failure whatever the level and rate limit of the lines. At most
//! [`MAX_GROUPS`] groups: a new one replaces the group seen least recently.
//! Their bytes count against the store's bound like runs.

use super::{lock, release, reserve, Extra, Kind, Node};
use crate::status::Status;
use std::sync::Mutex;

/// Groups kept.
pub const MAX_GROUPS: usize = 256;
/// Distinct messages kept per group.
const MESSAGES: usize = 3;

/// One group of failures.
#[derive(Clone, Debug)]
pub(crate) struct FailureGroup {
    /// The function, when a failure line named it; else the span's name.
    pub(crate) function: Box<str>,
    pub(crate) target: &'static str,
    pub(crate) span_name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) name: Box<str>,
    pub(crate) status: Status,
    pub(crate) error_type: Box<str>,
    pub(crate) count: u64,
    pub(crate) first_ms: u64,
    pub(crate) last_ms: u64,
    pub(crate) messages: Vec<Box<str>>,
    /// The run of the last failure, when it is part of one.
    pub(crate) last_run: Option<u64>,
    bytes: usize,
}

impl FailureGroup {
    fn is(&self, n: &Node, status: Status, error_type: &str) -> bool {
        self.status == status
            && self.kind == n.kind
            && std::ptr::eq(self.span_name, n.span_name)
            && std::ptr::eq(self.target, n.target)
            && *self.name == *n.name
            && *self.error_type == *error_type
    }

    fn count_bytes(&self) -> usize {
        std::mem::size_of::<FailureGroup>()
            + self.function.len()
            + self.name.len()
            + self.error_type.len()
            + self.messages.capacity() * std::mem::size_of::<Box<str>>()
            + self.messages.iter().map(|m| m.len()).sum::<usize>()
    }
}

static GROUPS: Mutex<Vec<FailureGroup>> = Mutex::new(Vec::new());

/// Counts a failed call (`n` has ended with `status`). The store's lock may
/// be taken inside this one (to make room), never the other way round.
pub(super) fn record(n: &Node, status: Status, at_ms: u64, run: Option<u64>) {
    let error_type = n.extra(Extra::ErrorType).unwrap_or(status.as_str());
    let mut groups = lock(&GROUPS);
    let i = match groups.iter().position(|g| g.is(n, status, error_type)) {
        Some(i) => i,
        None => {
            let mut g = FailureGroup {
                function: Box::from(n.span_name),
                target: n.target,
                span_name: n.span_name,
                kind: n.kind,
                name: n.name.clone(),
                status,
                error_type: Box::from(error_type),
                count: 0,
                first_ms: at_ms,
                last_ms: at_ms,
                messages: Vec::with_capacity(MESSAGES),
                last_run: run,
                bytes: 0,
            };
            g.bytes = g.count_bytes();
            if groups.len() >= MAX_GROUPS {
                if let Some(lru) = (0..groups.len()).min_by_key(|i| groups[*i].last_ms) {
                    release(groups.swap_remove(lru).bytes);
                }
            }
            if !reserve(g.bytes) {
                return; // no room even after evicting runs: not kept
            }
            groups.push(g);
            groups.len() - 1
        }
    };
    let g = &mut groups[i];
    g.count += 1;
    g.last_ms = g.last_ms.max(at_ms);
    g.last_run = run.or(g.last_run);
    if let Some(f) = n.extra(Extra::Function).filter(|f| *g.function != **f) {
        let (old, new) = (g.function.len(), f.len());
        if new <= old || reserve(new - old) {
            release(old.saturating_sub(new));
            g.bytes = g.bytes + new - old;
            g.function = Box::from(f);
        }
    }
    if let Some(m) = n.extra(Extra::ErrorMessage) {
        // The vector's capacity was counted when the group was made.
        if g.messages.len() < MESSAGES && !g.messages.iter().any(|x| **x == *m) && reserve(m.len()) {
            g.bytes += m.len();
            g.messages.push(Box::from(m));
        }
    }
}

/// The groups, most recently seen first.
pub(crate) fn failures() -> Vec<FailureGroup> {
    let mut v = lock(&GROUPS).clone();
    v.sort_by(|a, b| b.last_ms.cmp(&a.last_ms).then(b.count.cmp(&a.count)));
    v
}
