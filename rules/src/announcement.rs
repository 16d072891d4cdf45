//! Time-delay proxies, as pure rules: when an announcement matures, whether
//! its targets are still acceptable when it does (validity in the newest
//! round and the chain's commission and `blocked` now; 1KV issue #553), and
//! how the chain's pending announcements are reconciled with our records
//! after a crash or a manual change. The chain is the truth: what it holds
//! and we cannot account for is removed; what we recorded and it no longer
//! holds is forgotten, never waited on (1KV wedged there).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::nomination::normalized;
use crate::round::RoundSnapshot;
use crate::validity::Verdict;

/// An announcement older than this many delays is overdue ("older than 1.2 × delay").
pub const OVERDUE_FACTOR: f64 = 1.2;

/// The first block of the pallet's clock at which `proxy_announced` is accepted
/// (`now − height ≥ delay`).
pub fn matures_at(height: u64, delay: u64) -> u64 {
    height.saturating_add(delay)
}

/// Whether an announcement made at `height` may be executed at `now`.
pub fn is_mature(height: u64, delay: u64, now: u64) -> bool {
    now >= matures_at(height, delay)
}

/// Whether it has waited longer than [`OVERDUE_FACTOR`] delays.
pub fn is_overdue(height: u64, delay: u64, now: u64) -> bool {
    now.saturating_sub(height) as f64 > OVERDUE_FACTOR * delay as f64
}

/// Milliseconds until `matures_at`, at `block_ms` per block (0 when mature).
pub fn eta_ms(matures_at: u64, now: u64, block_ms: u64) -> u64 {
    matures_at.saturating_sub(now).saturating_mul(block_ms)
}

/// A target's preferences on chain now: `None` when it is no longer a validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetNow {
    /// Commission, parts per billion.
    pub commission_perbill: u32,
    /// Refuses new nominations.
    pub blocked: bool,
}

/// Whether announced targets may be executed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "recheck")]
pub enum Recheck {
    /// Every target is still acceptable.
    Acceptable,
    /// A target is not: the announcement is removed and the account planned anew.
    Unacceptable {
        /// 0x hex accounts of the targets that are not.
        targets: Vec<String>,
        /// Why, for people.
        why: String,
    },
    /// Something needed is unknown (an unknown verdict): neither executed nor removed yet.
    Unknown {
        /// What is missing.
        why: String,
    },
}

/// Recheck `targets` (0x hex) against the newest `round` and the chain's
/// preferences `now` (by 0x hex account). Unacceptable wins over unknown: one
/// target known to be wrong is reason enough to remove.
pub fn recheck(targets: &[String], round: &RoundSnapshot, now: &BTreeMap<String, Option<TargetNow>>) -> Recheck {
    let bound = &round.validity.commission;
    let max_perbill = (bound.max_percent * 10_000_000.0).round() as u64;
    let (mut bad, mut whys, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    for t in targets {
        let key = normalized(t);
        let row = round.candidates.iter().find(|c| normalized(&c.account) == key);
        let name = row.map_or_else(|| t.clone(), |c| c.candidate.name.clone());
        let problem = match (now.get(&key).or_else(|| now.get(t)), row) {
            (None, _) => {
                unknown.push(format!("{name}: its preferences were not read"));
                None
            }
            (Some(None), _) => Some(format!("{name} is no longer a validator")),
            (Some(Some(p)), _) if p.blocked => Some(format!("{name} blocks new nominations")),
            (Some(Some(p)), _) if !bound.skip && u64::from(p.commission_perbill) > max_perbill => Some(format!(
                "{name} raised its commission to {}%, above the bound of {}%",
                f64::from(p.commission_perbill) / 10_000_000.0,
                bound.max_percent
            )),
            (_, None) => Some(format!("{name} is not a candidate of round {}", round.round)),
            (_, Some(c)) => match c.validity.verdict {
                Verdict::Valid => None,
                Verdict::Invalid => Some(format!(
                    "{name} is invalid in round {}: {}",
                    round.round,
                    c.validity.reasons().map(|r| r.reason.as_str()).collect::<Vec<_>>().join("; ")
                )),
                Verdict::Unknown => {
                    unknown.push(format!("{name}'s validity is unknown in round {}", round.round));
                    None
                }
            },
        };
        if let Some(why) = problem {
            bad.push(key);
            whys.push(why);
        }
    }
    if !bad.is_empty() {
        Recheck::Unacceptable { targets: bad, why: whys.join("; ") }
    } else if !unknown.is_empty() {
        Recheck::Unknown { why: unknown.join("; ") }
    } else {
        Recheck::Acceptable
    }
}

/// An announcement as the chain holds it or as we recorded it: stash and call hash, 0x hex.
pub type AnnouncementKey = (String, String);

/// What to do about the chain's announcements and our records of them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Reconciliation {
    /// On chain, not ours (no record of its call, so it can never be executed by us) or
    /// blacklisted: remove it, with why.
    pub remove: Vec<(AnnouncementKey, String)>,
    /// Recorded, no longer on chain and nothing of ours in flight for it: forget it
    /// (rejected by the stash, removed or executed by someone else).
    pub forget: Vec<AnnouncementKey>,
    /// Recorded and on chain, waited longer than [`OVERDUE_FACTOR`] delays (executed or removed by the usual path).
    pub overdue: Vec<AnnouncementKey>,
}

