//! The chain-heads consumer: blocks topic -> per-chain head in the store
//! (what `/health` and `/ready` report per chain).

mod rule;

use std::collections::HashMap;
use std::sync::Arc;

use bus::{BusConfig, DeadLetter, Publisher, Record};
use schemas::{FinalizedBlock, topics};
use store::{ChainHead, CheckpointDelta, Store};
use tokio_util::sync::CancellationToken;

pub use rule::{Applied, apply};

use crate::ScoringError;
use crate::metrics;

/// Consumer name: the key of its positions and state in the store, and its
/// Kafka group id (for advisory commits and lag tools).
pub const HEADS_CONSUMER: &str = "stakeflow-heads";

/// Keeps the last finalized block of every chain, restart-safe: each record's
/// effect and the position after it are committed in one store write.
pub struct HeadsConsumer {
    bus: BusConfig,
    store: Arc<dyn Store>,
}

impl HeadsConsumer {
    /// Prepare (connects on [`HeadsConsumer::run`]).
    pub fn new(bus: BusConfig, store: Arc<dyn Store>) -> Self {
        Self { bus, store }
    }

    /// Run until `shutdown`. A stale-write refusal (another instance moved the
    /// position) reloads positions and state and carries on from there.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ScoringError> {
        crate::shell::run_with_retries(HEADS_CONSUMER, shutdown, || self.consume()).await
    }

    async fn consume(&self) -> Result<(), ScoringError> {
        let (reader, mut positions) =
            crate::shell::reader_at_stored_positions(&self.bus, self.store.as_ref(), HEADS_CONSUMER, topics::BLOCKS).await?;
        let mut heads: HashMap<String, ChainHead> =
            self.store.chain_heads(HEADS_CONSUMER).await?.into_iter().map(|h| (h.chain.clone(), h)).collect();
        let dlq = Publisher::new(&self.bus)?;
        tracing::info!(consumer = HEADS_CONSUMER, positions = ?positions, chains = heads.len(), "heads consumer started");
        loop {
            let record = reader.next().await?;
            let from = positions.get(&record.partition).copied();
            if from.is_some_and(|f| record.offset < f) {
                // Already applied (librdkafka can re-deliver after a reconnect).
                continue;
            }
            let change = self.derive(&record, &heads, &dlq).await?;
            let delta = CheckpointDelta {
                topic: record.topic.clone(),
                partition: record.partition,
                from,
                to: record.offset + 1,
            };
            let updates: Vec<ChainHead> = change.iter().cloned().collect();
            self.store.commit_heads(HEADS_CONSUMER, &updates, &delta).await?;
            positions.insert(record.partition, delta.to);
            metrics::applied(HEADS_CONSUMER, &record.topic, record.partition, 1, delta.to);
            for h in updates {
                heads.insert(h.chain.clone(), h);
            }
            reader.commit_advisory(&record.topic, record.partition, delta.to);
        }
    }

    /// The head change a record causes; undecodable records go to the DLQ.
    async fn derive(
        &self,
        record: &Record,
        heads: &HashMap<String, ChainHead>,
        dlq: &Publisher,
    ) -> Result<Option<ChainHead>, ScoringError> {
        let payload = record.payload.as_deref().unwrap_or_default();
        let block = match FinalizedBlock::decode(payload) {
            Ok(b) => b,
            Err(e) => {
                DeadLetter { consumer: HEADS_CONSUMER, record, reason: &e.to_string() }.emit(dlq).await?;
                return Ok(None);
            }
        };
        Ok(match apply(heads.get(&block.chain), &block) {
            Applied::Advanced(h) => Some(h),
            Applied::AdvancedOverGap { head, missing_from } => {
                tracing::error!(chain = %head.chain, missing_from, to = head.number, "blocks missing on the topic");
                Some(head)
            }
            Applied::Stale => {
                tracing::warn!(chain = %block.chain, number = block.number, "duplicate or old block record ignored");
                None
            }
        })
    }
}
