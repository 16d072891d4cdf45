//! The chain-heads consumer: blocks topic -> per-chain head in the store.

use std::collections::HashMap;
use std::sync::Arc;

use bus::{BusConfig, Publisher, Record, dead_letter};
use schemas::{FinalizedBlock, topics};
use store::{ChainHead, CheckpointDelta, Store};
use tokio_util::sync::CancellationToken;

use crate::ScoringError;
use crate::heads::{Applied, apply};

/// Consumer name: the key of its positions and state in the store, and its
/// Kafka group id (for advisory commits and lag tools).
pub const CONSUMER: &str = "stakeflow-scoring";

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
        crate::shell::run_with_retries(CONSUMER, shutdown, || self.consume()).await
    }

    async fn consume(&self) -> Result<(), ScoringError> {
        let (reader, mut positions) =
            crate::shell::reader_at_stored_positions(&self.bus, self.store.as_ref(), CONSUMER, topics::BLOCKS).await?;
        let mut heads: HashMap<String, ChainHead> =
            self.store.chain_heads(CONSUMER).await?.into_iter().map(|h| (h.chain.clone(), h)).collect();
        let dlq = Publisher::new(&self.bus)?;
        tracing::info!(consumer = CONSUMER, positions = ?positions, chains = heads.len(), "heads consumer started");
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
            self.store.commit_heads(CONSUMER, &updates, &delta).await?;
            positions.insert(record.partition, delta.to);
            metrics::counter!("stakeflow_consumer_records_total", "consumer" => CONSUMER).increment(1);
            metrics::gauge!("stakeflow_consumer_next_offset", "consumer" => CONSUMER, "topic" => record.topic.clone(), "partition" => record.partition.to_string()).set(delta.to as f64);
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
                tracing::error!(topic = %record.topic, partition = record.partition, offset = record.offset, error = %e, error_code = "undecodable_record", "sending record to the dead-letter topic");
                dead_letter::send(dlq, record, &e.to_string()).await?;
                metrics::counter!("stakeflow_dead_letters_total", "topic" => record.topic.clone()).increment(1);
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
