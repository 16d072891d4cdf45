//! Exactly-once across several topics without Kafka transactions.
//!
//! Everything ingest publishes for block N is a fixed, ordered list computed
//! from the block alone (events, typed events, dead letters, snapshots, and
//! last the block record). Each record carries its place in that list in the
//! `stakeflow.pos` header as `N:seq`.
//!
//! Blocks go out in windows: every record of the window but the block records
//! at once, then, once all are acknowledged, the window's block records. So a
//! block record on the topic means its whole block is there.
//!
//! What an unfinished window already published is read back from the topics
//! as the set of positions present, not assumed from a tail: a record that
//! failed (a queue timeout while the broker was away) can leave a hole that
//! later records of its partition hide, and the retry fills exactly that hole.
//! The set is kept until the window is certified, whatever the length of the
//! windows that follow (a changed `window_blocks`, a node behind).

use std::collections::{BTreeMap, BTreeSet};

pub use schemas::position::{HEADER, OutputPos};

/// Where to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The first block not certified by a block record.
    pub block: u64,
    /// Positions at or after `block` already on each topic.
    pub present: BTreeMap<String, BTreeSet<OutputPos>>,
}

impl Resume {
    /// Continue at `block` with nothing of it published.
    pub fn fresh(block: u64) -> Self {
        Self { block, present: BTreeMap::new() }
    }

    /// Whether the output at `pos` to `topic` is already on the topic.
    pub fn published(&self, topic: &str, pos: OutputPos) -> bool {
        self.present.get(topic).is_some_and(|s| s.contains(&pos))
    }

    /// Every block before `next` is certified: forget those, keep what later blocks already have.
    pub fn certified_before(&mut self, next: u64) {
        self.block = next;
        for set in self.present.values_mut() {
            set.retain(|p| p.block >= next);
        }
        self.present.retain(|_, set| !set.is_empty());
    }

    /// How many records of uncertified blocks are already on the topics.
    pub fn present_count(&self) -> usize {
        self.present.values().map(BTreeSet::len).sum()
    }
}

/// The resume point from the last block record published (if any), the
/// positions found on each topic, and the block ingest first started at.
pub fn resume(last_block: Option<u64>, present: BTreeMap<String, BTreeSet<OutputPos>>, start: u64) -> Resume {
    let block = match last_block {
        Some(b) => b + 1,
        // No block certified yet: the first window again, from its start. Not
        // from the lowest position found: a block with no outputs but its
        // block record (genesis has no events) would be skipped.
        None => start,
    };
    let mut r = Resume { block, present };
    r.certified_before(block);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(block: u64, seq: u32) -> OutputPos {
        OutputPos { block, seq }
    }

    fn present(entries: &[(&str, &[(u64, u32)])]) -> BTreeMap<String, BTreeSet<OutputPos>> {
        entries.iter().map(|(t, ps)| (t.to_string(), ps.iter().map(|(b, s)| pos(*b, *s)).collect())).collect()
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
        let r = resume(None, BTreeMap::new(), 5);
        assert_eq!(r.block, 5);
        assert!(!r.published("events", pos(5, 0)));
    }

    #[test]
    fn a_certified_block_resumes_at_the_next() {
        let r = resume(Some(9), present(&[("events", &[(9, 14)]), ("blocks", &[(9, 15)])]), 0);
        assert_eq!(r.block, 10);
        assert!(!r.published("events", pos(10, 0)));
        assert_eq!(r.present_count(), 0, "positions of certified blocks are not kept");
    }

    #[test]
    fn an_unfinished_window_skips_per_topic_what_each_topic_has() {
        let r = resume(Some(9), present(&[("events", &[(10, 0), (10, 1), (11, 3)]), ("staking", &[(10, 2)])]), 0);
        assert_eq!(r.block, 10);
        assert!(r.published("events", pos(10, 1)) && r.published("events", pos(11, 3)));
        assert!(!r.published("events", pos(11, 4)) && !r.published("events", pos(12, 0)));
        assert!(r.published("staking", pos(10, 2)) && !r.published("staking", pos(10, 5)));
        assert!(!r.published("identity", pos(10, 0)));
        assert!(!r.published("blocks", pos(10, 0)));
    }

    #[test]
    fn a_hole_before_the_tail_is_filled() {
        // 10:1 failed (a queue timeout) while 10:2 and 11:0 were acknowledged.
        let r = resume(Some(9), present(&[("events", &[(10, 0), (10, 2), (11, 0)])]), 0);
        assert!(!r.published("events", pos(10, 1)), "the hole is published again");
        assert!(r.published("events", pos(10, 2)) && r.published("events", pos(11, 0)));
    }

    #[test]
    fn what_later_blocks_have_is_kept_across_a_shorter_window() {
        // The interrupted window was 10..=13; the next one covers only 10..=11.
        let mut r = resume(Some(9), present(&[("events", &[(10, 0), (12, 0), (13, 1)])]), 0);
        r.certified_before(12);
        assert_eq!(r.block, 12);
        assert!(r.published("events", pos(12, 0)) && r.published("events", pos(13, 1)));
        assert!(!r.published("events", pos(10, 0)));
        r.certified_before(14);
        assert_eq!(r.present_count(), 0);
    }

    #[test]
    fn before_any_block_record_the_first_block_is_resumed() {
        let r = resume(None, present(&[("events", &[(0, 0), (0, 1)])]), 0);
        assert_eq!(r.block, 0);
        assert!(r.published("events", pos(0, 1)) && !r.published("events", pos(0, 2)));
    }

    #[test]
    fn before_any_block_record_a_block_without_outputs_is_not_skipped() {
        // Genesis (block 0) has no events: what is present begins at block 1.
        let r = resume(None, present(&[("events", &[(1, 4)]), ("staking", &[(1, 0)])]), 0);
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
