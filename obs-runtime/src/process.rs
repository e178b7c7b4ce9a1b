//! The process's own metrics under the standard `process_*` names, and
//! `build_info`, read when an exporter reads the registry (a scrape of
//! `/metrics`, an OTLP export), never on the call path.
//!
//! Linux reads `/proc/self` (`stat`, `fd`, `limits`); elsewhere the families
//! stay empty rather than report a made-up value.

use crate::metrics::{builtin_counter, builtin_gauge, names};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// CPU time already added to `process_cpu_seconds_total`, in microseconds.
static CPU_US: AtomicU64 = AtomicU64::new(0);

/// `build_info{service, version, obs_version, semconv_version} 1`: set once,
/// by `init()`. `version` is `service.version` from `OTEL_RESOURCE_ATTRIBUTES`
/// when given, else empty.
pub(crate) fn set_build_info(service: &str) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let version = std::env::var("OTEL_RESOURCE_ATTRIBUTES")
            .ok()
            .and_then(|attrs| {
                attrs.split(',').find_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    (k.trim() == "service.version").then(|| v.trim().to_string())
                })
            })
            .unwrap_or_default();
        let labels = [
            ("service", service),
            ("version", version.as_str()),
            ("obs_version", env!("CARGO_PKG_VERSION")),
            ("semconv_version", names::SEMCONV_VERSION),
        ];
        if let Some(g) = builtin_gauge(&names::BUILD_INFO, &labels) {
            g.set(1.0);
        }
    });
}

/// What `/proc/self` says now.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Reading {
    pub(crate) cpu_us: u64,
    pub(crate) threads: u64,
    pub(crate) start_time_s: f64,
    pub(crate) virtual_bytes: u64,
    pub(crate) resident_bytes: u64,
    pub(crate) open_fds: u64,
    pub(crate) max_fds: Option<u64>,
}

/// Parses `/proc/self/stat` (fields after the command name, which may hold
/// spaces and parentheses), given the clock tick, the page size and the boot
/// time in seconds since the epoch.
pub(crate) fn parse_stat(stat: &str, ticks: u64, page: u64, boot_s: u64) -> Option<Reading> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // `rest` starts at field 3 (state): field n is rest[n - 3].
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |n: usize| f.get(n - 3)?.parse::<u64>().ok();
    let ticks = ticks.max(1);
    let cpu_ticks = num(14)?.checked_add(num(15)?)?;
    Some(Reading {
        cpu_us: cpu_ticks.saturating_mul(1_000_000) / ticks,
        threads: num(20)?,
        start_time_s: boot_s as f64 + num(22)? as f64 / ticks as f64,
        virtual_bytes: num(23)?,
        resident_bytes: num(24)?.saturating_mul(page),
        ..Reading::default()
    })
}

/// The soft "Max open files" of `/proc/self/limits` (`None` when unlimited).
pub(crate) fn parse_max_fds(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(target_os = "linux")]
fn read() -> Option<Reading> {
    // SAFETY: sysconf only reads a configuration value.
    let (ticks, page) = unsafe { (libc::sysconf(libc::_SC_CLK_TCK), libc::sysconf(libc::_SC_PAGESIZE)) };
    let boot_s = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<u64>().ok())?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut r = parse_stat(&stat, u64::try_from(ticks).ok()?, u64::try_from(page).ok()?, boot_s)?;
    r.open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    r.max_fds = std::fs::read_to_string("/proc/self/limits").ok().and_then(|l| parse_max_fds(&l));
    Some(r)
}

#[cfg(not(target_os = "linux"))]
fn read() -> Option<Reading> {
    None
}

/// Updates the `process_*` families from the process's current state.
pub(crate) fn refresh() {
    let Some(r) = read() else { return };
    let gauge = |b: &'static names::Builtin, v: f64| {
        if let Some(g) = builtin_gauge(b, &[]) {
            g.set(v);
        }
    };
    gauge(&names::PROCESS_RESIDENT, r.resident_bytes as f64);
    gauge(&names::PROCESS_VIRTUAL, r.virtual_bytes as f64);
    gauge(&names::PROCESS_OPEN_FDS, r.open_fds as f64);
    if let Some(max) = r.max_fds {
        gauge(&names::PROCESS_MAX_FDS, max as f64);
    }
    gauge(&names::PROCESS_THREADS, r.threads as f64);
    gauge(&names::PROCESS_START_TIME, r.start_time_s);
    // A counter only goes up: add what was used since the last read (two
    // exporters reading at once add each microsecond once).
    let before = CPU_US.fetch_max(r.cpu_us, Ordering::Relaxed);
    if r.cpu_us > before {
        builtin_counter(&names::PROCESS_CPU, &[]).increment(r.cpu_us - before);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_after_the_command_name() {
        // A command name with spaces and a parenthesis, as /proc allows.
        let stat = "4242 (my (agent) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 50 0 0 20 0 7 0 1000 \
                    123456789 2048 18446744073709551615";
        let r = parse_stat(stat, 100, 4096, 1_700_000_000).unwrap();
        assert_eq!(r.cpu_us, 2_000_000);
        assert_eq!(r.threads, 7);
        assert_eq!(r.start_time_s, 1_700_000_010.0);
        assert_eq!(r.virtual_bytes, 123_456_789);
        assert_eq!(r.resident_bytes, 2048 * 4096);
        assert_eq!(parse_stat("garbage", 100, 4096, 0), None);
        assert_eq!(parse_stat("1 (x) S", 100, 4096, 0), None);
    }

    #[test]
    fn max_open_files_is_the_soft_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024));
        assert_eq!(parse_max_fds("Max open files            unlimited            unlimited            files"), None);
    }
}
