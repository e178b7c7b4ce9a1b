//! A full queue never blocks the application: lines that do not fit are
//! dropped and counted, and every line is either written or counted.
//!
//! The test counts its own lines, not the process's: obs's start-up lines
//! may themselves meet a full one-line queue. The output is a pipe nobody
//! reads during the burst, so the writer stalls after a few hundred lines
//! and the queue is full for the rest, however the threads are scheduled.

use obs_runtime::export::logs::{LogFormat, LogOutput};
use obs_runtime::metrics::snapshot;
use std::collections::BTreeSet;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

fn dropped(reason: &str) -> u64 {
    snapshot().counter("obs_log_lines_dropped_total", &[("reason", reason)]).expect("the self-metric exists")
}

#[test]
fn every_line_is_written_or_counted_as_dropped() {
    let dir = std::env::temp_dir().join(format!("obs-logs-queue-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("burst.log");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // O_NONBLOCK: opening does not wait for the writer, reading does not
    // wait for lines.
    let mut reader = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();

    let mut obs = obs_runtime::Builder::new()
        .exporters(&["logs"])
        .log_filter("info")
        .log_format(LogFormat::Json)
        .log_queue(1)
        .log_output(LogOutput::File(fifo.clone()))
        .init()
        .expect("init");
    // obs's start-up lines are all sent once flush() returns (the prices
    // line comes from a thread of its own), and a line that does not fit
    // is counted on the sending thread: what follows is the burst's.
    obs.flush();
    let before = dropped("queue_full");
    const N: u64 = 20_000;
    for i in 0..N {
        tracing::info!(target: "burst", i, "burst line");
    }
    let queue_full = dropped("queue_full") - before;

    // Drain the pipe until every burst line is accounted for; a line lost
    // (neither written nor counted) ends the wait at the deadline instead.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut pending, mut seen) = (Vec::new(), BTreeSet::new());
    let mut chunk = [0u8; 64 * 1024];
    while (seen.len() as u64) + queue_full < N {
        assert!(
            Instant::now() < deadline,
            "after 120 s: written {} + dropped {queue_full} < {N}: lines were lost",
            seen.len()
        );
        match reader.read(&mut chunk) {
            Ok(0) => panic!("the log writer closed its output"),
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("reading the log pipe: {e}"),
        }
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let v: serde_json::Value = serde_json::from_slice(&line).expect("a JSON line");
            if v["target"] == "burst" {
                let i = v["i"].as_u64().expect("the line's i");
                assert!(seen.insert(i), "burst line {i} written twice");
            }
        }
    }
    let written = seen.len() as u64;
    assert_eq!(dropped("write_error"), 0);
    assert_eq!(written + queue_full, N, "written {written} + dropped {queue_full} != {N}");
    // A pipe holds 64 KiB: most of the 2.6 MB burst had to be dropped.
    assert!(written < N / 2 && queue_full > N / 2, "written {written}, dropped {queue_full}");
    let _ = std::fs::remove_dir_all(&dir);
}
