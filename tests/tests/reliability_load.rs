//! Scrapes under load (issue 13): while two threads record calls over 1,600
//! series, scrapers read `/metrics` back to back for 3 s (and until each
//! has read 5 pages and the writers made 10,000 calls, however loaded the
//! machine). Every page is complete (ends with a newline, every series line
//! parses), no counter ever goes backwards, and `/ready` keeps answering.
//! Prints the scrapes per second.

use obs_runtime::track_tool;
use obs_tests::http_get;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[track_tool(name = "load_tool", labels(shard = unbounded(shard)))]
fn tool(shard: u64) -> u64 {
    shard
}

#[test]
fn scrapes_stay_complete_and_monotonic_under_load() {
    let guard = obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("127.0.0.1:0").init().unwrap();
    let addr = guard.prometheus_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (made, pages) = (Arc::new(AtomicU64::new(0)), Arc::new([AtomicU64::new(0), AtomicU64::new(0)]));
    let writers: Vec<_> = (0..2)
        .map(|t| {
            let (stop, made) = (stop.clone(), made.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(tool((i * 2 + t) % 400), (i * 2 + t) % 400);
                    made.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                    // A busy application, not a spinning one: the scrapers
                    // need the CPU too on a 2-core machine.
                    if i.is_multiple_of(1000) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                i
            })
        })
        .collect();
    let scrapers: Vec<_> = (0..2)
        .map(|k| {
            let (stop, pages) = (stop.clone(), pages.clone());
            std::thread::spawn(move || {
                let mut last: HashMap<String, f64> = HashMap::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let r = http_get(addr, "/metrics").unwrap();
                    assert_eq!(r.status, 200);
                    assert!(r.body.ends_with('\n'), "incomplete page");
                    for line in r.body.lines().filter(|l| l.starts_with("tool_calls_total{")) {
                        let (series, value) = line.rsplit_once(' ').expect(line);
                        let v: f64 = value.parse().expect(line);
                        let prev = last.insert(series.to_string(), v).unwrap_or(0.0);
                        assert!(v >= prev, "{series} went from {prev} to {v}");
                    }
                    n += 1;
                    pages[k].store(n, Ordering::Relaxed);
                }
                n
            })
        })
        .collect();
    let t = Instant::now();
    let mut ready_worst = Duration::ZERO;
    let enough = || made.load(Ordering::Relaxed) >= 10_000 && pages.iter().all(|p| p.load(Ordering::Relaxed) >= 5);
    while t.elapsed() < Duration::from_secs(3) || !enough() {
        assert!(t.elapsed() < Duration::from_secs(300), "the scrapers or the writers made no progress in 300 s");
        let r0 = Instant::now();
        assert_eq!(http_get(addr, "/ready").unwrap().status, 200);
        ready_worst = ready_worst.max(r0.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let calls: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let scrapes: u64 = scrapers.into_iter().map(|s| s.join().unwrap()).sum();
    let secs = t.elapsed().as_secs_f64();
    assert!(scrapes > 0 && calls > 0);
    let m = obs_runtime::metrics::snapshot();
    let counted: u64 = m
        .series("tool_calls_total", &[("tool", "load_tool")])
        .into_iter()
        .map(|(_, v)| match v {
            obs_runtime::metrics::Value::Counter(n) => *n,
            _ => 0,
        })
        .sum();
    assert_eq!(counted, calls, "every call counted");
    eprintln!(
        "{:.0} complete scrapes/s of {} series for {secs:.1} s under {calls} calls; slowest /ready {ready_worst:?}",
        scrapes as f64 / secs,
        m.series("tool_calls_total", &[]).len()
    );
}
