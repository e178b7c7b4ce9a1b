//! Structured logs: `console` (human-readable, coloured on a terminal) or
//! `json` (one object per line), filtered by `RUST_LOG`-style directives,
//! written to stderr, stdout or a file (rotated daily or by size) by a
//! background thread.
//!
//! Every line carries where it was emitted: the request ([`RequestContext`]),
//! the agent, the model and tool of the enclosing instrumented calls, the
//! enclosing spans' own fields, and (JSON) the W3C `trace_id`/`span_id` of the
//! innermost span, as [`crate::trace`] assigns them. A JSON line:
//!
//! ```text
//! {"timestamp":"2026-05-01T12:00:00.123456Z","level":"INFO","target":"my_agent::tools","message":"fetched",
//!  "request_id":"0196…","agent":"researcher","model":"gpt-4o","tool":"web_search",
//!  "trace_id":"4bf9…","span_id":"00f0…","bytes":5120}
//! ```
//!
//! What this exporter must not do: block the application (lines go through a
//! bounded queue; a full queue drops the line and counts it in
//! `obs_log_lines_dropped_total{reason="queue_full"}`), grow without bound
//! (the queue is bounded in lines and each value in bytes), or panic.
//!
//! Cost: by default (`console`) the spans of instrumented calls are not shown,
//! so they stay disabled and an instrumented call pays nothing for logging
//! (agent and request still come from the task's context). `json` shows the
//! agent, model and tool spans (`OBS_LOG_SPANS=genai`), which gives each of
//! those calls a span with trace ids: about 2 to 2.5 µs per call on the
//! reference machine (`OBS_LOG_FORMAT=json cargo bench -p obs-runtime --bench logs`),
//! against about 0.1 µs for the call's metrics.

use super::{ExportError, Exporter, ExporterConfig, Running};
use crate::context::{current_agent, Agent, RequestContext};
use crate::trace::TraceIds;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::{filter_fn, EnvFilter, FilterExt};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

// ------------------------------------------------------------ configuration

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
    fn describe(&self) -> String {
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
    fn as_str(self) -> &'static str {
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
}

/// Rotated files kept by default.
pub const DEFAULT_MAX_FILES: usize = 7;
/// Queued lines by default.
pub const DEFAULT_QUEUE_LINES: usize = 8192;
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
    fn append(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() + bytes.len() > BUFFER_LIMIT {
            return Err(std::io::Error::other("log buffer full"));
        }
        b.extend_from_slice(bytes);
        Ok(())
    }
}

// ----------------------------------------------------------------- exporter

/// The log exporter, registered with `inventory` under `logs`.
pub struct LogExporter;

inventory::submit! { super::Registration(&LogExporter) }

/// Whether a span was created by an obs macro (they all declare `obs.status`).
fn is_obs_span(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.fields().field("obs.status").is_some()
}

fn span_visible(spans: LogSpans, meta: &Metadata<'_>) -> bool {
    if !is_obs_span(meta) {
        return true;
    }
    match spans {
        LogSpans::None => false,
        LogSpans::GenAi => meta.fields().field("gen_ai.operation.name").is_some(),
        LogSpans::All => true,
    }
}

fn err(message: String) -> ExportError {
    ExportError { exporter: "logs", message }
}

