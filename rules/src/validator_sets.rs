//! Validator sets as the session snapshots tell them: per chain, the latest
//! set with every validator's session keys, and per stash how many eras it
//! was in a set (1KV's "active eras"). Applying the same snapshot twice
//! changes nothing, so a replayed record cannot count an era twice.

use std::collections::BTreeMap;

use schemas::SessionSnapshot;
use serde::{Deserialize, Serialize};

/// A validator of a set, with its session keys (name -> 0x hex).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Member {
    /// Stash, 0x hex.
    pub stash: String,
    /// Session keys by name (`grandpa`, `babe`, `beefy`, ...).
    pub keys: BTreeMap<String, String>,
}

/// Eras a stash was in a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EraCount {
    /// Distinct eras counted.
    pub eras: u32,
    /// The last era counted.
    pub last: Option<i64>,
}

/// One chain's sets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChainSets {
    /// Session of the latest set.
    pub session: i64,
    /// Active era at that session.
    pub era: Option<i64>,
    /// Block of the session change.
    pub block: i64,
    /// The latest set.
    pub validators: Vec<Member>,
    /// Per stash (0x hex), the eras it was in a set.
    pub active_eras: BTreeMap<String, EraCount>,
}

/// Every chain's sets.
pub type ValidatorSets = BTreeMap<String, ChainSets>;

/// Apply a session snapshot: an older session than the one held is ignored
/// (a replay), the latest set replaced, each member's era counted once.
pub fn apply(sets: &mut ValidatorSets, snap: &SessionSnapshot) {
    let chain = sets.entry(snap.chain.clone()).or_default();
    if !chain.validators.is_empty() && snap.session_index < chain.session {
        return;
    }
    chain.session = snap.session_index;
    chain.era = snap.active_era;
    chain.block = snap.block_number;
    chain.validators = snap.validators.iter().map(|v| Member { stash: v.stash.to_lowercase(), keys: v.keys.clone() }).collect();
    let Some(era) = snap.active_era else { return };
    for v in &chain.validators {
        let count = chain.active_eras.entry(v.stash.clone()).or_default();
        if count.last.is_none_or(|last| era > last) {
            count.eras += 1;
            count.last = Some(era);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::SessionValidator;

    fn snap(session: i64, era: i64, stashes: &[&str]) -> SessionSnapshot {
        SessionSnapshot {
            chain: "c".into(),
            session_index: session,
            block_number: session * 10,
            active_era: Some(era),
            validators: stashes
                .iter()
                .map(|s| SessionValidator { stash: s.to_string(), keys: BTreeMap::from([("grandpa".to_string(), format!("0xg{s}"))]) })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn eras_are_counted_once_however_many_sessions_and_replays() {
        let mut sets = ValidatorSets::new();
        for s in [snap(1, 1, &["0xa", "0xb"]), snap(2, 1, &["0xa", "0xb"]), snap(3, 2, &["0xa"]), snap(3, 2, &["0xa"])] {
            apply(&mut sets, &s);
        }
        let c = &sets["c"];
        assert_eq!((c.active_eras["0xa"].eras, c.active_eras["0xb"].eras), (2, 1));
        assert_eq!((c.session, c.era, c.validators.len()), (3, Some(2), 1));
        assert_eq!(c.validators[0].keys["grandpa"], "0xg0xa");
    }

    #[test]
    fn an_older_snapshot_does_not_replace_the_latest_set() {
        let mut sets = ValidatorSets::new();
        apply(&mut sets, &snap(5, 3, &["0xa"]));
        apply(&mut sets, &snap(4, 2, &["0xb"]));
        let c = &sets["c"];
        assert_eq!((c.session, c.validators[0].stash.as_str()), (5, "0xa"));
        assert!(!c.active_eras.contains_key("0xb"));
    }
}
