//! A replica killed without dropping its `init()` guard (SIGKILL) loses at
//! most the spend the store had not confirmed, and that is bounded: a call
//! that leaves 1% of a budget's limit unconfirmed starts a sync at once. The
//! replica here never syncs on time (a refresh interval of an hour), so the
//! bound is all that brings its spend to the store: 40 calls of $0.00075
//! against a $1 budget cross the $0.01 mark three times.

mod budget_redis_server;

use budget_redis_server::{wait_until, RedisServer};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// gpt-4o-mini, 1,000 in + 1,000 out.
const CALL_PICO: u64 = 750_000_000;
const CALLS: u64 = 40;
/// 1% of the $1 limit.
const UNSYNCED_MAX: u64 = 10_000_000_000;

#[test]
fn a_killed_replica_loses_less_than_one_percent_of_the_limit() {
    let redis = RedisServer::start();
    let prefix = format!("obs-test-killed-{}", std::process::id());
    let child = Command::new(env!("CARGO_BIN_EXE_obs-budget-replica"))
        .args(["1.0", "1", "0", &CALLS.to_string()])
        .env("OBS_BUDGET_REDIS_URL", redis.url())
        .env("OBS_BUDGET_REDIS_PREFIX", &prefix)
        // No sync on time within the test: only the 1% mark sends spend.
        .env("OBS_BUDGET_REDIS_REFRESH", "60m")
        .env("OBS_BUDGET_REDIS_TIMEOUT", "5s")
        .env("RUST_LOG", "warn")
        .env_remove("OBS_EXPORTERS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the replica binary");
    let mut replica = obs_tests::KillOnDrop(child);
    let mut stdout = BufReader::new(replica.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    replica.0.stdin.take().unwrap().write_all(b"go\n").unwrap();
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let kv: BTreeMap<&str, &str> = line.split_whitespace().filter_map(|p| p.split_once('=')).collect();
    assert_eq!(kv["ok"], CALLS.to_string(), "{line}");
    let ledger: u64 = kv["ledger_pico"].parse().unwrap();
    assert_eq!(ledger, CALLS * CALL_PICO);

    // The replica is idle now, its guard alive. The syncs its calls asked
    // for bring the store within 1% of the limit of its spend (a store that
    // only synced on time would stay at 0 for the hour).
    let key = format!("{prefix}:fleet:total");
    let in_store = || redis.get_u64(&key).unwrap_or(0);
    wait_until(Duration::from_secs(60), "the store holds all but 1% of the limit", || {
        in_store() + UNSYNCED_MAX > ledger
    });
    replica.0.kill().unwrap();
    replica.0.wait().unwrap();
    let kept = in_store();
    eprintln!("killed after ${}: the store kept ${}", ledger as f64 / 1e12, kept as f64 / 1e12);
    assert!(kept <= ledger && ledger - kept < UNSYNCED_MAX, "the store kept {kept} of {ledger}");
    assert_eq!(kept % CALL_PICO, 0, "whole calls only");
}