impl Exporter for LogExporter {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn start(&self, cfg: &ExporterConfig) -> Result<Box<dyn Running>, ExportError> {
        let lc = &cfg.log;
        let format = match lc.format.as_deref() {
            None => LogFormat::Console,
            Some(f) => LogFormat::parse(f)
                .ok_or_else(|| err(format!("OBS_LOG_FORMAT `{f}` is not a log format: use `json` or `console`")))?,
        };
        let directives = lc.filter.clone().unwrap_or_else(|| "info".into());
        let env_filter = || {
            EnvFilter::builder().parse(&directives).map_err(|e| {
                err(format!("RUST_LOG `{directives}` is not a valid filter ({e}); write e.g. `info,my_agent=debug`"))
            })
        };
        let (log_env, trace_env) = (env_filter()?, env_filter()?);
        let spans = lc.spans.unwrap_or(match format {
            LogFormat::Json => LogSpans::GenAi,
            LogFormat::Console => LogSpans::None,
        });
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let ansi = format == LogFormat::Console
            && !no_color
            && match lc.output {
                LogOutput::Stderr => std::io::stderr().is_terminal(),
                LogOutput::Stdout => std::io::stdout().is_terminal(),
                _ => false,
            };
        let out = Output::open(&lc.output, lc.rotation, lc.max_files)
            .map_err(|e| err(format!("cannot open the log file {} ({e})", lc.output.describe())))?;
        let dropped = |reason: &str| {
            crate::metrics::counter(
                "obs_log_lines_dropped_total",
                "Log lines not written: the writer's queue was full, or the output failed.",
                &[("reason", reason)],
            )
            .ok()
        };
        let (queue_full, write_error) = (dropped("queue_full"), dropped("write_error"));
        let (tx, rx) = sync_channel(lc.queue_lines.max(1));
        let worker = std::thread::Builder::new()
            .name("obs-log-writer".into())
            .spawn(move || writer_loop(rx, out, write_error))
            .map_err(|e| err(format!("cannot start the log writer thread ({e})")))?;
        let layer = LogLayer { format, ansi, tx: tx.clone(), queue_full, dispatch: OnceLock::new() };
        let trace_layer = crate::trace::layer(&cfg.service_name)
            .with_filter(trace_env.and(filter_fn(move |m| m.is_span() && span_visible(spans, m))));
        let subscriber = tracing_subscriber::registry()
            .with(trace_layer)
            .with(layer.with_filter(log_env.and(filter_fn(move |m| span_visible(spans, m)))));
        let describe = format!(
            "logs ({}) on {}, filter `{directives}`, instrumented spans: {}",
            format.as_str(),
            lc.output.describe(),
            spans.as_str()
        );
        match tracing::subscriber::set_global_default(subscriber) {
            Ok(()) => Ok(Box::new(Installed { describe, tx, _worker: worker })),
            // The application installed its own subscriber: keep it, and say so.
            Err(_) => {
                let _ = tx.try_send(Msg::Stop);
                Ok(Box::new(Installed {
                    describe: "logs: the application's own tracing subscriber is kept".into(),
                    tx,
                    _worker: worker,
                }))
            }
        }
    }
}

struct Installed {
    describe: String,
    tx: SyncSender<Msg>,
    _worker: std::thread::JoinHandle<()>,
}

/// How long `flush` waits for the writer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

impl Running for Installed {
    fn describe(&self) -> String {
        self.describe.clone()
    }
    fn flush(&mut self) {
        let deadline = Instant::now() + FLUSH_TIMEOUT;
        let (ack_tx, ack_rx) = sync_channel(1);
        let mut msg = Msg::Flush(ack_tx);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Full(m)) if Instant::now() < deadline => {
                    msg = m;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return,
            }
        }
        let _ = ack_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
    fn shutdown(&mut self) {
        self.flush();
        let _ = self.tx.try_send(Msg::Stop);
    }
}

// ------------------------------------------------------------------- writer

enum Msg {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
    Stop,
}

/// How long the writer lets lines gather after writing a batch.
const GATHER: Duration = Duration::from_millis(1);

/// Lines waiting for one write to a standard stream.
const BATCH_BYTES: usize = 64 * 1024;

enum Output {
    Stderr(Vec<u8>),
    Stdout(Vec<u8>),
    File(FileOut),
    Buffer(LogBuffer),
}

