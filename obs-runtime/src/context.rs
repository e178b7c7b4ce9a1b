//! The current agent (which `#[track_execution]` a call runs inside) and the
//! current request ([`RequestContext`]: request id, user, tenant, conversation).
//!
//! A thread-local holds the innermost agent. Sync agent functions set it for
//! their body; async ones set it around every poll of their body, so it follows
//! the future across `.await` points and threads of a multi-threaded runtime.
//! Work handed to another task keeps it when spawned with [`spawn`] or wrapped
//! with [`Propagated::wrap`]. Agent names are interned into a bounded table, so a
//! label can be a `&'static str` and an index, never an allocation per call.
//!
//! A [`RequestContext`] is set for a future ([`RequestContext::scope`]) or a
//! synchronous scope ([`RequestContext::in_scope`]) the same way: a
//! thread-local swapped in around every poll. Log lines read it, spans created
//! inside it keep it, and [`spawn`] carries it to the new task. Nothing on the
//! instrumented hot path reads it.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
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

    /// The agent of id `id` (as [`Agent::intern`] numbered it), for records
    /// that keep the id alone (the ledger's).
    pub(crate) fn from_id(id: u32) -> Agent {
        match id {
            0 => Agent::NONE,
            id if id as usize >= MAX_AGENTS => Agent::OVERFLOW,
            id => match AgentTable::get().names.get(id as usize).and_then(OnceLock::get) {
                Some(name) => Agent { id, name },
                None => Agent::NONE,
            },
        }
    }

    /// Interns `name`. Past [`MAX_AGENTS`] distinct names, the overflow agent.
    /// (Used by the call path; hidden because interning is not a user action.)
    ///
    /// A name seen before is found without a lock (a runtime agent name is
    /// interned on every call of its agent); only a new name takes the table's
    /// insert lock.
    #[doc(hidden)]
    pub fn intern(name: &str) -> Agent {
        if name == NO_AGENT {
            return Agent::NONE;
        }
        let table = AgentTable::get();
        let hash = AgentTable::hash(name);
        match table.find(hash, name) {
            Ok(a) => a,
            Err(_) => table.insert(hash, name),
        }
    }
}

/// Slots of the agent index: a power of two, at least twice [`MAX_AGENTS`].
const AGENT_SLOTS: usize = 512;

/// Interned agent names: an insert-only open-addressing index of ids, and
/// the name of each id. Readers take no lock and write nothing: an index
/// slot is published (release) only after its id's name is set, so a reader
/// that sees an id sees its name.
struct AgentTable {
    /// `id` of the agent in each slot, 0 when empty.
    index: [AtomicU32; AGENT_SLOTS],
    /// Name of each id (`names[0]` unused: id 0 is `none`).
    names: [OnceLock<&'static str>; MAX_AGENTS],
    /// Serialises inserts; holds the number of names.
    insert: Mutex<usize>,
}

impl AgentTable {
    fn get() -> &'static AgentTable {
        static TABLE: OnceLock<AgentTable> = OnceLock::new();
        TABLE.get_or_init(|| AgentTable {
            index: std::array::from_fn(|_| AtomicU32::new(0)),
            names: std::array::from_fn(|_| OnceLock::new()),
            insert: Mutex::new(0),
        })
    }

    /// FNV-1a: names are few and bounded, so no flooding resistance is needed.
    fn hash(name: &str) -> usize {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h as usize
    }

    /// The agent, or the empty slot ending the name's probe sequence.
    fn find(&self, hash: usize, name: &str) -> Result<Agent, usize> {
        let mut i = hash & (AGENT_SLOTS - 1);
        loop {
            let id = self.index[i].load(Ordering::Acquire);
            if id == 0 {
                return Err(i);
            }
            match self.names.get(id as usize).and_then(OnceLock::get) {
                Some(n) if *n == name => return Ok(Agent { id, name: n }),
                _ => i = (i + 1) & (AGENT_SLOTS - 1),
            }
        }
    }

    #[cold]
    fn insert(&self, hash: usize, name: &str) -> Agent {
        let mut len = self.insert.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match self.find(hash, name) {
            Ok(a) => return a,
            Err(slot) => slot,
        };
        // ids 1..MAX_AGENTS-1 are names; MAX_AGENTS is the overflow slot.
        if *len + 1 >= MAX_AGENTS {
            return Agent::OVERFLOW;
        }
        *len += 1;
        let id = *len as u32;
        let name: &'static str = Box::leak(name.into());
        let _ = self.names[id as usize].set(name);
        self.index[slot].store(id, Ordering::Release);
        Agent { id, name }
    }
}

