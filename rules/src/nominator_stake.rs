//! Who nominates each validator, era by era, as the nominator records tell
//! it (1KV's `NominatorStake`). Stored as one small row per (chain,
//! validator, era slot, nominator), where a slot is `era % KEPT_ERAS`: a
//! record only writes its own rows (no read, no row holding a whole era),
//! a replay writes the same rows again, and history stays bounded without
//! deleting: an era's rows overwrite those of the era [`KEPT_ERAS`] before
//! it. A nominator that left keeps its row in the slot with its older era,
//! which [`eras`] does not count.

use std::collections::BTreeMap;

use schemas::NominatorEra;
use serde::{Deserialize, Serialize};

/// Eras kept per validator. 1KV deleted its `NominatorStake` documents after
/// two days (eight Kusama eras); at Kusama's scale (20,000 nominators of 16
/// to 24 targets) an era is about 400,000 rows.
pub const KEPT_ERAS: i64 = 8;

/// One nominator behind one validator in one era: a row's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backing {
    pub era: i64,
    /// Block the era began at.
    pub block: i64,
    /// The nominator's active bond, planck, decimal.
    pub bonded: String,
}

/// The nominators of one validator in one era.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EraStake {
    pub era: i64,
    pub block: i64,
    /// Nominator stash (0x hex, lowercase) to its active bond (planck, decimal).
    pub nominators: BTreeMap<String, String>,
}

impl EraStake {
    /// The bonds summed, planck (a bond that does not parse counts as 0).
    pub fn total(&self) -> u128 {
        self.nominators.values().map(|b| b.parse::<u128>().unwrap_or_default()).fold(0, u128::saturating_add)
    }
}

/// Key prefix of a validator's rows (`stake/<chain>/<validator>/`).
pub fn prefix(chain: &str, validator: &str) -> String {
    format!("stake/{chain}/{}/", validator.to_lowercase())
}

/// The rows a nominator's record writes: one per target.
pub fn rows(n: &NominatorEra) -> Vec<(String, Backing)> {
    let who = n.nominator.to_lowercase();
    let slot = n.era.rem_euclid(KEPT_ERAS);
    n.targets
        .iter()
        .map(|t| {
            let key = format!("{}{slot:02}/{who}", prefix(&n.chain, t));
            (key, Backing { era: n.era, block: n.block_number, bonded: n.bonded.clone() })
        })
        .collect()
}

/// A validator's eras, newest first, from its rows (as scanned under
/// [`prefix`]): in each slot, the newest era's nominators.
pub fn eras(rows: impl IntoIterator<Item = (String, Backing)>) -> Vec<EraStake> {
    let mut slots: BTreeMap<String, EraStake> = BTreeMap::new();
    for (key, b) in rows {
        let mut parts = key.rsplitn(3, '/');
        let (Some(who), Some(slot)) = (parts.next(), parts.next()) else { continue };
        let era = slots.entry(slot.to_string()).or_default();
        if era.nominators.is_empty() || b.era > era.era {
            *era = EraStake { era: b.era, block: b.block, nominators: BTreeMap::new() };
        }
        if b.era == era.era {
            era.nominators.insert(who.to_string(), b.bonded);
        }
    }
    let mut v: Vec<EraStake> = slots.into_values().collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.era));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(era: i64, who: &str, bonded: u128, targets: &[&str]) -> NominatorEra {
        NominatorEra {
            chain: "c".into(),
            era,
            block_number: era * 10,
            block_hash: "0x00".into(),
            nominator: who.into(),
            bonded: bonded.to_string(),
            targets: targets.iter().map(|t| t.to_string()).collect(),
        }
    }

    /// The store: rows by key, a write replacing the row.
    fn write(store: &mut BTreeMap<String, Backing>, n: &NominatorEra) {
        store.extend(rows(n));
    }

    fn of(store: &BTreeMap<String, Backing>, validator: &str) -> Vec<EraStake> {
        let p = prefix("c", validator);
        eras(store.iter().filter(|(k, _)| k.starts_with(&p)).map(|(k, v)| (k.clone(), v.clone())))
    }

    #[test]
    fn each_target_gets_the_nominator_once_whatever_the_replays() {
        let mut store = BTreeMap::new();
        write(&mut store, &rec(5, "0xN1", 100, &["0xa", "0xB"]));
        write(&mut store, &rec(5, "0xn2", 50, &["0xa"]));
        let once = store.clone();
        write(&mut store, &rec(5, "0xn2", 50, &["0xa"]));
        assert_eq!(store, once, "a replayed record writes the same rows");
        let a = of(&store, "0xA");
        assert_eq!((a.len(), a[0].era, a[0].block, a[0].nominators.len(), a[0].total()), (1, 5, 50, 2, 150));
        assert_eq!(a[0].nominators["0xn1"], "100", "accounts lowercased");
        assert_eq!(of(&store, "0xb")[0].total(), 100);
    }

    #[test]
    fn a_slot_counts_its_newest_era_only() {
        let mut store = BTreeMap::new();
        write(&mut store, &rec(3, "0xn1", 10, &["0xa"]));
        write(&mut store, &rec(3, "0xn2", 20, &["0xa"]));
        write(&mut store, &rec(4, "0xn1", 10, &["0xa"]));
        let later = 3 + KEPT_ERAS;
        write(&mut store, &rec(later, "0xn1", 30, &["0xa"]));
        let a = of(&store, "0xa");
        assert_eq!(a.iter().map(|e| e.era).collect::<Vec<_>>(), vec![later, 4], "newest first, era 3's slot taken by {later}");
        assert_eq!(a[0].nominators.len(), 1, "0xn2 left: its era-3 row is not counted in era {later}");
        assert_eq!(a[0].total(), 30);
    }

    #[test]
    fn a_bond_that_does_not_parse_counts_as_zero() {
        let e = EraStake { era: 1, block: 1, nominators: BTreeMap::from([("0xn".into(), "x".into()), ("0xm".into(), "7".into())]) };
        assert_eq!(e.total(), 7);
    }
}
