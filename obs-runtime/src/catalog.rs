//! The catalog of instrumented functions, collected at link time: it sits
//! above the call layer (it holds call sites) and below `init`.
//!
//! Every macro expansion submits its call site with `inventory`, so the
//! runtime knows every instrumented function (and can create its series at
//! zero) before the first call, in debug and release builds alike.

use crate::call::AnySite;
use crate::context::Agent;
use crate::descriptor::{FnInfo, FnKind};

/// What the macros submit to `inventory`: a call site of any kind.
#[doc(hidden)]
pub struct Registration(pub &'static dyn AnySite);

inventory::collect!(Registration);

/// Every instrumented function linked into this binary, sorted by module,
/// name and line. Available before any of them ran, and without `init()`.
///
/// ```
/// for f in obs_runtime::catalog() {
///     println!("{:?} {}::{} ({}:{})", f.kind(), f.module(), f.name(), f.file(), f.line());
/// }
/// ```
pub fn catalog() -> Vec<&'static FnInfo> {
    let mut v: Vec<&'static FnInfo> = sites().map(|s| s.info()).collect();
    v.sort_by(|a, b| (a.module(), a.name(), a.line(), a.kind()).cmp(&(b.module(), b.name(), b.line(), b.kind())));
    v
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
