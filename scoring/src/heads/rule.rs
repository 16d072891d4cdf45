//! The chain-head rule: what applying one finalized-block record does to the
//! per-chain state. Pure, so a replay of the topic gives the same state.

use schemas::FinalizedBlock;
use store::ChainHead;

/// The outcome of applying a block record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The record moves the chain forward to this head.
    Advanced(ChainHead),
    /// The record is at or behind the current head (a duplicate on the
    /// topic): state is unchanged.
    Stale,
    /// The record skips blocks; it is applied (finalized blocks are facts) and
    /// the gap is reported.
    AdvancedOverGap {
        /// The new head.
        head: ChainHead,
        /// First missing block number.
        missing_from: u64,
    },
}

/// Apply `block` to the chain's current head.
pub fn apply(current: Option<&ChainHead>, block: &FinalizedBlock) -> Applied {
    let number = block.number.max(0) as u64;
    let applied_before = current.map_or(0, |h| h.applied_blocks);
    let head = ChainHead {
        chain: block.chain.clone(),
        number,
        hash: block.hash.clone(),
        parent_hash: block.parent_hash.clone(),
        timestamp_ms: block.timestamp_ms,
        spec_version: block.spec_version.max(0) as u32,
        applied_blocks: applied_before + 1,
    };
    match current {
        Some(h) if number <= h.number => Applied::Stale,
        Some(h) if number > h.number + 1 => Applied::AdvancedOverGap { head, missing_from: h.number + 1 },
        _ => Applied::Advanced(head),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(number: i64) -> FinalizedBlock {
        FinalizedBlock {
            chain: "paseo".into(),
            number,
            hash: format!("0x{number:064x}"),
            parent_hash: format!("0x{:064x}", number - 1),
            timestamp_ms: Some(number * 6000),
            extrinsic_count: 2,
            event_count: 3,
            spec_version: 7,
        }
    }

    fn head_of(b: &FinalizedBlock, applied: u64) -> ChainHead {
        match apply(None, b) {
            Applied::Advanced(h) => ChainHead { applied_blocks: applied, ..h },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn first_block_starts_the_chain() {
        let Applied::Advanced(h) = apply(None, &block(5)) else { panic!() };
        assert_eq!((h.number, h.applied_blocks, h.spec_version), (5, 1, 7));
    }

    #[test]
    fn next_block_advances_and_counts() {
        let h = head_of(&block(5), 1);
        let Applied::Advanced(n) = apply(Some(&h), &block(6)) else { panic!() };
        assert_eq!((n.number, n.applied_blocks), (6, 2));
        assert_eq!(n.hash, block(6).hash);
    }

    #[test]
    fn duplicates_and_old_blocks_change_nothing() {
        let h = head_of(&block(6), 2);
        assert_eq!(apply(Some(&h), &block(6)), Applied::Stale);
        assert_eq!(apply(Some(&h), &block(3)), Applied::Stale);
    }

    #[test]
    fn a_skip_is_applied_and_reported() {
        let h = head_of(&block(6), 2);
        let Applied::AdvancedOverGap { head, missing_from } = apply(Some(&h), &block(9)) else { panic!() };
        assert_eq!((head.number, missing_from, head.applied_blocks), (9, 7, 3));
    }

    /// A re-delivered record (the topic holds it twice, or a reconnect
    /// re-reads it) leaves the head and the count where they were.
    #[test]
    fn re_delivered_records_do_not_count_twice() {
        let run = |order: &[i64]| {
            let mut cur: Option<ChainHead> = None;
            for &n in order {
                match apply(cur.as_ref(), &block(n)) {
                    Applied::Advanced(h) | Applied::AdvancedOverGap { head: h, .. } => cur = Some(h),
                    Applied::Stale => {}
                }
            }
            cur.map(|h| (h.number, h.applied_blocks, h.hash))
        };
        let once = run(&[1, 2, 3, 4]);
        assert_eq!(once, Some((4, 4, block(4).hash)));
        assert_eq!(run(&[1, 2, 2, 3, 1, 3, 4, 4]), once);
        // A gap is applied and counted as what arrived, not as what was skipped.
        assert_eq!(run(&[1, 4]), Some((4, 2, block(4).hash)));
    }
}
