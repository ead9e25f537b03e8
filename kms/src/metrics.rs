//! Counters for calls into a key provider, readable as a plain snapshot.
//!
//! The proxy's metrics exporter reads [`MetricsSnapshot`]s and owns the naming and format;
//! nothing here depends on a metrics library. Counters are relaxed atomics: a snapshot taken
//! while calls are in flight may be off by those calls, never by more.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds: 1 ms to 10 s.
const BUCKET_BOUNDS_US: [u64; 12] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    10_000_000,
];

/// The operations counted separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Generate,
    Unwrap,
    Rewrap,
}

/// Live counters, updated by a caching provider.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    ops: [OpCounters; 3],
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    /// One more than the bounds: the last counts calls slower than every bound.
    latency_buckets: [AtomicU64; BUCKET_BOUNDS_US.len() + 1],
}

#[derive(Debug, Default)]
struct OpCounters {
    calls: AtomicU64,
    errors: AtomicU64,
}

/// Calls and failures of one operation, as made to the wrapped provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpStats {
    pub calls: u64,
    pub errors: u64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Calls made to the wrapped provider, by operation.
    pub generate: OpStats,
    pub unwrap: OpStats,
    pub rewrap: OpStats,
    /// Unwraps answered without calling the wrapped provider (including those that waited
    /// for another task's call of the same key).
    pub cache_hits: u64,
    /// Unwraps that called the wrapped provider.
    pub cache_misses: u64,
    /// Data keys held at the moment of the snapshot (approximate, as the cache reports it).
    pub cache_entries: u64,
    /// Latency of calls to the wrapped provider.
    pub latency: LatencySnapshot,
}

/// A latency histogram in the cumulative form Prometheus expects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencySnapshot {
    pub count: u64,
    pub sum: Duration,
    /// `(bound, calls no slower than bound)`, bounds ascending; `count` is the `+Inf` bucket.
    pub buckets: Vec<(Duration, u64)>,
}

impl Metrics {
    pub(crate) fn record(&self, op: Op, took: Duration, ok: bool) {
        let counters = &self.ops[op as usize];
        counters.calls.fetch_add(1, Ordering::Relaxed);
        if !ok {
            counters.errors.fetch_add(1, Ordering::Relaxed);
        }
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKET_BOUNDS_US.partition_point(|&bound| bound < us);
        self.latency_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(us, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn miss(&self) {
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, cache_entries: u64) -> MetricsSnapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let op = |o: Op| OpStats {
            calls: load(&self.ops[o as usize].calls),
            errors: load(&self.ops[o as usize].errors),
        };
        MetricsSnapshot {
            generate: op(Op::Generate),
            unwrap: op(Op::Unwrap),
            rewrap: op(Op::Rewrap),
            cache_hits: load(&self.cache_hits),
            cache_misses: load(&self.cache_misses),
            cache_entries,
            latency: self.latency(),
        }
    }

    fn latency(&self) -> LatencySnapshot {
        let mut running = 0;
        let buckets = BUCKET_BOUNDS_US
            .iter()
            .zip(&self.latency_buckets)
            .map(|(&bound, count)| {
                running += count.load(Ordering::Relaxed);
                (Duration::from_micros(bound), running)
            })
            .collect();
        LatencySnapshot {
            count: self.latency_count.load(Ordering::Relaxed),
            sum: Duration::from_micros(self.latency_sum_us.load(Ordering::Relaxed)),
            buckets,
        }
    }
}

impl MetricsSnapshot {
    /// Calls made to the wrapped provider, of every kind.
    pub fn inner_calls(&self) -> u64 {
        self.generate.calls + self.unwrap.calls + self.rewrap.calls
    }

    /// The counters of two layers over one service, added up.
    pub fn combined(&self, other: &Self) -> Self {
        let op = |a: OpStats, b: OpStats| OpStats {
            calls: a.calls + b.calls,
            errors: a.errors + b.errors,
        };
        let buckets = self
            .latency
            .buckets
            .iter()
            .zip(&other.latency.buckets)
            .map(|(&(bound, a), &(_, b))| (bound, a + b))
            .collect();
        Self {
            generate: op(self.generate, other.generate),
            unwrap: op(self.unwrap, other.unwrap),
            rewrap: op(self.rewrap, other.rewrap),
            cache_hits: self.cache_hits + other.cache_hits,
            cache_misses: self.cache_misses + other.cache_misses,
            cache_entries: self.cache_entries + other.cache_entries,
            latency: LatencySnapshot {
                count: self.latency.count + other.latency.count,
                sum: self.latency.sum + other.latency.sum,
                buckets,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_land_in_cumulative_buckets() {
        let m = Metrics::default();
        m.record(Op::Unwrap, Duration::from_micros(800), true);
        m.record(Op::Unwrap, Duration::from_millis(30), false);
        m.record(Op::Generate, Duration::from_secs(60), true);
        let s = m.snapshot(0);
        assert_eq!(
            s.unwrap,
            OpStats {
                calls: 2,
                errors: 1
            }
        );
        assert_eq!(
            s.generate,
            OpStats {
                calls: 1,
                errors: 0
            }
        );
        assert_eq!(s.inner_calls(), 3);
        assert_eq!(s.latency.count, 3);
        assert_eq!(s.latency.sum, Duration::from_micros(60_030_800));
        let le = |ms: u64| {
            let bound = Duration::from_millis(ms);
            s.latency
                .buckets
                .iter()
                .find(|(b, _)| *b == bound)
                .map(|(_, n)| *n)
        };
        assert_eq!(le(1), Some(1));
        assert_eq!(le(25), Some(1));
        assert_eq!(le(50), Some(2));
        assert_eq!(le(10_000), Some(2));

        let both = s.combined(&s);
        assert_eq!((both.inner_calls(), both.unwrap.errors), (6, 2));
        assert_eq!(both.latency.count, 6);
        assert_eq!(both.latency.buckets[0], (Duration::from_millis(1), 2));
    }
}
