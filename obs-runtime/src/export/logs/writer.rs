//! The writer thread: a bounded queue of lines, batched writes to a standard
//! stream, a file (rotated daily or by size) or a buffer.
//!
//! Why not `tracing-appender` (and `tracing-subscriber`'s `fmt` JSON): its
//! rolling appender rotates by time only, where obs also rotates by size
//! (`OBS_LOG_ROTATION=100MB`); and one JSON line with span context costs the
//! calling thread 1.9 µs through obs's layer and this writer against 4.4 µs
//! through `fmt().json()` and `tracing_appender::non_blocking`, both queues
//! 128,000 lines and neither dropping (`cargo bench -p obs-runtime --bench
//! log_line`, one run, 2 cores). `fmt`'s JSON also nests span fields under
//! `spans`, where obs's lines keep the flat, stable keys `jq` filters use.

use super::config::{LogBuffer, LogOutput, Rotation};
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) enum Msg {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
    Stop,
}

/// How long the writer lets lines gather after writing a batch.
const GATHER: Duration = Duration::from_millis(1);

/// How often the writer writes the count lines of groups of failures whose
/// window is over (`failure::flush_due`): the one periodic thread obs's
/// failure lines always have.
const FAILURE_COUNTS_EVERY: Duration = Duration::from_secs(1);

/// Lines waiting for one write to a standard stream.
const BATCH_BYTES: usize = 64 * 1024;

pub(super) enum Output {
    Stderr(Vec<u8>),
    Stdout(Vec<u8>),
    File(FileOut),
    Buffer(LogBuffer),
}

impl Output {
    pub(super) fn open(o: &LogOutput, rotation: Rotation, max_files: usize) -> std::io::Result<Output> {
        Ok(match o {
            LogOutput::Stderr => Output::Stderr(Vec::new()),
            LogOutput::Stdout => Output::Stdout(Vec::new()),
            LogOutput::File(p) => Output::File(FileOut::open(p.clone(), rotation, max_files)?),
            LogOutput::Buffer(b) => Output::Buffer(b.clone()),
        })
    }

    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Stderr(batch) | Output::Stdout(batch) => {
                batch.extend_from_slice(line);
                if batch.len() >= BATCH_BYTES {
                    self.flush()?;
                }
                Ok(())
            }
            Output::File(f) => f.write(line),
            Output::Buffer(b) => b.append(line),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stderr(batch) => {
                let r = std::io::stderr().lock().write_all(batch);
                batch.clear();
                r
            }
            Output::Stdout(batch) => {
                let mut out = std::io::stdout().lock();
                let r = out.write_all(batch).and_then(|_| out.flush());
                batch.clear();
                r
            }
            Output::File(f) => f.file.flush(),
            Output::Buffer(_) => Ok(()),
        }
    }
}

