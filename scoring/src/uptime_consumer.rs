//! The uptime consumer: the telemetry topic -> [`UptimeState`], saved with
//! its position in one store write, so a restart resumes exactly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bus::consumer::PartitionReader;
use bus::{BusConfig, Publisher, Record, dead_letter};
use schemas::{TelemetryFeedEvent, TelemetryNodeEvent, topics};
use serde::{Deserialize, Serialize};
use store::{CheckpointDelta, Store};
use tokio_util::sync::CancellationToken;

use crate::ScoringError;
use crate::uptime::UptimeState;

/// Consumer name (store key and Kafka group).
pub const UPTIME_CONSUMER: &str = "stakeflow-uptime";
/// Key of the saved [`UptimeState`].
pub const UPTIME_STATE_KEY: &str = "uptime";

/// The `[uptime]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UptimeConfig {
    /// Offline time is summed over this sliding window (default 7 days, as 1KV's weekly bound).
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// Most records applied per store write (default 500).
    pub batch: usize,
}

impl Default for UptimeConfig {
    fn default() -> Self {
        Self { window: Duration::from_secs(7 * 24 * 3600), batch: 500 }
    }
}

impl UptimeConfig {
    /// The window in ms.
    pub fn window_ms(&self) -> i64 {
        self.window.as_millis() as i64
    }
}

/// Load the saved uptime state (empty when none).
pub async fn load_uptime(store: &dyn Store) -> Result<UptimeState, ScoringError> {
    match store.load_state(UPTIME_CONSUMER, UPTIME_STATE_KEY).await? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            ScoringError::Store(store::StoreError::Corrupt { what: "uptime state", reason: e.to_string() })
        }),
        None => Ok(UptimeState::default()),
    }
}

/// Applies telemetry records to the uptime state.
pub struct UptimeConsumer {
    bus: BusConfig,
    store: Arc<dyn Store>,
    cfg: UptimeConfig,
    name: String,
}

impl UptimeConsumer {
    /// Prepare (connects on [`UptimeConsumer::run`]).
    pub fn new(bus: BusConfig, store: Arc<dyn Store>, cfg: UptimeConfig) -> Self {
        Self { bus, store, cfg, name: UPTIME_CONSUMER.to_string() }
    }

    /// Run until `shutdown`; a stale write (another instance) reloads and goes on.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ScoringError> {
        let mut backoff = Duration::from_millis(200);
        loop {
            let result = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                r = self.consume() => r,
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) => tracing::warn!(error = %e, retry_in = ?backoff, "uptime consumer interrupted; reloading"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    async fn consume(&self) -> Result<(), ScoringError> {
        let mut state = load_uptime(self.store.as_ref()).await?;
        let stored = self.store.positions(&self.name, topics::TELEMETRY_NODES).await?;
        let mut positions: HashMap<i32, i64> = stored.iter().map(|c| (c.partition, c.next_offset)).collect();
        let from: Vec<bus::Position> =
            stored.iter().map(|c| bus::Position { partition: c.partition, next_offset: c.next_offset }).collect();
        let reader = PartitionReader::assign(&self.bus, &self.name, topics::TELEMETRY_NODES, &from).await?;
        let dlq = Publisher::new(&self.bus)?;
        let window = self.cfg.window_ms();
        let mut carry: Option<Record> = None;
        loop {
            let first = match carry.take() {
                Some(r) => r,
                None => reader.next().await?,
            };
            let partition = first.partition;
            let mut batch = vec![first];
            // Gather what is already there, one partition per write.
            while batch.len() < self.cfg.batch.max(1) {
                match reader.next_within(Duration::from_millis(20)).await? {
                    Some(r) if r.partition == partition => batch.push(r),
                    Some(r) => {
                        carry = Some(r);
                        break;
                    }
                    None => break,
                }
            }
            let start = positions.get(&partition).copied();
            let mut last = None;
            for record in &batch {
                if start.is_some_and(|s| record.offset < s) {
                    continue; // re-delivered
                }
                last = Some(record.offset);
                let payload = record.payload.as_deref().unwrap_or_default();
                if let Ok(ev) = TelemetryNodeEvent::decode(payload) {
                    state.apply_node(&ev, window);
                } else if let Ok(ev) = TelemetryFeedEvent::decode(payload) {
                    state.apply_feed(&ev, window);
                } else {
                    tracing::error!(offset = record.offset, error_code = "undecodable_record", "telemetry record sent to the dead-letter topic");
                    dead_letter::send(&dlq, record, "neither a TelemetryNodeEvent nor a TelemetryFeedEvent").await?;
                    metrics::counter!("stakeflow_dead_letters_total", "topic" => record.topic.clone()).increment(1);
                }
            }
            let Some(last) = last else { continue };
            let bytes = serde_json::to_vec(&state)
                .map_err(|e| ScoringError::Store(store::StoreError::Corrupt { what: "uptime state", reason: e.to_string() }))?;
            let delta = CheckpointDelta { topic: topics::TELEMETRY_NODES.to_string(), partition, from: start, to: last + 1 };
            self.store.commit_state(&self.name, UPTIME_STATE_KEY, &bytes, &delta).await?;
            positions.insert(partition, delta.to);
            reader.commit_advisory(topics::TELEMETRY_NODES, partition, delta.to);
            metrics::gauge!("stakeflow_uptime_nodes").set(state.nodes.len() as f64);
        }
    }
}
