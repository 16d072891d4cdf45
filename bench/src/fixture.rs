//! Recorded blocks: the runtime metadata once, then each block's header facts
//! and raw System.Events bytes, so decoding can be replayed offline.

use std::path::Path;

use anyhow::Context;
use chain::BlockFacts;
use serde::{Deserialize, Serialize};

/// Where `record` writes and `run` reads by default (relative to the workspace root).
pub const DEFAULT_PATH: &str = "bench/fixtures/paseo-devnet.json";

/// A recorded block.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedBlock {
    pub number: u64,
    pub hash: String,
    pub parent_hash: String,
    pub timestamp_ms: Option<u64>,
    pub extrinsic_count: u32,
    pub events_hex: String,
}

impl RecordedBlock {
    pub fn facts(&self, number: u64, event_count: u32, spec_version: u32) -> BlockFacts {
        BlockFacts {
            number,
            hash: self.hash.clone(),
            parent_hash: self.parent_hash.clone(),
            timestamp_ms: self.timestamp_ms,
            extrinsic_count: self.extrinsic_count,
            event_count,
            spec_version,
        }
    }
}

/// The fixture file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fixture {
    pub chain: String,
    pub spec_version: u32,
    pub transaction_version: u32,
    pub metadata_hex: String,
    pub blocks: Vec<RecordedBlock>,
}

impl Fixture {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {} (record it with `stakeflow-bench record`)", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string(self)?).with_context(|| format!("writing {}", path.display()))
    }
}
