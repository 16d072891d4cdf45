//! Topic names and record keys. Keys are deterministic so that a re-publish of
//! the same fact lands on the same partition and compaction keeps the latest.

/// Finalized blocks of every configured chain, keyed by [`chain_key`].
pub const BLOCKS: &str = "stakeflow.chain.blocks";

/// Every event of every finalized block, keyed `<chain>/<block>/<index>`,
/// partitioned by the chain (so per-chain order holds).
pub const EVENTS: &str = "stakeflow.chain.events";

/// Staking events (Bonded, Unbonded, ValidatorPrefsSet, Chilled, EraPaid,
/// Rewarded, Slashed, Kicked) as typed records, keyed `<chain>/<block>/<index>`.
pub const STAKING_EVENTS: &str = "stakeflow.staking.events";
/// Session and offline-signal events (NewSession, ImOnline SomeOffline/AllGood).
pub const SESSION_EVENTS: &str = "stakeflow.session.events";
/// Identity events (IdentitySet, IdentityCleared, JudgementGiven, sub-identities).
pub const IDENTITY_EVENTS: &str = "stakeflow.identity.events";
/// Proxy events (Announced, ProxyExecuted, AnnouncementRemoved, ProxyAdded, ProxyRemoved).
pub const PROXY_EVENTS: &str = "stakeflow.proxy.events";
/// Utility batch events (BatchCompleted, BatchInterrupted, ItemFailed, ...).
pub const UTILITY_EVENTS: &str = "stakeflow.utility.events";
/// System ExtrinsicFailed events.
pub const SYSTEM_EVENTS: &str = "stakeflow.system.events";

/// The typed event topics, in the order of `registry::TYPED_EVENT_SUBJECTS`.
pub const TYPED_EVENTS: [&str; 6] =
    [STAKING_EVENTS, SESSION_EVENTS, IDENTITY_EVENTS, PROXY_EVENTS, UTILITY_EVENTS, SYSTEM_EVENTS];

/// Every data topic stakeflow writes.
pub const ALL: &[&str] = &[
    BLOCKS,
    EVENTS,
    STAKING_EVENTS,
    SESSION_EVENTS,
    IDENTITY_EVENTS,
    PROXY_EVENTS,
    UTILITY_EVENTS,
    SYSTEM_EVENTS,
];

/// Key of a record about one event: `<chain>/<block>/<index>`.
pub fn event_key(chain: &str, block: u64, index: u32) -> Vec<u8> {
    format!("{chain}/{block}/{index}").into_bytes()
}

/// Whether `key` belongs to `chain` (a chain key, or a key under `<chain>/`).
pub fn key_of_chain(key: &[u8], chain: &str) -> bool {
    key == chain.as_bytes() || (key.starts_with(chain.as_bytes()) && key.get(chain.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_belong_to_their_chain_only() {
        assert!(key_of_chain(b"paseo", "paseo"));
        assert!(key_of_chain(&event_key("paseo", 3, 1), "paseo"));
        assert!(!key_of_chain(b"paseo-devnet/3/1", "paseo"));
        assert!(!key_of_chain(b"pas", "paseo"));
    }
}

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
