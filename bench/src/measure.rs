//! Timing helpers shared by the suites.

use std::time::{Duration, Instant};

/// Runs `f` repeatedly for at least `seconds` and returns (iterations, elapsed).
pub fn repeat(seconds: f64, mut f: impl FnMut()) -> (u64, Duration) {
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget || n == 0 {
        f();
        n += 1;
    }
    (n, start.elapsed())
}

/// Megabytes (10^6 bytes) per second.
pub fn mb_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / elapsed.as_secs_f64() / 1e6
}

/// The `p`th percentile (nearest rank) of values sorted ascending: the smallest value with at
/// least `p` percent of all values at or below it. `None` for no values or `p` outside 0..=100.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if !(0.0..=100.0).contains(&p) {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1)).copied()
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentile_is_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 99.5), Some(100.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        // Few samples: p99 is the largest, the median the lower middle one.
        assert_eq!(percentile(&[3.0, 7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[3.0, 7.0], 50.0), Some(3.0));
        assert_eq!(percentile(&[4.0], 50.0), Some(4.0));
    }

    #[test]
    fn percentile_of_nothing_or_out_of_range_is_none() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1.0], -1.0), None);
        assert_eq!(percentile(&[1.0], 100.1), None);
        assert_eq!(percentile(&[1.0], f64::NAN), None);
    }
}
