//! The live view's run store stays within its stated bound
//! (`OBS_UI_MAX_BYTES`) under 100,000 runs and under one run of 50,000
//! calls, measured twice: by the store's own count (`/api/runs`'s `store`,
//! its peak included) and by the process's heap, read from a counting
//! allocator: what the heap grew by while the runs went through is within
//! what the store counted, which is within the bound.
//!
//! The program keeps up to 100,000 runs (`OBS_UI_RUNS`) in 8 MiB, so the
//! byte bound, not the run count, is what evicts.

use obs_runtime::{track_execution, track_llm_call, track_tool, LlmUsage, TokenUsage};
use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};

/// Bytes allocated and not yet freed, by every thread.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as i64, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as i64 - l.size() as i64, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const MAX_BYTES: usize = 8 << 20;
/// What else may grow while the runs go through: the history ring, the
/// server's buffers, allocator-independent slack.
const SLACK: i64 = 256 << 10;

#[derive(Debug)]
struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("every seventh lookup fails")
    }
}

struct Reply;

impl LlmUsage for Reply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage::new(40, 8))
    }
}

#[track_tool(name = "mem_lookup")]
fn lookup(i: u64) -> Result<u64, Failed> {
    if i.is_multiple_of(7) {
        Err(Failed)
    } else {
        Ok(i)
    }
}

#[track_llm_call(model = "gpt-4o-mini", provider = "openai")]
fn ask(_i: u64) -> Result<Reply, Failed> {
    Ok(Reply)
}

#[track_execution(agent = "mem_agent")]
fn one_run(i: u64) -> Result<u64, Failed> {
    let _ = lookup(i);
    ask(i)?;
    Ok(i)
}

#[track_execution(agent = "mem_big")]
fn big_run(calls: u64) -> u64 {
    (0..calls).map(|i| lookup(i).unwrap_or(0)).sum()
}

fn store(addr: std::net::SocketAddr) -> Value {
    let body = obs_tests::http_get(addr, "/api/runs?limit=1").expect("/api/runs").body;
    let v: Value = serde_json::from_str(&body).expect("JSON");
    v["store"].clone()
}

fn live() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

#[test]
fn the_run_store_stays_within_its_bound_under_100k_runs_and_a_50k_call_run() {
    let guard = obs_runtime::Builder::new()
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .ui_runs(100_000)
        .ui_max_bytes(MAX_BYTES)
        .error_log_level(None)
        .init()
        .expect("obs");
    let addr = guard.prometheus_addr().unwrap();
    // Warm-up: series, interned names, the ledger's ring, the registry's
    // span slots and the store's first runs exist before the baseline.
    for i in 0..2_000 {
        let _ = one_run(i);
    }
    let s0 = store(addr);
    let l0 = live();

    for i in 0..100_000 {
        let _ = one_run(i);
    }
    let s1 = store(addr);
    let l1 = live();
    assert_eq!(s1["runs_started"].as_u64(), Some(102_000));
    assert_eq!(s1["runs_in_progress"].as_u64(), Some(0));
    assert!(s1["runs_evicted"].as_u64().unwrap() > 0, "the bound evicted runs: {s1}");
    let kept = s1["runs_kept"].as_u64().unwrap();
    assert!(kept > 1_000 && kept < 100_000, "{s1}");
    for s in [&s0, &s1] {
        assert!(s["peak_bytes"].as_u64().unwrap() <= MAX_BYTES as u64, "{s}");
    }
    let (counted, grown) = (s1["bytes"].as_i64().unwrap() - s0["bytes"].as_i64().unwrap(), l1 - l0);
    assert!(grown <= counted + SLACK, "the heap grew by {grown} bytes, the store counted {counted}");
    assert!(l1 - l0 <= MAX_BYTES as i64, "the heap grew by {grown} bytes under 100,000 runs");
    println!("100,000 runs: {kept} kept, store {} bytes (peak {}), heap +{grown} bytes", s1["bytes"], s1["peak_bytes"]);

    // One run of 50,000 calls: cut at OBS_UI_RUN_CALLS (2,000), and says so.
    assert_eq!(big_run(50_000), (0..50_000u64).filter(|i| !i.is_multiple_of(7)).sum::<u64>());
    let s2 = store(addr);
    let l2 = live();
    assert!(s2["peak_bytes"].as_u64().unwrap() <= MAX_BYTES as u64, "{s2}");
    let grown = l2 - l0;
    let counted = s2["bytes"].as_i64().unwrap() - s0["bytes"].as_i64().unwrap();
    assert!(grown <= counted + SLACK, "the heap grew by {grown} bytes, the store counted {counted}");
    assert!(grown <= MAX_BYTES as i64, "the heap grew by {grown} bytes");
    let list: Value =
        serde_json::from_str(&obs_tests::http_get(addr, "/api/runs?agent=mem_big").unwrap().body).unwrap();
    let big = &list["runs"][0];
    assert_eq!(big["calls"].as_u64(), Some(50_001));
    assert_eq!(big["cut_calls"].as_u64(), Some(50_001 - 2_000));
    assert_eq!(big["cut_reason"], "calls");
    let id = big["id"].as_str().unwrap();
    let run: Value =
        serde_json::from_str(&obs_tests::http_get(addr, &format!("/api/runs/{id}")).unwrap().body).unwrap();
    assert_eq!(run["spans"].as_array().unwrap().len(), 2_000);
    assert_eq!(run["failed_calls"].as_u64(), Some((0..50_000u64).filter(|i| i.is_multiple_of(7)).count() as u64));
    println!(
        "a run of 50,000 calls: 2,000 kept, store {} bytes (peak {}), heap +{grown} bytes",
        s2["bytes"], s2["peak_bytes"]
    );
    drop(guard);
}
