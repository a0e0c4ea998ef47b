//! Latency histograms (HDR, nanosecond values) and their serializable summaries.
//!
//! The loop records two values per poll at `Level::Timing`. `hdrhistogram`'s `record`
//! costs about 58 instructions (measured with callgrind), more than the rest of a
//! yield, so the hot path counts into fixed log-linear buckets (32 per power of two,
//! 3 % resolution: a shift, a leading-zero count and an add) and the buckets are
//! folded into an `hdrhistogram::Histogram` when a summary is asked for.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The largest value a histogram tracks exactly: one hour. Longer values are clamped.
const MAX_NANOS: u64 = 3_600_000_000_000;

/// A histogram of durations in nanoseconds: log-linear buckets with 3 % resolution
/// (15 KiB), summarized through an HDR histogram (values above one hour are clamped).
///
/// ```
/// use std::time::Duration;
/// let mut h = turnstile_probes::LatencyHistogram::new();
/// h.record(1_000);
/// h.record(3_000);
/// let s = h.summary();
/// assert_eq!(s.count, 2);
/// assert!((2_900..=3_100).contains(&s.max_ns)); // within the 3 % resolution
/// ```
#[derive(Clone)]
pub struct LatencyHistogram {
    /// Counts per bucket: values below 32 exactly, then 32 buckets per power of two.
    buckets: Box<[u64; BUCKETS]>,
}

/// Sub-buckets per power of two (a power of two itself).
const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
/// Exact buckets for 0..SUB, then SUB per power of two from 2^SUB_BITS to 2^63.
const BUCKETS: usize = SUB + (64 - SUB_BITS as usize) * SUB;

impl fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.buckets.iter().sum::<u64>())
            .finish()
    }
}

/// The bucket of `v`.
#[inline(always)]
fn bucket(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS
    let sub = (v >> (exp - SUB_BITS)) as usize & (SUB - 1);
    SUB + (exp - SUB_BITS) as usize * SUB + sub
}

/// The middle of bucket `i`: what its values are recorded as (within 1.6 %).
fn bucket_mid(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let exp = (i - SUB) / SUB + SUB_BITS as usize;
    bucket_low(i) + (1u64 << (exp - SUB_BITS as usize) >> 1)
}

/// The smallest value in bucket `i`.
fn bucket_low(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let exp = (i - SUB) / SUB + SUB_BITS as usize;
    let sub = ((i - SUB) % SUB) as u64;
    (1u64 << exp) | (sub << (exp - SUB_BITS as usize))
}

impl LatencyHistogram {
    /// An empty histogram.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::LatencyHistogram::new().summary().count, 0);
    /// ```
    pub fn new() -> Self {
        LatencyHistogram {
            buckets: Box::new([0; BUCKETS]),
        }
    }

    /// Records one value in nanoseconds (clamped to the tracked range).
    ///
    /// ```
    /// let mut h = turnstile_probes::LatencyHistogram::new();
    /// h.record(0);
    /// assert_eq!(h.summary().count, 1);
    /// ```
    #[inline]
    pub fn record(&mut self, nanos: u64) {
        self.buckets[bucket(nanos)] += 1;
    }

    /// Count, extremes, mean and percentiles.
    ///
    /// ```
    /// let mut h = turnstile_probes::LatencyHistogram::new();
    /// for v in 1..=100 { h.record(v * 1000); }
    /// let s = h.summary();
    /// assert!((48_000..=52_000).contains(&s.p50_ns));
    /// ```
    pub fn summary(&self) -> LatencySummary {
        self.summary_scaled(|v| v)
    }

    /// The summary of a histogram recorded in other units (the clock's raw ticks),
    /// converted to nanoseconds bucket by bucket with `to_nanos`.
    pub(crate) fn summary_scaled(&self, to_nanos: impl Fn(u64) -> u64) -> LatencySummary {
        let mut h = Histogram::<u64>::new_with_bounds(1, MAX_NANOS, 2)
            .expect("static histogram bounds are valid");
        let mut buckets = BucketCounts::default();
        for (i, &n) in self.buckets.iter().enumerate() {
            if n > 0 {
                let v = to_nanos(bucket_mid(i));
                h.saturating_record_n(v.clamp(1, MAX_NANOS), n);
                buckets.add(v, n);
            }
        }
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            buckets,
            count: h.len(),
            min_ns: h.min(),
            p50_ns: h.value_at_quantile(0.50),
            p90_ns: h.value_at_quantile(0.90),
            p99_ns: h.value_at_quantile(0.99),
            max_ns: h.max(),
            mean_ns: h.mean().round() as u64,
        }
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram::new()
    }
}

/// A histogram's summary. Values are nanoseconds, within the histogram's 3 % resolution.
///
/// ```
/// let s = turnstile_probes::LatencySummary::default();
/// assert_eq!(s.to_string(), "-");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LatencySummary {
    /// Values recorded.
    pub count: u64,
    /// The smallest value.
    pub min_ns: u64,
    /// The median.
    pub p50_ns: u64,
    /// The 90th percentile.
    pub p90_ns: u64,
    /// The 99th percentile.
    pub p99_ns: u64,
    /// The largest value.
    pub max_ns: u64,
    /// The mean.
    pub mean_ns: u64,
    /// The same values counted between the fixed bounds of [`BUCKET_BOUNDS_NS`], for
    /// exporters (Prometheus' `le` buckets). Absent from snapshots saved before it was
    /// added (read back as zeros).
    #[serde(default)]
    pub buckets: BucketCounts,
}

