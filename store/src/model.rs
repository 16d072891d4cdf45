use serde::{Deserialize, Serialize};

/// The last finalized block a consumer applied for one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Network name.
    pub chain: String,
    /// Block number.
    pub number: u64,
    /// Block hash (0x hex).
    pub hash: String,
    /// Parent hash (0x hex).
    pub parent_hash: String,
    /// Block timestamp, Unix ms.
    pub timestamp_ms: Option<i64>,
    /// Runtime spec version at the block.
    pub spec_version: u32,
    /// How many block records of this chain the consumer has applied in all;
    /// equals the number of distinct blocks published when nothing was applied twice.
    pub applied_blocks: u64,
}

/// A consumer's stored position in one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset of the next record to read.
    pub next_offset: i64,
}

/// A move of one partition's position from `from` to `to` (next offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointDelta {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The position the writer believes is stored; `None` when it believes none is.
    pub from: Option<i64>,
    /// The new position.
    pub to: i64,
}

/// The newest finalized block seen on a chain by ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedHead {
    /// Network name.
    pub chain: String,
    /// Finalized block number.
    pub number: u64,
    /// When it was seen, Unix ms.
    pub observed_at_ms: i64,
}

/// A state value to save under `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateWrite {
    /// Key (ASCII).
    pub key: String,
    /// Bytes the consumer serialised.
    pub value: Vec<u8>,
}
