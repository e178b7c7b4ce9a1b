//! The static description of an instrumented function ([`FnInfo`]) and which
//! macro made it ([`FnKind`]): pure data, a leaf of the module graph.
//!
//! The macros build a descriptor through a `const fn` builder in `__private`
//! (never a struct literal), so a new macro option adds a builder method and
//! an accessor here without breaking anyone who reads descriptors.

use std::time::Duration;

/// Which macro instrumented a function.
///
/// `#[non_exhaustive]`: a later release may add macros.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
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
/// Attributes given as runtime expressions read `None` here, and their
/// names are listed in [`FnInfo::dynamic`].
#[derive(Debug)]
pub struct FnInfo {
    kind: FnKind,
    name: &'static str,
    module: &'static str,
    file: &'static str,
    line: u32,
    agent: Option<&'static str>,
    model: Option<&'static str>,
    provider: Option<&'static str>,
    operation: Option<&'static str>,
    tool: Option<&'static str>,
    labels: &'static [(&'static str, &'static str)],
    dynamic: &'static [&'static str],
    metrics: bool,
    batch: bool,
    budget: Option<&'static str>,
    slow: Option<Duration>,
    /// Level of failure lines from `err = ..`: 0 not set, 1 off, 2..=6 TRACE..ERROR.
    err_level: u8,
    /// `code.function` of a `#[traced(name = "..")]` span (the function's
    /// own name; `name` is the span's).
    function: Option<&'static str>,
    /// A model call's `server_address` and `server_port`.
    server_address: Option<&'static str>,
    server_port: Option<u16>,
    /// `capture_content = ..`: `None` follows the process setting.
    capture: Option<bool>,
}

impl FnInfo {
    /// Which macro.
    pub fn kind(&self) -> FnKind {
        self.kind
    }
    /// The function's name (or the `name = "..."` given to `#[traced]`).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// `module_path!()` of the function.
    pub fn module(&self) -> &'static str {
        self.module
    }
    /// `file!()`.
    pub fn file(&self) -> &'static str {
        self.file
    }
    /// `line!()` of the function.
    pub fn line(&self) -> u32 {
        self.line
    }
    /// The agent name of a `#[track_execution]`, when a literal.
    pub fn agent(&self) -> Option<&'static str> {
        self.agent
    }
    /// The model of a `#[track_llm_call]`, when a literal.
    pub fn model(&self) -> Option<&'static str> {
        self.model
    }
    /// The provider of a `#[track_llm_call]`, when given as a literal.
    pub fn provider(&self) -> Option<&'static str> {
        self.provider
    }
    /// The GenAI operation of a `#[track_llm_call]` (`chat` by default).
    pub fn operation(&self) -> Option<&'static str> {
        self.operation
    }
    /// The tool name of a `#[track_tool]`, when a literal.
    pub fn tool(&self) -> Option<&'static str> {
        self.tool
    }
    /// Extra static labels from `labels(name = "value")`.
    pub fn labels(&self) -> &'static [(&'static str, &'static str)] {
        self.labels
    }
    /// Names of labels whose values are computed at run time.
    pub fn dynamic(&self) -> &'static [&'static str] {
        self.dynamic
    }
    /// Whether the function records metrics (always for the `track_*` macros;
    /// for `#[traced]`, only with `metrics`).
    pub fn metrics(&self) -> bool {
        self.metrics
    }
    /// A model call priced at the provider's batch rates (`batch`).
    pub fn batch(&self) -> bool {
        self.batch
    }
    /// The budget a model call checks before it runs (`budget = "name"`).
    pub fn budget(&self) -> Option<&'static str> {
        self.budget
    }
    /// Calls longer than this log a `performance` warning (`slow = "500ms"`).
    pub fn slow(&self) -> Option<Duration> {
        self.slow
    }
    /// The failure-line level set by `err = ..` (0 when not set, 1 off,
    /// 2 to 6 TRACE to ERROR).
    pub(crate) fn err_level(&self) -> u8 {
        self.err_level
    }
    /// The function's own name (`code.function`), which `#[traced(name = "..")]`
    /// does not change.
    pub(crate) fn function(&self) -> &'static str {
        match self.function {
            Some(f) => f,
            None => self.name,
        }
    }
    /// `server.address` of a model call.
    pub(crate) fn server_address(&self) -> Option<&'static str> {
        self.server_address
    }
    /// `server.port` of a model call.
    pub(crate) fn server_port(&self) -> Option<u16> {
        self.server_port
    }
    /// The function's own `capture_content = ..`, if given.
    pub(crate) fn capture(&self) -> Option<bool> {
        self.capture
    }
}

