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

    /// The lines of one shard: a histogram record takes them once, then
    /// indexes its sum, extremes and bucket inside (one bounds check).
    #[inline(always)]
    fn shard(&self, shard: usize) -> &[Line] {
        let start = shard * self.lines_per_shard;
        &self.lines[start..start + self.lines_per_shard]
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
/// Per shard: `[sum, min, max, bucket_0 .. bucket_n-1, over]`, bucket
/// `i` counting the values `<= bounds[i]` and `> bounds[i-1]`, `over` the
/// values above the last bound. A record is one bucket add and one sum add:
/// the count is the buckets' total, read by the exporter, so no third atomic
/// add keeps it. `min` and `max` are what keeps a quantile estimate inside the
/// values really observed: each is a relaxed load on the line the sum is
/// written to, and a write only when the value is a new extreme of
/// the shard (rare once a series is warm).
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
        // The finite buckets and the one above the last bound.
        let cells = Sharded::new(FIRST_BUCKET + bounds.len() + 1);
        for s in 0..shards() {
            cells.cell(s, MIN).store(u64::MAX, Relaxed);
        }
        HistogramCells { cells, bounds, int_bounds, scale, mode }
    }

    /// Keeps the shard's minimum and maximum (integer values, or f64 values
    /// as order-preserving keys, see [`f64_key`]).
    #[inline(always)]
    fn extremes(&self, shard: usize, key: u64) {
        let min = self.cells.cell(shard, MIN);
        if key < min.load(Relaxed) {
            min.fetch_min(key, Relaxed);
        }
        let max = self.cells.cell(shard, MAX);
        if key > max.load(Relaxed) {
            max.fetch_max(key, Relaxed);
        }
    }

    /// Records an integer value (in the histogram's integer unit).
    #[inline]
    pub fn record_int(&self, shard: usize, v: u64) {
        // `b == bounds.len()` is the bucket above the last bound.
        let b = self.int_bounds.partition_point(|&ub| ub < v);
        let lines = self.cells.shard(shard);
        let i = FIRST_BUCKET + b;
        // `i < width` (the bucket arithmetic): both lines exist.
        let (Some(first), Some(bucket)) = (lines.first(), lines.get(i / WORDS)) else { return };
        bucket.0[i % WORDS].fetch_add(1, Relaxed);
        match self.mode {
            SumMode::Integer => {
                // The sum and the extremes share the shard's first line.
                first.0[SUM].fetch_add(v, Relaxed);
                let (min, max) = (&first.0[MIN], &first.0[MAX]);
                if v < min.load(Relaxed) {
                    min.fetch_min(v, Relaxed);
                }
                if v > max.load(Relaxed) {
                    max.fetch_max(v, Relaxed);
                }
            }
            SumMode::Float => {
                let f = v as f64 * self.scale;
                self.add_float_sum(shard, f);
                self.extremes(shard, f64_key(f));
            }
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
                self.cells.cell(shard, FIRST_BUCKET + b).fetch_add(1, Relaxed);
                self.add_float_sum(shard, v);
                self.extremes(shard, f64_key(v));
            }
        }
    }

    fn add_float_sum(&self, shard: usize, v: f64) {
        let _ = self.cells.cell(shard, SUM).fetch_update(Relaxed, Relaxed, |b| Some((f64::from_bits(b) + v).to_bits()));
    }

    /// A consistent-enough copy for export: per-bucket (non-cumulative) counts.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let buckets: Vec<u64> = (0..self.bounds.len()).map(|i| self.cells.sum(FIRST_BUCKET + i)).collect();
        // The count is every bucket's, the one above the last bound included,
        // so cumulative counts are monotone however writers interleave.
        let count = buckets.iter().sum::<u64>() + self.cells.sum(FIRST_BUCKET + self.bounds.len());
        let sum = match self.mode {
            SumMode::Integer => self.cells.sum(SUM) as f64 * self.scale,
            SumMode::Float => (0..shards()).map(|s| f64::from_bits(self.cells.cell(s, SUM).load(Relaxed))).sum(),
        };
        let min = (0..shards()).map(|s| self.cells.cell(s, MIN).load(Relaxed)).min().unwrap_or(u64::MAX);
        let max = (0..shards()).map(|s| self.cells.cell(s, MAX).load(Relaxed)).max().unwrap_or(0);
        // A shard that counted a value but has not stored its extreme yet
        // leaves `min > max`: no range is reported then, rather than a wrong one.
        let (min, max) = match self.mode {
            _ if count == 0 || min == u64::MAX || min > max => (None, None),
            SumMode::Integer => (Some(min as f64 * self.scale), Some(max as f64 * self.scale)),
            SumMode::Float => (Some(f64_from_key(min)), Some(f64_from_key(max))),
        };
        HistogramSnapshot { bounds: self.bounds, buckets, count, sum, min, max }
    }
}

/// Cell indexes of a histogram shard.
const SUM: usize = 0;
const MIN: usize = 1;
const MAX: usize = 2;
const FIRST_BUCKET: usize = 3;

/// An f64 as a u64 whose unsigned order is the f64's order (negative values
/// have their bits inverted, positive ones their sign bit set), so the
/// extremes of f64 histograms use the same `fetch_min`/`fetch_max`.
#[inline(always)]
fn f64_key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

