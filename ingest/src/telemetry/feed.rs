//! The feed client: connect, subscribe to the network's genesis, turn frames
//! into node events, publish them; reconnect forever with capped, jittered
//! backoff, and publish our own connection going up and down.

use std::time::Duration;

use bus::{BusConfig, Outgoing, Publisher};
use futures::{SinkExt, StreamExt};
use schemas::{TelemetryFeedEvent, TelemetryNodeEvent, topics};
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::nodes::NodeTable;
use super::protocol::{FeedMessage, parse_frame};
use crate::IngestError;
use schemas::clock::now_ms;

/// The `[telemetry]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// First reconnect delay (default 1s); doubles up to `max_backoff`.
    #[serde(with = "humantime_serde")]
    pub min_backoff: Duration,
    /// Longest reconnect delay (default 60s). There is no retry limit.
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
    /// How long after connecting the feed is declared up (default 5s): the
    /// server's node snapshot arrives first, so a node missing from it is not
    /// taken for offline while the snapshot is still coming in.
    #[serde(with = "humantime_serde")]
    pub settle: Duration,
    /// Where to accept telemetry that nodes send themselves
    /// (`--telemetry-url 'ws://<this address>/submit/<token> 0'`); unset: nowhere.
    pub submit_listen: Option<std::net::SocketAddr>,
    /// A file of operator tokens for `/submit/<token>`, one per line (secrets: never logged).
    pub submit_tokens_file: Option<std::path::PathBuf>,
    /// Addresses admitted to `/submit` without a token. With neither tokens
    /// nor addresses, only this machine (loopback) is admitted.
    pub submit_allow: Vec<std::net::IpAddr>,
    /// Most `/submit` connections at once (default 1000); more are closed at once.
    pub submit_max_connections: usize,
    /// Largest `/submit` message, bytes (default 64 KiB; a node's largest, `system.connected`,
    /// is about 1 KiB); a larger one closes its connection. Memory for messages in
    /// flight is at most `submit_max_connections` times this.
    pub submit_max_frame_bytes: usize,
    /// Most nodes one `/submit` connection may report (default 8).
    pub submit_max_nodes_per_connection: usize,
    /// A `/submit` connection silent this long is closed (default 60s; nodes report every few seconds).
    #[serde(with = "humantime_serde")]
    pub submit_idle: Duration,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            settle: Duration::from_secs(5),
            submit_listen: None,
            submit_tokens_file: None,
            submit_allow: Vec::new(),
            submit_max_connections: 1000,
            submit_max_frame_bytes: 64 << 10,
            submit_max_nodes_per_connection: 8,
            submit_idle: Duration::from_secs(60),
        }
    }
}

/// Why a "down" is recorded for a session that ended without one.
pub const UNRECORDED: &str = "the previous session ended without a record (the process stopped or crashed); recorded at the next start";

/// How long stopping waits to record the feed down (the broker may be gone).
const STOP_RECORD_WAIT: Duration = Duration::from_secs(5);

/// The delay before reconnect attempt `attempt` (from 0): doubling from
/// `min`, capped at `max`, with up to 20% jitter so many clients do not
/// reconnect in step.
pub fn backoff(attempt: u32, min: Duration, max: Duration, jitter: f64) -> Duration {
    let base = min.saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX)).min(max);
    base.mul_f64(1.0 + 0.2 * jitter.clamp(0.0, 1.0)).min(max)
}

/// Follows one feed for one network.
pub struct FeedClient {
    network: String,
    genesis: String,
    url: Url,
    bus: BusConfig,
    cfg: TelemetryConfig,
}

impl FeedClient {
    /// Prepare a client of `url` for the network with this genesis hash.
    pub fn new(network: impl Into<String>, genesis: impl Into<String>, url: Url, bus: BusConfig, cfg: TelemetryConfig) -> Self {
        Self { network: network.into(), genesis: genesis.into(), url, bus, cfg }
    }