thread_local! {
    static CURRENT: Cell<Agent> = const { Cell::new(Agent::NONE) };
}

/// The agent of the innermost `#[track_execution]` running on this task.
#[inline]
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

// ---------------------------------------------------- innermost obs call

/// What kind of obs call is innermost on this thread, and which kind of
/// foreign GenAI span (bridged by `obs_runtime::layer()`) is open inside it:
/// the GenAI bridge's no-double-counting rule reads them. One thread-local,
/// written when an instrumented call is entered (every poll for `async`).
struct Marks {
    /// `CALL_*` of the innermost entered obs call.
    innermost: Cell<u8>,
    /// `CALL_*` of the innermost open foreign GenAI span entered since it.
    foreign: Cell<u8>,
    /// Kinds of obs calls that ran directly inside that foreign span.
    covered: Cell<u8>,
}

thread_local! {
    static MARKS: Marks = const { Marks { innermost: Cell::new(0), foreign: Cell::new(0), covered: Cell::new(0) } };
}

/// No obs call (or a `#[traced]` one, which marks nothing).
pub(crate) const CALL_NONE: u8 = 0;
/// An agent call.
pub(crate) const CALL_AGENT: u8 = 1;
/// A model call.
pub(crate) const CALL_MODEL: u8 = 2;
/// A tool call.
pub(crate) const CALL_TOOL: u8 = 4;

/// Whether a GenAI bridge exists to read the marks: until one is built
/// (`obs_runtime::layer()`), calls leave them alone.
static MARKING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Calls mark themselves from now on (a GenAI bridge was built).
#[cfg(feature = "logs")]
pub(crate) fn start_marking() {
    MARKING.store(true, Ordering::Relaxed);
}

/// Marks an obs call of kind `kind` as the innermost one on this thread until
/// dropped; a foreign span of the same kind directly around it is marked as
/// covered (the obs call counts, the span does not).
pub(crate) struct InnermostCall(Option<(u8, u8)>);

impl InnermostCall {
    #[inline]
    pub(crate) fn enter(kind: u8) -> InnermostCall {
        if kind == CALL_NONE || !MARKING.load(Ordering::Relaxed) {
            return InnermostCall(None);
        }
        InnermostCall(
            MARKS
                .try_with(|m| {
                    let foreign = m.foreign.replace(0);
                    if foreign & kind != 0 {
                        m.covered.set(m.covered.get() | kind);
                    }
                    (m.innermost.replace(kind), foreign)
                })
                .ok(),
        )
    }
}

impl Drop for InnermostCall {
    #[inline]
    fn drop(&mut self) {
        if let Some((innermost, foreign)) = self.0 {
            let _ = MARKS.try_with(|m| {
                m.innermost.set(innermost);
                m.foreign.set(foreign);
            });
        }
    }
}

#[cfg(feature = "logs")]
/// The kind (`CALL_*`) of the innermost obs call entered on this thread.
pub(crate) fn innermost_call() -> u8 {
    MARKS.try_with(|m| m.innermost.get()).unwrap_or(CALL_NONE)
}

#[cfg(feature = "logs")]
/// What entering a foreign span replaced, restored by [`foreign_exit`].
pub(crate) struct ForeignSaved {
    kind: u8,
    foreign: u8,
    covered: u8,
}

#[cfg(feature = "logs")]
/// A foreign GenAI span of kind `kind` is entered on this thread.
pub(crate) fn foreign_enter(kind: u8) -> ForeignSaved {
    MARKS
        .try_with(|m| ForeignSaved { kind, foreign: m.foreign.replace(kind), covered: m.covered.replace(0) })
        .unwrap_or(ForeignSaved { kind, foreign: 0, covered: 0 })
}

#[cfg(feature = "logs")]
/// The foreign span entered with `saved` is exited: whether an obs call of
/// its kind ran directly inside it while it was entered.
pub(crate) fn foreign_exit(saved: ForeignSaved) -> bool {
    MARKS
        .try_with(|m| {
            let covered = m.covered.get() & saved.kind != 0;
            m.foreign.set(saved.foreign);
            m.covered.set(saved.covered);
            covered
        })
        .unwrap_or(false)
}

// ------------------------------------------------------------- requests

/// Longest request id accepted from outside (an `X-Request-ID` header, say).
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Longest user, tenant or conversation id kept, in bytes: a longer one is
/// cut on a character boundary and ends in `…`, so it cannot blow up every
/// log line of the request.
pub const MAX_CONTEXT_ID_BYTES: usize = 256;

