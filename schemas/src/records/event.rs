use serde::{Deserialize, Serialize};

use crate::registry::{CHAIN_EVENT_ID, CHAIN_EVENT_SUBJECT};

/// One event of a finalized block (schema `chain_event.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEvent {
    /// Network name.
    pub chain: String,
    /// Block number.
    pub block_number: i64,
    /// Block hash, 0x hex.
    pub block_hash: String,
    /// Index in System.Events.
    pub index: i32,
    /// `ApplyExtrinsic`, `Initialization` or `Finalization`.
    pub phase: String,
    /// The emitting extrinsic, for `ApplyExtrinsic`.
    pub extrinsic_index: Option<i32>,
    /// Pallet name.
    pub pallet: String,
    /// Event name.
    pub variant: String,
    /// Fields as JSON.
    pub fields_json: String,
    /// Runtime spec version.
    pub spec_version: i32,
}

codec!(ChainEvent, CHAIN_EVENT_ID, CHAIN_EVENT_SUBJECT);

impl ChainEvent {
    /// The record key: `<chain>/<block>/<index>`, unique per event.
    pub fn key(&self) -> Vec<u8> {
        format!("{}/{}/{}", self.chain, self.block_number, self.index).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SchemaError;

    #[test]
    fn round_trips_and_refuses_a_block_record() {
        let ev = ChainEvent {
            chain: "paseo".into(),
            block_number: 9,
            block_hash: format!("0x{}", "11".repeat(32)),
            index: 3,
            phase: "ApplyExtrinsic".into(),
            extrinsic_index: Some(1),
            pallet: "Staking".into(),
            variant: "Bonded".into(),
            fields_json: r#"{"stash":"0x01","amount":"2000000000000000"}"#.into(),
            spec_version: 1_001_002,
        };
        let bytes = ev.encode().unwrap();
        assert_eq!(ChainEvent::decode(&bytes).unwrap(), ev);
        assert_eq!(ev.key(), b"paseo/9/3".to_vec());
        let block = crate::FinalizedBlock {
            chain: "paseo".into(),
            number: 1,
            hash: "0x".into(),
            parent_hash: "0x".into(),
            timestamp_ms: None,
            extrinsic_count: 0,
            event_count: 0,
            spec_version: 1,
        };
        assert!(matches!(
            ChainEvent::decode(&block.encode().unwrap()),
            Err(SchemaError::UnexpectedSchema { found: 1, expected: 2, .. })
        ));
    }
}