/// Builds a [`FnInfo`] in a `static` (what the macros generate). Not a public
/// API: only the options a function sets are written, so the expansion stays
/// small and a new option changes no existing expansion.
#[doc(hidden)]
pub struct FnInfoBuilder(FnInfo);

/// Starts a descriptor: what every instrumented function has. `metrics` is on;
/// every other option is off or `None`.
#[doc(hidden)]
pub const fn fn_info(
    kind: FnKind,
    name: &'static str,
    module: &'static str,
    file: &'static str,
    line: u32,
) -> FnInfoBuilder {
    FnInfoBuilder(FnInfo {
        kind,
        name,
        module,
        file,
        line,
        agent: None,
        model: None,
        provider: None,
        operation: None,
        tool: None,
        labels: &[],
        dynamic: &[],
        metrics: true,
        batch: false,
        budget: None,
        slow: None,
        err_level: 0,
        function: None,
        server_address: None,
        server_port: None,
        capture: None,
    })
}

#[doc(hidden)]
impl FnInfoBuilder {
    pub const fn agent(mut self, v: &'static str) -> Self {
        self.0.agent = Some(v);
        self
    }
    pub const fn model(mut self, v: &'static str) -> Self {
        self.0.model = Some(v);
        self
    }
    pub const fn provider(mut self, v: &'static str) -> Self {
        self.0.provider = Some(v);
        self
    }
    pub const fn operation(mut self, v: &'static str) -> Self {
        self.0.operation = Some(v);
        self
    }
    pub const fn tool(mut self, v: &'static str) -> Self {
        self.0.tool = Some(v);
        self
    }
    pub const fn labels(mut self, v: &'static [(&'static str, &'static str)]) -> Self {
        self.0.labels = v;
        self
    }
    pub const fn dynamic(mut self, v: &'static [&'static str]) -> Self {
        self.0.dynamic = v;
        self
    }
    pub const fn no_metrics(mut self) -> Self {
        self.0.metrics = false;
        self
    }
    pub const fn batch(mut self) -> Self {
        self.0.batch = true;
        self
    }
    pub const fn budget(mut self, v: &'static str) -> Self {
        self.0.budget = Some(v);
        self
    }
    pub const fn slow_nanos(mut self, ns: u64) -> Self {
        self.0.slow = Some(Duration::from_nanos(ns));
        self
    }
    /// `err = false` (1) or `err = "level"` (2 TRACE to 6 ERROR).
    pub const fn err_level(mut self, code: u8) -> Self {
        self.0.err_level = code;
        self
    }
    /// `code.function` when the span is named otherwise (`#[traced(name = "..")]`).
    pub const fn function(mut self, v: &'static str) -> Self {
        self.0.function = Some(v);
        self
    }
    pub const fn server_address(mut self, v: &'static str) -> Self {
        self.0.server_address = Some(v);
        self
    }
    pub const fn server_port(mut self, v: u16) -> Self {
        self.0.server_port = Some(v);
        self
    }
    /// `capture_content = true | false`.
    pub const fn capture(mut self, on: bool) -> Self {
        self.0.capture = Some(on);
        self
    }
    pub const fn build(self) -> FnInfo {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static INFO: FnInfo = fn_info(FnKind::LlmCall, "ask", "m", "f.rs", 7)
        .model("gpt-4o")
        .operation("chat")
        .labels(&[("team", "search")])
        .dynamic(&["tier"])
        .batch()
        .slow_nanos(5)
        .build();

    #[test]
    fn the_builder_sets_only_what_it_is_given() {
        assert_eq!((INFO.kind(), INFO.name(), INFO.line()), (FnKind::LlmCall, "ask", 7));
        assert_eq!((INFO.model(), INFO.provider(), INFO.agent()), (Some("gpt-4o"), None, None));
        assert_eq!((INFO.labels(), INFO.dynamic()), (&[("team", "search")][..], &["tier"][..]));
        assert!(INFO.metrics() && INFO.batch());
        assert_eq!((INFO.budget(), INFO.slow()), (None, Some(Duration::from_nanos(5))));
    }
}
