//! A server process in its own process group, with its output in a log file
//! and a work directory; stopped (the whole group) and cleaned up on drop.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound, then released: another process may
/// take it in between, which [`ServerProcess::wait_ready`] notices as an
/// early exit).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port()
}

/// A running backend. Dropping it sends SIGTERM to its process group, waits
/// up to 15 s for the group to be gone, then SIGKILLs what is left. The work
/// directory is removed, unless the thread is panicking (a failed test): then
/// its path is printed so the log can be read.
pub struct ServerProcess {
    name: &'static str,
    child: Child,
    dir: PathBuf,
    log: PathBuf,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty directory for one backend.
fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "obs-otlp-{name}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

impl ServerProcess {
    /// Makes the work directory and passes it to `build`, which returns the
    /// command to run; the command is then started in a new process group
    /// with stdout and stderr in `<dir>/<name>.log`.
    pub fn spawn(name: &'static str, build: impl FnOnce(&Path) -> Command) -> ServerProcess {
        let dir = work_dir(name);
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("dup log file");
        let mut cmd = build(&dir);
        // Process group = its pid: the group, children included, is stopped
        // with one signal, and Ctrl-C in the test's terminal does not reach it
        // before the test's own cleanup.
        cmd.process_group(0).stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {name} ({cmd:?}): {e}"));
        ServerProcess { name, child, dir, log }
    }

    /// The process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The work directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything the process wrote so far (stdout and stderr).
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// The last `n` lines of the log, for panic messages.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Polls `ready` every 200 ms until it returns true. Panics, with the log's
    /// tail, when the process exits first or `deadline` passes. Returns the
    /// time it took.
    pub fn wait_ready(&mut self, deadline: Duration, mut ready: impl FnMut() -> bool) -> Duration {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before it was ready; last lines of {}:\n{}",
                    self.name,
                    self.log.display(),
                    self.log_tail(40)
                );
            }
            if ready() {
                return start.elapsed();
            }
            if start.elapsed() > deadline {
                panic!(
                    "{} was not ready after {deadline:?}; last lines of {}:\n{}",
                    self.name,
                    self.log.display(),
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn signal_group(&self, sig: libc::c_int) -> bool {
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals that process group; it
        // takes no pointers and has no memory effects on this process.
        unsafe { libc::kill(-pgid, sig) == 0 }
    }

    /// Stops the process group: SIGTERM, up to 15 s, then SIGKILL.
    pub fn stop(&mut self) {
        if !self.signal_group(libc::SIGTERM) {
            let _ = self.child.wait();
            return;
        }
        let start = Instant::now();
        let mut reaped = false;
        while start.elapsed() < Duration::from_secs(15) {
            if !reaped {
                reaped = matches!(self.child.try_wait(), Ok(Some(_)));
            }
            // The leader, once reaped, no longer counts; signal 0 then
            // answers whether any other member of the group is left.
            if reaped && !self.signal_group(0) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop within 15 s of SIGTERM: SIGKILL to its process group", self.name);
        self.signal_group(libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("{} kept for inspection: {} (log: {})", self.name, self.dir.display(), self.log.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
