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