/// The upper bounds of [`BucketCounts`]' buckets, in nanoseconds: 1, 2.5 and 5 per
/// decade from 100 ns to 10 s (Prometheus' default ladder, extended down to where
/// polls are measured). A bucket holds the values above the previous bound and up to
/// its own, which matches Prometheus' `le` ("less than or equal").
pub const BUCKET_BOUNDS_NS: [u64; BUCKET_BOUNDS] = {
    let mut bounds = [0; BUCKET_BOUNDS];
    let mut decade = 100;
    let mut i = 0;
    while i < BUCKET_BOUNDS {
        bounds[i] = decade;
        if i + 1 < BUCKET_BOUNDS {
            bounds[i + 1] = decade * 5 / 2;
            bounds[i + 2] = decade * 5;
        }
        decade *= 10;
        i += 3;
    }
    bounds
};

/// How many bounds [`BUCKET_BOUNDS_NS`] has (eight decades of three, and 10 s).
pub const BUCKET_BOUNDS: usize = 25;

/// A histogram's values counted between the bounds of [`BUCKET_BOUNDS_NS`], with their
/// sums, so that an exporter can hand on exact counts instead of re-sampling
/// percentiles.
///
/// The counts are exact: every value recorded is in exactly one bucket, and the counts
/// add up to the summary's `count`. Where a value falls is decided by the histogram's
/// own bucket, whose middle stands for it, so a value within the histogram's 3 %
/// resolution of a bound may be counted on either side of it.
///
/// ```
/// let mut h = turnstile_probes::LatencyHistogram::new();
/// h.record(80); // at most 100 ns
/// h.record(2_000_000); // at most 2.5 ms
/// let b = h.summary().buckets;
/// assert_eq!(b.cumulative()[0], 1); // le 100 ns
/// assert_eq!(b.cumulative()[13], 2); // le 2.5 ms
/// assert_eq!(b.total(), 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BucketCounts {
    /// Values in each bucket: `counts[i]` are above bound `i - 1` and at most bound `i`;
    /// the last entry counts the values above the largest bound.
    pub counts: [u64; BUCKET_BOUNDS + 1],
    /// The sum of each bucket's values in nanoseconds (each value taken as the middle
    /// of the histogram bucket it was recorded in), saturating.
    pub sums_ns: [u64; BUCKET_BOUNDS + 1],
}

impl BucketCounts {
    /// Counts `n` values of `nanos` in their bucket.
    ///
    /// ```
    /// let mut b = turnstile_probes::BucketCounts::default();
    /// b.add(100, 2); // le 100 ns: the bound itself is inside
    /// b.add(101, 1);
    /// assert_eq!((b.counts[0], b.counts[1], b.sums_ns[0]), (2, 1, 200));
    /// ```
    pub fn add(&mut self, nanos: u64, n: u64) {
        let i = BUCKET_BOUNDS_NS.partition_point(|&bound| bound < nanos);
        self.counts[i] += n;
        self.sums_ns[i] = self.sums_ns[i].saturating_add(nanos.saturating_mul(n));
    }

    /// Values in all buckets.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::BucketCounts::default().total(), 0);
    /// ```
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Prometheus' view: entry `i` counts the values at most bound `i`; the last entry
    /// (`+Inf`) is the total.
    ///
    /// ```
    /// let mut b = turnstile_probes::BucketCounts::default();
    /// b.add(20_000_000_000, 1); // 20 s: above every bound
    /// assert_eq!(b.cumulative()[24], 0);
    /// assert_eq!(b.cumulative()[25], 1);
    /// ```
    pub fn cumulative(&self) -> [u64; BUCKET_BOUNDS + 1] {
        let mut total = 0;
        self.counts.map(|n| {
            total += n;
            total
        })
    }
}

impl LatencySummary {
    /// The largest value as a `Duration`.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::LatencySummary::default().max(), std::time::Duration::ZERO);
    /// ```
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }
}

/// Prints a nanosecond count with a unit that fits it.
pub(crate) fn nanos(ns: u64) -> String {
    format!("{:.1?}", Duration::from_nanos(ns))
}

impl fmt::Display for LatencySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.count == 0 {
            return f.write_str("-");
        }
        write!(
            f,
            "n={} min {} p50 {} p90 {} p99 {} max {} mean {}",
            self.count,
            nanos(self.min_ns),
            nanos(self.p50_ns),
            nanos(self.p90_ns),
            nanos(self.p99_ns),
            nanos(self.max_ns),
            nanos(self.mean_ns)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values_within_3_percent() {
        for v in [
            0u64,
            1,
            31,
            32,
            33,
            63,
            64,
            1000,
            123_456,
            10_000_000,
            u64::MAX / 3,
        ] {
            let low = bucket_low(bucket(v));
            assert!(low <= v, "{v}: bucket starts at {low}");
            assert!(v - low <= v / 32, "{v}: bucket starts at {low}");
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn bucket_bounds_run_from_100_ns_to_10_s() {
        assert_eq!(BUCKET_BOUNDS_NS[..4], [100, 250, 500, 1_000]);
        assert_eq!(BUCKET_BOUNDS_NS[BUCKET_BOUNDS - 1], 10_000_000_000);
        assert!(BUCKET_BOUNDS_NS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn bucket_counts_add_up_to_the_summary_count() {
        let mut h = LatencyHistogram::new();
        for v in (0..5_000u64).map(|i| i * i * 997) {
            h.record(v);
        }
        let s = h.summary();
        assert_eq!(s.buckets.total(), s.count);
        assert_eq!(s.buckets.cumulative()[BUCKET_BOUNDS], 5_000);
    }
}
