//! What the chain topics say, folded per chain: the pure part of the scorer.
//! Every `apply_*` takes one decoded record; applying the same records in
//! the same order always gives the same facts.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::FixedState;

use schemas::{EraPoints, Identity, NominatorEra, NominatorEraView, SessionSnapshot, TypedEvent, ValidatorEra};
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

/// A nominator of an era snapshot as the sums read it: its keys in lower
/// case, each target once (in the order first named), its bond's square
/// root. Pure, so a pass prepares its 20,000 a snapshot in parallel
/// ([`ChainFacts::apply_nomination`] does the rest in order).
#[derive(Debug, Clone, PartialEq)]
pub struct Nomination {
    /// Era of the snapshot.
    pub era: u32,
    /// The nominator (0x hex, lower case).
    pub who: String,
    /// Bonded, planck.
    pub bonded: String,
    /// Square root of the bond in planck (0 when the bond does not parse).
    pub root: f64,
    /// Targets (0x hex, lower case), each once.
    pub targets: Targets,
}

impl Nomination {
    /// Read `n`; its strings are copied once, lower-cased only where they are not lower case already.
    pub fn of(n: NominatorEraView<'_>) -> Self {
        let mut targets = Targets::with_capacity(n.targets.len(), n.targets.iter().map(|t| t.len()).sum());
        // A repeat is found on a hash of the whole key, keys compared only
        // when hashes match: 16 targets a nominator, 20,000 a snapshot, and
        // account keys may share any part (a prefix was tried: synthetic keys
        // share their first bytes, and nearly every target was compared whole).
        let mut keys: Vec<u64> = Vec::with_capacity(n.targets.len());
        for t in n.targets {
            let t = lowered(t);
            let key = key_hash(&t);
            if !keys.iter().zip(targets.iter()).any(|(k, seen)| *k == key && seen == t) {
                keys.push(key);
                targets.push(&t);
            }
        }
        let root = (n.bonded.parse::<u128>().unwrap_or_default() as f64).sqrt();
        Self { era: era(n.era), who: lowered(n.nominator).into_owned(), bonded: n.bonded.to_owned(), root, targets }
    }
}

/// A nominator's targets in one string: one allocation where a string each
/// was sixteen (made on a decoding thread, freed by the fold's).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Targets {
    text: String,
    ends: Vec<u32>,
}

impl Targets {
    fn with_capacity(n: usize, bytes: usize) -> Self {
        Self { text: String::with_capacity(bytes), ends: Vec::with_capacity(n) }
    }

    fn push(&mut self, t: &str) {
        self.text.push_str(t);
        // A nominator names at most a few dozen targets of 66 bytes.
        self.ends.push(u32::try_from(self.text.len()).expect("a nominator's targets fit 4 GB"));
    }

    /// The targets, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.ends.iter().scan(0usize, |start, &end| {
            let t = &self.text[*start..end as usize];
            *start = end as usize;
            Some(t)
        })
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// None at all.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
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

/// Nominator sums by target.
pub type StakeMap = HashMap<String, NominatorStake, FixedState>;

