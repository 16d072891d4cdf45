//! Topic names and record keys. Keys are deterministic so that a re-publish of
//! the same fact lands on the same partition and compaction keeps the latest.

/// Finalized blocks of every configured chain, keyed by [`chain_key`].
pub const BLOCKS: &str = "stakeflow.chain.blocks";

/// Every data topic stakeflow writes.
pub const ALL: &[&str] = &[BLOCKS];

/// Every topic to provision: the data topics and their dead-letter topics.
pub fn provisioned() -> Vec<String> {
    ALL.iter().flat_map(|t| [t.to_string(), dead_letter(t)]).collect()
}

/// Key of per-chain records: the network name, as UTF-8.
pub fn chain_key(chain: &str) -> Vec<u8> {
    chain.as_bytes().to_vec()
}

/// Name of the dead-letter topic that holds undecodable records of `topic`.
pub fn dead_letter(topic: &str) -> String {
    format!("{topic}.dlq")
}