fn f64_from_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
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
    /// The smallest value observed (`None` when empty).
    pub min: Option<f64>,
    /// The largest value observed (`None` when empty).
    pub max: Option<f64>,
}

impl HistogramSnapshot {
    /// How [`quantile`](Self::quantile) estimates, for output that shows it.
    pub const QUANTILE_METHOD: &'static str = "estimated from the histogram buckets by linear interpolation \
        inside the bucket holding the rank (as PromQL's histogram_quantile()), with the bucket narrowed to the \
        observed minimum and maximum, so an estimate never lies outside the values seen";

    /// Estimates quantile `q` (0..=1) by linear interpolation inside the
    /// bucket that holds its rank, as Prometheus' `histogram_quantile` does,
    /// except that the bucket is first narrowed to the observed minimum and
    /// maximum: an estimate never lies outside the values really observed
    /// (one call of 3.84 s has every quantile at 3.84 s, where plain
    /// interpolation in the 2.5..5 s bucket says p95 = 4.88 s). `None` when
    /// empty.
    ///
    /// ```
    /// # use obs_runtime::metrics::HistogramSnapshot;
    /// static BOUNDS: [f64; 2] = [2.5, 5.0];
    /// let one_call = HistogramSnapshot {
    ///     bounds: &BOUNDS, buckets: vec![0, 1], count: 1, sum: 3.84, min: Some(3.84), max: Some(3.84),
    /// };
    /// assert_eq!(one_call.quantile(0.95), Some(3.84));
    /// ```
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let clamp = |v: f64| {
            let v = self.min.map_or(v, |m| v.max(m));
            self.max.map_or(v, |m| v.min(m))
        };
        let rank = q * self.count as f64;
        let mut seen = 0u64;
        for (i, &n) in self.buckets.iter().enumerate() {
            if n > 0 && (seen + n) as f64 >= rank {
                let lo = clamp(if i == 0 { 0.0f64.min(self.bounds[0]) } else { self.bounds[i - 1] });
                let hi = clamp(self.bounds[i]);
                return Some(clamp(lo + (hi - lo) * ((rank - seen as f64) / n as f64)));
            }
            seen += n;
        }
        // In the +Inf bucket: the largest value observed, or else the best
        // bound known, the largest finite one.
        self.max.or_else(|| self.bounds.last().copied())
    }

    /// Adds `other` (a histogram with the same bounds) into this one: counts,
    /// sums and the observed range.
    pub fn merge(&mut self, other: &HistogramSnapshot) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
        let pick = |a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            (a, b) => a.or(b),
        };
        self.min = pick(self.min, other.min, f64::min);
        self.max = pick(self.max, other.max, f64::max);
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
        let s = HistogramSnapshot {
            bounds: &B,
            buckets: vec![0, 10, 10, 0],
            count: 20,
            sum: 0.0,
            min: Some(1.0),
            max: Some(4.0),
        };
        assert_eq!(s.quantile(0.5), Some(2.0));
        assert_eq!(s.quantile(0.75), Some(3.0));
        assert_eq!(s.quantile(0.25), Some(1.5));
    }

    #[test]
    fn quantiles_stay_inside_the_observed_range() {
        // The example's case (issue 14): one agent call of 3.84 s, in the
        // 2.5..5 s bucket, was reported with p95 = 4.88 s.
        let h = HistogramCells::new(crate::metrics::names::AGENT_DURATION_BUCKETS, 1e-9, SumMode::Integer);
        // Nanoseconds scaled by 1e-9 may be off in the last bit.
        let close = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-9);
        h.record_int(shard(), 3_840_000_000);
        let s = h.snapshot();
        assert!(close(s.min, 3.84) && close(s.max, 3.84), "{s:?}");
        for q in [0.0, 0.5, 0.95, 0.99, 1.0] {
            assert!(close(s.quantile(q), 3.84), "q = {q}: {:?}", s.quantile(q));
        }
        // Two values in one bucket: interpolation between them, not the bounds.
        h.record_int(shard(), 3_000_000_000);
        let s = h.snapshot();
        assert!(close(s.min, 3.0) && close(s.max, 3.84), "{s:?}");
        assert!(close(s.quantile(0.5), 3.42), "{:?}", s.quantile(0.5));
        assert!(close(s.quantile(1.0), 3.84));
        // Past the last finite bound: the maximum, not the bound.
        h.record_int(shard(), 900_000_000_000);
        assert!(close(h.snapshot().quantile(1.0), 900.0));
        // Shards are merged: an extreme on another shard counts.
        let other = (shard() + 1) % shards();
        h.record_int(other, 1_000_000);
        assert!(close(h.snapshot().min, 0.001));
    }

    #[test]
    fn float_histograms_keep_negative_and_positive_extremes() {
        static B: [f64; 3] = [-1.0, 0.0, 1.0];
        let h = HistogramCells::new(&B, 1.0, SumMode::Float);
        for v in [0.5, -2.5, 0.25, f64::NAN] {
            h.record_f64(shard(), v);
        }
        let s = h.snapshot();
        assert_eq!((s.min, s.max, s.count), (Some(-2.5), Some(0.5), 3));
        let e = HistogramCells::new(&B, 1.0, SumMode::Float).snapshot();
        assert_eq!((e.min, e.max, e.quantile(0.5)), (None, None, None));
    }
}
