//! Rank, inclusion, last active era and faults: derived from the folded
//! chain facts alone, so they can always be rebuilt from the topics.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::chain_facts::{ChainFacts, Fault};
use super::eras::EraSet;

/// Eras in the inclusion window (1KV: 84).
pub const INCLUSION_ERAS: u32 = 84;
/// Eras in the span-inclusion window (1KV: 28).
pub const SPAN_INCLUSION_ERAS: u32 = 28;

/// A candidate's history as of a round.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct History {
    /// Eras in which any address of the candidate's identity was active.
    pub rank: u32,
    /// Share of the last 84 eras in which the stash earned points.
    pub inclusion: f64,
    /// Share of the last 28 eras in which the stash earned points.
    pub span_inclusion: f64,
    /// The last era the stash earned points in.
    pub nominated_at: Option<u32>,
    /// Offline faults in the inclusion window.
    pub faults: Vec<Fault>,
}

/// The account holding `account`'s identity: its super's when it is a
/// sub-identity, else itself; `None` when no identity record was read.
pub fn identity_root<'a>(account: &'a str, identities: &'a ChainFacts) -> Option<&'a str> {
    let own = identities.identities.get(account)?;
    Some(own.super_account.as_deref().unwrap_or(account))
}

/// The accounts of a candidate's identity: its root (the super identity,
/// or itself), the root's sub-identities, and the stash itself.
pub fn identity_addresses<'a>(stash: &'a str, identities: &'a ChainFacts) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::from([stash]);
    let (Some(own), Some(root)) = (identities.identities.get(stash), identity_root(stash, identities)) else { return out };
    if let Some(r) = identities.identities.get(root) {
        out.extend(r.subs.iter().map(String::as_str));
    }
    out.extend(own.subs.iter().map(String::as_str));
    out.insert(root);
    out
}

/// Share of `window` eras ending at `era` that are in `set`.
pub fn share(set: Option<&EraSet>, era: u32, window: u32) -> f64 {
    let Some(set) = set else { return 0.0 };
    let from = era.saturating_sub(window - 1);
    f64::from(set.count_within(from, era)) / f64::from(window)
}

/// History of `stash` (0x hex) with identity `addresses`, at active era `era`.
pub fn history(stash: &str, addresses: &BTreeSet<&str>, staking: &ChainFacts, relay: &ChainFacts, era: Option<u32>) -> History {
    let rank = EraSet::union_len(addresses.iter().filter_map(|a| staking.active.get(*a)));
    let pointed = staking.pointed.get(stash);
    let (inclusion, span_inclusion) = match era {
        Some(e) => (share(pointed, e, INCLUSION_ERAS), share(pointed, e, SPAN_INCLUSION_ERAS)),
        None => (0.0, 0.0),
    };
    let from = era.map_or(0, |e| e.saturating_sub(INCLUSION_ERAS - 1));
    let faults = relay
        .faults
        .get(stash)
        .map(|f| f.iter().filter(|f| f.era.is_none_or(|e| e >= from)).cloned().collect())
        .unwrap_or_default();
    History { rank, inclusion, span_inclusion, nominated_at: pointed.and_then(EraSet::last), faults }
}

/// The sum over `target`'s nominators (newest era snapshot, the programme's
/// own left out) of the square root of their bond in tokens: many small
/// nominators count more than one whale. 0 without nominators.
pub fn nominator_stake(staking: &ChainFacts, target: &str, decimals: u8) -> f64 {
    // sqrt(planck) = sqrt(tokens) * 10^(decimals / 2)
    staking.nominator_stake.get(target).map_or(0.0, |s| s.sqrt_planck / 10f64.powf(f64::from(decimals) / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain_facts::IdentityRecord;

    fn eras(list: &[u32]) -> EraSet {
        let mut s = EraSet::default();
        list.iter().for_each(|e| s.insert(*e));
        s
    }

    #[test]
    fn rank_counts_eras_of_any_identity_address_once() {
        let mut staking = ChainFacts::default();
        staking.active.insert("0xsub".into(), eras(&[1, 2, 3]));
        staking.active.insert("0xroot".into(), eras(&[3, 4]));
        staking.active.insert("0xother".into(), eras(&[9]));
        let mut ids = ChainFacts::default();
        ids.identities.insert("0xroot".into(), IdentityRecord { has_identity: true, subs: vec!["0xsub".into(), "0xstash".into()], ..Default::default() });
        ids.identities.insert("0xstash".into(), IdentityRecord { super_account: Some("0xroot".into()), ..Default::default() });
        let addrs = identity_addresses("0xstash", &ids);
        assert_eq!(addrs.iter().copied().collect::<Vec<_>>(), vec!["0xroot", "0xstash", "0xsub"]);
        let h = history("0xstash", &addrs, &staking, &ChainFacts::default(), Some(4));
        assert_eq!(h.rank, 4, "eras 1..=4, era 3 once");
        // Without an identity only the stash counts.
        assert_eq!(identity_addresses("0xother", &ids).len(), 1);
    }

    #[test]
    fn inclusion_is_a_share_of_the_window() {
        let mut staking = ChainFacts::default();
        // Points in eras 1..=100 except 90..=99.
        let list: Vec<u32> = (1..=100).filter(|e| !(90..=99).contains(e)).collect();
        staking.pointed.insert("0xa".into(), eras(&list));
        let h = history("0xa", &BTreeSet::new(), &staking, &ChainFacts::default(), Some(100));
        // 84-era window is 17..=100: 84 - 10 = 74 eras; 28-era window 73..=100: 28 - 10 = 18.
        assert!((h.inclusion - 74.0 / 84.0).abs() < 1e-12);
        assert!((h.span_inclusion - 18.0 / 28.0).abs() < 1e-12);
        assert_eq!(h.nominated_at, Some(100));
        let none = history("0xb", &BTreeSet::new(), &staking, &ChainFacts::default(), Some(100));
        assert_eq!((none.inclusion, none.nominated_at), (0.0, None));
    }

    #[test]
    fn nominator_stake_is_a_sum_of_square_roots_without_our_nominators() {
        let mut staking = ChainFacts::default();
        let n = |who: &str, era: i64, bonded: u128, targets: &[&str]| schemas::NominatorEra {
            era,
            nominator: who.into(),
            bonded: bonded.to_string(),
            targets: targets.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let ours = BTreeSet::from(["0xours".to_string()]);
        staking.apply_nominator(&n("0xold", 1, 10_000 * 10u128.pow(10), &["0xa"]), &ours);
        staking.apply_nominator(&n("0xn1", 2, 100 * 10u128.pow(10), &["0xa", "0xb", "0xa"]), &ours);
        staking.apply_nominator(&n("0xn2", 2, 16 * 10u128.pow(10), &["0xa"]), &ours);
        staking.apply_nominator(&n("0xOURS", 2, 10_000 * 10u128.pow(10), &["0xa"]), &ours);
        let stake = |t: &str| nominator_stake(&staking, t, 10);
        // Era 1 is replaced; ours is left out; a target listed twice counts once.
        assert!((stake("0xa") - 14.0).abs() < 1e-9, "{}", stake("0xa"));
        assert!((stake("0xb") - 10.0).abs() < 1e-9);
        assert_eq!(stake("0xc"), 0.0);
        assert_eq!(staking.nominator_stake["0xa"].nominators, 2);
        assert!(staking.own_nominators.contains_key("0xours"));
    }
}
