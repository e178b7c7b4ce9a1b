//! Every supported function shape keeps its behaviour when instrumented:
//! methods with each receiver, generics, `impl Trait`, `#[async_trait]`,
//! references into `&mut self`, `?` with error conversion, early returns.

use obs_runtime::testing::{self, snapshot};
use obs_runtime::{traced, track_execution, track_tool};
use std::fmt::Debug;

#[derive(Debug, PartialEq)]
struct Inner;
#[derive(Debug, PartialEq)]
struct Outer;
impl From<Inner> for Outer {
    fn from(_: Inner) -> Outer {
        Outer
    }
}
fn inner(ok: bool) -> Result<u8, Inner> {
    if ok {
        Ok(7)
    } else {
        Err(Inner)
    }
}

struct Agent {
    name: &'static str,
    items: Vec<u32>,
}

impl Agent {
    #[track_execution(agent = self.name)]
    fn run(&self, ok: bool) -> Result<u8, Outer> {
        let v = inner(ok)?;
        Ok(v + 1)
    }

    #[traced]
    fn first_mut(&mut self) -> &mut u32 {
        &mut self.items[0]
    }

    #[traced]
    fn into_items(self) -> Vec<u32> {
        self.items
    }

    #[track_execution(agent = "shape_async_method")]
    async fn run_async(&mut self, x: u32) -> Result<u32, Outer> {
        self.items.push(x);
        let v = inner(x > 0)?;
        Ok(u32::from(v) + x)
    }
}

#[traced(name = "generic_max")]
fn generic_max<T>(xs: &[T]) -> Option<T>
where
    T: PartialOrd + Copy + Debug + Default,
{
    let mut best = *xs.first()?;
    for &x in xs {
        if x > best {
            best = x;
        }
    }
    Some(best)
}

#[track_tool(name = "shape_iter")]
fn evens(n: u32) -> impl Iterator<Item = u32> {
    (0..n).filter(|x| x % 2 == 0)
}

#[track_tool]
fn default_named_tool() -> u8 {
    3
}

#[async_trait::async_trait]
trait Tool {
    async fn call(&self, q: &str) -> Result<usize, Outer>;
}

struct Search;

#[async_trait::async_trait]
impl Tool for Search {
    #[track_tool(name = "shape_async_trait")]
    async fn call(&self, q: &str) -> Result<usize, Outer> {
        tokio::task::yield_now().await;
        if q.is_empty() {
            return Err(Outer);
        }
        Ok(q.len())
    }
}

#[traced]
unsafe fn raw_read(p: *const u32) -> u32 {
    unsafe { *p }
}

#[traced]
fn destructure((a, b): (u32, u32), [c, d]: [u32; 2]) -> u32 {
    a + b + c + d
}

#[test]
fn sync_shapes_behave_as_before() {
    testing::enable();
    let mut a = Agent { name: "shape_dynamic_agent", items: vec![5, 6] };
    assert_eq!(a.run(true), Ok(8));
    assert_eq!(a.run(false), Err(Outer));
    *a.first_mut() += 1;
    assert_eq!(a.items[0], 6);
    assert_eq!(a.into_items(), vec![6, 6]);
    assert_eq!(generic_max(&[1.5, 3.5, 2.0]), Some(3.5));
    assert_eq!(generic_max::<i32>(&[]), None);
    assert_eq!(evens(7).collect::<Vec<_>>(), vec![0, 2, 4, 6]);
    assert_eq!(default_named_tool(), 3);
    let x = 41u32;
    assert_eq!(unsafe { raw_read(&x) }, 41);
    assert_eq!(destructure((1, 2), [3, 4]), 10);
    let m = snapshot();
    assert_eq!(
        m.counter("agent_executions_total", &[("agent", "shape_dynamic_agent"), ("status", "success")]),
        Some(1)
    );
    assert_eq!(m.counter("agent_executions_total", &[("agent", "shape_dynamic_agent"), ("status", "error")]), Some(1));
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "none"), ("tool", "shape_iter"), ("status", "success")]),
        Some(1)
    );
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "none"), ("tool", "default_named_tool"), ("status", "success")]),
        Some(1)
    );
    // #[traced] without `metrics` records no series.
    assert!(m.series("function_calls_total", &[("function", "generic_max")]).is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn async_shapes_behave_as_before() {
    testing::enable();
    let spans = testing::SpanCapture::new();
    let _g = spans.set_default();
    let mut a = Agent { name: "unused", items: vec![] };
    assert_eq!(a.run_async(2).await, Ok(9));
    assert_eq!(a.run_async(0).await, Err(Outer));
    assert_eq!(a.items, vec![2, 0]);
    let t: &dyn Tool = &Search;
    assert_eq!(t.call("abcd").await, Ok(4));
    assert_eq!(t.call("").await, Err(Outer));
    let m = snapshot();
    assert_eq!(m.counter("agent_executions_total", &[("agent", "shape_async_method"), ("status", "success")]), Some(1));
    assert_eq!(m.counter("agent_executions_total", &[("agent", "shape_async_method"), ("status", "error")]), Some(1));
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "none"), ("tool", "shape_async_trait"), ("status", "success")]),
        Some(1)
    );
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "none"), ("tool", "shape_async_trait"), ("status", "error")]),
        Some(1)
    );
    let s = spans.find_all("execute_tool shape_async_trait");
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].field("error.type"), Some("Outer"));
    assert_eq!(s[1].field("otel.status_code"), Some("ERROR"));
    assert_eq!(s[1].field("obs.status"), Some("error"));
    assert!(s.iter().all(|s| s.closed));
}

