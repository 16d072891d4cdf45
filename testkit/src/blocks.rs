//! Synthetic blocks for tests and benches that exercise ingest's publishing
//! and resume rules without a chain: a fixed, small set of events per block.

use chain::{BlockData, BlockFacts, EventFacts};
use serde_json::json;

/// Block `number` with four events (two extrinsic results, a bond, an identity set),
/// its hash and parent hash derived from the number.
pub fn synthetic(number: u64) -> BlockData {
    let ev = |index: u32, pallet: &str, variant: &str, fields| EventFacts {
        index,
        phase: "ApplyExtrinsic",
        extrinsic_index: Some(1),
        pallet: pallet.into(),
        variant: variant.into(),
        fields,
    };
    BlockData {
        facts: BlockFacts {
            number,
            hash: format!("0x{number:064x}"),
            parent_hash: format!("0x{:064x}", number.saturating_sub(1)),
            timestamp_ms: Some(1_800_000_000_000 + number * 6000),
            extrinsic_count: 2,
            event_count: 4,
            spec_version: 1,
        },
        events: vec![
            ev(0, "System", "ExtrinsicSuccess", json!({})),
            ev(1, "Staking", "Bonded", json!({"stash": "0x01", "amount": number})),
            ev(2, "Identity", "IdentitySet", json!({"who": "0x02"})),
            ev(3, "System", "ExtrinsicSuccess", json!({})),
        ],
        undecoded: vec![],
    }
}
