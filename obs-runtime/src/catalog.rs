//! The catalog of instrumented functions, collected at link time: it sits
//! above the call layer (it holds call sites) and below `init`.
//!
//! Every macro expansion submits its call site with `inventory`, so the
//! runtime knows every instrumented function (and can create its series at
//! zero) before the first call, in debug and release builds alike.
//!
//! Calls named at run time (`obs_runtime::track`, and the GenAI spans of
//! other libraries that [`crate::layer()`] bridges through it) join the
//! catalog when first recorded: one entry per agent, per tool, and per
//! model, provider, operation and batch pricing, so the rules and alerts
//! generated from the catalog cover them too. Such an entry is the `track`
//! call site's descriptor (name `track::llm`, `track::tool` or
//! `track::agent`, module `obs_runtime::track`, its file and line) with the
//! runtime values as literals: `model()` and `provider()`, `tool()` or
//! `agent()`, as the label values of its series (cut like them), and no
//! `dynamic()` label. At most 256 are kept (each lives for the process,
//! like its series); later names are counted but not listed.

use crate::call::AnySite;
use crate::context::Agent;
use crate::descriptor::{fn_info, FnInfo, FnKind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Entries for calls named at run time, at most.
const MAX_RUNTIME_ENTRIES: usize = 256;
/// Slots of the table of noted names (a power of two, four times the entries).
const RUNTIME_SLOTS: usize = 4 * MAX_RUNTIME_ENTRIES;

/// What the macros submit to `inventory`: a call site of any kind.
#[doc(hidden)]
pub struct Registration(pub &'static dyn AnySite);

inventory::collect!(Registration);

/// Every instrumented function linked into this binary, sorted by module,
/// name and line. Available before any of them ran, and without `init()`.
///
/// Calls named at run time join it once recorded: each agent, tool and
/// model (with its provider) that an `obs_runtime::track` call or a GenAI
/// span bridged by [`crate::layer()`] named is an entry of the `track`
/// call site (`track::agent`, `track::tool`, `track::llm`, module
/// `obs_runtime::track`) whose `agent()`, `tool()` or `model()` and
/// `provider()` are that name, as its series are labelled; at most 256.
///
/// ```
/// for f in obs_runtime::catalog() {
///     println!("{:?} {}::{} ({}:{})", f.kind(), f.module(), f.name(), f.file(), f.line());
/// }
/// ```
pub fn catalog() -> Vec<&'static FnInfo> {
    let mut v: Vec<&'static FnInfo> = sites().map(|s| s.info()).collect();
    v.extend(RUNTIME.lock().unwrap_or_else(|e| e.into_inner()).iter().copied());
    let key = |f: &FnInfo| (f.module(), f.name(), f.line(), f.kind(), f.agent(), f.model(), f.provider(), f.tool());
    v.sort_by(|a, b| key(a).cmp(&key(b)).then(a.operation().cmp(&b.operation())).then(a.batch().cmp(&b.batch())));
    v
}

/// Hashes of the runtime entries noted so far; 0 is empty.
static NOTED: [AtomicU64; RUNTIME_SLOTS] = [const { AtomicU64::new(0) }; RUNTIME_SLOTS];
static RUNTIME: Mutex<Vec<&'static FnInfo>> = Mutex::new(Vec::new());
static RUNTIME_FULL: AtomicBool = AtomicBool::new(false);

/// Adds the entry of a call of `site` (a `track` call site) with the
/// runtime label `values` (in the order of `site.dynamic()`), once: a name
/// seen before costs a hash and a few atomic loads, no lock.
pub(crate) fn note_runtime(site: &'static FnInfo, values: &[&str]) {
    if RUNTIME_FULL.load(Ordering::Relaxed) {
        return;
    }
    let h = runtime_hash(site, values);
    if find_noted(h).is_ok() {
        return;
    }
    let mut entries = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    // Another thread may have noted it since the lock-free look.
    let Err(Some(slot)) = find_noted(h) else { return };
    if entries.len() >= MAX_RUNTIME_ENTRIES {
        RUNTIME_FULL.store(true, Ordering::Relaxed);
        return;
    }
    entries.push(Box::leak(Box::new(literal(site, values))));
    NOTED[slot].store(h, Ordering::Release);
}

/// `Ok` when `h` is noted, else the empty slot that ends its probe sequence
/// (`None`: no empty slot, which the entry limit rules out).
fn find_noted(h: u64) -> Result<(), Option<usize>> {
    let mut i = h as usize & (RUNTIME_SLOTS - 1);
    for _ in 0..RUNTIME_SLOTS {
        match NOTED[i].load(Ordering::Acquire) {
            0 => return Err(Some(i)),
            x if x == h => return Ok(()),
            _ => i = (i + 1) & (RUNTIME_SLOTS - 1),
        }
    }
    Err(None)
}

fn runtime_hash(site: &'static FnInfo, values: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (site as *const FnInfo as usize).hash(&mut h);
    values.hash(&mut h);
    // 0 marks an empty slot.
    h.finish().max(1)
}

/// `site`'s descriptor with the runtime values as literals.
fn literal(site: &'static FnInfo, values: &[&str]) -> FnInfo {
    let leak = |v: &str| -> &'static str { Box::leak(crate::metrics::registry::cut_label_value(v).into()) };
    let mut b = fn_info(site.kind(), site.name(), site.module(), site.file(), site.line());
    if let Some(op) = site.operation() {
        b = b.operation(op);
    }
    if site.batch() {
        b = b.batch();
    }
    for (name, v) in site.dynamic().iter().zip(values) {
        b = match *name {
            // The interned name: what its series are labelled with.
            "agent" => b.agent(Agent::intern(v).name()),
            "model" => b.model(leak(v)),
            "provider" => b.provider(leak(v)),
            "tool" => b.tool(leak(v)),
            _ => b,
        };
    }
    b.build()
}

fn sites() -> impl Iterator<Item = &'static dyn AnySite> {
    inventory::iter::<Registration>.into_iter().map(|r| r.0)
}

/// Creates every series of every registered function at zero, so dashboards
/// and alerts see them before the first call. Agent-labelled series of model
/// and tool calls are created for `none` and for every registered agent.
pub(crate) fn materialize() {
    for b in crate::metrics::names::ALL {
        b.family();
    }
    let agents: Vec<Agent> = sites()
        .filter(|s| s.info().kind() == FnKind::Agent)
        .filter_map(|s| s.info().agent())
        .map(Agent::intern)
        .collect();
    for site in sites() {
        let info = site.info();
        if !info.metrics() {
            continue;
        }
        match info.kind() {
            FnKind::Agent => {
                if let Some(a) = info.agent() {
                    site.warm(Agent::intern(a));
                }
            }
            FnKind::LlmCall | FnKind::Tool => {
                site.warm(Agent::NONE);
                for a in &agents {
                    site.warm(*a);
                }
            }
            FnKind::Function => site.warm(Agent::NONE),
        }
    }
}
