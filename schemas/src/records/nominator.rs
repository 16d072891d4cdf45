use serde::{Deserialize, Serialize};

use crate::registry::{NOMINATOR_EVENT_ID, NOMINATOR_EVENT_SUBJECT};

/// One step of the nominator (schema `nominator_event.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NominatorEvent {
    /// Network name.
    pub network: String,
    /// Position among the network's events, from 1, without gaps.
    pub seq: i64,
    /// decided, skipped, signed, in_block, finalized, failed, confirmed, expired, dry_run.
    pub kind: String,
    /// When, Unix ms.
    pub at_ms: i64,
    /// The round decided from.
    pub round: Option<i64>,
    /// The era nominated for.
    pub era: Option<i64>,
    /// The nominator stash (SS58).
    pub stash: Option<String>,
    /// The signer's public address (SS58).
    pub signer: Option<String>,
    /// 0x hex extrinsic hash.
    pub tx_hash: Option<String>,
    /// The signer's nonce.
    pub nonce: Option<i64>,
    /// Last block the transaction can land in.
    pub mortal_until: Option<i64>,
    /// Block of inclusion.
    pub block_number: Option<i64>,
    /// Targets (SS58), sorted.
    pub targets: Vec<String>,
    /// Why, or the module error.
    pub reason: Option<String>,
    /// Everything else, as JSON.
    pub detail_json: String,
}

codec!(NominatorEvent, NOMINATOR_EVENT_ID, NOMINATOR_EVENT_SUBJECT);