/// Set once any request context got a conversation id: until then a model
/// call does not look for one.
static CONVERSATION_IDS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether any request context got a conversation id in this process.
#[inline]
pub(crate) fn conversation_ids_seen() -> bool {
    CONVERSATION_IDS.load(std::sync::atomic::Ordering::Relaxed)
}

fn context_id(id: String) -> Box<str> {
    match crate::metrics::registry::cut(&id, MAX_CONTEXT_ID_BYTES) {
        std::borrow::Cow::Borrowed(_) => id.into_boxed_str(),
        std::borrow::Cow::Owned(cut) => cut.into_boxed_str(),
    }
}

/// What one request (or job, or conversation turn) is: its id, and who it is
/// for. Set it for a future with [`RequestContext::scope`] or for a block with
/// [`RequestContext::in_scope`]; every log line and span inside carries it,
/// and [`spawn`] hands it to the tasks started inside.
///
/// Cloning is cheap (one reference count).
///
/// ```
/// use obs_runtime::context::RequestContext;
/// # async fn run_agent() {}
/// # async fn demo() {
/// let ctx = RequestContext::new().with_user_id("u-42").with_conversation_id("conv-7");
/// let id = ctx.request_id().to_string(); // a UUID v7, generated
/// ctx.scope(async {
///     tracing::info!("starting"); // {"request_id":"…","user_id":"u-42","conversation_id":"conv-7",…}
///     run_agent().await;
/// })
/// .await;
/// # let _ = id;
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestContext {
    inner: Arc<RequestInner>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct RequestInner {
    request_id: Box<str>,
    user_id: Option<Box<str>>,
    tenant_id: Option<Box<str>>,
    conversation_id: Option<Box<str>>,
}

impl Default for RequestContext {
    fn default() -> Self {
        RequestContext::new()
    }
}

impl RequestContext {
    /// A context with a freshly generated request id (a UUID v7: time-ordered).
    pub fn new() -> RequestContext {
        RequestContext::with_id(new_request_id().into_boxed_str())
    }

    /// A context with the given request id, kept when it is a usable id (1 to
    /// [`MAX_REQUEST_ID_LEN`] visible ASCII characters, see
    /// [`is_valid_request_id`]); otherwise a new id is generated, so an id from
    /// outside can never inject line breaks or unbounded text into the logs.
    pub fn from_request_id(id: &str) -> RequestContext {
        if is_valid_request_id(id) {
            RequestContext::with_id(id.into())
        } else {
            RequestContext::new()
        }
    }

    fn with_id(request_id: Box<str>) -> RequestContext {
        RequestContext {
            inner: Arc::new(RequestInner { request_id, user_id: None, tenant_id: None, conversation_id: None }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut RequestInner)) -> Self {
        f(Arc::make_mut(&mut self.inner));
        self
    }

    /// Sets the user the request is for (`user_id` in log lines); cut to
    /// [`MAX_CONTEXT_ID_BYTES`], as are the tenant and conversation ids.
    pub fn with_user_id(self, id: impl Into<String>) -> Self {
        let id = context_id(id.into());
        self.edit(|i| i.user_id = Some(id))
    }

    /// Sets the tenant (`tenant_id` in log lines).
    pub fn with_tenant_id(self, id: impl Into<String>) -> Self {
        let id = context_id(id.into());
        self.edit(|i| i.tenant_id = Some(id))
    }

    /// Sets the conversation (`conversation_id` in log lines); model calls
    /// inside it count in the conversation series ([`crate::conversation`]).
    pub fn with_conversation_id(self, id: impl Into<String>) -> Self {
        let id = context_id(id.into());
        CONVERSATION_IDS.store(true, std::sync::atomic::Ordering::Relaxed);
        self.edit(|i| i.conversation_id = Some(id))
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        &self.inner.request_id
    }

    /// The user id, when set.
    pub fn user_id(&self) -> Option<&str> {
        self.inner.user_id.as_deref()
    }

    /// The tenant id, when set.
    pub fn tenant_id(&self) -> Option<&str> {
        self.inner.tenant_id.as_deref()
    }

    /// The conversation id, when set.
    pub fn conversation_id(&self) -> Option<&str> {
        self.inner.conversation_id.as_deref()
    }

    /// The request context of the caller, if one is set.
    pub fn current() -> Option<RequestContext> {
        REQUEST
            .try_with(|c| {
                let cur = c.take();
                let copy = cur.clone();
                c.set(cur);
                copy
            })
            .ok()
            .flatten()
    }

    /// Runs `fut` with this context current on every poll.
    pub fn scope<F: Future>(self, fut: F) -> InRequest<F> {
        InRequest { request: Some(self), fut }
    }

    /// Runs `f` with this context current.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut slot = Some(self.clone());
        let _swap = RequestSwap::new(&mut slot);
        f()
    }

    /// Makes this context current on this thread until the guard drops
    /// (for synchronous code; across `.await`, use [`RequestContext::scope`]).
    pub fn enter(&self) -> RequestGuard {
        let prev = REQUEST.try_with(|c| c.replace(Some(self.clone()))).ok().flatten();
        RequestGuard { prev, _not_send: std::marker::PhantomData }
    }

    /// The fields a log line shows for this context, in order.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let i = &*self.inner;
        [
            ("request_id", Some(&*i.request_id)),
            ("user_id", i.user_id.as_deref()),
            ("tenant_id", i.tenant_id.as_deref()),
            ("conversation_id", i.conversation_id.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
    }
}

/// Whether `id` can be used as a request id as given: 1 to
/// [`MAX_REQUEST_ID_LEN`] characters, each visible ASCII (`!` to `~`).
pub fn is_valid_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

/// 128 bits that differ between calls, threads and processes: SipHash, with
/// the standard library's per-process random keys, of a process-wide counter
/// and the time. Request ids need uniqueness, not secrecy, and this keeps the
/// core free of a random-number crate.
fn random_bits() -> [u8; 16] {
    use std::hash::{BuildHasher, Hasher};
    static STATE: std::sync::LazyLock<std::collections::hash_map::RandomState> =
        std::sync::LazyLock::new(Default::default);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut out = [0u8; 16];
    for (i, half) in out.chunks_mut(8).enumerate() {
        let mut h = STATE.build_hasher();
        h.write_u64(n);
        h.write_u64(nanos);
        h.write_usize(i);
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

/// A new request id: a UUID v7 (48 bits of Unix milliseconds, then random
/// bits), so ids sort by creation time.
pub fn new_request_id() -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let random = random_bits();
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6..].copy_from_slice(&random[..10]);
    b[6] = 0x70 | (b[6] & 0x0f); // version 7
    b[8] = 0x80 | (b[8] & 0x3f); // RFC 9562 variant
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 0xf) as usize] as char);
    }
    s
}

