//! Per-call cost of a budgeted model call (`#[track_llm_call(budget = ..)]`
//! that reports tokens, so it is priced, checked and added to its budget),
//! with the budget in-process against the budget shared through Redis.
//! Ratios, never timed assertions.
//!
//! * `budget/uninstrumented`: the bare function, the floor.
//! * `budget/in_process`: the hard budget kept in this process (no store).
//! * `budget/shared_redis`: the same call after `init()` with a shared store
//!   (a `redis-server` this bench starts on 127.0.0.1 and a free port). The
//!   call path reads the local view and wakes the store's thread; the round
//!   trips run on that thread, so on this 2-core machine they compete with
//!   the benchmark for CPU, which this figure includes.
//! * `budget/shared_redis_unreachable`: the same after the server is killed:
//!   the fail-open path (a counter more per call; the thread retries every
//!   refresh interval).
//!
//! Needs `redis-server` (Debian's package; `.ci/run` installs it). Run with
//! `cargo bench -p obs-runtime --features redis --bench budget_shared`.

mod common;

use criterion::Criterion;
use obs_runtime::budget::{self, Budget, BudgetExceeded, Period};
use obs_runtime::{track_llm_call, TokenUsage};
use std::hint::black_box;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct CallError;

impl From<BudgetExceeded> for CallError {
    fn from(_: BudgetExceeded) -> Self {
        CallError
    }
}

struct Resp(u64);

impl obs_runtime::LlmUsage for Resp {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(1_000, 1_000))
    }
}

#[track_llm_call(model = "gpt-4o-mini", budget = "bench-local")]
#[inline(never)]
fn local_call(x: u64) -> Result<Resp, CallError> {
    Ok(Resp(black_box(x) + 1))
}

#[track_llm_call(model = "gpt-4.1-nano", budget = "bench-fleet")]
#[inline(never)]
fn shared_call(x: u64) -> Result<Resp, CallError> {
    Ok(Resp(black_box(x) + 1))
}

fn local(x: u64) -> u64 {
    local_call(x).map(|r| r.0).unwrap_or(0)
}

fn shared(x: u64) -> u64 {
    shared_call(x).map(|r| r.0).unwrap_or(0)
}

fn bench(c: &mut Criterion, name: &'static str, f: fn(u64) -> u64) {
    common::run_cases(c, "budget", &[(name, f) as common::Case]);
}

/// A `redis-server` on a free port of 127.0.0.1, without persistence.
fn redis_server() -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server: apt-get install -y --no-install-recommends redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, port)
}

fn main() {
    let mut c = common::config().configure_from_args();
    let big = 1_000_000.0; // never reached: every call is admitted
    budget::register(Budget::new("bench-local", big, Period::Day).model("gpt-4o-mini").hard()).unwrap();
    obs_runtime::testing::enable();
    bench(&mut c, "uninstrumented", common::uninstrumented);
    bench(&mut c, "in_process", local);

    let (mut server, port) = redis_server();
    let obs = obs_runtime::Builder::new()
        .exporters(&[])
        .budget_redis_url(format!("redis://127.0.0.1:{port}"))
        .budget_redis_prefix(format!("obs-bench-{}", std::process::id()))
        .init()
        .expect("obs init");
    budget::register(Budget::new("bench-fleet", big, Period::Day).model("gpt-4.1-nano").hard()).unwrap();
    assert!(!budget::store_status().degraded, "{:?}", budget::store_status());
    bench(&mut c, "shared_redis", shared);
    assert!(!budget::store_status().degraded, "the store answered throughout: {:?}", budget::store_status());

    let _ = server.kill();
    let _ = server.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !budget::store_status().degraded {
        assert!(Instant::now() < deadline, "the store did not notice it was gone");
        std::thread::sleep(Duration::from_millis(10));
    }
    bench(&mut c, "shared_redis_unreachable", shared);

    // The set-up, not the timings: the shared calls were priced and counted.
    assert!(budget::spent_pico("bench-fleet").unwrap() > 0);
    let m = obs_runtime::metrics::snapshot();
    let fail_open = m.raw("budget_store_degraded_calls_total", &[("budget", "bench-fleet"), ("policy", "fail_open")]);
    assert!(fail_open.unwrap_or(0) > 0, "the unreachable case took the fail-open path");
    drop(obs);
    c.final_summary();
}
