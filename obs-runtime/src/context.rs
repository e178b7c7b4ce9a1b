//! The current agent: which `#[track_execution]` a call runs inside.
//!
//! A thread-local holds the innermost agent. Sync agent functions set it for
//! their body; async ones set it around every poll of their body, so it follows
//! the future across `.await` points and threads of a multi-threaded runtime.
//! Work handed to another task keeps it when spawned with [`spawn`] or wrapped
//! with [`Context::wrap`]. Agent names are interned into a bounded table, so a
//! label can be a `&'static str` and an index, never an allocation per call.

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::RwLock;
use std::task::Poll;

/// Size of the agent table: `none` plus `MAX_AGENTS - 1` names; later
/// names share the overflow label (and id `MAX_AGENTS`).
pub const MAX_AGENTS: usize = 255;

/// The `agent` label of calls made outside any `#[track_execution]`.
pub const NO_AGENT: &str = "none";

/// An interned agent name: index into the per-call-site handle tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agent {
    pub(crate) id: u32,
    pub(crate) name: &'static str,
}

impl Agent {
    /// Calls outside any agent.
    pub const NONE: Agent = Agent { id: 0, name: NO_AGENT };
    const OVERFLOW: Agent = Agent { id: MAX_AGENTS as u32, name: crate::metrics::registry::OVERFLOW_VALUE };

    /// The agent's name as it appears in labels.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Interns `name`. Past [`MAX_AGENTS`] distinct names, the overflow agent.
    pub fn intern(name: &str) -> Agent {
        static TABLE: RwLock<Option<HashMap<&'static str, Agent>>> = RwLock::new(None);
        if name == NO_AGENT {
            return Agent::NONE;
        }
        if let Some(a) = TABLE.read().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(|t| t.get(name)) {
            return *a;
        }
        let mut w = TABLE.write().unwrap_or_else(|e| e.into_inner());
        let t = w.get_or_insert_with(HashMap::new);
        if let Some(a) = t.get(name) {
            return *a;
        }
        // ids 1..MAX_AGENTS-1 are names; MAX_AGENTS is the overflow slot.
        if t.len() + 1 >= MAX_AGENTS {
            return Agent::OVERFLOW;
        }
        let name: &'static str = Box::leak(name.into());
        let a = Agent { id: t.len() as u32 + 1, name };
        t.insert(name, a);
        a
    }
}

thread_local! {
    static CURRENT: Cell<Agent> = const { Cell::new(Agent::NONE) };
}

/// The agent of the innermost `#[track_execution]` running on this task.
pub fn current_agent() -> Agent {
    CURRENT.try_with(Cell::get).unwrap_or(Agent::NONE)
}

/// Restores the previous agent when dropped.
pub(crate) struct AgentScope(Agent);

impl AgentScope {
    #[inline]
    pub(crate) fn enter(agent: Agent) -> AgentScope {
        AgentScope(CURRENT.try_with(|c| c.replace(agent)).unwrap_or(Agent::NONE))
    }
}

impl Drop for AgentScope {
    #[inline]
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

/// A snapshot of the caller's context (agent and current tracing span) that
/// can be carried into another task.
///
/// ```
/// # async fn demo() {
/// let ctx = obs_runtime::context::Context::current();
/// let handle = tokio::spawn(ctx.wrap(async { obs_runtime::context::current_agent().name() }));
/// # let _ = handle.await;
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Context {
    agent: Agent,
    span: tracing::Span,
}

impl Context {
    /// The context of the caller.
    pub fn current() -> Context {
        Context { agent: current_agent(), span: tracing::Span::current() }
    }

    /// The agent this context carries.
    pub fn agent(&self) -> Agent {
        self.agent
    }

    /// Runs `fut` inside this context: on every poll the agent is current and
    /// the span is entered, so spans created inside get it as their parent.
    pub fn wrap<F: Future>(self, fut: F) -> WithContext<F> {
        WithContext { ctx: self, fut }
    }
}

pin_project_lite::pin_project! {
    /// A future running inside a [`Context`]; see [`Context::wrap`].
    pub struct WithContext<F> {
        ctx: Context,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _span = this.ctx.span.enter();
        let _agent = AgentScope::enter(this.ctx.agent);
        this.fut.poll(cx)
    }
}

/// `tokio::spawn` that keeps the caller's agent and parent span.
///
/// Must be called from inside a tokio runtime, as `tokio::spawn` must.
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(Context::current().wrap(fut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_scopes_nest() {
        let a = Agent::intern("ctx-test-a");
        assert_eq!(a, Agent::intern("ctx-test-a"));
        assert_eq!(Agent::intern("none"), Agent::NONE);
        assert_eq!(current_agent(), Agent::NONE);
        {
            let _s = AgentScope::enter(a);
            assert_eq!(current_agent().name(), "ctx-test-a");
            {
                let _t = AgentScope::enter(Agent::intern("ctx-test-b"));
                assert_eq!(current_agent().name(), "ctx-test-b");
            }
            assert_eq!(current_agent().name(), "ctx-test-a");
        }
        assert_eq!(current_agent(), Agent::NONE);
    }
}
