//! Exactly-once across several topics without Kafka transactions.
//!
//! Everything ingest publishes for block N is a fixed, ordered list computed
//! from the block alone (events, typed events, dead letters, snapshots, and
//! last the block record). Each record carries its place in that list in the
//! `stakeflow.pos` header as `N:seq`. Records are published one at a time,
//! each acknowledged before the next, so whatever is durably on the topics is
//! a prefix of the global sequence, and the largest position found at the
//! tails of the topics says exactly where to continue.

/// Header that carries a record's position in ingest's output sequence.
pub const HEADER: &str = "stakeflow.pos";

/// A record's place: block number, then index among that block's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OutputPos {
    /// Block number.
    pub block: u64,
    /// Index among the block's outputs (the block record is last).
    pub seq: u32,
}

impl OutputPos {
    /// The header value, `block:seq`.
    pub fn header_value(&self) -> String {
        format!("{}:{}", self.block, self.seq)
    }

    /// Parse a header value.
    pub fn parse(value: &[u8]) -> Option<Self> {
        let s = std::str::from_utf8(value).ok()?;
        let (block, seq) = s.split_once(':')?;
        Some(Self { block: block.parse().ok()?, seq: seq.parse().ok()? })
    }
}

/// Where to continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// The block to process next.
    pub block: u64,
    /// Outputs of that block already published: skip seq `< skip`.
    pub skip: u32,
}

/// The resume point from the last block record published (if any) and the
/// largest output position found at the topic tails (if any).
pub fn resume(last_block: Option<u64>, last_pos: Option<OutputPos>, start: u64) -> Resume {
    match (last_block, last_pos) {
        // The block record closes its block: nothing of it is missing.
        (Some(b), Some(p)) if p.block <= b => Resume { block: b + 1, skip: 0 },
        (_, Some(p)) => Resume { block: p.block, skip: p.seq + 1 },
        (Some(b), None) => Resume { block: b + 1, skip: 0 },
        (None, None) => Resume { block: start, skip: 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(block: u64, seq: u32) -> Option<OutputPos> {
        Some(OutputPos { block, seq })
    }

    #[test]
    fn header_round_trips_and_rejects_garbage() {
        let p = OutputPos { block: 12, seq: 7 };
        assert_eq!(OutputPos::parse(p.header_value().as_bytes()), Some(p));
        for bad in [&b"12"[..], b"x:1", b"1:y", b"", b"\xff:1"] {
            assert_eq!(OutputPos::parse(bad), None);
        }
    }

    #[test]
    fn fresh_topic_starts_at_the_configured_block() {
        assert_eq!(resume(None, None, 5), Resume { block: 5, skip: 0 });
    }

    #[test]
    fn a_closed_block_resumes_at_the_next() {
        assert_eq!(resume(Some(9), pos(9, 14), 0), Resume { block: 10, skip: 0 });
        assert_eq!(resume(Some(9), None, 0), Resume { block: 10, skip: 0 });
    }

    #[test]
    fn a_half_published_block_resumes_after_its_last_output() {
        assert_eq!(resume(Some(9), pos(10, 3), 0), Resume { block: 10, skip: 4 });
        assert_eq!(resume(None, pos(0, 0), 0), Resume { block: 0, skip: 1 });
    }

    #[test]
    fn order_is_block_then_seq() {
        assert!(OutputPos { block: 2, seq: 0 } > OutputPos { block: 1, seq: 99 });
        assert!(OutputPos { block: 2, seq: 5 } > OutputPos { block: 2, seq: 4 });
    }
}