/// A hashed map saved in key order, so equal facts save as equal bytes.
fn sorted<S: serde::Serializer, V: Serialize>(map: &HashMap<String, V, FixedState>, s: S) -> Result<S::Ok, S::Error> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    s.collect_map(entries)
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
    /// Hashed (320,000 lookups an era on Kusama), saved in key order.
    #[serde(serialize_with = "sorted")]
    pub nominator_stake: StakeMap,
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
        self.apply_nomination(Nomination::of(n.view()), excluded);
    }

    /// A nominator read by [`Nomination::of`]: only the sums are left to do,
    /// in order (a target's sum adds its nominators' roots in record order,
    /// so a rebuild sums to the same bits as the live fold).
    pub fn apply_nomination(&mut self, n: Nomination, excluded: &std::collections::BTreeSet<String>) {
        match self.nominators_era {
            Some(current) if n.era < current => return,
            Some(current) if n.era > current => {
                self.nominator_stake.clear();
                self.own_nominators.clear();
            }
            _ => {}
        }
        self.nominators_era = Some(n.era);
        if excluded.contains(&n.who) {
            let mut targets: Vec<String> = n.targets.iter().map(str::to_owned).collect();
            targets.sort_unstable();
            self.own_nominators.insert(n.who, NominatorFacts { era: n.era, bonded: n.bonded, targets });
            return;
        }
        for t in n.targets.iter() {
            // Looked up borrowed: a key is copied only the first time it is named in an era.
            let s = match self.nominator_stake.get_mut(t) {
                Some(s) => s,
                None => self.nominator_stake.entry(t.to_owned()).or_default(),
            };
            s.sqrt_planck += n.root;
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

/// `s` in lower case, copied only when that changes it (account hex as
/// ingest writes it is lower case already).
fn lowered(s: &str) -> std::borrow::Cow<'_, str> {
    // No early exit: a branch-free pass over 66 bytes is quicker than one that stops.
    let changes = s.bytes().fold(false, |any, b| any | b.is_ascii_uppercase() | !b.is_ascii());
    if changes { s.to_lowercase().into() } else { s.into() }
}

/// A hash of a whole account key, to find repeats among a nominator's targets.
fn key_hash(s: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(s)
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

    /// A nomination counts once per target however its hex is cased or
    /// repeated; the programme's own nominators keep their targets, not sums.
    #[test]
    fn nominations_count_once_per_target_whatever_the_case() {
        let mut f = ChainFacts::default();
        let nominator = |who: &str, targets: &[&str]| NominatorEra {
            era: 3,
            nominator: who.into(),
            bonded: "400".into(),
            targets: targets.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        let ours = std::collections::BTreeSet::from(["0xours".to_string()]);
        f.apply_nominator(&nominator("0xn1", &["0xB", "0xa", "0xb", "0xA"]), &ours);
        f.apply_nominator(&nominator("0xN2", &["0xb"]), &ours);
        f.apply_nominator(&nominator("0xOURS", &["0xC", "0xa", "0xc"]), &ours);
        let mut keys: Vec<_> = f.nominator_stake.keys().collect();
        keys.sort();
        assert_eq!(keys, ["0xa", "0xb"]);
        assert_eq!((f.nominator_stake["0xa"].nominators, f.nominator_stake["0xb"].nominators), (1, 2));
        assert_eq!(f.nominator_stake["0xb"].sqrt_planck, 40.0, "sqrt(400) from each of two nominators");
        assert_eq!(f.own_nominators["0xours"].targets, ["0xa", "0xc"]);
        assert!(lowered("0xAB") == "0xab" && lowered("ǅ") == "ǆ");
        assert!(matches!(lowered("0xab"), std::borrow::Cow::Borrowed("0xab")), "lower case already: borrowed, not a copy");
    }

    #[test]
    fn targets_are_kept_in_order_in_one_string() {
        let n = NominatorEra { era: 1, nominator: "0xN".into(), bonded: "16".into(), targets: ["0xB", "0xa", "", "0xb", "0xcc"].map(String::from).to_vec(), ..Default::default() };
        let read = Nomination::of(n.view());
        assert_eq!(read.targets.iter().collect::<Vec<_>>(), ["0xb", "0xa", "", "0xcc"], "first named first, each once, an empty key too");
        assert_eq!((read.targets.len(), read.who.as_str(), read.root), (4, "0xn", 4.0));
        assert!(Nomination::of(NominatorEra::default().view()).targets.is_empty());
    }

    #[test]
    fn targets_alike_in_their_first_bytes_count_once_each() {
        let (p, q) = ("0x0123456789abcdef", "0x0123456789abcdee");
        let mut f = ChainFacts::default();
        let targets = [p, q, "0xb", p, q, "0x0123456789ABCDEF"].map(String::from).to_vec();
        f.apply_nominator(&NominatorEra { era: 1, nominator: "0xn".into(), bonded: "4".into(), targets, ..Default::default() }, &Default::default());
        let counts: BTreeMap<&str, u32> = f.nominator_stake.iter().map(|(k, s)| (k.as_str(), s.nominators)).collect();
        assert_eq!(counts, BTreeMap::from([(p, 1), (q, 1), ("0xb", 1)]));
    }

    #[test]
    fn nominator_sums_are_saved_in_key_order_whatever_order_they_came_in() {
        let targets = ["0xc", "0xa", "0xd", "0xb", "0xf", "0xe"];
        let fold = |order: &mut dyn Iterator<Item = &&str>| {
            let mut f = ChainFacts::default();
            for t in order {
                let n = NominatorEra { era: 1, nominator: format!("0xn{t}"), bonded: "9".into(), targets: vec![t.to_string()], ..Default::default() };
                f.apply_nominator(&n, &Default::default());
            }
            serde_json::to_string(&f).unwrap()
        };
        let (forward, backward) = (fold(&mut targets.iter()), fold(&mut targets.iter().rev()));
        assert_eq!(forward, backward);
        let at = |k: &str| forward.find(&format!("\"{k}\":{{\"sqrt_planck\"")).unwrap();
        assert!(at("0xa") < at("0xb") && at("0xb") < at("0xc") && at("0xe") < at("0xf"), "{forward}");
        let back: ChainFacts = serde_json::from_str(&forward).unwrap();
        assert_eq!(back.nominator_stake["0xd"].sqrt_planck, 3.0);
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
