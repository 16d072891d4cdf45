//! The one rule that ties a telemetry node to a validator's stash, used by
//! the rounds and by `/nodes` alike so the two can never disagree.
//!
//! A node reports the GRANDPA authority key it runs with; the session
//! snapshot says whose session key that is: an exact tie. Only where a
//! programme allows it, a node whose name equals a candidate's registered
//! name is tied to that candidate (1KV's only way, and a spoofable one).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a node was tied to a stash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The GRANDPA key the node reports is the stash's current session key.
    SessionKey,
    /// The node's name equals the candidate's name in the programme's list.
    Name,
}

impl MatchedBy {
    /// The name used in evidence and API answers.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::SessionKey => "session_key",
            MatchedBy::Name => "name",
        }
    }
}

/// A network's session keys: GRANDPA key (lower-case 0x hex) to stash (0x hex).
pub type GrandpaKeys = BTreeMap<String, String>;

/// Build [`GrandpaKeys`] from `(stash, grandpa key)` pairs in any hex case.
pub fn grandpa_keys<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> GrandpaKeys {
    pairs.into_iter().map(|(stash, key)| (key.to_lowercase(), stash.to_string())).collect()
}

/// Candidate names (trimmed) to stash (0x hex), for programmes that match by name.
pub type Names = BTreeMap<String, String>;

/// The stash a node belongs to: by the GRANDPA key it reports (`validator`,
/// SS58 of any prefix), else by its name when `names` is given.
pub fn stash_of(validator: Option<&str>, name: &str, keys: &GrandpaKeys, names: Option<&Names>) -> Option<(String, MatchedBy)> {
    let by_key = validator
        .and_then(schemas::ss58::account)
        .and_then(|key| keys.get(&schemas::ss58::hex0x(&key)))
        .map(|stash| (stash.clone(), MatchedBy::SessionKey));
    by_key.or_else(|| names?.get(name.trim()).map(|stash| (stash.clone(), MatchedBy::Name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const ALICE_HEX: &str = "0xD43593C715FDD31C61141ABD04A99FD6822C8558854CCDE39A5684E7A56DA27D";
    const BOB_SS58: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    fn keys() -> GrandpaKeys {
        grandpa_keys([("0xstash", ALICE_HEX)])
    }

    #[test]
    fn a_reported_session_key_ties_the_node_whatever_its_name() {
        let names = Names::from([("alice".to_string(), "0xother".to_string())]);
        assert_eq!(stash_of(Some(ALICE_SS58), "alice", &keys(), Some(&names)), Some(("0xstash".into(), MatchedBy::SessionKey)));
    }

    #[test]
    fn names_count_only_where_allowed() {
        let names = Names::from([("bob-node".to_string(), "0xbob".to_string())]);
        assert_eq!(stash_of(Some(BOB_SS58), " bob-node ", &keys(), Some(&names)), Some(("0xbob".into(), MatchedBy::Name)));
        assert_eq!(stash_of(Some(BOB_SS58), "bob-node", &keys(), None), None, "name matching off");
    }

    #[test]
    fn unknown_or_garbage_keys_tie_nothing() {
        assert_eq!(stash_of(Some(BOB_SS58), "x", &keys(), None), None, "not a session key");
        assert_eq!(stash_of(Some("garbage"), "x", &keys(), None), None);
        assert_eq!(stash_of(None, "x", &keys(), None), None);
    }
}