impl Output {
    fn open(o: &LogOutput, rotation: Rotation, max_files: usize) -> std::io::Result<Output> {
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

fn writer_loop(rx: Receiver<Msg>, mut out: Output, write_error: Option<crate::metrics::Counter>) {
    let failed = |n: u64| {
        if let Some(c) = &write_error {
            c.increment(n);
        }
    };
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Line(line) => {
                    if out.write(&line).is_err() {
                        failed(1);
                    }
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

struct FileOut {
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
fn write_timestamp(out: &mut String, t: SystemTime) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    write_date(out, (secs / 86_400) as i64);
    let s = secs % 86_400;
    let _ = write!(out, "T{:02}:{:02}:{:02}.{:06}Z", s / 3600, s / 60 % 60, s % 60, d.subsec_micros());
}

// -------------------------------------------------------------- the layer

/// A field value, kept from a span or an event.
#[derive(Clone, Debug)]
enum Val {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

fn truncated(s: &str) -> String {
    if s.len() <= MAX_VALUE_BYTES {
        return s.to_string();
    }
    let mut end = MAX_VALUE_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut t = s[..end].to_string();
    t.push('…');
    t
}

/// The name a span field has in log lines; `None` hides it. Instrumented
/// spans show their agent, model, tool (and function) under stable names and
/// the user's `fields(...)`; their other attributes are for traces, not logs.
fn span_key(name: &'static str, obs: bool) -> Option<&'static str> {
    match name {
        "gen_ai.agent.name" => Some("agent"),
        "gen_ai.request.model" => Some("model"),
        "gen_ai.tool.name" => Some("tool"),
        "code.function" if obs => Some("function"),
        n if n.starts_with("otel.") => None,
        n if obs
            && (n.starts_with("gen_ai.")
                || n.starts_with("code.")
                || n.starts_with("obs.")
                || n.starts_with("server.")
                || n == "error.type") =>
        {
            None
        }
        n => Some(n),
    }
}

/// What a span contributes to the lines inside it.
struct SpanFields {
    obs: bool,
    fields: Vec<(&'static str, Val)>,
    request: Option<RequestContext>,
}

impl SpanFields {
    fn set(&mut self, field: &Field, v: Val) {
        let Some(key) = span_key(field.name(), self.obs) else { return };
        if matches!(&v, Val::Str(s) if s.is_empty()) && matches!(key, "agent" | "model" | "tool") {
            return;
        }
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = v,
            None => self.fields.push((key, v)),
        }
    }
}

/// An event's message and fields.
#[derive(Default)]
struct EventFields {
    message: String,
    fields: Vec<(&'static str, Val)>,
}

impl EventFields {
    fn set(&mut self, f: &Field, v: Val) {
        if f.name() == "message" {
            self.message = match v {
                Val::Str(s) => s,
                other => {
                    let mut s = String::new();
                    write_console_value(&mut s, &other);
                    s
                }
            };
        } else if !f.name().starts_with("log.") {
            self.fields.push((f.name(), v));
        }
    }
}

/// Span and event fields turn every `tracing` value into a `Val` the same
/// way; only where they keep it (`set`) differs.
macro_rules! visit_into_val {
    ($($t:ty),*) => {$(
        impl Visit for $t {
            fn record_str(&mut self, f: &Field, v: &str) {
                self.set(f, Val::Str(truncated(v)));
            }
            fn record_i64(&mut self, f: &Field, v: i64) {
                self.set(f, Val::I64(v));
            }
            fn record_u64(&mut self, f: &Field, v: u64) {
                self.set(f, Val::U64(v));
            }
            fn record_f64(&mut self, f: &Field, v: f64) {
                self.set(f, Val::F64(v));
            }
            fn record_bool(&mut self, f: &Field, v: bool) {
                self.set(f, Val::Bool(v));
            }
            fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
                self.set(f, Val::Str(truncated(&format!("{v:?}"))));
            }
        }
    )*};
}

visit_into_val!(SpanFields, EventFields);

/// Formats events and hands the lines to the writer thread.
struct LogLayer {
    format: LogFormat,
    ansi: bool,
    tx: SyncSender<Msg>,
    queue_full: Option<crate::metrics::Counter>,
    dispatch: OnceLock<tracing::dispatcher::WeakDispatch>,
}

/// The keys of the context part of a line, in order.
const CONTEXT_KEYS: [&str; 8] =
    ["request_id", "user_id", "tenant_id", "conversation_id", "agent", "model", "tool", "function"];

impl LogLayer {
    fn send(&self, line: String) {
        if self.tx.try_send(Msg::Line(line.into_bytes())).is_err() {
            if let Some(c) = &self.queue_full {
                c.increment(1);
            }
        }
    }

    fn ids_of(&self, id: &Id) -> Option<TraceIds> {
        let dispatch = self.dispatch.get()?.upgrade()?;
        let cx = tracing_opentelemetry::get_otel_context(id, &dispatch)?;
        TraceIds::of_context(&cx)
    }
}

impl<S> Layer<S> for LogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields =
            SpanFields { obs: is_obs_span(attrs.metadata()), fields: Vec::new(), request: RequestContext::current() };
        attrs.record(&mut fields);
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(fields) = ext.get_mut::<SpanFields>() {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let now = SystemTime::now();
        let mut ev = EventFields::default();
        event.record(&mut ev);

        // Span fields, innermost first; the first occurrence of a name wins.
        let mut span_fields: Vec<(&'static str, Val)> = Vec::new();
        let mut request = RequestContext::current();
        let mut ids: Option<TraceIds> = None;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                if ids.is_none() && self.format == LogFormat::Json {
                    ids = self.ids_of(&span.id());
                }
                let ext = span.extensions();
                if let Some(f) = ext.get::<SpanFields>() {
                    if request.is_none() {
                        request.clone_from(&f.request);
                    }
                    for (k, v) in &f.fields {
                        if !span_fields.iter().any(|(k2, _)| k2 == k) {
                            span_fields.push((k, v.clone()));
                        }
                    }
                }
            }
        }
        if !span_fields.iter().any(|(k, _)| *k == "agent") {
            let agent = current_agent();
            if agent != Agent::NONE {
                span_fields.push(("agent", Val::Str(agent.name().to_string())));
            }
        }

        // The context part: request ids, then the stable span names.
        let mut context: Vec<(&'static str, Val)> = Vec::new();
        if let Some(rc) = &request {
            for (k, v) in rc.fields() {
                context.push((k, Val::Str(v.to_string())));
            }
        }
        for key in &CONTEXT_KEYS[4..] {
            if let Some((_, v)) = span_fields.iter().find(|(k, _)| k == key) {
                context.push((key, v.clone()));
            }
        }
        if let Some(ids) = ids {
            context.push(("trace_id", Val::Str(ids.trace_id.to_string())));
            context.push(("span_id", Val::Str(ids.span_id.to_string())));
        }
        let rest = span_fields.iter().filter(|(k, _)| !CONTEXT_KEYS.contains(k));

        let meta = event.metadata();
        let mut line = String::with_capacity(256);
        match self.format {
            LogFormat::Json => {
                let mut seen: Vec<&str> = vec!["timestamp", "level", "target", "message"];
                line.push_str("{\"timestamp\":\"");
                write_timestamp(&mut line, now);
                line.push_str("\",\"level\":\"");
                line.push_str(meta.level().as_str());
                line.push_str("\",\"target\":");
                write_json_str(&mut line, meta.target());
                line.push_str(",\"message\":");
                write_json_str(&mut line, &ev.message);
                // Event fields win over context of the same name.
                let event_keys: Vec<&str> = ev.fields.iter().map(|(k, _)| *k).collect();
                for (k, v) in context.iter().filter(|(k, _)| !event_keys.contains(k)) {
                    write_json_pair(&mut line, &mut seen, k, v);
                }
                for (k, v) in &ev.fields {
                    write_json_pair(&mut line, &mut seen, k, v);
                }
                for (k, v) in rest {
                    write_json_pair(&mut line, &mut seen, k, v);
                }
                line.push_str("}\n");
            }
            LogFormat::Console => {
                let (dim, reset) = if self.ansi { ("\x1b[2m", "\x1b[0m") } else { ("", "") };
                line.push_str(dim);
                write_timestamp(&mut line, now);
                line.push_str(reset);
                let (color, level) = match *meta.level() {
                    tracing::Level::ERROR => ("\x1b[31m", "ERROR"),
                    tracing::Level::WARN => ("\x1b[33m", " WARN"),
                    tracing::Level::INFO => ("\x1b[32m", " INFO"),
                    tracing::Level::DEBUG => ("\x1b[34m", "DEBUG"),
                    tracing::Level::TRACE => ("\x1b[35m", "TRACE"),
                };
                line.push(' ');
                if self.ansi {
                    line.push_str(color);
                }
                line.push_str(level);
                line.push_str(reset);
                line.push(' ');
                line.push_str(dim);
                line.push_str(meta.target());
                line.push(':');
                line.push_str(reset);
                if !ev.message.is_empty() {
                    line.push(' ');
                    push_console_text(&mut line, &ev.message);
                }
                for (k, v) in &ev.fields {
                    let _ = write!(line, " {k}=");
                    write_console_value(&mut line, v);
                }
                let mut ctx_iter = context.iter().filter(|(k, _)| *k != "trace_id" && *k != "span_id").chain(rest);
                if let Some((k, v)) = ctx_iter.next() {
                    let _ = write!(line, " {dim}{k}=");
                    write_console_value(&mut line, v);
                    for (k, v) in ctx_iter {
                        let _ = write!(line, " {k}=");
                        write_console_value(&mut line, v);
                    }
                    line.push_str(reset);
                }
                line.push('\n');
            }
        }
        self.send(line);
    }
}

fn write_json_pair(out: &mut String, seen: &mut Vec<&'static str>, k: &'static str, v: &Val) {
    if seen.contains(&k) {
        return;
    }
    seen.push(k);
    out.push(',');
    write_json_str(out, k);
    out.push(':');
    match v {
        Val::Str(s) => write_json_str(out, s),
        Val::I64(n) => {
            let _ = write!(out, "{n}");
        }
        Val::U64(n) => {
            let _ = write!(out, "{n}");
        }
        Val::F64(f) if f.is_finite() => {
            let _ = write!(out, "{f}");
        }
        Val::F64(f) => write_json_str(out, &f.to_string()),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Console text: control characters escaped, so a value cannot forge a line.
fn push_console_text(out: &mut String, s: &str) {
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
}

fn write_console_value(out: &mut String, v: &Val) {
    match v {
        Val::Str(s) if !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c == '"' || c.is_control()) => {
            out.push_str(s)
        }
        Val::Str(s) => {
            let _ = write!(out, "{s:?}");
        }
        Val::I64(n) => {
            let _ = write!(out, "{n}");
        }
        Val::U64(n) => {
            let _ = write!(out, "{n}");
        }
        Val::F64(f) => {
            let _ = write!(out, "{f}");
        }
        Val::Bool(b) => {
            let _ = write!(out, "{b}");
        }
    }
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

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        write_json_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn long_values_are_cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_VALUE_BYTES);
        let t = truncated(&long);
        assert!(t.len() <= MAX_VALUE_BYTES + '…'.len_utf8());
        assert!(t.ends_with('…'));
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
