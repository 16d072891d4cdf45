//! What the chain topics say, folded per chain: the pure part of the scorer.
//! Every `apply_*` takes one decoded record; applying the same records in
//! the same order always gives the same facts.

use std::collections::BTreeMap;

use schemas::{EraPoints, Identity, NominatorEra, SessionSnapshot, TypedEvent, ValidatorEra};
use serde::{Deserialize, Serialize};

use super::eras::EraSet;

/// The latest session of a chain.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SessionFacts {
    /// Session index.
    pub index: u64,
    /// Block it started at.
    pub block: u64,
    /// Active era then, when the chain has staking.
    pub active_era: Option<u32>,
    /// Session keys of the validators, by stash (0x hex) then key name.
    pub keys: BTreeMap<String, BTreeMap<String, String>>,
}

/// A validator's prefs and stake at an era.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorFacts {
    /// Era of the snapshot.
    pub era: u32,
    /// Block of the snapshot.
    pub block: u64,
    /// Commission, Perbill.
    pub commission_perbill: u32,
    /// Blocks nominations.
    pub blocked: bool,
    /// Self stake, planck (decimal string: u128 does not fit JSON numbers everywhere).
    pub self_bonded: String,
}

/// A nominator's bond and targets at an era.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NominatorFacts {
    /// Era of the snapshot.
    pub era: u32,
    /// Bonded, planck.
    pub bonded: String,
    /// Targets (0x hex stashes).
    pub targets: Vec<String>,
}

/// What a validator's nominators amount to in the newest era snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct NominatorStake {
    /// Sum of the square roots of their bonds, in sqrt(planck).
    pub sqrt_planck: f64,
    /// How many nominate it.
    pub nominators: u32,
}

/// An account's identity as last read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IdentityRecord {
    /// Block read at.
    pub block: u64,
    /// Identity set on the account itself.
    pub has_identity: bool,
    /// Display name.
    pub display: Option<String>,
    /// Judgements (`Reasonable`, `KnownGood`, ...).
    pub judgements: Vec<String>,
    /// The super account, when this is a sub-identity.
    pub super_account: Option<String>,
    /// Sub accounts.
    pub subs: Vec<String>,
}

/// An offline fault: the chain reported the validator offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// The session that ended with the report (the latest known session then).
    pub session: Option<u64>,
    /// The active era then.
    pub era: Option<u32>,
    /// Block of the `ImOnline.SomeOffline` event.
    pub block: u64,
    /// For people.
    pub reason: String,
}

/// Everything folded for one chain.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChainFacts {
    /// The last block record applied, and its timestamp.
    pub clock: Option<(u64, i64)>,
    /// The latest session.
    pub session: Option<SessionFacts>,
    /// Era of the newest validator snapshot.
    pub validators_era: Option<u32>,
    /// Validators of the newest era snapshot (those that intend to validate), by stash.
    pub validators: BTreeMap<String, ValidatorFacts>,
    /// Eras each stash was elected in (rank).
    pub active: BTreeMap<String, EraSet>,
    /// Eras each stash earned points in (inclusion, last active era).
    pub pointed: BTreeMap<String, EraSet>,
    /// Newest era with points.
    pub points_era: Option<u32>,
    /// Era of the newest nominator snapshot.
    pub nominators_era: Option<u32>,
    /// Per target, its nominators of the newest era snapshot, the
    /// programme's own left out. Sums, not the nominators themselves: a
    /// network has tens of thousands of them and this state is saved whole.
    pub nominator_stake: BTreeMap<String, NominatorStake>,
    /// The programme's own nominators in the newest era snapshot (left out of the sums).
    pub own_nominators: BTreeMap<String, NominatorFacts>,
    /// Identities by account.
    pub identities: BTreeMap<String, IdentityRecord>,
    /// Offline faults by stash.
    pub faults: BTreeMap<String, Vec<Fault>>,
}

