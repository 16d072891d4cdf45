//! Progress of a backfill: blocks per second and time left, logged at most
//! every few seconds so a long catch-up is visible without flooding logs.

use std::time::{Duration, Instant};

/// Tracks published blocks against a target.
pub(crate) struct Progress {
    started: Instant,
    last_report: Instant,
    done: u64,
    every: Duration,
}

impl Progress {
    pub(crate) fn new(every: Duration) -> Self {
        let now = Instant::now();
        Self { started: now, last_report: now, done: 0, every }
    }

    /// Blocks per second since the start.
    pub(crate) fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    /// Count `n` published blocks; returns (rate, eta) when a report is due.
    pub(crate) fn advance(&mut self, n: u64, remaining: u64) -> Option<(f64, Duration)> {
        self.done += n;
        if self.last_report.elapsed() < self.every || remaining == 0 {
            return None;
        }
        self.last_report = Instant::now();
        let rate = self.rate();
        Some((rate, eta(remaining, rate)))
    }
}

/// Time left for `remaining` blocks at `rate` per second.
pub(crate) fn eta(remaining: u64, rate: f64) -> Duration {
    if rate <= 0.0 {
        return Duration::MAX;
    }
    Duration::from_secs_f64(remaining as f64 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_is_remaining_over_rate() {
        assert_eq!(eta(100, 10.0), Duration::from_secs(10));
        assert_eq!(eta(1, 0.0), Duration::MAX);
    }

    #[test]
    fn no_report_before_the_interval() {
        let mut p = Progress::new(Duration::from_secs(3600));
        assert!(p.advance(1, 10).is_none());
        let mut p = Progress::new(Duration::ZERO);
        let (rate, _) = p.advance(4, 10).expect("due");
        assert!(rate > 0.0);
    }
}
