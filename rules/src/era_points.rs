//! Reward points per era, as the era-points records tell them: per chain the
//! last [`KEPT_ERAS`] ended eras with each validator's points (1KV's
//! `EraPoints` and `TotalEraPoints`). A record replaces its era whole, so a
//! replayed record changes nothing, and an era older than the window is not
//! taken back in.

use std::collections::BTreeMap;

use schemas::EraPoints;
use serde::{Deserialize, Serialize};

/// Eras kept per chain (1KV's `ERAPOINTS_JOB_MAX_ERAS`, and the history a rebuild needs).
pub const KEPT_ERAS: usize = 84;

/// One ended era's points.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EraTotals {
    /// Block the points were read at (the next era's first).
    pub block: i64,
    /// The era's total, as the chain gives it.
    pub total: i64,
    /// Points per validator stash (0x hex, lowercase).
    pub points: BTreeMap<String, i64>,
}

impl EraTotals {
    /// Median, mean, maximum and minimum over the validators with points (zeros when none).
    pub fn stats(&self) -> (f64, f64, i64, i64) {
        let mut v: Vec<i64> = self.points.values().copied().collect();
        if v.is_empty() {
            return (0.0, 0.0, 0, 0);
        }
        v.sort_unstable();
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] as f64 } else { (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0 };
        let mean = v.iter().sum::<i64>() as f64 / n as f64;
        (median, mean, v[n - 1], v[0])
    }
}

/// Per chain, per era.
pub type EraPointsState = BTreeMap<String, BTreeMap<i64, EraTotals>>;

/// Apply an era-points record: its era replaced whole, then only the newest
/// [`KEPT_ERAS`] eras of its chain kept.
pub fn apply(state: &mut EraPointsState, p: &EraPoints) {
    let eras = state.entry(p.chain.clone()).or_default();
    if eras.len() >= KEPT_ERAS && eras.keys().next().is_some_and(|oldest| p.era < *oldest) {
        return;
    }
    let points = p.points.iter().map(|v| (v.stash.to_lowercase(), v.points)).collect();
    eras.insert(p.era, EraTotals { block: p.block_number, total: p.total, points });
    while eras.len() > KEPT_ERAS {
        eras.pop_first();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::ValidatorPoints;

    fn rec(era: i64, pts: &[(&str, i64)]) -> EraPoints {
        EraPoints {
            chain: "c".into(),
            era,
            block_number: era * 100,
            block_hash: "0x00".into(),
            total: pts.iter().map(|(_, p)| p).sum(),
            points: pts.iter().map(|(s, p)| ValidatorPoints { stash: s.to_string(), points: *p }).collect(),
        }
    }

    #[test]
    fn a_record_replaces_its_era_and_a_replay_changes_nothing() {
        let mut s = EraPointsState::new();
        apply(&mut s, &rec(1, &[("0xA", 20), ("0xb", 40)]));
        let once = s.clone();
        apply(&mut s, &rec(1, &[("0xA", 20), ("0xb", 40)]));
        assert_eq!(s, once);
        assert_eq!(s["c"][&1].points["0xa"], 20, "stashes lowercased");
        apply(&mut s, &rec(1, &[("0xb", 60)]));
        assert_eq!(s["c"][&1].points.len(), 1);
        assert_eq!(s["c"][&1].total, 60);
    }

    #[test]
    fn only_the_newest_eras_are_kept() {
        let mut s = EraPointsState::new();
        for era in 0..(KEPT_ERAS as i64 + 10) {
            apply(&mut s, &rec(era, &[("0xa", era)]));
        }
        let eras = &s["c"];
        assert_eq!(eras.len(), KEPT_ERAS);
        assert_eq!(*eras.keys().next().unwrap(), 10);
        apply(&mut s, &rec(3, &[("0xa", 3)]));
        assert!(!s["c"].contains_key(&3), "an era older than the window is not taken back in");
    }

    #[test]
    fn statistics_over_validators_with_points() {
        let e = EraTotals { points: BTreeMap::from([("a".into(), 10), ("b".into(), 30), ("c".into(), 20), ("d".into(), 60)]), ..Default::default() };
        assert_eq!(e.stats(), (25.0, 30.0, 60, 10));
        let odd = EraTotals { points: BTreeMap::from([("a".into(), 10), ("b".into(), 30), ("c".into(), 20)]), ..Default::default() };
        assert_eq!(odd.stats().0, 20.0);
        assert_eq!(EraTotals::default().stats(), (0.0, 0.0, 0, 0));
    }
}
