//! A record's place in ingest's output sequence, carried in a header: what
//! lets ingest resume exactly and consumers apply a chain's records in block
//! order across topics (see `ingest/src/position.rs`).

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
