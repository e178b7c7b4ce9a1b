//! One replica of the fleet in `tests/tests/budget_redis_fleet.rs`: a process
//! that shares the hard budget `fleet` through Redis (`OBS_BUDGET_REDIS_*`
//! from the environment) and makes priced model calls from several threads
//! until the budget refuses each of them.
//!
//! Usage: `obs-budget-replica LIMIT_USD THREADS CALL_MS`. Prints `ready` once
//! its budget is registered, and starts calling at the line `go` on stdin
//! (so a fleet starts together however slowly each process started). Each
//! thread stops at its first refusal. Then prints one line, `ok=N bodies=N
//! refused_after_body=N ledger_pico=N replica=ID`, after its `init()` guard
//! has sent its last spend to the store.
//!
//! With a fourth argument `CALLS`, each thread stops after that many calls
//! instead, and the process prints the line and then waits, its guard
//! alive, to be killed (tests/tests/budget_redis_killed.rs).

use obs_runtime::budget::{self, Budget, Period};
use obs_runtime::track_llm_call;
use std::cell::Cell;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use obs_tests::budget_call::{CallError, Resp};

static BODIES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set by the body: a refused call must not have run it.
    static RAN: Cell<bool> = const { Cell::new(false) };
}

/// gpt-4o-mini, 1,000 in + 1,000 out: $0.00075 a call.
#[track_llm_call(model = "gpt-4o-mini", budget = "fleet")]
fn call(ms: u64) -> Result<Resp, CallError> {
    RAN.with(|r| r.set(true));
    BODIES.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(ms));
    Ok(Resp)
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or_else(|| {
        eprintln!("usage: obs-budget-replica LIMIT_USD THREADS CALL_MS [CALLS] ({what} missing or invalid)");
        std::process::exit(2)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let limit: f64 = arg(&args, 1, "LIMIT_USD");
    let threads: usize = arg(&args, 2, "THREADS");
    let call_ms: u64 = arg(&args, 3, "CALL_MS");
    let calls: Option<u64> = (args.len() > 4).then(|| arg(&args, 4, "CALLS"));

    let obs = obs_runtime::Builder::from_env().exporters(&["logs"]).init().expect("obs");
    budget::register(Budget::new("fleet", limit, Period::Total).hard()).expect("register");
    let replica = budget::store_status().replica.expect("a shared store");
    assert!(!budget::store_status().degraded, "the store answers at start: {:?}", budget::store_status());

    println!("ready");
    std::io::stdout().flush().expect("stdout");
    let mut go = String::new();
    std::io::stdin().lock().read_line(&mut go).expect("stdin");
    assert_eq!(go.trim(), "go", "the fleet's start signal");

    let workers: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let (mut ok, mut refused_after_body) = (0u64, 0u64);
                while calls.is_none_or(|n| ok < n) {
                    RAN.with(|r| r.set(false));
                    match call(call_ms) {
                        Ok(_) => ok += 1,
                        Err(CallError::Budget(e)) => {
                            assert_eq!(e.budget, "fleet");
                            assert!(!e.store_unreachable, "{e}");
                            if RAN.with(Cell::get) {
                                refused_after_body += 1;
                            }
                            return (ok, refused_after_body);
                        }
                    }
                }
                (ok, refused_after_body)
            })
        })
        .collect();
    let (mut ok, mut refused_after_body) = (0, 0);
    for w in workers {
        let (o, r) = w.join().expect("a worker");
        ok += o;
        refused_after_body += r;
    }
    let ledger_pico = obs_runtime::ledger::stats().totals.cost_pico();
    let line = format!(
        "ok={ok} bodies={} refused_after_body={refused_after_body} ledger_pico={ledger_pico} replica={replica}",
        BODIES.load(Ordering::SeqCst)
    );
    if calls.is_some() {
        // Killed here, its guard never dropped: what reached the store is
        // what it synced while it ran.
        println!("{line}");
        std::io::stdout().flush().expect("stdout");
        loop {
            std::thread::park();
        }
    }
    // The guard's drop sends this process's last spend to the store.
    drop(obs);
    println!("{line}");
}