thread_local! {
    static REQUEST: Cell<Option<RequestContext>> = const { Cell::new(None) };
}

/// Swaps a slot with the thread-local request context; swaps back on drop.
/// Swapping is its own inverse, so nesting and panics restore the outer value.
pub(crate) struct RequestSwap<'a>(&'a mut Option<RequestContext>);

impl<'a> RequestSwap<'a> {
    #[inline]
    pub(crate) fn new(slot: &'a mut Option<RequestContext>) -> RequestSwap<'a> {
        Self::swap(slot);
        RequestSwap(slot)
    }
    #[inline]
    fn swap(slot: &mut Option<RequestContext>) {
        let _ = REQUEST.try_with(|c| {
            let cur = c.take();
            c.set(slot.take());
            *slot = cur;
        });
    }
}

impl Drop for RequestSwap<'_> {
    #[inline]
    fn drop(&mut self) {
        Self::swap(self.0);
    }
}

/// Returned by [`RequestContext::enter`]; restores the previous context on drop.
pub struct RequestGuard {
    prev: Option<RequestContext>,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = REQUEST.try_with(|c| c.set(prev));
    }
}

pin_project_lite::pin_project! {
    /// A future running inside a [`RequestContext`]; see [`RequestContext::scope`].
    pub struct InRequest<F> {
        request: Option<RequestContext>,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for InRequest<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _swap = RequestSwap::new(this.request);
        this.fut.poll(cx)
    }
}

// ------------------------------------------------------ carrying context

/// A snapshot of the caller's context (agent, request and current tracing
/// span) that can be carried into another task.
///
/// ```
/// # async fn demo() {
/// let ctx = obs_runtime::context::Propagated::current();
/// let handle = tokio::spawn(ctx.wrap(async { obs_runtime::context::current_agent().name() }));
/// # let _ = handle.await;
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Propagated {
    agent: Agent,
    request: Option<RequestContext>,
    span: tracing::Span,
}

impl Propagated {
    /// The context of the caller.
    pub fn current() -> Propagated {
        Propagated { agent: current_agent(), request: RequestContext::current(), span: tracing::Span::current() }
    }

