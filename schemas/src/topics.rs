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

/// The validator set and session keys of each new session, keyed by chain.
pub const SESSION_SNAPSHOTS: &str = "stakeflow.session.snapshots";
/// Every validator's prefs, self stake and exposure when an era begins, keyed `<chain>/<stash>`.
pub const VALIDATORS: &str = "stakeflow.staking.validators";
/// Every nominator's stake and targets when an era begins, keyed `<chain>/<nominator>`.
pub const NOMINATORS: &str = "stakeflow.staking.nominators";
/// Reward points of each ended era, keyed `<chain>/<era>`.
pub const ERA_POINTS: &str = "stakeflow.staking.era_points";
/// Identities of accounts that matter, when they change, keyed `<chain>/<account>`.
pub const IDENTITIES: &str = "stakeflow.identity.accounts";

/// Telemetry, partitioned by network, in the order the feeds gave it: node
/// events (`TelemetryNodeEvent`, keyed `<network>/<peer_id>`) and stakeflow's
/// own feed connections going up and down (`TelemetryFeedEvent`, keyed
/// `<network>/<source>`), on one topic so a consumer sees them in order.
pub const TELEMETRY_NODES: &str = "stakeflow.telemetry.nodes";

/// The programme's candidate list per network, keyed by network; every version is kept
/// (a rebuild judges each round with the list in force then).
pub const CANDIDATES: &str = "stakeflow.programme.candidates";
/// The newest client release per network, keyed by network, each time it changes.
pub const RELEASES: &str = "stakeflow.programme.releases";
/// Scoring rounds, keyed `<network>/<round>`; each follows its candidates' scores.
pub const ROUNDS: &str = "stakeflow.programme.rounds";
/// Each candidate's validity and score in each round, keyed `<network>/<round>/<stash>`.
pub const SCORES: &str = "stakeflow.programme.scores";

/// Every step of the nominator (decided, signed, finalized, ...), keyed
/// `<network>/<seq>`, partitioned by network.
pub const NOMINATOR_EVENTS: &str = "stakeflow.nominator.events";

/// Every topic the nominator writes.
pub const NOMINATOR: &[&str] = &[NOMINATOR_EVENTS];

/// Topics where only the latest record per key matters (`cleanup.policy=compact`).
/// None today: session snapshots and candidate lists are replayed whole by a
/// rebuild (a round long ago is judged with the list in force then).
pub const COMPACTED: &[&str] = &[];

/// Every topic scoring writes.
pub const PROGRAMME: &[&str] = &[CANDIDATES, RELEASES, ROUNDS, SCORES];

/// The typed event topics, in the order of `registry::TYPED_EVENT_SUBJECTS`.
pub const TYPED_EVENTS: [&str; 6] =
    [STAKING_EVENTS, SESSION_EVENTS, IDENTITY_EVENTS, PROXY_EVENTS, UTILITY_EVENTS, SYSTEM_EVENTS];

/// Every topic chain ingest writes (besides dead letters).
pub const CHAIN: &[&str] = &[
    BLOCKS,
    EVENTS,
    STAKING_EVENTS,
    SESSION_EVENTS,
    IDENTITY_EVENTS,
    PROXY_EVENTS,
    UTILITY_EVENTS,
    SYSTEM_EVENTS,
    SESSION_SNAPSHOTS,
    VALIDATORS,
    NOMINATORS,
    ERA_POINTS,
    IDENTITIES,
];

/// Every telemetry topic.
pub const TELEMETRY: &[&str] = &[TELEMETRY_NODES];

/// Every data topic stakeflow writes.
pub fn all() -> impl Iterator<Item = &'static str> {
    CHAIN.iter().chain(TELEMETRY).chain(PROGRAMME).chain(NOMINATOR).copied()
}

/// Key of a record about one account or era of a chain: `<chain>/<part>`.
pub fn sub_key(chain: &str, part: &str) -> Vec<u8> {
    format!("{chain}/{part}").into_bytes()
}

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
    fn chain_topics_are_all_provisioned() {
        let p = provisioned();
        assert!(all().all(|t| p.contains(&t.to_string()) && p.contains(&dead_letter(t))));
        assert_eq!(all().count(), CHAIN.len() + TELEMETRY.len() + PROGRAMME.len() + NOMINATOR.len());
    }

    #[test]
    fn keys_belong_to_their_chain_only() {
        assert!(key_of_chain(b"paseo", "paseo"));
        assert!(key_of_chain(&event_key("paseo", 3, 1), "paseo"));
        assert!(!key_of_chain(b"paseo-devnet/3/1", "paseo"));
        assert!(!key_of_chain(b"pas", "paseo"));
    }
}

/// Storage values ingest could not decode (raw bytes, headers say which and why).
pub const STORAGE_DEAD_LETTERS: &str = "stakeflow.chain.storage.dlq";

/// Every topic to provision: the data topics, their dead-letter topics, and
/// the storage dead-letter topic.
pub fn provisioned() -> Vec<String> {
    all().flat_map(|t| [t.to_string(), dead_letter(t)]).chain([STORAGE_DEAD_LETTERS.to_string()]).collect()
}

/// Key of per-chain records: the network name, as UTF-8.
pub fn chain_key(chain: &str) -> Vec<u8> {
    chain.as_bytes().to_vec()
}

/// Name of the dead-letter topic that holds undecodable records of `topic`.
pub fn dead_letter(topic: &str) -> String {
    format!("{topic}.dlq")
}
