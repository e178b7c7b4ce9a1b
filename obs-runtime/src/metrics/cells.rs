//! Sharded metric cells: the storage the hot path writes to.
//!
//! Every series owns `shards()` cache-line-aligned slots; a thread always
//! writes to the slot picked for it on its first record, so two threads
//! recording into one series do not write to the same cache line (the
//! `metrics` crate's single shared atomic costs 2.7x under contention).
//! Readers (the scrape) sum the slots. Writes are relaxed atomic adds: no
//! lock, no allocation. This module must not allocate after a series exists.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::OnceLock;

/// Words per 128-byte line (two x86 cache lines, to defeat the adjacent-line prefetcher).
const WORDS: usize = 16;

#[repr(align(128))]
struct Line([AtomicU64; WORDS]);

impl Line {
    fn new() -> Self {
        Line(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

/// Number of shards per series: a power of two, about twice the cores.
pub(crate) fn shards() -> usize {
    static SHARDS: OnceLock<usize> = OnceLock::new();
    *SHARDS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(4, |n| n.get());
        (cpus * 2).next_power_of_two().clamp(2, 64)
    })
}

/// The shard of the calling thread, assigned round-robin on first use.
#[inline]
pub(crate) fn shard() -> usize {
    thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    SHARD.with(|s| {
        let v = s.get();
        if v != usize::MAX {
            return v;
        }
        let v = NEXT.fetch_add(1, Relaxed) & (shards() - 1);
        s.set(v);
        v
    })
}

/// `width` u64 cells per shard, each shard starting on its own line.
struct Sharded {
    lines: Box<[Line]>,
    lines_per_shard: usize,
}

impl Sharded {
    fn new(width: usize) -> Self {
        let lines_per_shard = width.div_ceil(WORDS).max(1);
        let lines = (0..lines_per_shard * shards()).map(|_| Line::new()).collect();
        Sharded { lines, lines_per_shard }
    }

    #[inline(always)]
    fn cell(&self, shard: usize, i: usize) -> &AtomicU64 {
        // `shard < shards()` (masked in `shard()`) and `i < width` (fixed by the
        // caller's status and bucket arithmetic), so the index is in range; a
        // bounds check is a compare, where a modulo here cost a division per cell.
        &self.lines[shard * self.lines_per_shard + i / WORDS].0[i % WORDS]
    }

    fn sum(&self, i: usize) -> u64 {
        (0..shards()).fold(0u64, |acc, s| acc.wrapping_add(self.cell(s, i).load(Relaxed)))
    }
}

/// A monotonically increasing counter.
pub struct CounterCells(Sharded);

impl CounterCells {
    pub(crate) fn new() -> Self {
        CounterCells(Sharded::new(1))
    }
    /// Adds `n` from the calling thread's shard.
    #[inline]
    pub fn add(&self, shard: usize, n: u64) {
        self.0.cell(shard, 0).fetch_add(n, Relaxed);
    }
    /// The current total over all shards.
    pub fn get(&self) -> u64 {
        self.0.sum(0)
    }
}

/// A gauge that is changed by increments (for example calls in flight).
/// Shards may go negative individually; their wrapping sum is exact.
pub struct UpDownCells(Sharded);

impl UpDownCells {
    pub(crate) fn new() -> Self {
        UpDownCells(Sharded::new(1))
    }
    #[inline]
    pub fn add(&self, shard: usize, n: i64) {
        self.0.cell(shard, 0).fetch_add(n as u64, Relaxed);
    }
    pub fn get(&self) -> i64 {
        self.0.sum(0) as i64
    }
}

/// A gauge that is set to absolute values (f64 bits in one atomic: gauges that
/// are set are not hot, and a set cannot be sharded).
pub struct GaugeCells(AtomicU64);

impl GaugeCells {
    pub(crate) fn new() -> Self {
        GaugeCells(AtomicU64::new(0f64.to_bits()))
    }
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Relaxed);
    }
    pub fn add(&self, d: f64) {
        let _ = self.0.fetch_update(Relaxed, Relaxed, |b| Some((f64::from_bits(b) + d).to_bits()));
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Relaxed))
    }
}

/// How a histogram's sum is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SumMode {
    /// Integer values (nanoseconds, tokens): the sum is an exact integer add.
    Integer,
    /// Arbitrary f64 values (users' own histograms): the sum is a CAS on f64 bits.
    Float,
}

/// A histogram with fixed bucket boundaries.
///
/// Per shard: `[count, sum, bucket_0 .. bucket_n-1]`, bucket `i` counting the
/// values `<= bounds[i]` and `> bounds[i-1]`; the `+Inf` bucket is `count`.
pub struct HistogramCells {
    cells: Sharded,
    /// Upper bounds in the exported unit (seconds, tokens).
    bounds: &'static [f64],
    /// The same bounds in integer units (`bounds / scale`), for integer records.
    int_bounds: Box<[u64]>,
    /// Exported value = integer value * scale (1e-9 for nanoseconds).
    scale: f64,
    mode: SumMode,
}

