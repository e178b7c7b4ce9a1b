//! Three processes share one hard budget through a real Redis
//! (`redis-server` from Debian's package, on 127.0.0.1): the fleet stops
//! within the documented overshoot bound of the limit, every refused call is
//! refused before its body runs, the shared key holds exactly the sum of the
//! processes' ledgers, and the 80% warning and the "is spent" error are
//! logged once by the fleet, not once per replica.

mod budget_redis_server;

use budget_redis_server::RedisServer;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// gpt-4o-mini, 1,000 in + 1,000 out.
const CALL_PICO: u64 = 750_000_000;
const REPLICAS: usize = 3;
const THREADS: usize = 4;
/// Calls several times the refresh interval, as model calls are: the bound
/// below then allows each caller a few calls in its window, and leaves the
/// store's round trip 200 ms on a loaded machine.
const CALL_MS: u64 = 100;
const REFRESH_MS: u64 = 20;
const ROUND_TRIP_MS: u64 = 200;
/// 240 calls.
const LIMIT_USD: f64 = 0.18;
const LIMIT_PICO: u64 = 180_000_000_000;

struct Report {
    ok: u64,
    bodies: u64,
    refused_after_body: u64,
    ledger_pico: u64,
    replica: String,
    stderr: String,
}

fn parse(stdout: &str, stderr: String) -> Report {
    let line = stdout.lines().last().unwrap_or_else(|| panic!("a replica printed nothing; stderr:\n{stderr}"));
    let kv: BTreeMap<&str, &str> = line.split_whitespace().filter_map(|p| p.split_once('=')).collect();
    let n = |k: &str| kv.get(k).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("`{k}` in `{line}`"));
    Report {
        ok: n("ok"),
        bodies: n("bodies"),
        refused_after_body: n("refused_after_body"),
        ledger_pico: n("ledger_pico"),
        replica: kv["replica"].to_string(),
        stderr,
    }
}

#[test]
fn three_processes_share_one_hard_budget() {
    let redis = RedisServer::start();
    let prefix = format!("obs-test-fleet-{}", std::process::id());
    let mut children: Vec<_> = (0..REPLICAS)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_obs-budget-replica"))
                .args([LIMIT_USD.to_string(), THREADS.to_string(), CALL_MS.to_string()])
                .env("OBS_BUDGET_REDIS_URL", redis.url())
                .env("OBS_BUDGET_REDIS_PREFIX", &prefix)
                .env("OBS_BUDGET_REDIS_REFRESH", format!("{REFRESH_MS}ms"))
                // Only a dead server times out, never a slow machine.
                .env("OBS_BUDGET_REDIS_TIMEOUT", "5s")
                .env("RUST_LOG", "warn")
                .env_remove("OBS_EXPORTERS")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the replica binary")
        })
        .collect();
    // Every replica is ready (started, its budget loaded from the store)
    // before any calls: all take part however slowly each started.
    let mut stdouts: Vec<_> = children.iter_mut().map(|c| BufReader::new(c.stdout.take().unwrap())).collect();
    for out in &mut stdouts {
        let mut line = String::new();
        out.read_line(&mut line).expect("a replica's first line");
        assert_eq!(line, "ready\n", "a replica did not start");
    }
    for c in &mut children {
        c.stdin.take().unwrap().write_all(b"go\n").expect("a replica's stdin");
    }
    let reports: Vec<Report> = children
        .into_iter()
        .zip(stdouts)
        .map(|(c, mut stdout)| {
            let out = c.wait_with_output().expect("a replica");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "a replica failed ({}):\n{stderr}", out.status);
            let mut rest = String::new();
            stdout.read_to_string(&mut rest).expect("a replica's stdout");
            parse(&rest, stderr)
        })
        .collect();

    let key = format!("{prefix}:fleet:total");
    let shared = redis.get_u64(&key).expect("the fleet's key");
    let ledgers: u64 = reports.iter().map(|r| r.ledger_pico).sum();
    let calls: u64 = reports.iter().map(|r| r.ok).sum();
    let summary: Vec<String> =
        reports.iter().map(|r| format!("{} calls, ${}", r.ok, r.ledger_pico as f64 / 1e12)).collect();

    // The shared key holds exactly the sum of the processes' ledgers, and
    // each replica's field exactly its own.
    assert_eq!(shared, ledgers, "{summary:?}");
    assert_eq!(ledgers, calls * CALL_PICO);
    let mut fields = redis.hash_u64(&format!("{key}:replicas"));
    fields.sort();
    let mut own: Vec<(String, u64)> = reports.iter().map(|r| (r.replica.clone(), r.ledger_pico)).collect();
    own.sort();
    assert_eq!(fields, own);

    // Every process took part, and none spent the budget alone: without
    // sharing, each would have made 240 calls (720 in all).
    assert!(reports.iter().all(|r| r.ok > 0), "{summary:?}");
    assert!(reports.iter().all(|r| r.ok * CALL_PICO < LIMIT_PICO), "{summary:?}");

    // Calls stop only once the fleet has spent the limit, and overshoot it
    // by at most the documented bound: the calls in flight across the fleet
    // (12), plus what the fleet completes within 1.1 refresh intervals and a
    // round trip (each of the 12 callers completes one call per 100 ms; the
    // round trip is allowed 200 ms on a loaded machine: 3 calls each).
    let in_flight = (REPLICAS * THREADS) as u64;
    let window_ms = REFRESH_MS * 11 / 10 + ROUND_TRIP_MS;
    let per_caller = window_ms.div_ceil(CALL_MS);
    let bound = CALL_PICO * (in_flight + in_flight * per_caller);
    eprintln!(
        "fleet: {calls} calls, limit {} calls, overshoot {} calls (bound {}); per replica {summary:?}",
        LIMIT_PICO / CALL_PICO,
        shared.saturating_sub(LIMIT_PICO) / CALL_PICO,
        bound / CALL_PICO
    );
    assert!(shared >= LIMIT_PICO, "stopped before the limit: {shared} < {LIMIT_PICO} ({summary:?})");
    assert!(
        shared <= LIMIT_PICO + bound,
        "overshoot {} calls beyond the limit, bound {} ({summary:?})",
        (shared - LIMIT_PICO) / CALL_PICO,
        bound / CALL_PICO
    );

    // Each refused call returned BudgetExceeded before its body ran.
    for r in &reports {
        assert_eq!(r.bodies, r.ok, "a body ran for a refused call: {summary:?}");
        assert_eq!(r.refused_after_body, 0);
    }

    // One warning and one "is spent" error for the fleet, from the replica
    // the store elected.
    let count = |needle: &str| reports.iter().map(|r| r.stderr.matches(needle).count()).sum::<usize>();
    let all_stderr: String = reports.iter().map(|r| r.stderr.as_str()).collect::<Vec<_>>().join("\n----\n");
    assert_eq!(count("budget `fleet` reached"), 1, "{all_stderr}");
    assert_eq!(count("budget `fleet` is spent"), 1, "{all_stderr}");
    let warned = redis.cli(&["GET", &format!("{key}:warned")]);
    assert!(reports.iter().any(|r| warned == format!("\"{}\"", r.replica)), "{warned}");
    assert!(!all_stderr.contains("unreachable"), "{all_stderr}");
}
