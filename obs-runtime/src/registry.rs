//! The registry of instrumented functions, collected at link time.
//!
//! Every macro expansion submits its call site with `inventory`, so the
//! runtime knows every instrumented function (and can create its series at
//! zero) before the first call, in debug and release builds alike.

use crate::record::Site;

/// Which macro instrumented a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FnKind {
    /// `#[track_execution]`: an agent entry point.
    Agent,
    /// `#[track_llm_call]`: a model call.
    LlmCall,
    /// `#[track_tool]`: a tool.
    Tool,
    /// `#[traced]`: any other function.
    Function,
}

impl FnKind {
    /// The macro's name.
    pub fn macro_name(self) -> &'static str {
        match self {
            FnKind::Agent => "track_execution",
            FnKind::LlmCall => "track_llm_call",
            FnKind::Tool => "track_tool",
            FnKind::Function => "traced",
        }
    }
}

/// The static description of one instrumented function.
///
/// Fields that were given as runtime expressions are `None` here, and their
/// names are listed in `dynamic`.
#[derive(Debug)]
pub struct FnInfo {
    /// Which macro.
    pub kind: FnKind,
    /// The function's name (or the `name = "..."` given to `#[traced]`).
    pub name: &'static str,
    /// `module_path!()` of the function.
    pub module: &'static str,
    /// `file!()`.
    pub file: &'static str,
    /// `line!()` of the function.
    pub line: u32,
    /// The agent name of a `#[track_execution]`.
    pub agent: Option<&'static str>,
    /// The model of a `#[track_llm_call]`.
    pub model: Option<&'static str>,
    /// The provider of a `#[track_llm_call]`, when given.
    pub provider: Option<&'static str>,
    /// The GenAI operation of a `#[track_llm_call]` (`chat` by default).
    pub operation: Option<&'static str>,
    /// The tool name of a `#[track_tool]`.
    pub tool: Option<&'static str>,
    /// Extra static labels from `labels(name = "value")`.
    pub labels: &'static [(&'static str, &'static str)],
    /// Names of labels whose values are computed at run time.
    pub dynamic: &'static [&'static str],
    /// Whether the function records metrics (always for the `track_*` macros;
    /// for `#[traced]`, only with `metrics`).
    pub metrics: bool,
    /// A model call priced at the provider's batch rates (`batch`).
    pub batch: bool,
    /// The budget a model call checks before it runs (`budget = "name"`).
    pub budget: Option<&'static str>,
    /// Calls longer than this log a `performance` warning (`slow = "500ms"`).
    pub slow: Option<std::time::Duration>,
}

/// What the macros submit to `inventory`.
#[doc(hidden)]
pub struct Registration(pub &'static Site);

inventory::collect!(Registration);

/// Every instrumented function linked into this binary, sorted by module,
/// name and line. Available before any of them ran, and without `init()`.
///
/// ```
/// for f in obs_runtime::catalog() {
///     println!("{:?} {}::{} ({}:{})", f.kind, f.module, f.name, f.file, f.line);
/// }
/// ```
pub fn catalog() -> Vec<&'static FnInfo> {
    let mut v: Vec<&'static FnInfo> = sites().map(Site::info).collect();
    v.sort_by(|a, b| (a.module, a.name, a.line, a.kind).cmp(&(b.module, b.name, b.line, b.kind)));
    v
}

pub(crate) fn sites() -> impl Iterator<Item = &'static Site> {
    inventory::iter::<Registration>.into_iter().map(|r| r.0)
}

/// The GenAI `gen_ai.provider.name` for a model name, from its well-known
/// prefix (`openai/gpt-4o` and `gpt-4o` both give `openai`); `unknown` when
/// the name does not tell. The rule lives in `obs-shared`, next to the model
/// normalisation the macros use.
pub use obs_shared::infer_provider;
