//! The finalized-block follower.

use std::sync::Arc;
use std::time::Duration;

use bus::{BusConfig, Publisher, consumer::last_with_key};
use chain::{ChainClient, NetworkConfig, StartBlock};
use futures::StreamExt;
use schemas::{FinalizedBlock, topics};
use serde::{Deserialize, Serialize};
use store::{ObservedHead, Store};
use tokio_util::sync::CancellationToken;

use crate::IngestError;
use crate::progress::Progress;

/// The `[ingest]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Longest pause between reconnect attempts (default 30s; doubles from 500ms).
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
    /// How often backfill progress is logged (default 5s).
    #[serde(with = "humantime_serde")]
    pub progress_every: Duration,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self { max_backoff: Duration::from_secs(30), progress_every: Duration::from_secs(5) }
    }
}

/// Where to continue: the block after the last one of this network on the
/// topic, with that block (to check continuity), or `None` if the topic has
/// none of this network yet.
pub async fn resume_point(
    bus: &BusConfig,
    publisher: &Publisher,
    network: &str,
) -> Result<Option<FinalizedBlock>, IngestError> {
    let key = topics::chain_key(network);
    let partition = publisher.partition_for(topics::BLOCKS, &key).await?;
    let Some(record) = last_with_key(bus, topics::BLOCKS, partition, &key).await? else {
        return Ok(None);
    };
    let payload = record.payload.unwrap_or_default();
    let block = FinalizedBlock::decode(&payload).map_err(|e| IngestError::Inconsistent {
        network: network.to_string(),
        detail: format!("last record at {}/{}@{} is not a block we wrote: {e}", record.topic, record.partition, record.offset),
    })?;
    Ok(Some(block))
}

/// Follows one network's finalized blocks onto the blocks topic.
pub struct BlockIngest {
    net: NetworkConfig,
    bus: BusConfig,
    cfg: IngestConfig,
    store: Arc<dyn Store>,
}

impl BlockIngest {
    /// Prepare (no connection is made until [`BlockIngest::run`]).
    pub fn new(net: NetworkConfig, bus: BusConfig, cfg: IngestConfig, store: Arc<dyn Store>) -> Self {
        Self { net, bus, cfg, store }
    }

    /// Run until `shutdown`; transient failures reconnect with capped backoff,
    /// a permanent one (wrong chain, foreign records) ends with an error.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), IngestError> {
        let mut backoff = Duration::from_millis(500);
        loop {
            let result = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                r = self.follow() => r,
            };
            match result {
                Ok(()) => backoff = Duration::from_millis(500),
                Err(e) if e.is_transient() => {
                    tracing::warn!(network = %self.net.name, error = %e, retry_in = ?backoff, "ingest interrupted; resuming from the topic tail");
                }
                Err(e) => return Err(e),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.cfg.max_backoff);
        }
    }

    /// One connection's worth of work: find the resume point, backfill, follow.
    async fn follow(&self) -> Result<(), IngestError> {
        let network = self.net.name.as_str();
        let client = ChainClient::connect(&self.net).await?;
        // A fresh producer per attempt: nothing a failed attempt left queued
        // can land after we have read the tail.
        let publisher = Publisher::new(&self.bus)?;
        let mut last = resume_point(&self.bus, &publisher, network).await?;
        let finalized = client.finalized_number().await?;
        if let Some(b) = last.as_ref().filter(|b| b.number as u64 > finalized) {
            // Transient: a syncing node catches up. A devnet restarted from
            // genesis never does, and the hash check below will say so then.
            return Err(IngestError::Chain(chain::ChainError::Rpc {
                network: network.to_string(),
                endpoint: client.endpoint().to_string(),
                op: "compare heads".into(),
                reason: format!(
                    "the topic already holds block {} but the chain is finalized at {finalized}: \
                     the node is still syncing, or it is another chain (a restarted devnet is a new chain: use a fresh --data-dir)",
                    b.number
                ),
            }));
        }
        if let Some(b) = &last {
            // Finalized blocks never change: if the chain disagrees with the
            // topic, this endpoint serves another chain than the one we wrote.
            let facts = client.block_facts(b.number as u64).await?;
            if facts.hash != b.hash {
                return Err(IngestError::Inconsistent {
                    network: network.to_string(),
                    detail: format!(
                        "topic has block {} = {}, chain at {} says {}; the endpoint serves another chain \
                         (a restarted devnet is a new chain: use a fresh --data-dir)",
                        b.number,
                        b.hash,
                        client.endpoint(),
                        facts.hash
                    ),
                });
            }
        }
        let mut heads = client.finalized_heads().await?;
        let mut target = finalized;
        let mut next = match (&last, self.net.start_block) {
            (Some(b), _) => b.number as u64 + 1,
            (None, StartBlock::Number(n)) => n,
            (None, StartBlock::Latest(_)) => target,
        };
        tracing::info!(%network, next, finalized = target, "ingest resuming");
        let mut progress = Progress::new(self.cfg.progress_every);
        loop {
            self.observe(network, target).await?;
            while next <= target {
                let block = self.publish(&client, &publisher, next, last.as_ref()).await?;
                if let Some((rate, eta)) = progress.tick(target - next) {
                    tracing::info!(%network, block = next, finalized = target, blocks_per_s = format!("{rate:.1}"), eta_s = eta.as_secs(), "backfilling");
                }
                last = Some(block);
                next += 1;
            }
            match heads.next().await {
                Some(n) => target = target.max(n?),
                None => {
                    return Err(IngestError::Chain(chain::ChainError::Rpc {
                        network: network.to_string(),
                        endpoint: client.endpoint().to_string(),
                        op: "finalized head subscription".into(),
                        reason: "ended".into(),
                    }));
                }
            }
        }
    }

    async fn observe(&self, network: &str, number: u64) -> Result<(), IngestError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        self.store.record_observed(&ObservedHead { chain: network.to_string(), number, observed_at_ms: now }).await?;
        Ok(())
    }

    async fn publish(
        &self,
        client: &ChainClient,
        publisher: &Publisher,
        number: u64,
        previous: Option<&FinalizedBlock>,
    ) -> Result<FinalizedBlock, IngestError> {
        let network = self.net.name.as_str();
        let facts = client.block_facts(number).await?;
        if let Some(prev) = previous
            && prev.number as u64 + 1 == number
            && prev.hash != facts.parent_hash
        {
            return Err(IngestError::Inconsistent {
                network: network.to_string(),
                detail: format!("block {number} has parent {}, but block {} on the topic is {}", facts.parent_hash, prev.number, prev.hash),
            });
        }
        let block = FinalizedBlock {
            chain: network.to_string(),
            number: number as i64,
            hash: facts.hash,
            parent_hash: facts.parent_hash,
            timestamp_ms: facts.timestamp_ms.map(|t| t as i64),
            extrinsic_count: facts.extrinsic_count as i32,
            event_count: facts.event_count as i32,
            spec_version: facts.spec_version as i32,
        };
        let delivered = publisher.publish(topics::BLOCKS, &topics::chain_key(network), &block.encode()?).await?;
        tracing::debug!(%network, number, partition = delivered.partition, offset = delivered.offset, "published block");
        Ok(block)
    }
}