impl HistogramCells {
    pub(crate) fn new(bounds: &'static [f64], scale: f64, mode: SumMode) -> Self {
        let int_bounds = bounds.iter().map(|b| (b / scale).round() as u64).collect();
        HistogramCells { cells: Sharded::new(2 + bounds.len()), bounds, int_bounds, scale, mode }
    }

    /// Records an integer value (in the histogram's integer unit).
    #[inline]
    pub fn record_int(&self, shard: usize, v: u64) {
        let b = self.int_bounds.partition_point(|&ub| ub < v);
        self.cells.cell(shard, 0).fetch_add(1, Relaxed);
        match self.mode {
            SumMode::Integer => {
                self.cells.cell(shard, 1).fetch_add(v, Relaxed);
            }
            SumMode::Float => self.add_float_sum(shard, v as f64 * self.scale),
        }
        if b < self.bounds.len() {
            self.cells.cell(shard, 2 + b).fetch_add(1, Relaxed);
        }
    }

    /// Records a value in the exported unit. NaN is ignored.
    pub fn record_f64(&self, shard: usize, v: f64) {
        if v.is_nan() {
            return;
        }
        match self.mode {
            SumMode::Integer => {
                let iv = if v <= 0.0 { 0 } else { (v / self.scale).round() as u64 };
                self.record_int(shard, iv);
            }
            SumMode::Float => {
                let b = self.bounds.partition_point(|&ub| ub < v);
                self.cells.cell(shard, 0).fetch_add(1, Relaxed);
                self.add_float_sum(shard, v);
                if b < self.bounds.len() {
                    self.cells.cell(shard, 2 + b).fetch_add(1, Relaxed);
                }
            }
        }
    }

    fn add_float_sum(&self, shard: usize, v: f64) {
        let _ = self.cells.cell(shard, 1).fetch_update(Relaxed, Relaxed, |b| Some((f64::from_bits(b) + v).to_bits()));
    }

    /// A consistent-enough copy for export: per-bucket (non-cumulative) counts.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let buckets: Vec<u64> = (0..self.bounds.len()).map(|i| self.cells.sum(2 + i)).collect();
        let in_buckets: u64 = buckets.iter().sum();
        // Shards are read one after another while writers go on: never let the
        // count fall below the finite buckets, so cumulative counts stay monotone.
        let count = self.cells.sum(0).max(in_buckets);
        let sum = match self.mode {
            SumMode::Integer => self.cells.sum(1) as f64 * self.scale,
            SumMode::Float => (0..shards()).map(|s| f64::from_bits(self.cells.cell(s, 1).load(Relaxed))).sum(),
        };
        HistogramSnapshot { bounds: self.bounds, buckets, count, sum }
    }
}

/// A point-in-time copy of a histogram.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSnapshot {
    /// Upper bounds of the finite buckets.
    pub bounds: &'static [f64],
    /// Non-cumulative count per finite bucket.
    pub buckets: Vec<u64>,
    /// Number of observations (the `+Inf` bucket).
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
}

impl HistogramSnapshot {
    /// Estimates quantile `q` (0..=1) by linear interpolation inside the
    /// bucket, as Prometheus' `histogram_quantile` does. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * self.count as f64;
        let mut seen = 0u64;
        for (i, &n) in self.buckets.iter().enumerate() {
            if n > 0 && (seen + n) as f64 >= rank {
                let lo = if i == 0 { 0.0 } else { self.bounds[i - 1] };
                let hi = self.bounds[i];
                return Some(lo + (hi - lo) * ((rank - seen as f64) / n as f64));
            }
            seen += n;
        }
        // In the +Inf bucket: the best bound we know is the largest finite one.
        self.bounds.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_le_and_sum_is_exact() {
        static B: [f64; 3] = [0.1, 1.0, 10.0];
        let h = HistogramCells::new(&B, 1e-9, SumMode::Integer);
        for ns in [50_000_000u64, 100_000_000, 100_000_001, 20_000_000_000] {
            h.record_int(shard(), ns);
        }
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![2, 1, 0]);
        assert_eq!(s.count, 4);
        assert!((s.sum - 20.250000001).abs() < 1e-12);
    }

    #[test]
    fn counters_sum_over_shards() {
        let c = CounterCells::new();
        for s in 0..shards() {
            c.add(s, 2);
        }
        assert_eq!(c.get(), 2 * shards() as u64);
        let g = UpDownCells::new();
        g.add(0, 1);
        g.add(shards() - 1, -1);
        g.add(0, 1);
        assert_eq!(g.get(), 1);
    }

    #[test]
    fn quantile_interpolates_like_prometheus() {
        static B: [f64; 4] = [1.0, 2.0, 4.0, 8.0];
        let s = HistogramSnapshot { bounds: &B, buckets: vec![0, 10, 10, 0], count: 20, sum: 0.0 };
        assert_eq!(s.quantile(0.5), Some(2.0));
        assert_eq!(s.quantile(0.75), Some(3.0));
        assert_eq!(s.quantile(0.25), Some(1.5));
    }
}