fn era(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

fn block(v: i64) -> u64 {
    u64::try_from(v.max(0)).unwrap_or_default()
}

impl ChainFacts {
    /// The active era as far as this chain knows.
    pub fn active_era(&self) -> Option<u32> {
        [self.validators_era, self.session.as_ref().and_then(|s| s.active_era)].into_iter().flatten().max()
    }

    /// A finalized block record.
    pub fn apply_block(&mut self, number: u64, timestamp_ms: Option<i64>) {
        let ts = timestamp_ms.or(self.clock.map(|(_, t)| t)).unwrap_or_default();
        self.clock = Some((number, ts));
    }

    /// A session snapshot.
    pub fn apply_session(&mut self, s: &SessionSnapshot) {
        self.session = Some(SessionFacts {
            index: block(s.session_index),
            block: block(s.block_number),
            active_era: s.active_era.map(era),
            keys: s.validators.iter().map(|v| (v.stash.to_lowercase(), v.keys.clone())).collect(),
        });
    }

    /// One validator of an era snapshot. A newer era replaces the set:
    /// a stash missing from it no longer intends to validate.
    pub fn apply_validator(&mut self, v: &ValidatorEra) {
        let e = era(v.era);
        match self.validators_era {
            Some(current) if e < current => return, // an older snapshot says nothing new
            Some(current) if e > current => self.validators.clear(),
            _ => {}
        }
        self.validators_era = Some(e);
        let stash = v.stash.to_lowercase();
        if v.elected {
            self.active.entry(stash.clone()).or_default().insert(e);
        }
        self.validators.insert(
            stash,
            ValidatorFacts {
                era: e,
                block: block(v.block_number),
                commission_perbill: u32::try_from(v.commission_perbill.max(0)).unwrap_or(u32::MAX),
                blocked: v.blocked,
                self_bonded: v.self_bonded.clone(),
            },
        );
    }

    /// One nominator of an era snapshot; a newer era replaces the sums.
    /// `excluded` (0x hex) are the programme's own nominators.
    pub fn apply_nominator(&mut self, n: &NominatorEra, excluded: &std::collections::BTreeSet<String>) {
        let e = era(n.era);
        match self.nominators_era {
            Some(current) if e < current => return,
            Some(current) if e > current => {
                self.nominator_stake.clear();
                self.own_nominators.clear();
            }
            _ => {}
        }
        self.nominators_era = Some(e);
        let who = n.nominator.to_lowercase();
        let targets: std::collections::BTreeSet<String> = n.targets.iter().map(|t| t.to_lowercase()).collect();
        if excluded.contains(&who) {
            let facts = NominatorFacts { era: e, bonded: n.bonded.clone(), targets: targets.into_iter().collect() };
            self.own_nominators.insert(who, facts);
            return;
        }
        let root = (n.bonded.parse::<u128>().unwrap_or_default() as f64).sqrt();
        for t in targets {
            let s = self.nominator_stake.entry(t).or_default();
            s.sqrt_planck += root;
            s.nominators += 1;
        }
    }

    /// Reward points of an ended era.
    pub fn apply_points(&mut self, p: &EraPoints) {
        let e = era(p.era);
        for v in p.points.iter().filter(|v| v.points > 0) {
            self.pointed.entry(v.stash.to_lowercase()).or_default().insert(e);
        }
        self.points_era = self.points_era.max(Some(e));
    }

    /// An identity as read on the identity chain.
    pub fn apply_identity(&mut self, i: &Identity) {
        self.identities.insert(
            i.account.to_lowercase(),
            IdentityRecord {
                block: block(i.block_number),
                has_identity: i.has_identity,
                display: i.display.clone(),
                judgements: i.judgements.iter().map(|j| j.judgement.clone()).collect(),
                super_account: i.super_account.as_ref().map(|s| s.to_lowercase()),
                subs: i.subs.iter().map(|s| s.to_lowercase()).collect(),
            },
        );
    }

    /// A session event: `ImOnline.SomeOffline` records a fault for each
    /// offender, once per (stash, session) however often it is replayed.
    pub fn apply_session_event(&mut self, ev: &TypedEvent) {
        if ev.kind != "SomeOffline" {
            return;
        }
        let session = self.session.as_ref().map(|s| s.index);
        let era = self.active_era();
        for stash in &ev.accounts {
            let list = self.faults.entry(stash.to_lowercase()).or_default();
            if list.iter().any(|f| f.session == session && (session.is_some() || f.block == block(ev.block_number))) {
                continue;
            }
            let at = session.map_or_else(|| format!("block {}", ev.block_number), |s| format!("session {s}"));
            list.push(Fault {
                session,
                era,
                block: block(ev.block_number),
                reason: format!("reported offline (ImOnline.SomeOffline) at the end of {at}"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::{Judgement, ValidatorPoints};

    fn validator(era: i64, stash: &str, elected: bool) -> ValidatorEra {
        ValidatorEra { era, stash: stash.into(), elected, self_bonded: "100".into(), commission_perbill: 5, ..Default::default() }
    }

    #[test]
    fn a_newer_era_replaces_intentions_and_keeps_history() {
        let mut f = ChainFacts::default();
        f.apply_validator(&validator(1, "0xA", true));
        f.apply_validator(&validator(1, "0xb", false));
        f.apply_validator(&validator(2, "0xb", true));
        f.apply_validator(&validator(1, "0xa", true)); // late, older: ignored
        assert_eq!(f.validators.keys().collect::<Vec<_>>(), vec!["0xb"], "0xa stopped validating");
        assert_eq!(f.active["0xa"].len(), 1);
        assert_eq!(f.active["0xb"].len(), 1);
        assert_eq!(f.active_era(), Some(2));
    }

    #[test]
    fn faults_are_deduplicated_per_session() {
        let mut f = ChainFacts::default();
        f.apply_session(&SessionSnapshot { session_index: 7, ..Default::default() });
        let ev = TypedEvent { kind: "SomeOffline".into(), block_number: 70, accounts: vec!["0xa".into(), "0xb".into()], ..Default::default() };
        f.apply_session_event(&ev);
        f.apply_session_event(&ev);
        assert_eq!(f.faults["0xa"].len(), 1);
        f.apply_session(&SessionSnapshot { session_index: 8, ..Default::default() });
        f.apply_session_event(&TypedEvent { block_number: 80, ..ev.clone() });
        assert_eq!(f.faults["0xa"].iter().map(|x| x.session).collect::<Vec<_>>(), vec![Some(7), Some(8)]);
        f.apply_session_event(&TypedEvent { kind: "AllGood".into(), ..ev });
        assert_eq!(f.faults["0xb"].len(), 2);
    }

    #[test]
    fn points_and_identities() {
        let mut f = ChainFacts::default();
        f.apply_points(&EraPoints {
            era: 4,
            points: vec![ValidatorPoints { stash: "0xa".into(), points: 20 }, ValidatorPoints { stash: "0xb".into(), points: 0 }],
            ..Default::default()
        });
        assert!(f.pointed["0xa"].contains(4) && !f.pointed.contains_key("0xb"));
        f.apply_identity(&Identity {
            account: "0xA".into(),
            has_identity: true,
            judgements: vec![Judgement { registrar_index: 0, judgement: "Reasonable".into() }],
            subs: vec!["0xS".into()],
            ..Default::default()
        });
        assert_eq!(f.identities["0xa"].subs, vec!["0xs"]);
    }
}
