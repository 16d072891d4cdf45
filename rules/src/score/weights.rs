//! A value per score component ([`PerComponent`]): the weights of a round
//! and the points of a candidate are the same shape. Production weights are
//! 1KV's values; unlike 1KV a weight of 0 really switches a component off
//! (1KV fell back to the default).

use serde::{Deserialize, Deserializer, Serialize};

/// One value for each of the 15 score components, in component order.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerComponent<T> {
    pub inclusion: T,
    pub span_inclusion: T,
    pub discovered: T,
    pub nominated: T,
    pub rank: T,
    pub unclaimed: T,
    pub bonded: T,
    pub faults: T,
    pub offline: T,
    pub location: T,
    pub region: T,
    pub country: T,
    pub provider: T,
    pub nominator_stake: T,
    pub client: T,
}

/// The maximum points of each component (`unclaimed`: points lost per
/// unclaimed era). `Default` is all zeros (every component off);
/// [`PerComponent::production`] is 1KV's production weights.
pub type Weights = PerComponent<f64>;

/// A candidate's points per component; `unclaimed` is a penalty (≤ 0), all
/// others are in [0, weight].
pub type Components = PerComponent<f64>;

/// The component names, in component order.
pub const COMPONENTS: [&str; 15] = [
    "inclusion",
    "span_inclusion",
    "discovered",
    "nominated",
    "rank",
    "unclaimed",
    "bonded",
    "faults",
    "offline",
    "location",
    "region",
    "country",
    "provider",
    "nominator_stake",
    "client",
];

impl<T> PerComponent<T> {
    /// From values in component order.
    pub fn from_array(v: [T; 15]) -> Self {
        let [inclusion, span_inclusion, discovered, nominated, rank, unclaimed, bonded, faults, offline, location, region, country, provider, nominator_stake, client] = v;
        PerComponent { inclusion, span_inclusion, discovered, nominated, rank, unclaimed, bonded, faults, offline, location, region, country, provider, nominator_stake, client }
    }

    /// The values in component order.
    pub fn into_array(self) -> [T; 15] {
        let PerComponent { inclusion, span_inclusion, discovered, nominated, rank, unclaimed, bonded, faults, offline, location, region, country, provider, nominator_stake, client } = self;
        [inclusion, span_inclusion, discovered, nominated, rank, unclaimed, bonded, faults, offline, location, region, country, provider, nominator_stake, client]
    }

    /// Pair each value with the same component's value of `other`.
    pub fn zip<U>(self, other: PerComponent<U>) -> PerComponent<(T, U)> {
        let mut b = other.into_array().into_iter();
        PerComponent::from_array(self.into_array().map(|a| (a, b.next().expect("15 components"))))
    }

    /// Apply `f` to every value.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> PerComponent<U> {
        PerComponent::from_array(self.into_array().map(f))
    }
}

impl<T: Copy> PerComponent<T> {
    /// Every value with its component's name, in component order.
    pub fn named(&self) -> [(&'static str, T); 15] {
        let mut names = COMPONENTS.into_iter();
        self.into_array().map(|v| (names.next().unwrap_or_default(), v))
    }
}

impl PerComponent<f64> {
    /// 1KV's production weights.
    pub fn production() -> Weights {
        PerComponent::from_array([220.0, 220.0, 30.0, 100.0, 50.0, 10.0, 50.0, 5.0, 2.0, 40.0, 10.0, 10.0, 100.0, 100.0, 200.0])
    }

    /// The sum in component order (the aggregate of a score).
    pub fn sum(&self) -> f64 {
        self.into_array().iter().sum()
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

/// Weights as configured: the components named, the rest production values.
pub fn deserialize_partial<'de, D: Deserializer<'de>>(d: D) -> Result<Weights, D::Error> {
    let given = PerComponent::<Option<f64>>::deserialize(d)?;
    Ok(given.zip(Weights::production()).map(|(given, production)| given.unwrap_or(production)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Config {
        #[serde(deserialize_with = "deserialize_partial")]
        weights: Weights,
    }

    #[test]
    fn production_values() {
        let w = Weights::production();
        assert_eq!((w.inclusion, w.client, w.offline, w.unclaimed), (220.0, 200.0, 2.0, 10.0));
        assert_eq!(w.max_aggregate(), 1137.0);
        assert!(w.problems().is_empty());
        assert_eq!(Weights::default().sum(), 0.0, "the default switches everything off");
    }

    #[test]
    fn configured_weights_fill_in_production_values_and_refuse_typos() {
        let c: Config = serde_json::from_str(r#"{"weights": {"client": 0}}"#).unwrap();
        assert_eq!(c.weights, Weights { client: 0.0, ..Weights::production() });
        assert!(serde_json::from_str::<Config>(r#"{"weights": {"clinet": 1}}"#).is_err());
    }

    #[test]
    fn names_follow_the_fields() {
        let w = PerComponent::from_array(std::array::from_fn::<f64, 15, _>(|i| i as f64));
        assert_eq!(w.named()[5], ("unclaimed", 5.0));
        assert_eq!((w.rank, w.nominator_stake), (4.0, 13.0));
        // The serialised names are the same names.
        let json = serde_json::to_value(w).unwrap();
        for (name, v) in w.named() {
            assert_eq!(json[name], v, "{name}");
        }
        assert_eq!(w.into_array(), std::array::from_fn(|i| i as f64));
    }

    #[test]
    fn problems_named() {
        let w = Weights { rank: -1.0, faults: f64::NAN, bonded: f64::INFINITY, ..Weights::production() };
        let p = w.problems();
        assert_eq!(p.len(), 3);
        assert!(p[0].contains("rank") && p[1].contains("bonded") && p[2].contains("faults"));
    }
}
