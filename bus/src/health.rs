//! Whether this process can reach the broker. Services ride out an outage
//! on their own (producers retry, readers wait, leases hold); this says so to
//! the operator: a probe asks the broker for its metadata every few seconds,
//! and the outcome goes to the logs once per change (and once a minute while
//! it lasts), to metrics, and to `/ready`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use rdkafka::producer::{BaseProducer, Producer};
use tokio_util::sync::CancellationToken;

use crate::{BusConfig, BusError, metrics};
use schemas::clock::now_ms;

/// What the last probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerState {
    /// Not probed yet.
    Unknown,
    /// The broker answered the last probe.
    Up,
    /// No answer since `since_ms` (ms since the epoch); `error` is the last probe's.
    Down {
        /// When the first failed probe of this outage ended.
        since_ms: i64,
        /// Why the last probe failed.
        error: String,
    },
}

/// A change worth a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The broker stopped answering.
    WentDown,
    /// It answers again, after an outage of `after_ms`.
    Back {
        /// How long it was unreachable, ms.
        after_ms: i64,
    },
}

/// The state after a probe that ended at `now_ms` with `probe`, and the change, if any.
pub fn observe(prev: &BrokerState, probe: Result<(), String>, now_ms: i64) -> (BrokerState, Option<Change>) {
    match (prev, probe) {
        (BrokerState::Down { since_ms, .. }, Ok(())) => (BrokerState::Up, Some(Change::Back { after_ms: now_ms.saturating_sub(*since_ms) })),
        (_, Ok(())) => (BrokerState::Up, None),
        // The outage goes on: keep when it started, report the latest reason.
        (BrokerState::Down { since_ms, .. }, Err(error)) => (BrokerState::Down { since_ms: *since_ms, error }, None),
        (_, Err(error)) => (BrokerState::Down { since_ms: now_ms, error }, Some(Change::WentDown)),
    }
}

/// The broker's reachability as this process last saw it; cheap to clone
/// and share with the handlers that report it.
#[derive(Debug, Clone)]
pub struct BrokerHealth {
    state: Arc<RwLock<BrokerState>>,
}

impl Default for BrokerHealth {
    fn default() -> Self {
        Self { state: Arc::new(RwLock::new(BrokerState::Unknown)) }
    }
}

/// How often the probe runs and how long it waits for an answer.
pub const PROBE_EVERY: Duration = Duration::from_secs(3);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// While an outage lasts, how often it is logged again.
const REMIND_EVERY: Duration = Duration::from_secs(60);

impl BrokerHealth {
    /// The state as of the last probe.
    pub fn state(&self) -> BrokerState {
        self.state.read().map(|s| s.clone()).unwrap_or(BrokerState::Unknown)
    }

    /// Probe the broker every `every` until `stop`, keeping the state, the
    /// logs and the metrics current. Fails only when no client can be made
    /// (a broken `[kafka.client]` setting), which no retry would mend.
    pub async fn watch(self, cfg: BusConfig, every: Duration, stop: CancellationToken) -> Result<(), BusError> {
        let brokers = cfg.bootstrap().to_string();
        let client: BaseProducer = cfg.client_config().create().map_err(BusError::kafka("broker probe", &brokers))?;
        let client = Arc::new(client);
        let mut reminded_at = 0i64;
        loop {
            let probing = client.clone();
            // librdkafka's reason alone: the log line names the brokers once.
            let probe = tokio::task::spawn_blocking(move || probing.client().fetch_metadata(None, PROBE_TIMEOUT).map(drop).map_err(|e| e.to_string()))
                .await
                .unwrap_or_else(|join| Err(join.to_string()));
            let now = now_ms();
            let (next, change) = observe(&self.state(), probe, now);
            match (&change, &next) {
                (Some(Change::WentDown), BrokerState::Down { error, .. }) => {
                    tracing::warn!(%brokers, %error, "the Kafka broker cannot be reached; every service keeps retrying and loses nothing");
                    reminded_at = now;
                    ::metrics::counter!(metrics::BROKER_OUTAGES).increment(1);
                }
                (Some(Change::Back { after_ms }), _) => {
                    tracing::info!(%brokers, after_s = after_ms / 1000, "the Kafka broker is reachable again");
                }
                (None, BrokerState::Down { since_ms, error }) if now - reminded_at >= REMIND_EVERY.as_millis() as i64 => {
                    tracing::warn!(%error, down_for_s = (now - since_ms) / 1000, "the Kafka broker is still unreachable");
                    reminded_at = now;
                }
                _ => {}
            }
            let down_for_s = match &next {
                BrokerState::Down { since_ms, .. } => ((now - since_ms) / 1000) as f64,
                _ => 0.0,
            };
            ::metrics::gauge!(metrics::BROKER_UP).set(if next == BrokerState::Up { 1.0 } else { 0.0 });
            ::metrics::gauge!(metrics::BROKER_UNREACHABLE_SECONDS).set(down_for_s);
            if let Ok(mut s) = self.state.write() {
                *s = next;
            }
            tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_reported_once_when_it_starts_and_once_when_it_ends_with_its_length() {
        let (s, c) = observe(&BrokerState::Unknown, Ok(()), 1_000);
        assert_eq!((s.clone(), c), (BrokerState::Up, None), "a first answer is no change");
        let (s, c) = observe(&s, Err("timed out".into()), 2_000);
        assert_eq!(c, Some(Change::WentDown));
        assert_eq!(s, BrokerState::Down { since_ms: 2_000, error: "timed out".into() });
        // Later failures keep the start and the newest reason, and say nothing new.
        let (s, c) = observe(&s, Err("connection refused".into()), 9_000);
        assert_eq!((s.clone(), c), (BrokerState::Down { since_ms: 2_000, error: "connection refused".into() }, None));
        let (s, c) = observe(&s, Ok(()), 65_000);
        assert_eq!((s, c), (BrokerState::Up, Some(Change::Back { after_ms: 63_000 })));
    }

    #[test]
    fn a_broker_never_reached_is_down_from_the_first_probe() {
        let (s, c) = observe(&BrokerState::Unknown, Err("refused".into()), 5);
        assert_eq!((s, c), (BrokerState::Down { since_ms: 5, error: "refused".into() }, Some(Change::WentDown)));
    }
}
