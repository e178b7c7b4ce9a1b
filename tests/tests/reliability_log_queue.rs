//! The log queue is bounded in bytes (issue 13): long lines into an output
//! that stopped reading (a pipe nobody drains) are dropped and counted once
//! the byte budget is queued, instead of piling up 8192 lines of 16 KiB.

use obs_runtime::export::logs::LogOutput;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

#[test]
fn a_stalled_output_holds_at_most_the_byte_budget() {
    let dir = std::env::temp_dir().join(format!("obs-rel-queue-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("stalled.log");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // A reader that never reads (O_NONBLOCK, so opening does not wait for a writer).
    let mut reader = std::fs::OpenOptions::new().read(true).custom_flags(0o4000).open(&fifo).unwrap();

    let budget = 1 << 20;
    let _g = obs_runtime::Builder::new()
        .exporters(&["logs"])
        .log_filter("info")
        .log_output(LogOutput::File(fifo.clone()))
        .log_queue_bytes(budget)
        .init()
        .unwrap();
    let value = "v".repeat(16 * 1024);
    let lines = 2000u64;
    for i in 0..lines {
        tracing::info!(i, value = value.as_str(), "long line");
    }
    let m = obs_runtime::metrics::snapshot();
    let dropped = m.counter("obs_log_lines_dropped_total", &[("reason", "queue_full")]).unwrap_or(0);
    // At most the budget (64 lines of 16 KiB), the pipe's 64 KiB, the
    // writer's buffer (8 KiB) and the line in the writer's hands got through.
    let through = lines - dropped;
    assert!(through <= 64 + 4 + 1 + 1, "{through} lines of 16 KiB queued or written, budget {budget} bytes");
    eprintln!("{through} of {lines} lines of 16 KiB queued or written into a stalled pipe; {dropped} dropped");

    // Drain, so the writer thread finishes and nothing is left behind.
    let t = std::thread::spawn(move || {
        let mut sink = [0u8; 64 * 1024];
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            match reader.read(&mut sink) {
                Ok(0) => break, // the writer closed the pipe
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
                Ok(_) => {}
            }
        }
    });
    drop(_g);
    let _ = t.join();
    let _ = std::fs::remove_dir_all(&dir);
}
