//! A warm instrumented call allocates nothing and takes no lock it could
//! wait on: measured with a counting global allocator (allocations only),
//! on one thread without spans, and on two threads at once with every span on.

use obs_runtime::{track_execution, track_llm_call, track_tool};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn allocations() -> u64 {
    ALLOCS.with(Cell::get)
}

#[derive(Debug)]
struct E;

#[track_tool(name = "na_tool")]
fn tool(x: u64) -> Result<u64, E> {
    if x.is_multiple_of(3) {
        Err(E)
    } else {
        Ok(x)
    }
}

struct Resp(u64);

impl obs_runtime::LlmUsage for Resp {
    fn usage(&self) -> Option<obs_runtime::TokenUsage> {
        Some(obs_runtime::TokenUsage::openai(1000 + self.0, 200, Some(800), Some(50)))
    }
}

#[track_llm_call(model = "gpt-4o")]
fn llm(x: u64) -> Resp {
    Resp(x + 1)
}

#[track_execution(agent = "na_agent")]
fn agent(x: u64) -> u64 {
    llm(x).0 + tool(x).unwrap_or(0)
}

#[track_llm_call(model = model)]
fn dynamic_llm(model: &'static str) -> Resp {
    Resp(model.len() as u64)
}

#[track_llm_call(model = "gpt-4o")]
fn failing_llm(x: u64) -> Result<Resp, E> {
    if x.is_multiple_of(2) {
        Err(E)
    } else {
        Ok(Resp(x))
    }
}

#[track_execution(agent = name)]
fn named_agent(name: &'static str, x: u64) -> u64 {
    failing_llm(x).map_or(name.len() as u64, |r| r.0)
}

#[track_execution(agent = "na_async_agent")]
async fn async_agent(x: u64) -> u64 {
    llm(x).0
}

fn poll_once<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => unreachable!("never pending"),
    }
}

#[test]
fn warm_calls_do_not_allocate() {
    obs_runtime::testing::enable();
    // Warm every call site (first calls resolve and cache their series).
    for x in 0..3 {
        agent(x);
        poll_once(async_agent(x));
        llm(x);
        let _ = tool(x);
        dynamic_llm("gpt-4o");
        dynamic_llm("claude-haiku-4-5");
        named_agent("na_named_a", x);
        named_agent("na_named_b", x);
    }
    let before = allocations();
    let mut acc = 0;
    for x in 0..10_000 {
        acc += agent(x);
        acc += poll_once(async_agent(x));
        acc += llm(x).0;
        acc += tool(x).unwrap_or(0);
        acc += dynamic_llm(if x % 2 == 0 { "gpt-4o" } else { "claude-haiku-4-5" }).0;
        acc += named_agent(if x % 3 == 0 { "na_named_a" } else { "na_named_b" }, x);
    }
    let after = allocations();
    assert!(acc > 0);
    assert_eq!(after - before, 0, "allocations in 60,000 warm instrumented calls");
    let m = obs_runtime::metrics::snapshot();
    assert_eq!(m.counter("agent_executions_total", &[("agent", "na_agent"), ("status", "success")]), Some(10_003));
    assert_eq!(
        m.counter("tool_calls_total", &[("agent", "na_agent"), ("tool", "na_tool"), ("status", "error")]),
        Some(3335)
    );
}

/// Every kind of warm call: runtime labels, failed calls, async, nested.
fn warm_loop(n: u64) -> u64 {
    let mut acc = 0;
    for x in 0..n {
        acc += agent(x);
        acc += poll_once(async_agent(x));
        acc += llm(x).0;
        acc += tool(x).unwrap_or(0);
        acc += dynamic_llm(if x % 2 == 0 { "gpt-4o" } else { "claude-haiku-4-5" }).0;
        acc += named_agent(if x % 3 == 0 { "na_named_a" } else { "na_named_b" }, x);
    }
    acc
}

/// A subscriber that enables every span and event and stores nothing: with
/// it, every call builds its span, enters it, records its fields and closes
/// it through the dispatcher, so the allocations counted are obs's own.
/// (`tracing-subscriber`'s registry is left out on purpose: its span slab
/// grows in pages of up to megabytes over the first tens of thousands of
/// spans, whoever creates them.)
struct AllSpans(std::sync::atomic::AtomicU64);

impl tracing::Subscriber for AllSpans {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        // Visit the values, as a real subscriber would.
        struct Visit;
        impl tracing::field::Visit for Visit {
            fn record_debug(&mut self, _: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                std::hint::black_box(v);
            }
        }
        values.record(&mut Visit);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Two threads at once (each counts its own allocations), with the spans of
/// every call on ([`AllSpans`]), runtime labels and failed calls.
#[test]
fn warm_calls_on_two_threads_with_spans_do_not_allocate() {
    obs_runtime::testing::enable();
    let runs = || {
        obs_runtime::metrics::snapshot()
            .counter("agent_executions_total", &[("agent", "na_agent"), ("status", "success")])
            .unwrap_or(0)
    };
    let runs_before = runs();
    let dispatch = tracing::Dispatch::new(AllSpans(std::sync::atomic::AtomicU64::new(0)));
    let barrier = std::sync::Barrier::new(2);
    let per_thread: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (dispatch, barrier) = (&dispatch, &barrier);
                s.spawn(move || {
                    tracing::dispatcher::with_default(dispatch, || {
                        // Warm this thread and every label set: a model call's
                        // price is resolved on its first success per agent
                        // (`na_named_a`'s first successful `failing_llm` is x = 3).
                        assert!(warm_loop(12) > 0);
                        barrier.wait();
                        let before = allocations();
                        let acc = warm_loop(5_000);
                        let after = allocations();
                        assert!(acc > 0);
                        after - before
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(per_thread, [0, 0], "allocations per thread in 30,000 warm calls with spans on");
    assert_eq!(runs() - runs_before, 2 * 5_012);
}
