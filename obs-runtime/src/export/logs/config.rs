//! The log exporter's settings: format, output, rotation, which spans lines see.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Line format (`OBS_LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, coloured when the output is a terminal (and `NO_COLOR` is unset).
    Console,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// `console` or `json`.
    pub fn parse(s: &str) -> Option<LogFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "console" | "text" | "pretty" => Some(LogFormat::Console),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Console => "console",
            LogFormat::Json => "json",
        }
    }
}

impl From<LogFormat> for String {
    fn from(f: LogFormat) -> String {
        f.as_str().to_string()
    }
}

/// Where lines go (`OBS_LOG_OUTPUT`).
#[derive(Clone, Debug, Default)]
pub enum LogOutput {
    /// Standard error (the default).
    #[default]
    Stderr,
    /// Standard output.
    Stdout,
    /// A file, appended to, created with its directory when missing, and
    /// rotated per [`Rotation`].
    File(PathBuf),
    /// An in-memory buffer (tests, diagnostics); holds at most 64 MiB.
    Buffer(LogBuffer),
}

impl LogOutput {
    /// `stdout`, `stderr`, or else a file path.
    pub fn parse(s: &str) -> LogOutput {
        match s.trim() {
            "stdout" | "-" => LogOutput::Stdout,
            "stderr" => LogOutput::Stderr,
            path => LogOutput::File(PathBuf::from(path)),
        }
    }
    pub(super) fn describe(&self) -> String {
        match self {
            LogOutput::Stderr => "stderr".into(),
            LogOutput::Stdout => "stdout".into(),
            LogOutput::File(p) => p.display().to_string(),
            LogOutput::Buffer(_) => "an in-memory buffer".into(),
        }
    }
}

/// When a log file is rotated (`OBS_LOG_ROTATION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Rotation {
    /// Never (the default).
    #[default]
    Never,
    /// At the first line of each UTC day: `app.log` becomes `app.log.2026-05-01`.
    Daily,
    /// Before a line would take the file past this many bytes: `app.log`
    /// becomes `app.log.1`, `app.log.1` becomes `app.log.2`, and so on.
    Size(u64),
}

impl Rotation {
    /// `never`, `daily`, or a size: `100MB`, `512KiB`, `1G`, `1048576`
    /// (units are binary: K = 1024).
    pub fn parse(s: &str) -> Option<Rotation> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "never" | "none" => return Some(Rotation::Never),
            "daily" | "day" => return Some(Rotation::Daily),
            _ => {}
        }
        let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let n: u64 = s[..digits].parse().ok()?;
        let mult: u64 = match s[digits..].trim() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            _ => return None,
        };
        let bytes = n.checked_mul(mult)?;
        (bytes > 0).then_some(Rotation::Size(bytes))
    }
}

/// Which spans of instrumented calls log lines see (`OBS_LOG_SPANS`).
/// Spans the application creates itself (and the HTTP layer's) are always seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogSpans {
    /// None: lines get the agent and request from the task's context, and
    /// the trace ids of the nearest non-instrumented span. Instrumented calls
    /// pay nothing. The default for `console`.
    None,
    /// Agent, model and tool calls (not `#[traced]` functions): lines get
    /// `model`, `tool` and the call's own `span_id`. The default for `json`.
    GenAi,
    /// Every instrumented call, `#[traced]` included.
    All,
}

impl LogSpans {
    /// `none`, `genai`, `all` (`false`/`0` and `true`/`1` also work).
    pub fn parse(s: &str) -> Option<LogSpans> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "false" | "0" | "off" => Some(LogSpans::None),
            "genai" | "gen_ai" => Some(LogSpans::GenAi),
            "all" | "true" | "1" | "on" => Some(LogSpans::All),
            _ => None,
        }
    }
    pub(super) fn as_str(self) -> &'static str {
        match self {
            LogSpans::None => "none",
            LogSpans::GenAi => "genai",
            LogSpans::All => "all",
        }
    }
}

/// The log exporter's settings; see [`crate::Builder::from_env`] for the
/// environment variables.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LogConfig {
    /// `json` or `console` (default).
    pub format: Option<String>,
    /// `RUST_LOG`-style directives (default `info`).
    pub filter: Option<String>,
    /// Which instrumented spans lines see (default: per format).
    pub spans: Option<LogSpans>,
    /// Where lines go.
    pub output: LogOutput,
    /// When a file output rotates.
    pub rotation: Rotation,
    /// Rotated files kept (older ones are deleted).
    pub max_files: usize,
    /// Lines queued for the writer thread before new lines are dropped.
    pub queue_lines: usize,
    /// Bytes of lines queued for the writer thread before new lines are dropped.
    pub queue_bytes: usize,
}

/// Rotated files kept by default.
pub const DEFAULT_MAX_FILES: usize = 7;
/// Queued lines by default.
pub const DEFAULT_QUEUE_LINES: usize = 8192;
/// Bounds of `OBS_LOG_QUEUE`: the queue's slots are allocated up front.
pub const QUEUE_LINES_RANGE: std::ops::RangeInclusive<usize> = 1..=1_000_000;
/// Queued bytes by default: a stalled output holds at most this much.
pub const DEFAULT_QUEUE_BYTES: usize = 16 << 20;
/// Bounds of `OBS_LOG_QUEUE_BYTES`.
pub const QUEUE_BYTES_RANGE: std::ops::RangeInclusive<usize> = (64 << 10)..=(1 << 30);
/// Longest string value written; longer ones are cut and end in `…`.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: None,
            filter: None,
            spans: None,
            output: LogOutput::Stderr,
            rotation: Rotation::Never,
            max_files: DEFAULT_MAX_FILES,
            queue_lines: DEFAULT_QUEUE_LINES,
            queue_bytes: DEFAULT_QUEUE_BYTES,
        }
    }
}

/// An in-memory log output ([`LogOutput::Buffer`]).
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

const BUFFER_LIMIT: usize = 64 << 20;

impl std::fmt::Debug for LogBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogBuffer({} bytes)", self.0.lock().map_or(0, |b| b.len()))
    }
}

impl LogBuffer {
    /// An empty buffer.
    pub fn new() -> LogBuffer {
        LogBuffer::default()
    }
    /// Everything written so far.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
    /// Every line written so far.
    pub fn lines(&self) -> Vec<String> {
        self.contents().lines().map(String::from).collect()
    }
    pub(super) fn append(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() + bytes.len() > BUFFER_LIMIT {
            return Err(std::io::Error::other("log buffer full"));
        }
        b.extend_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse() {
        assert_eq!(Rotation::parse("daily"), Some(Rotation::Daily));
        assert_eq!(Rotation::parse("10MB"), Some(Rotation::Size(10 << 20)));
        assert_eq!(Rotation::parse("512 KiB"), Some(Rotation::Size(512 << 10)));
        assert_eq!(Rotation::parse("4096"), Some(Rotation::Size(4096)));
        assert_eq!(Rotation::parse("0"), None);
        assert_eq!(Rotation::parse("weekly"), None);
        assert_eq!(LogSpans::parse("true"), Some(LogSpans::All));
        assert_eq!(LogSpans::parse("GenAI"), Some(LogSpans::GenAi));
        assert_eq!(LogFormat::parse("JSON"), Some(LogFormat::Json));
        assert!(matches!(LogOutput::parse("stdout"), LogOutput::Stdout));
        assert!(matches!(LogOutput::parse("/var/log/a.log"), LogOutput::File(_)));
    }
}
