//! Ids from a schema registry replace the catalog ids on the wire, both ways.
//! (Own test binary: the mapping is set once per process.)

use std::collections::BTreeMap;

use schemas::registry::{self, FINALIZED_BLOCK_ID, catalog_id, use_registry_ids, wire_id};
use schemas::{FinalizedBlock, SchemaError};

#[test]
fn registry_ids_frame_and_decode_records() {
    let ids: BTreeMap<u32, u32> = registry::catalog().iter().map(|e| (e.id, 100 + e.id)).collect();
    use_registry_ids(ids.clone()).unwrap();
    use_registry_ids(ids).expect("the same mapping again is fine");
    assert!(use_registry_ids(BTreeMap::from([(1, 7)])).is_err(), "a different mapping is refused");
    assert_eq!(wire_id(FINALIZED_BLOCK_ID), 101);
    assert_eq!(catalog_id(101), Some(FINALIZED_BLOCK_ID));
    assert_eq!(catalog_id(1), None, "catalog ids no longer mean anything on the wire");

    let block = FinalizedBlock {
        chain: "c".into(),
        number: 1,
        hash: "0x01".into(),
        parent_hash: "0x00".into(),
        timestamp_ms: None,
        extrinsic_count: 0,
        event_count: 0,
        spec_version: 1,
    };
    let bytes = block.encode().unwrap();
    assert_eq!(u32::from_be_bytes(bytes[1..5].try_into().unwrap()), 101);
    assert_eq!(FinalizedBlock::decode(&bytes).unwrap(), block);
    let mut old = bytes.clone();
    old[1..5].copy_from_slice(&1u32.to_be_bytes());
    assert!(matches!(FinalizedBlock::decode(&old), Err(SchemaError::UnexpectedSchema { found: 1, expected: 101, .. })));
}
