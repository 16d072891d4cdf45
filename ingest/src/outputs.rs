//! Everything ingest publishes for one block, as an ordered list computed
//! from the block alone: the same block always yields the same records in the
//! same order, which is what makes the resume rule in `position` sound.

use chain::BlockData;
use schemas::{ChainEvent, FinalizedBlock, SchemaError, topics};

use crate::typed::typed;

/// One record to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Topic.
    pub topic: String,
    /// Key that picks the partition (the chain, so a chain's records stay in order).
    pub partition_key: Vec<u8>,
    /// Record key.
    pub key: Vec<u8>,
    /// Value bytes.
    pub payload: Vec<u8>,
    /// Extra headers (dead letters say why).
    pub headers: Vec<(&'static str, String)>,
}

/// The outputs of one block: per event its generic record then its typed
/// record, then dead letters for what did not decode, then the block record.
pub fn block_outputs(network: &str, data: &BlockData) -> Result<Vec<Output>, SchemaError> {
    let f = &data.facts;
    let chain_key = topics::chain_key(network);
    let out = |topic: &str, key: Vec<u8>, payload: Vec<u8>| Output {
        topic: topic.to_string(),
        partition_key: chain_key.clone(),
        key,
        payload,
        headers: Vec::new(),
    };
    let mut outputs = Vec::with_capacity(data.events.len() * 2 + 1);
    for ev in &data.events {
        let key = topics::event_key(network, f.number, ev.index);
        let generic = ChainEvent {
            chain: network.to_string(),
            block_number: f.number as i64,
            block_hash: f.hash.clone(),
            index: ev.index as i32,
            phase: ev.phase.to_string(),
            extrinsic_index: ev.extrinsic_index.map(|i| i as i32),
            pallet: ev.pallet.clone(),
            variant: ev.variant.clone(),
            fields_json: ev.fields.to_string(),
            spec_version: f.spec_version as i32,
        };
        outputs.push(out(topics::EVENTS, key.clone(), generic.encode()?));
        if let Some((topic, record)) = typed(network, f.number, &f.hash, ev) {
            outputs.push(out(topic, key, record.encode()?));
        }
    }
    for bad in &data.undecoded {
        let mut o = out(
            &topics::dead_letter(topics::EVENTS),
            topics::event_key(network, f.number, bad.from_index),
            bad.bytes.clone(),
        );
        o.headers = vec![
            ("stakeflow.chain", network.to_string()),
            ("stakeflow.block", f.number.to_string()),
            ("stakeflow.block_hash", f.hash.clone()),
            ("stakeflow.event_index", bad.from_index.to_string()),
            ("stakeflow.event", bad.what.clone().unwrap_or_else(|| "unknown".into())),
            ("stakeflow.error", bad.error.clone()),
        ];
        outputs.push(o);
    }
    let block = FinalizedBlock {
        chain: network.to_string(),
        number: f.number as i64,
        hash: f.hash.clone(),
        parent_hash: f.parent_hash.clone(),
        timestamp_ms: f.timestamp_ms.map(|t| t as i64),
        extrinsic_count: f.extrinsic_count as i32,
        event_count: f.event_count as i32,
        spec_version: f.spec_version as i32,
    };
    outputs.push(out(topics::BLOCKS, chain_key.clone(), block.encode()?));
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chain::{BlockFacts, EventFacts, UndecodedEvents};
    use serde_json::json;

    fn data() -> BlockData {
        let ev = |index, pallet: &str, variant: &str, fields| EventFacts {
            index,
            phase: "ApplyExtrinsic",
            extrinsic_index: Some(1),
            pallet: pallet.into(),
            variant: variant.into(),
            fields,
        };
        BlockData {
            facts: BlockFacts {
                number: 5,
                hash: "0x05".into(),
                parent_hash: "0x04".into(),
                timestamp_ms: Some(1),
                extrinsic_count: 2,
                event_count: 4,
                spec_version: 9,
            },
            events: vec![
                ev(0, "System", "ExtrinsicSuccess", json!({})),
                ev(1, "Staking", "Bonded", json!({"stash": "0xaa", "amount": 5})),
                ev(2, "System", "ExtrinsicSuccess", json!({})),
            ],
            undecoded: vec![UndecodedEvents { from_index: 3, bytes: vec![1, 2], what: None, error: "bad".into() }],
        }
    }

    #[test]
    fn order_is_events_typed_dead_letters_then_block() {
        let outs = block_outputs("net", &data()).unwrap();
        let topics: Vec<&str> = outs.iter().map(|o| o.topic.as_str()).collect();
        assert_eq!(
            topics,
            vec![
                topics::EVENTS,
                topics::EVENTS,
                topics::STAKING_EVENTS,
                topics::EVENTS,
                "stakeflow.chain.events.dlq",
                topics::BLOCKS
            ]
        );
        assert_eq!(outs[2].key, b"net/5/1".to_vec());
        assert!(outs.iter().all(|o| o.partition_key == b"net".to_vec()));
        assert_eq!(outs[4].payload, vec![1, 2]);
        assert_eq!(FinalizedBlock::decode(&outs[5].payload).unwrap().number, 5);
    }

    #[test]
    fn the_same_block_gives_the_same_bytes() {
        assert_eq!(block_outputs("net", &data()).unwrap(), block_outputs("net", &data()).unwrap());
    }
}
