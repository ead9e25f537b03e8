//! Percentiles and medians.

use std::time::Duration;

/// The `q`-quantile (0 to 1) of `sorted`, interpolating linearly between neighbours;
/// `None` when empty.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let (first, last) = (*sorted.first()?, *sorted.last()?);
    if q <= 0.0 {
        return Some(first);
    }
    if q >= 1.0 {
        return Some(last);
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos.fract());
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// The median of some values, in any order; `None` when there are none.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

/// p50 and p99 of latencies, in milliseconds.
pub fn latency_ms(latencies: &[Duration]) -> (Option<f64>, Option<f64>) {
    let mut ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    (quantile(&ms, 0.5), quantile(&ms, 0.99))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 1.0), Some(4.0));
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&[7.0], 0.99), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn p99_of_a_hundred_sits_near_the_top() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let p99 = quantile(&v, 0.99).unwrap();
        assert!((p99 - 99.01).abs() < 1e-9, "{p99}");
    }

    #[test]
    fn median_ignores_order_and_nan() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, f64::NAN, 1.0]), Some(2.5));
        assert_eq!(median(std::iter::empty()), None);
    }

    #[test]
    fn latencies_are_reported_in_milliseconds() {
        let lat: Vec<Duration> = (1..=5).map(Duration::from_millis).collect();
        let (p50, p99) = latency_ms(&lat);
        assert_eq!(p50, Some(3.0));
        assert!((p99.unwrap() - 4.96).abs() < 1e-9);
    }
}