    /// The agent this context carries.
    pub fn agent(&self) -> Agent {
        self.agent
    }

    /// The request this context carries.
    pub fn request(&self) -> Option<&RequestContext> {
        self.request.as_ref()
    }

    /// Runs `fut` inside this context: on every poll the agent and request are
    /// current and the span is entered, so spans created inside get it as
    /// their parent.
    pub fn wrap<F: Future>(self, fut: F) -> WithContext<F> {
        WithContext { ctx: self, fut }
    }
}

pin_project_lite::pin_project! {
    /// A future running inside a [`Propagated`]; see [`Propagated::wrap`].
    pub struct WithContext<F> {
        ctx: Propagated,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let ctx = this.ctx;
        let _span = ctx.span.enter();
        let _agent = AgentScope::enter(ctx.agent);
        let _request = RequestSwap::new(&mut ctx.request);
        this.fut.poll(cx)
    }
}

#[cfg(feature = "tokio")]
/// `tokio::spawn` that keeps the caller's agent, request and parent span.
///
/// Must be called from inside a tokio runtime, as `tokio::spawn` must.
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(Propagated::current().wrap(fut))
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

    #[test]
    fn request_ids_are_uuid_v7_and_unique() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('7'), "{a}");
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'), "{a}");
        assert!(a.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn given_ids_are_kept_only_when_usable() {
        assert_eq!(RequestContext::from_request_id("req-123").request_id(), "req-123");
        for bad in ["", "has space", "line\nbreak", &"x".repeat(MAX_REQUEST_ID_LEN + 1)] {
            let id = RequestContext::from_request_id(bad).request_id().to_string();
            assert_ne!(id, bad);
            assert_eq!(id.len(), 36);
        }
    }

    #[test]
    fn scopes_nest_and_restore() {
        assert_eq!(RequestContext::current(), None);
        let outer = RequestContext::from_request_id("outer").with_user_id("u1");
        outer.in_scope(|| {
            assert_eq!(RequestContext::current().unwrap().request_id(), "outer");
            let inner = RequestContext::from_request_id("inner");
            {
                let _g = inner.enter();
                assert_eq!(RequestContext::current().unwrap().request_id(), "inner");
            }
            let r = std::panic::catch_unwind(|| {
                RequestContext::from_request_id("panics").in_scope(|| panic!("boom"));
            });
            assert!(r.is_err());
            let cur = RequestContext::current().unwrap();
            assert_eq!((cur.request_id(), cur.user_id()), ("outer", Some("u1")));
        });
        assert_eq!(RequestContext::current(), None);
    }

    #[test]
    #[cfg(feature = "tokio")]
    fn futures_and_spawned_tasks_carry_the_request() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let ctx = RequestContext::from_request_id("r-spawn").with_tenant_id("t1");
            let (here, there) = ctx
                .scope(async {
                    tokio::task::yield_now().await;
                    let here = RequestContext::current().map(|c| c.request_id().to_string());
                    let there = spawn(async {
                        tokio::task::yield_now().await;
                        RequestContext::current().map(|c| (c.request_id().to_string(), c.tenant_id().map(String::from)))
                    })
                    .await
                    .unwrap();
                    (here, there)
                })
                .await;
            assert_eq!(here.as_deref(), Some("r-spawn"));
            assert_eq!(there, Some(("r-spawn".to_string(), Some("t1".to_string()))));
            assert_eq!(RequestContext::current(), None);
            // A plain tokio::spawn does not carry it.
            let plain = ctx_free().await;
            assert_eq!(plain, None);
        });
        async fn ctx_free() -> Option<String> {
            RequestContext::from_request_id("x")
                .scope(async {
                    tokio::spawn(async { RequestContext::current().map(|c| c.request_id().to_string()) }).await.unwrap()
                })
                .await
        }
    }

    #[test]
    fn agent_names_intern_to_one_id_across_threads() {
        let ids: Vec<Vec<Agent>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| s.spawn(|| (0..40).map(|i| Agent::intern(&format!("ctx_agent_{i}"))).collect()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(ids[0], ids[1]);
        assert_eq!(ids[0][7].name(), "ctx_agent_7");
        let distinct: std::collections::HashSet<u32> = ids[0].iter().map(|a| a.id).collect();
        assert_eq!(distinct.len(), 40);
        assert_eq!(Agent::intern("ctx_agent_7"), ids[0][7]);
        assert_eq!(Agent::intern(NO_AGENT), Agent::NONE);
    }
}