    /// Run until `shutdown`, reconnecting forever. A previous session of this
    /// feed that ended without a record (a crash, `kill -9`) is recorded as
    /// our outage first; stopping records one too, so the nodes it showed are
    /// never left online by our absence, nor charged for it.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), IngestError> {
        let publisher = Publisher::new(&self.bus)?;
        if let Err(e) = self.close_unrecorded(&publisher).await {
            tracing::warn!(network = %self.network, feed = %self.url, error = %e, "could not check how the last session of this feed ended");
        }
        let mut table = NodeTable::default();
        let mut attempt = 0u32;
        loop {
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => {
                    let stopped = self.publish_feed(&publisher, "down", Some("stakeflow stopped".into()), now_ms());
                    if !matches!(tokio::time::timeout(STOP_RECORD_WAIT, stopped).await, Ok(Ok(()))) {
                        tracing::warn!(network = %self.network, feed = %self.url, "could not record stopping; the next start records it");
                    }
                    return Ok(());
                }
                r = self.session(&publisher, &mut table, &mut attempt) => r,
            };
            table.reset();
            let reason = match outcome {
                Ok(()) => "feed closed the connection".to_string(),
                Err(e) => e,
            };
            tracing::warn!(network = %self.network, feed = %self.url, %reason, "telemetry feed down");
            metrics::counter!(crate::metrics::TELEMETRY_DISCONNECTS, "network" => self.network.clone()).increment(1);
            // Publishing "down" may itself fail (broker down); it is retried
            // after the next connection attempt.
            if let Err(e) = self.publish_feed(&publisher, "down", Some(reason), now_ms()).await {
                tracing::warn!(error = %e, "could not record the feed going down");
            }
            let delay = backoff(attempt, self.cfg.min_backoff, self.cfg.max_backoff, rand::random::<f64>());
            attempt = attempt.saturating_add(1);
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One connection: returns when it ends, with why.
    async fn session(&self, publisher: &Publisher, table: &mut NodeTable, attempt: &mut u32) -> Result<(), String> {
        let (mut ws, _) = tokio_tungstenite::connect_async(self.url.as_str()).await.map_err(|e| format!("connect: {e}"))?;
        ws.send(Message::text(format!("subscribe:{}", self.genesis))).await.map_err(|e| format!("subscribe: {e}"))?;
        let settled = tokio::time::sleep(self.cfg.settle);
        tokio::pin!(settled);
        let mut up = false;
        loop {
            let frame = tokio::select! {
                // Declare the feed up as soon as it is due, before more frames.
                biased;
                _ = &mut settled, if !up => {
                    up = true;
                    *attempt = 0;
                    self.publish_feed(publisher, "up", None, now_ms()).await.map_err(|e| format!("publish: {e}"))?;
                    tracing::info!(network = %self.network, feed = %self.url, "telemetry feed up");
                    continue;
                }
                frame = ws.next() => frame,
            };
            let Some(frame) = frame else { return Ok(()) };
            let bytes = match frame.map_err(|e| format!("read: {e}"))? {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => t.as_bytes().to_vec(),
                Message::Close(_) => return Ok(()),
                _ => continue,
            };
            let messages = match parse_frame(&bytes) {
                Ok(m) => m,
                Err(e) => {
                    metrics::counter!(crate::metrics::TELEMETRY_BAD_FRAMES, "network" => self.network.clone()).increment(1);
                    tracing::warn!(network = %self.network, feed = %self.url, error = %e, "malformed telemetry frame skipped");
                    continue;
                }
            };
            let at = now_ms();
            let mut events = Vec::new();
            for m in &messages {
                if let FeedMessage::Unknown { action } = m {
                    metrics::counter!(crate::metrics::TELEMETRY_UNKNOWN_ACTIONS, "action" => action.to_string()).increment(1);
                }
                events.extend(table.apply(&self.network, self.url.as_str(), at, m));
            }
            self.publish_nodes(publisher, &events).await.map_err(|e| format!("publish: {e}"))?;
        }
    }

    async fn publish_nodes(&self, publisher: &Publisher, events: &[TelemetryNodeEvent]) -> Result<(), IngestError> {
        let encoded: Vec<(Vec<u8>, Vec<u8>)> = events
            .iter()
            .map(|e| Ok((topics::sub_key(&self.network, &e.peer_id), e.encode()?)))
            .collect::<Result<_, IngestError>>()?;
        let network_key = topics::chain_key(&self.network);
        let batch = encoded
            .iter()
            .map(|(key, payload)| Outgoing {
                topic: topics::TELEMETRY_NODES,
                partition_key: &network_key,
                key,
                payload,
                headers: None,
            })
            .collect();
        publisher.publish_all(batch).await?;
        Ok(())
    }

    /// If this feed's last record says "up", its session ended unrecorded:
    /// record it down now, as of the last record of the network (when it was
    /// last known to work; what came after is our outage).
    async fn close_unrecorded(&self, publisher: &Publisher) -> Result<(), IngestError> {
        let network_key = topics::chain_key(&self.network);
        let partition = publisher.partition_for(topics::TELEMETRY_NODES, &network_key).await?;
        let feed_key = topics::sub_key(&self.network, self.url.as_str());
        let last = bus::consumer::last_matching(&self.bus, topics::TELEMETRY_NODES, partition, |k| k == feed_key.as_slice()).await?;
        let Some(up) = last.and_then(|r| TelemetryFeedEvent::decode(r.payload.as_deref()?).ok()).filter(|f| f.kind == "up") else {
            return Ok(());
        };
        let prefix = topics::sub_key(&self.network, "");
        let newest = bus::consumer::last_matching(&self.bus, topics::TELEMETRY_NODES, partition, |k| k.starts_with(&prefix)).await?;
        let last_seen = newest
            .and_then(|r| schemas::TelemetryRecord::decode(&r.payload?).ok())
            .map(|r| r.at_ms())
            .unwrap_or(up.at_ms)
            .max(up.at_ms);
        tracing::warn!(network = %self.network, feed = %self.url, last_seen, "the last session of this feed ended without a record (a crash?): recorded as our outage");
        self.publish_feed(publisher, "down", Some(UNRECORDED.into()), last_seen).await
    }

    async fn publish_feed(&self, publisher: &Publisher, kind: &str, reason: Option<String>, at_ms: i64) -> Result<(), IngestError> {
        let event = TelemetryFeedEvent { network: self.network.clone(), source: self.url.to_string(), kind: kind.to_string(), at_ms, reason };
        let key = topics::sub_key(&self.network, self.url.as_str());
        publisher
            .publish_keyed(topics::TELEMETRY_NODES, &topics::chain_key(&self.network), &key, &event.encode()?, None)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters_within_bounds() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(backoff(0, min, max, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(3, min, max, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(30, min, max, 0.0), max, "never beyond the cap");
        assert_eq!(backoff(u32::MAX, min, max, 1.0), max);
        let j = backoff(2, min, max, 1.0);
        assert!(j > Duration::from_secs(4) && j <= Duration::from_millis(4800));
    }
}
