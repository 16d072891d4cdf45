//! Progress of a backfill: blocks per second and time left, exported after
//! every window and logged at most every few seconds, so a long catch-up is
//! visible without flooding logs.

use std::time::{Duration, Instant};

use crate::metrics;

/// Where one chain's ingest stands after a window: one event, one [`emit`](BackfillProgress::emit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BackfillProgress<'a> {
    pub chain: &'a str,
    /// Last block published.
    pub published: u64,
    /// The chain's finalized head.
    pub finalized: u64,
    /// Blocks per second since the attempt started.
    pub rate: f64,
    /// Log a line too (at most every few seconds).
    pub log: bool,
}

impl BackfillProgress<'_> {
    /// Set the gauges; log the rate and time left when `log`.
    pub(crate) fn emit(self) {
        let chain = self.chain.to_string();
        let eta = eta(self.finalized.saturating_sub(self.published), self.rate);
        ::metrics::gauge!(metrics::PUBLISHED_BLOCK, "chain" => chain.clone()).set(self.published as f64);
        ::metrics::gauge!(metrics::FINALIZED_BLOCK, "chain" => chain.clone()).set(self.finalized as f64);
        ::metrics::gauge!(metrics::BLOCKS_PER_SECOND, "chain" => chain.clone()).set(self.rate);
        ::metrics::gauge!(metrics::ETA_SECONDS, "chain" => chain).set(if eta == Duration::MAX { -1.0 } else { eta.as_secs_f64() });
        if self.log {
            tracing::info!(network = self.chain, block = self.published, finalized = self.finalized, blocks_per_s = format!("{:.1}", self.rate), eta_s = eta.as_secs(), "backfilling");
        }
    }
}

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

    /// Count `n` published blocks; true when a log line is due.
    pub(crate) fn advance(&mut self, n: u64, remaining: u64) -> bool {
        self.done += n;
        if self.last_report.elapsed() < self.every || remaining == 0 {
            return false;
        }
        self.last_report = Instant::now();
        true
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
        assert!(!p.advance(1, 10));
        let mut p = Progress::new(Duration::ZERO);
        assert!(p.advance(4, 10), "due");
        assert!(!p.advance(4, 0), "caught up: nothing to report");
        assert!(p.rate() > 0.0);
    }
}