// `#[track_tool]` without `name` on methods: every tool implementing one
// trait gets its own series, named `Type::method` (issue 11, item 5).
trait NamedTool {
    const NAME: &'static str;
    fn call(&self, q: &str) -> usize;
}

struct WebSearch;
struct Calculator;

impl NamedTool for WebSearch {
    const NAME: &'static str = "web_search";
    #[track_tool]
    fn call(&self, q: &str) -> usize {
        q.len()
    }
}

impl NamedTool for Calculator {
    const NAME: &'static str = "calculator";
    // rig-style tools name themselves: an associated constant is a bounded value.
    #[track_tool(name = Self::NAME)]
    fn call(&self, q: &str) -> usize {
        q.len() * 2
    }
}

#[async_trait::async_trait]
trait AsyncTool {
    async fn call(&self) -> u8;
}

struct Fetch<T>(T);

#[async_trait::async_trait]
impl<T: Send + Sync> AsyncTool for Fetch<T> {
    #[track_tool]
    async fn call(&self) -> u8 {
        1
    }
}

struct Toolbox;

impl Toolbox {
    #[track_tool]
    fn grep(&self) -> u8 {
        2
    }
    #[track_tool]
    fn sed(&self) -> u8 {
        3
    }
    // Names `Self` without a receiver: still a method of `Toolbox`.
    #[track_tool]
    fn make() -> Self {
        Toolbox
    }
}

trait Blanket {
    fn run(&self) -> u8;
}

impl<T: Debug> Blanket for T {
    #[track_tool]
    fn run(&self) -> u8 {
        4
    }
}

#[tokio::test(flavor = "current_thread")]
async fn methods_default_to_type_and_method_names() {
    testing::enable();
    let spans = testing::SpanCapture::new();
    let _g = spans.set_default();
    assert_eq!(WebSearch.call("abc"), 3);
    assert_eq!(WebSearch.call("ab"), 2);
    assert_eq!(Calculator.call("abc"), 6);
    assert_eq!(Fetch(1u8).call().await, 1);
    assert_eq!(Fetch("x").call().await, 1);
    let t = Toolbox::make();
    assert_eq!((t.grep(), t.sed()), (2, 3));
    assert_eq!((7u16.run(), 'c'.run(), 8u16.run()), (4, 4, 4));
    let m = snapshot();
    let calls = |tool: &str| m.counter("tool_calls_total", &[("agent", "none"), ("tool", tool), ("status", "success")]);
    assert_eq!(calls("WebSearch::call"), Some(2));
    assert_eq!(calls("calculator"), Some(1));
    // Generic arguments are not part of the name: one series per type.
    assert_eq!(calls("Fetch::call"), Some(2));
    assert_eq!(calls("Toolbox::grep"), Some(1));
    assert_eq!(calls("Toolbox::sed"), Some(1));
    assert_eq!(calls("Toolbox::make"), Some(1));
    // One site of a blanket impl, one series per implementing type.
    assert_eq!(calls("u16::run"), Some(2));
    assert_eq!(calls("char::run"), Some(1));
    assert_eq!(calls("call"), None);
    // The name is known at run time: the span is `execute_tool`, renamed for
    // OpenTelemetry through `otel.name`.
    let s: Vec<_> = spans
        .find_all("execute_tool")
        .into_iter()
        .filter(|s| s.field("gen_ai.tool.name") == Some("WebSearch::call"))
        .collect();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].field("otel.name"), Some("execute_tool WebSearch::call"));
}