pub(super) fn writer_loop(
    rx: Receiver<Msg>,
    mut out: Output,
    write_error: Option<crate::metrics::Counter>,
    queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let failed = |n: u64| {
        if let Some(c) = &write_error {
            c.increment(n);
        }
    };
    let mut counted = std::time::Instant::now();
    loop {
        let first = match rx.recv_timeout(FAILURE_COUNTS_EVERY) {
            Ok(m) => Some(m),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if counted.elapsed() >= FAILURE_COUNTS_EVERY {
            counted = std::time::Instant::now();
            // Its lines come back through this queue.
            crate::failure::flush_due();
        }
        let mut next = first;
        while let Some(msg) = next.take() {
            match msg {
                Msg::Line(line) => {
                    if out.write(&line).is_err() {
                        failed(1);
                    }
                    queued.fetch_sub(line.len(), std::sync::atomic::Ordering::Relaxed);
                }
                Msg::Flush(ack) => {
                    if out.flush().is_err() {
                        failed(1);
                    }
                    let _ = ack.try_send(());
                }
                Msg::Stop => {
                    let _ = out.flush();
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        // The queue is empty: write the batch out.
        if out.flush().is_err() {
            failed(1);
        }
        // Let lines gather before waiting on the queue again: a sender only
        // wakes this thread (a system call) when it is parked in `recv`, so
        // a burst costs at most one wake-up per millisecond.
        std::thread::sleep(GATHER);
    }
}

fn unix_day(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| (d.as_secs() / 86_400) as i64)
}

pub(super) struct FileOut {
    path: PathBuf,
    file: BufWriter<File>,
    size: u64,
    day: i64,
    rotation: Rotation,
    max_files: usize,
}

impl FileOut {
    fn open(path: PathBuf, rotation: Rotation, max_files: usize) -> std::io::Result<FileOut> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let meta = file.metadata()?;
        // An existing file from an earlier day rotates at the first line.
        let day = meta.modified().map_or_else(|_| unix_day(SystemTime::now()), unix_day);
        Ok(FileOut { path, file: BufWriter::new(file), size: meta.len(), day, rotation, max_files })
    }

    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        let rotate = match self.rotation {
            Rotation::Never => false,
            Rotation::Daily => unix_day(SystemTime::now()) != self.day,
            Rotation::Size(max) => self.size > 0 && self.size + line.len() as u64 > max,
        };
        if rotate {
            // A failed rotation keeps writing to the current file.
            let _ = self.rotate();
        }
        self.file.write_all(line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".");
        name.push(suffix);
        self.path.with_file_name(name)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        match self.rotation {
            Rotation::Daily => {
                let mut date = String::new();
                write_date(&mut date, self.day);
                let mut target = self.sibling(&date);
                let mut n = 1;
                while target.exists() {
                    target = self.sibling(&format!("{date}.{n}"));
                    n += 1;
                }
                std::fs::rename(&self.path, &target)?;
                self.prune_daily();
            }
            Rotation::Size(_) => {
                if self.max_files == 0 {
                    std::fs::remove_file(&self.path)?;
                } else {
                    let _ = std::fs::remove_file(self.sibling(&self.max_files.to_string()));
                    for i in (1..self.max_files).rev() {
                        let from = self.sibling(&i.to_string());
                        if from.exists() {
                            std::fs::rename(&from, self.sibling(&(i + 1).to_string()))?;
                        }
                    }
                    std::fs::rename(&self.path, self.sibling("1"))?;
                }
            }
            Rotation::Never => return Ok(()),
        }
        let file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.file = BufWriter::new(file);
        self.size = 0;
        self.day = unix_day(SystemTime::now());
        Ok(())
    }

    /// Deletes the oldest dated files beyond `max_files`.
    fn prune_daily(&self) {
        let (Some(dir), Some(name)) = (self.path.parent(), self.path.file_name()) else { return };
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        let prefix = format!("{}.", name.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut dated: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                let rest = n.strip_prefix(&prefix)?;
                rest.starts_with(|c: char| c.is_ascii_digit()).then(|| (n.clone(), e.path()))
            })
            .collect();
        dated.sort();
        let excess = dated.len().saturating_sub(self.max_files);
        for (_, p) in dated.into_iter().take(excess) {
            let _ = std::fs::remove_file(p);
        }
    }
}

// ----------------------------------------------------------------- time

/// `YYYY-MM-DD` of a day count since 1970-01-01 (proleptic Gregorian).
fn write_date(out: &mut String, day: i64) {
    let (y, m, d) = crate::time::civil_from_days(day);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

/// RFC 3339 UTC with microseconds: `2026-05-01T12:00:00.123456Z`.
pub(super) fn write_timestamp(out: &mut String, t: SystemTime) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    write_date(out, (secs / 86_400) as i64);
    let s = secs % 86_400;
    let _ = write!(out, "T{:02}:{:02}:{:02}.{:06}Z", s / 3600, s / 60 % 60, s % 60, d.subsec_micros());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let mut s = String::new();
        write_timestamp(&mut s, UNIX_EPOCH + Duration::new(1_777_636_800, 123_456_789));
        assert_eq!(s, "2026-05-01T12:00:00.123456Z");
        s.clear();
        write_timestamp(&mut s, UNIX_EPOCH + Duration::new(951_782_400, 0)); // leap day 2000
        assert_eq!(s, "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn size_rotation_shifts_files_and_keeps_max_files() {
        let dir = std::env::temp_dir().join(format!("obs-rot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("app.log");
        let mut f = FileOut::open(path.clone(), Rotation::Size(10), 2).unwrap();
        for i in 0..5 {
            f.write(format!("line-{i}\n").as_bytes()).unwrap(); // 7 bytes: one line per file
        }
        f.file.flush().unwrap();
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(&path), "line-4\n");
        assert_eq!(read(&dir.join("app.log.1")), "line-3\n");
        assert_eq!(read(&dir.join("app.log.2")), "line-2\n");
        assert!(!dir.join("app.log.3").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn daily_rotation_renames_by_date_and_prunes() {
        let dir = std::env::temp_dir().join(format!("obs-daily-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("app.log");
        let mut f = FileOut::open(path.clone(), Rotation::Daily, 1).unwrap();
        f.write(b"today\n").unwrap();
        for back in [3, 2] {
            // Pretend the open file was started `back` days ago.
            f.day = unix_day(SystemTime::now()) - back;
            f.write(b"x\n").unwrap();
        }
        f.file.flush().unwrap();
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        let mut expected = String::new();
        write_date(&mut expected, unix_day(SystemTime::now()) - 2);
        assert_eq!(names, vec!["app.log".to_string(), format!("app.log.{expected}")]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