/// Reconcile the chain's announcements `on_chain` (key → height) of our
/// stashes with our `records`; `in_flight` are those a transaction of ours
/// is settling (announce, execute or remove), left alone until it settles.
pub fn reconcile(
    on_chain: &BTreeMap<AnnouncementKey, u64>,
    records: &BTreeSet<AnnouncementKey>,
    in_flight: &BTreeSet<AnnouncementKey>,
    blacklist: &BTreeSet<String>,
    delay: impl Fn(&str) -> u64,
    now: u64,
) -> Reconciliation {
    let mut r = Reconciliation::default();
    for (key, height) in on_chain {
        if in_flight.contains(key) {
            continue;
        }
        if blacklist.contains(&normalized(&key.1)) {
            r.remove.push((key.clone(), "its call hash is blacklisted in the configuration".into()));
        } else if !records.contains(key) {
            r.remove.push((key.clone(), "not ours: no record of its call (left by a crash, another tool or an old key)".into()));
        } else if is_overdue(*height, delay(&key.0), now) {
            r.overdue.push(key.clone());
        }
    }
    r.forget = records.iter().filter(|k| !on_chain.contains_key(*k) && !in_flight.contains(*k)).cloned().collect();
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nomination::tests::{key, round, row};

    fn prefs(commission_perbill: u32, blocked: bool) -> Option<TargetNow> {
        Some(TargetNow { commission_perbill, blocked })
    }

    #[test]
    fn maturity_and_overdue_follow_the_delay_exactly() {
        assert!(!is_mature(100, 10_850, 10_949) && is_mature(100, 10_850, 10_950));
        assert!(is_mature(7, 0, 7), "a zero delay is mature at once");
        assert!(!is_overdue(100, 10, 112) && is_overdue(100, 10, 113));
        assert_eq!((eta_ms(110, 104, 6_000), eta_ms(110, 200, 6_000)), (36_000, 0));
        assert_eq!(matures_at(u64::MAX, 5), u64::MAX, "never overflows");
    }

    #[test]
    fn a_commission_above_the_bound_or_a_lost_validator_makes_the_targets_unacceptable() {
        let r = round(vec![row(1, "A", Verdict::Valid, Some(9.0)), row(2, "B", Verdict::Valid, Some(8.0))]);
        let bound = (r.validity.commission.max_percent * 10_000_000.0) as u32;
        let targets = [key(1), key(2)];
        let mut now = BTreeMap::from([(key(1), prefs(bound, false)), (key(2), prefs(0, false))]);
        assert_eq!(recheck(&targets, &r, &now), Recheck::Acceptable, "at the bound is within it");
        now.insert(key(2), prefs(bound + 1, false));
        let Recheck::Unacceptable { targets: bad, why } = recheck(&targets, &r, &now) else { panic!() };
        assert_eq!(bad, vec![key(2)]);
        assert!(why.contains("B raised its commission"), "{why}");
        now.insert(key(2), None);
        assert!(matches!(recheck(&targets, &r, &now), Recheck::Unacceptable { why, .. } if why.contains("no longer a validator")));
        now.insert(key(2), prefs(0, true));
        assert!(matches!(recheck(&targets, &r, &now), Recheck::Unacceptable { why, .. } if why.contains("blocks")));
        let mut skipping = r.clone();
        skipping.validity.commission.skip = true;
        now.insert(key(2), prefs(1_000_000_000, false));
        assert_eq!(recheck(&targets, &skipping, &now), Recheck::Acceptable, "a skipped commission check bounds nothing");
    }

    #[test]
    fn the_newest_round_decides_validity_and_unknown_never_removes() {
        let r = round(vec![row(1, "A", Verdict::Invalid, None), row(2, "B", Verdict::Unknown, None)]);
        let now = BTreeMap::from([(key(1), prefs(0, false)), (key(2), prefs(0, false)), (key(3), prefs(0, false))]);
        assert!(matches!(recheck(&[key(1)], &r, &now), Recheck::Unacceptable { why, .. } if why.contains("invalid in round")));
        assert!(matches!(recheck(&[key(2)], &r, &now), Recheck::Unknown { .. }), "an unknown verdict waits");
        assert!(matches!(recheck(&[key(2), key(3)], &r, &now), Recheck::Unacceptable { targets, .. } if targets == vec![key(3)]), "not a candidate any more");
        assert!(matches!(recheck(&[key(4)], &r, &now), Recheck::Unknown { .. }), "preferences not read: unknown");
    }

    #[test]
    fn reconciliation_removes_what_is_not_ours_and_forgets_what_the_chain_dropped() {
        let k = |s: u8, h: u8| (key(s), key(h));
        let on_chain = BTreeMap::from([(k(1, 10), 100), (k(1, 11), 100), (k(2, 12), 50), (k(3, 13), 100), (k(4, 14), 100)]);
        let records = BTreeSet::from([k(1, 10), k(2, 12), k(5, 15), k(6, 16), k(4, 14)]);
        let in_flight = BTreeSet::from([k(6, 16), k(3, 13)]);
        let blacklist = BTreeSet::from([key(14)]);
        let r = reconcile(&on_chain, &records, &in_flight, &blacklist, |_| 10, 110);
        assert_eq!(r.remove.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), vec![k(1, 11), k(4, 14)]);
        assert!(r.remove[1].1.contains("blacklisted"));
        assert_eq!(r.forget, vec![k(5, 15)], "in flight is left to settle");
        assert_eq!(r.overdue, vec![k(2, 12)], "60 blocks for a delay of 10");
    }
}
