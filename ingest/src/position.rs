//! Exactly-once across several topics without Kafka transactions.
//!
//! Everything ingest publishes for block N is a fixed, ordered list computed
//! from the block alone (events, typed events, dead letters, snapshots, and
//! last the block record). Each record carries its place in that list in the
//! `stakeflow.pos` header as `N:seq`.
//!
//! Blocks go out in windows: every record of the window but the block records
//! at once, then, once all are acknowledged, the window's block records. So a
//! block record on the topic means its whole block is there. Within one
//! partition the idempotent producer keeps order without gaps, and each
//! chain's records of a topic go to one partition, so after a crash each
//! topic holds a prefix of its share of the unfinished window: a record is
//! already published exactly when its position is at or before the last
//! position at its topic's tail.

use std::collections::BTreeMap;

pub use schemas::position::{HEADER, OutputPos};

/// Where to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The first block not certified by a block record.
    pub block: u64,
    /// The last position at each topic's tail when ingest resumed.
    pub tails: BTreeMap<String, OutputPos>,
}

impl Resume {
    /// Continue at `block` with nothing of it published.
    pub fn fresh(block: u64) -> Self {
        Self { block, tails: BTreeMap::new() }
    }

    /// Whether the output at `pos` to `topic` is already on the topic.
    pub fn published(&self, topic: &str, pos: OutputPos) -> bool {
        pos.block >= self.block && self.tails.get(topic).is_some_and(|t| pos <= *t)
    }
}

/// The resume point from the last block record published (if any), the last
/// position at each topic's tail, and the block ingest first started at.
pub fn resume(last_block: Option<u64>, tails: &BTreeMap<String, OutputPos>, start: u64) -> Resume {
    let block = match last_block {
        Some(b) => b + 1,
        // No block certified yet: the first window again, from its start. Not
        // from the lowest tail: a block with no outputs but its block record
        // (genesis has no events) would be skipped.
        None => start,
    };
    Resume { block, tails: tails.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(block: u64, seq: u32) -> OutputPos {
        OutputPos { block, seq }
    }

    fn tails(entries: &[(&str, u64, u32)]) -> BTreeMap<String, OutputPos> {
        entries.iter().map(|(t, block, seq)| (t.to_string(), pos(*block, *seq))).collect()
    }

    #[test]
    fn header_round_trips_and_rejects_garbage() {
        let p = pos(12, 7);
        assert_eq!(OutputPos::parse(p.header_value().as_bytes()), Some(p));
        for bad in [&b"12"[..], b"x:1", b"1:y", b"", b"\xff:1"] {
            assert_eq!(OutputPos::parse(bad), None);
        }
    }

    #[test]
    fn fresh_topic_starts_at_the_configured_block() {
        let r = resume(None, &BTreeMap::new(), 5);
        assert_eq!(r.block, 5);
        assert!(!r.published("events", pos(5, 0)));
    }

    #[test]
    fn a_certified_block_resumes_at_the_next() {
        let r = resume(Some(9), &tails(&[("events", 9, 14), ("blocks", 9, 15)]), 0);
        assert_eq!(r.block, 10);
        assert!(!r.published("events", pos(10, 0)));
        assert_eq!(resume(Some(9), &BTreeMap::new(), 0).block, 10);
    }

    #[test]
    fn an_unfinished_window_skips_per_topic_what_each_topic_has() {
        // Blocks 10 and 11 were in flight: events got up to 11:3, staking up
        // to 10:2, the identity topic nothing of them (its tail is older).
        let r = resume(Some(9), &tails(&[("events", 11, 3), ("staking", 10, 2), ("identity", 7, 1)]), 0);
        assert_eq!(r.block, 10);
        assert!(r.published("events", pos(10, 40)) && r.published("events", pos(11, 3)));
        assert!(!r.published("events", pos(11, 4)) && !r.published("events", pos(12, 0)));
        assert!(r.published("staking", pos(10, 2)) && !r.published("staking", pos(10, 5)));
        assert!(!r.published("staking", pos(11, 0)));
        assert!(!r.published("identity", pos(10, 0)));
        assert!(!r.published("blocks", pos(10, 0)));
    }

    #[test]
    fn before_any_block_record_the_first_block_is_resumed() {
        let r = resume(None, &tails(&[("events", 0, 1)]), 0);
        assert_eq!(r.block, 0);
        assert!(r.published("events", pos(0, 1)) && !r.published("events", pos(0, 2)));
    }

    #[test]
    fn before_any_block_record_a_block_without_outputs_is_not_skipped() {
        // Genesis (block 0) has no events: the tails begin at block 1.
        let r = resume(None, &tails(&[("events", 1, 4), ("staking", 1, 0)]), 0);
        assert_eq!(r.block, 0, "the first window again, from its start");
        assert!(!r.published("blocks", pos(0, 0)), "block 0's record is still to be published");
        assert!(r.published("events", pos(1, 4)) && !r.published("events", pos(1, 5)));
    }

    #[test]
    fn order_is_block_then_seq() {
        assert!(pos(2, 0) > pos(1, 99));
        assert!(pos(2, 5) > pos(2, 4));
    }
}
