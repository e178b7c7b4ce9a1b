//! Throughput of the free-text detectors (`redact::scan`) on prompt-sized
//! input, in bytes per second, against baselines over the same bytes in the
//! same run:
//!
//! * `baseline_count_at`: counting the `@` bytes, the floor of any scan that
//!   looks at every byte (the compiler vectorises it).
//! * `baseline_count_sk`: `str::matches("sk-").count()`, one substring
//!   searched over the whole input.
//! * `baseline_regex_set`: the same detectors written as one `regex::RegexSet`
//!   (prefix-anchored patterns, no Luhn or mod-97 checks), the obvious
//!   alternative design, matched once over the input.
//! * `scan`: the detectors, on ordinary text (`clean`: nothing found, the
//!   input is borrowed back) and on the same text with a secret of every kind
//!   every ~500 bytes (`secrets`: replaced, counted).
//!
//! The text is `tests/tests/data/ordinary_prose.txt` (prose, numbers, dates, ids,
//! hashes, URLs), repeated to 4 KiB and 64 KiB. Run with
//! `cargo bench -p obs-runtime --bench redact`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const PROSE: &str = include_str!("../../tests/tests/data/ordinary_prose.txt");

const SECRETS: &[&str] = &[
    "bob.smith@example.com",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "Bearer abcdef123456.xyz",
    "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_0123456789abcdefghijABCDEFGHIJ012345",
    "xoxb-123456789012-abcdefABCDEF",
    "AIzaSyA-0123456789abcdefghijklmnopqrstu",
    "password=hunter2",
    "postgres://app:hunter2-pass@db:5432/shop",
    "Authorization: Basic dXNlcjpwYXNz",
];

fn text(size: usize, with_secrets: bool) -> String {
    let mut out = String::with_capacity(size + 256);
    let mut next_secret = 0;
    for line in PROSE.lines().cycle() {
        if out.len() >= size {
            break;
        }
        out.push_str(line);
        out.push('\n');
        if with_secrets && out.len() / 500 > next_secret {
            out.push_str("note: ");
            out.push_str(SECRETS[next_secret % SECRETS.len()]);
            out.push('\n');
            next_secret += 1;
        }
    }
    let mut cut = size.min(out.len());
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out
}

fn regex_set() -> regex::RegexSet {
    regex::RegexSet::new([
        r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        r"\b(?:\d[ -]?){13,19}\b",
        r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        r"\beyJ[A-Za-z0-9_-]+\.ey[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
        r"(?i)\bbearer[ \t]+[A-Za-z0-9._~+/=-]{12,}",
        r"\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}",
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        r"\bgh[pousr]_[A-Za-z0-9]{36,}|\bgithub_pat_[A-Za-z0-9_]{22,}",
        r"\bxox[abeprs]-[A-Za-z0-9-]{10,}",
        r"\bAIza[A-Za-z0-9_-]{35,}",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
        r"(?i)(?:password|secret|token|api_?key)\s*=\s*\S+",
        r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s@:]*:[^/?#\s@]+@",
        r"(?i)\bbasic[ \t]+[A-Za-z0-9+/]{8,}=*",
    ])
    .expect("valid baseline patterns")
}

fn bench(c: &mut Criterion) {
    let set = regex_set();
    let mut g = c.benchmark_group("redact");
    for size in [4 * 1024, 64 * 1024] {
        for (label, secrets) in [("clean", false), ("secrets", true)] {
            let input = text(size, secrets);
            let id = format!("{}KiB_{label}", size / 1024);
            g.throughput(Throughput::Bytes(input.len() as u64));
            g.bench_with_input(BenchmarkId::new("baseline_count_at", &id), &input, |b, t| {
                b.iter(|| black_box(t.as_str()).bytes().filter(|&c| c == b'@').count())
            });
            g.bench_with_input(BenchmarkId::new("baseline_count_sk", &id), &input, |b, t| {
                b.iter(|| black_box(t.as_str()).matches("sk-").count())
            });
            g.bench_with_input(BenchmarkId::new("baseline_regex_set", &id), &input, |b, t| {
                b.iter(|| set.matches(black_box(t.as_str())).matched_any())
            });
            g.bench_with_input(BenchmarkId::new("scan", &id), &input, |b, t| {
                b.iter(|| obs_runtime::redact::scan(black_box(t.as_str())).len())
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
