//! Component weights. Defaults are 1KV's production values; unlike 1KV a
//! weight of 0 really switches a component off (1KV fell back to the default).

use serde::{Deserialize, Serialize};

/// The maximum points of each score component (`unclaimed` is points lost
/// per unclaimed era).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    pub inclusion: f64,
    pub span_inclusion: f64,
    pub discovered: f64,
    pub nominated: f64,
    pub rank: f64,
    pub unclaimed: f64,
    pub bonded: f64,
    pub faults: f64,
    pub offline: f64,
    pub location: f64,
    pub region: f64,
    pub country: f64,
    pub provider: f64,
    pub nominator_stake: f64,
    pub client: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            inclusion: 220.0,
            span_inclusion: 220.0,
            discovered: 30.0,
            nominated: 100.0,
            rank: 50.0,
            unclaimed: 10.0,
            bonded: 50.0,
            faults: 5.0,
            offline: 2.0,
            location: 40.0,
            region: 10.0,
            country: 10.0,
            provider: 100.0,
            nominator_stake: 100.0,
            client: 200.0,
        }
    }
}

impl Weights {
    /// Every weight with its name, in component order.
    pub fn named(&self) -> [(&'static str, f64); 15] {
        [
            ("inclusion", self.inclusion),
            ("span_inclusion", self.span_inclusion),
            ("discovered", self.discovered),
            ("nominated", self.nominated),
            ("rank", self.rank),
            ("unclaimed", self.unclaimed),
            ("bonded", self.bonded),
            ("faults", self.faults),
            ("offline", self.offline),
            ("location", self.location),
            ("region", self.region),
            ("country", self.country),
            ("provider", self.provider),
            ("nominator_stake", self.nominator_stake),
            ("client", self.client),
        ]
    }

    /// Negative or non-finite weights, by name; empty when usable.
    pub fn problems(&self) -> Vec<String> {
        self.named()
            .into_iter()
            .filter_map(|(name, w)| match w {
                w if !w.is_finite() => Some(format!("weight {name} is not finite ({w})")),
                w if w < 0.0 => Some(format!("weight {name} is negative ({w})")),
                _ => None,
            })
            .collect()
    }

    /// The highest aggregate a candidate can reach: every weight except the
    /// `unclaimed` penalty.
    pub fn max_aggregate(&self) -> f64 {
        self.named().iter().filter(|(name, _)| *name != "unclaimed").map(|(_, w)| w).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_defaults() {
        let w = Weights::default();
        assert_eq!((w.inclusion, w.client, w.offline), (220.0, 200.0, 2.0));
        assert_eq!(w.max_aggregate(), 1137.0);
        assert!(w.problems().is_empty());
    }

    #[test]
    fn serde_defaults_and_unknown_fields() {
        let w: Result<Weights, _> = serde_json::from_str(r#"{"client": 0}"#);
        assert_eq!(w.ok(), Some(Weights { client: 0.0, ..Weights::default() }));
        let bad: Result<Weights, _> = serde_json::from_str(r#"{"clinet": 1}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn problems_named() {
        let w = Weights { rank: -1.0, faults: f64::NAN, bonded: f64::INFINITY, ..Weights::default() };
        let p = w.problems();
        assert_eq!(p.len(), 3);
        assert!(p[0].contains("rank") && p[1].contains("bonded") && p[2].contains("faults"));
    }
}
