//! The 15 score components of a candidate, 1KV's formulas: each is a weight
//! times where the candidate lies in the valid set's distribution.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    seed::{RoundSeed, randomness},
    stats::Stats,
    weights::{Components, Weights},
};

/// What scoring needs to know about one valid candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreInputs {
    pub stash: String,
    /// Share of the last 84 eras with era points, 0..=1.
    pub inclusion: f64,
    /// Same over the last 28 eras.
    pub span_inclusion: f64,
    /// First telemetry sighting; `None` = never seen.
    pub discovered_at_ms: Option<i64>,
    /// Last era the candidate was active; `None` = never.
    pub nominated_at_era: Option<u32>,
    pub rank: u32,
    pub unclaimed_eras: u32,
    /// Self stake in tokens (not planck).
    pub bonded: f64,
    pub faults: u32,
    /// Offline time in the uptime window.
    pub offline_ms: i64,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub provider: Option<String>,
    pub provider_banned: bool,
    /// Sum of sqrt(bonded tokens) of its nominators, programme nominators excluded.
    pub nominator_stake: f64,
    pub implementation: Option<String>,
}

/// NaN and switched-off (weight 0) components become exactly +0.0.
fn cleaned(points: Components, w: &Weights) -> Components {
    points.zip(*w).map(|(v, w)| if w == 0.0 || v.is_nan() || v == 0.0 { 0.0 } else { v })
}

/// One candidate's score for a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub stash: String,
    pub components: Components,
    /// Sum of the components (0 if it would be NaN, which only non-finite weights can cause).
    pub aggregate: f64,
    /// Factor in [1, 1.15) from the round seed.
    pub randomness: f64,
    /// `aggregate * randomness`: what candidates are ranked by.
    pub total: f64,
}

/// Candidates per location bucket, keyed by the trimmed, lowercased name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Buckets {
    pub city: BTreeMap<String, u64>,
    pub region: BTreeMap<String, u64>,
    pub country: BTreeMap<String, u64>,
    pub provider: BTreeMap<String, u64>,
}

/// The statistics each component was scaled against (what 1KV called score
/// metadata). `buckets` holds the per-name counts a candidate's location
/// components look up; the location `Stats` are over those counts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoreStats {
    pub inclusion: Stats,
    pub span_inclusion: Stats,
    pub discovered: Stats,
    pub nominated: Stats,
    pub rank: Stats,
    pub bonded: Stats,
    pub faults: Stats,
    pub offline: Stats,
    pub nominator_stake: Stats,
    pub location: Stats,
    pub region: Stats,
    pub country: Stats,
    pub provider: Stats,
    pub buckets: Buckets,
}

/// The bucket of every valid candidate without a value: as in 1KV ("No
/// Location", "No Provider"), it is one more bucket of the distribution that
/// everyone's location points are scaled against, while its members get a
/// quarter of the weight. Named keys are lower-case, so this never collides.
pub const MISSING_BUCKET: &str = "No Location";

/// Bucket key: trimmed and case-insensitive; blank counts as missing. Names
/// already in lower case are borrowed (every candidate has four of them).
fn bucket_key(field: &Option<String>) -> Option<Cow<'_, str>> {
    let name = field.as_deref()?.trim();
    match name {
        "" => None,
        // Any char lower-casing changes (capitals, and title-case letters such as 'ǅ').
        _ if name.chars().any(|c| !c.to_lowercase().eq([c])) => Some(Cow::Owned(name.to_lowercase())),
        _ => Some(Cow::Borrowed(name)),
    }
}

fn count_buckets(candidates: &[ScoreInputs], field: fn(&ScoreInputs) -> &Option<String>) -> BTreeMap<String, u64> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for c in candidates {
        let key = bucket_key(field(c)).unwrap_or(Cow::Borrowed(MISSING_BUCKET));
        match counts.get_mut(key.as_ref()) {
            Some(n) => *n += 1,
            None => _ = counts.insert(key.into_owned(), 1),
        }
    }
    counts
}

fn count_stats(counts: &BTreeMap<String, u64>) -> Stats {
    Stats::of(&counts.values().map(|&n| n as f64).collect::<Vec<_>>())
}

impl ScoreStats {
    /// Every distribution.
    fn all(&self) -> [&Stats; 13] {
        [
            &self.inclusion,
            &self.span_inclusion,
            &self.discovered,
            &self.nominated,
            &self.rank,
            &self.bonded,
            &self.faults,
            &self.offline,
            &self.nominator_stake,
            &self.location,
            &self.region,
            &self.country,
            &self.provider,
        ]
    }

    /// These stats with every distribution sorted and NaN-free.
    fn normalised(&self) -> ScoreStats {
        ScoreStats {
            inclusion: self.inclusion.normalised(),
            span_inclusion: self.span_inclusion.normalised(),
            discovered: self.discovered.normalised(),
            nominated: self.nominated.normalised(),
            rank: self.rank.normalised(),
            bonded: self.bonded.normalised(),
            faults: self.faults.normalised(),
            offline: self.offline.normalised(),
            nominator_stake: self.nominator_stake.normalised(),
            location: self.location.normalised(),
            region: self.region.normalised(),
            country: self.country.normalised(),
            provider: self.provider.normalised(),
            buckets: self.buckets.clone(),
        }
    }

    /// Statistics of the valid set. Every `Stats` is built from sorted values
    /// and buckets are ordered maps, so candidate order does not matter.
    pub fn of(candidates: &[ScoreInputs]) -> ScoreStats {
        let stats = |f: fn(&ScoreInputs) -> f64| Stats::of(&candidates.iter().map(f).collect::<Vec<_>>());
        let buckets = Buckets {
            city: count_buckets(candidates, |c| &c.city),
            region: count_buckets(candidates, |c| &c.region),
            country: count_buckets(candidates, |c| &c.country),
            provider: count_buckets(candidates, |c| &c.provider),
        };
        let discovered: Vec<f64> = candidates.iter().filter_map(|c| c.discovered_at_ms).map(|ms| ms as f64).collect();
        ScoreStats {
            inclusion: stats(|c| c.inclusion),
            span_inclusion: stats(|c| c.span_inclusion),
            discovered: Stats::of(&discovered),
            nominated: stats(|c| f64::from(c.nominated_at_era.unwrap_or(0))),
            rank: stats(|c| f64::from(c.rank)),
            bonded: stats(|c| c.bonded),
            faults: stats(|c| f64::from(c.faults)),
            offline: stats(|c| c.offline_ms as f64),
            nominator_stake: stats(|c| c.nominator_stake),
            location: count_stats(&buckets.city),
            region: count_stats(&buckets.region),
            country: count_stats(&buckets.country),
            provider: count_stats(&buckets.provider),
            buckets,
        }
    }
}

/// Score every candidate of a round: statistics are over `candidates` (the
/// valid set), so the result does not depend on their order. Scores are
/// returned in input order.
pub fn score_round(candidates: &[ScoreInputs], weights: &Weights, seed: &RoundSeed) -> (Vec<Score>, ScoreStats) {
    let stats = ScoreStats::of(candidates);
    let scores = candidates.par_iter().map(|c| score_normal(c, &stats, weights, seed)).collect();
    (scores, stats)
}

/// Higher value scores higher; NaN scores nothing.
fn more_is_better(s: Option<f64>, w: f64) -> f64 {
    s.map_or(0.0, |s| s * w)
}

/// Lower value scores higher; NaN scores nothing (never rewarded for bad data).
fn less_is_better(s: Option<f64>, w: f64) -> f64 {
    s.map_or(0.0, |s| (1.0 - s) * w)
}

/// A location-like component: fewer candidates sharing the bucket scores
/// higher (min-max over the bucket counts); unknown gets a quarter; a banned
/// provider gets nothing.
fn spread(c: &ScoreInputs, field: &Option<String>, counts: &BTreeMap<String, u64>, stats: &Stats, w: f64) -> f64 {
    // `stats` are normal here (see `score_normal`).
    if c.provider_banned {
        return 0.0;
    }
    match bucket_key(field) {
        None => 0.25 * w,
        // A bucket not in the set (replaying a foreign candidate) has no one in it.
        Some(key) => less_is_better(stats.scale_normal(counts.get(key.as_ref()).copied().unwrap_or(0) as f64, 0.0, 1.0), w),
    }
}

/// Alternative clients are rewarded for client diversity.
fn is_alternative_client(implementation: &Option<String>) -> bool {
    implementation.as_deref().map(str::trim).is_some_and(|i| !i.is_empty() && !i.eq_ignore_ascii_case("Parity Polkadot"))
}

/// One candidate against precomputed stats (explain / replay one candidate).
pub fn score_one(c: &ScoreInputs, stats: &ScoreStats, weights: &Weights, seed: &RoundSeed) -> Score {
    // Stats read back from storage may have been edited: sort them once here.
    if stats.all().iter().all(|s| s.is_normal()) {
        score_normal(c, stats, weights, seed)
    } else {
        score_normal(c, &stats.normalised(), weights, seed)
    }
}

/// [`score_one`] against stats whose values are sorted and NaN-free.
fn score_normal(c: &ScoreInputs, stats: &ScoreStats, weights: &Weights, seed: &RoundSeed) -> Score {
    let w = weights;
    let q10_90 = |s: &Stats, v: f64| s.scale_normal(v, 0.1, 0.9);
    let b = &stats.buckets;
    let points = Components {
        inclusion: less_is_better(stats.inclusion.scale_normal(c.inclusion, 0.05, 0.95), w.inclusion),
        span_inclusion: less_is_better(stats.span_inclusion.scale_normal(c.span_inclusion, 0.05, 0.95), w.span_inclusion),
        discovered: c.discovered_at_ms.map_or(0.0, |ms| less_is_better(q10_90(&stats.discovered, ms as f64), w.discovered)),
        nominated: less_is_better(q10_90(&stats.nominated, f64::from(c.nominated_at_era.unwrap_or(0))), w.nominated),
        rank: more_is_better(q10_90(&stats.rank, f64::from(c.rank)), w.rank),
        unclaimed: -f64::from(c.unclaimed_eras) * w.unclaimed,
        bonded: more_is_better(stats.bonded.scale_normal(c.bonded, 0.05, 0.85), w.bonded),
        faults: less_is_better(q10_90(&stats.faults, f64::from(c.faults)), w.faults),
        offline: less_is_better(q10_90(&stats.offline, c.offline_ms as f64), w.offline),
        location: spread(c, &c.city, &b.city, &stats.location, w.location),
        region: spread(c, &c.region, &b.region, &stats.region, w.region),
        country: spread(c, &c.country, &b.country, &stats.country, w.country),
        provider: spread(c, &c.provider, &b.provider, &stats.provider, w.provider),
        nominator_stake: more_is_better(stats.nominator_stake.scale_normal(c.nominator_stake, 0.05, 0.95), w.nominator_stake),
        client: if is_alternative_client(&c.implementation) { w.client } else { 0.0 },
    };
    let components = cleaned(points, w);
    let aggregate = match components.sum() {
        a if a.is_nan() => 0.0,
        a => a,
    };
    let randomness = randomness(seed, &c.stash);
    Score { stash: c.stash.clone(), components, aggregate, randomness, total: aggregate * randomness }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> RoundSeed {
        RoundSeed::derive("polkadot", 42)
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    fn plain(stash: &str) -> ScoreInputs {
        ScoreInputs {
            stash: stash.to_string(),
            inclusion: 0.0,
            span_inclusion: 0.0,
            discovered_at_ms: None,
            nominated_at_era: None,
            rank: 0,
            unclaimed_eras: 0,
            bonded: 0.0,
            faults: 0,
            offline_ms: 0,
            city: None,
            region: None,
            country: None,
            provider: None,
            provider_banned: false,
            nominator_stake: 0.0,
            implementation: None,
        }
    }

    /// Three candidates whose every component is worked out by hand below.
    fn trio() -> Vec<ScoreInputs> {
        let a = ScoreInputs {
            inclusion: 0.5,
            span_inclusion: 1.0,
            discovered_at_ms: Some(1000),
            nominated_at_era: Some(10),
            rank: 5,
            unclaimed_eras: 0,
            bonded: 100.0,
            faults: 0,
            offline_ms: 0,
            city: s("Berlin"),
            region: s("Europe"),
            country: s("DE"),
            provider: s("Hetzner"),
            nominator_stake: 50.0,
            implementation: s("Parity Polkadot"),
            ..plain("A")
        };
        let b = ScoreInputs {
            inclusion: 1.0,
            span_inclusion: 0.5,
            discovered_at_ms: Some(3000),
            nominated_at_era: None,
            rank: 10,
            unclaimed_eras: 2,
            bonded: 300.0,
            faults: 2,
            offline_ms: 1000,
            city: s(" berlin "),
            region: s("europe"),
            country: s("FR"),
            provider: s("OVH"),
            nominator_stake: 10.0,
            implementation: s("Kagome"),
            ..plain("B")
        };
        let c = ScoreInputs {
            inclusion: 0.0,
            span_inclusion: 0.0,
            discovered_at_ms: None,
            nominated_at_era: Some(20),
            rank: 1,
            unclaimed_eras: 1,
            bonded: 200.0,
            faults: 1,
            offline_ms: 500,
            city: None,
            region: s("Asia"),
            country: s("JP"),
            provider: s("hetzner"),
            nominator_stake: 30.0,
            implementation: None,
            ..plain("C")
        };
        vec![a, b, c]
    }

    #[test]
    fn bucket_names_are_trimmed_and_lower_cased_whatever_their_letters() {
        let key = |s: &str| bucket_key(&Some(s.to_string())).map(Cow::into_owned);
        assert_eq!(key(" Berlin "), Some("berlin".into()));
        assert_eq!(key("berlin"), Some("berlin".into()));
        // A title-case letter is not upper case, yet lower-casing changes it.
        assert_eq!(key("ǅakovo"), key("ǆakovo"));
        assert_eq!(key("ÖSTERREICH"), Some("österreich".into()));
        assert_eq!(key("  "), None);
        assert_eq!(bucket_key(&None), None);
    }

    #[test]
    fn hand_computed_round() {
        let (scores, stats) = score_round(&trio(), &Weights::production(), &seed());
        // inclusion [0, .5, 1]: q05 = .05, q95 = .95. A: (.5-.05)/.9 = .5 -> 110; B: 1 -> 0; C: 0 -> 220.
        // span same values: A 0, B 110, C 220.
        // discovered [1000, 3000]: q10 1200, q90 2800. A: 0 -> 30; B: 1 -> 0; C: never seen -> 0.
        // nominated [10, 0, 20]: q10 2, q90 18. A: (10-2)/16 = .5 -> 50; B: 0 -> 100; C: 1 -> 0.
        // rank [1, 5, 10]: q10 1.8, q90 9. A: 3.2/7.2 -> 50*4/9; B: 1 -> 50; C: 0 -> 0.
        // unclaimed: A 0, B -20, C -10.
        // bonded [100, 200, 300]: q05 110, q85 270. A 0; B 50; C: 90/160 -> 28.125.
        // faults [0, 1, 2]: q10 .2, q90 1.8. A 5; B 0; C .5 -> 2.5.
        // offline [0, 500, 1000]: q10 100, q90 900. A 2; B 0; C .5 -> 1.
        // city: berlin 2 (A, B), C in the "No Location" bucket: counts [1, 2]. A, B: s 1 -> 0; C unknown: 10.
        // region: europe 2, asia 1. A, B: s 1 -> 0; C: s 0 -> 10.
        // country: [1, 1, 1] -> s 0 -> 10 each.
        // provider: hetzner 2 (A, C), ovh 1. A 0, B 100, C 0.
        // nominator stake [10, 30, 50]: q05 12, q95 48. A 1 -> 100; B 0; C 18/36 -> 50.
        // client: only B (Kagome) -> 200.
        let expected = [
            [110.0, 0.0, 30.0, 50.0, 50.0 * 4.0 / 9.0, 0.0, 0.0, 5.0, 2.0, 0.0, 0.0, 10.0, 0.0, 100.0, 0.0],
            [0.0, 110.0, 0.0, 100.0, 50.0, -20.0, 50.0, 0.0, 0.0, 0.0, 0.0, 10.0, 100.0, 0.0, 200.0],
            [220.0, 220.0, 0.0, 0.0, 0.0, -10.0, 28.125, 2.5, 1.0, 10.0, 10.0, 10.0, 0.0, 50.0, 0.0],
        ];
        let aggregates = [329.0 + 2.0 / 9.0, 600.0, 541.625];
        for ((score, want), agg) in scores.iter().zip(expected).zip(aggregates) {
            for ((name, got), want) in score.components.named().into_iter().zip(want) {
                assert!((got - want).abs() < 1e-9, "{} {name}: {got} != {want}", score.stash);
            }
            assert!((score.aggregate - agg).abs() < 1e-9, "{}: {}", score.stash, score.aggregate);
            assert_eq!(score.randomness, randomness(&seed(), &score.stash));
            assert_eq!(score.total, score.aggregate * score.randomness);
        }
        assert_eq!(stats.buckets.city.get("berlin"), Some(&2));
        assert_eq!(stats.buckets.city.get(MISSING_BUCKET), Some(&1));
        assert_eq!(stats.region.values, vec![1.0, 2.0]);
        assert_eq!(stats.discovered.values, vec![1000.0, 3000.0]);
        assert_eq!(stats.nominated.values, vec![0.0, 10.0, 20.0]);
        // Replaying one candidate against the round's stats gives the same score.
        assert_eq!(score_one(&trio()[2], &stats, &Weights::production(), &seed()), scores[2]);
    }

    /// 1KV counts the valid candidates without a location as one more bucket
    /// ("No Location") of the distribution everyone is scaled against.
    #[test]
    fn missing_locations_are_a_bucket_of_the_distribution() {
        let at = |stash: &str, city: Option<&str>, country: Option<&str>| ScoreInputs {
            city: city.map(str::to_string),
            country: country.map(str::to_string),
            ..plain(stash)
        };
        let set = vec![
            at("A", Some("Zurich"), Some("CH")),
            at("B", Some("Berlin"), Some("DE")),
            at("C", Some("berlin"), Some("DE")),
            at("D", None, None),
            at("E", None, None),
            at("F", Some("  "), None),
        ];
        let (scores, stats) = score_round(&set, &Weights::production(), &seed());
        // City counts: zurich 1, berlin 2, No Location 3 -> min 1, max 3.
        // A: (1-1)/2 = 0 -> 40; B, C: (2-1)/2 = .5 -> 20; D, E, F (blank counts as none): a quarter, 10.
        // Country the same over weight 10: 10, 5, 5, 2.5 each.
        // Region and provider: everyone in the missing bucket -> a quarter: 2.5 and 25.
        let expected = [(40.0, 10.0), (20.0, 5.0), (20.0, 5.0), (10.0, 2.5), (10.0, 2.5), (10.0, 2.5)];
        for (score, (location, country)) in scores.iter().zip(expected) {
            let c = &score.components;
            assert_eq!((c.location, c.country, c.region, c.provider), (location, country, 2.5, 25.0), "{}", score.stash);
        }
        assert_eq!(stats.location.values, vec![1.0, 2.0, 3.0]);
        assert_eq!(stats.buckets.city.get(MISSING_BUCKET), Some(&3));
        assert_eq!(stats.buckets.provider.get(MISSING_BUCKET), Some(&6));
    }

    #[test]
    fn zero_weights_switch_components_off() {
        let zero = Weights::default();
        let (scores, _) = score_round(&trio(), &zero, &seed());
        for score in &scores {
            for (name, v) in score.components.named() {
                assert!(v == 0.0 && v.is_sign_positive(), "{name}: {v}");
            }
            assert_eq!((score.aggregate, score.total), (0.0, 0.0));
        }
        // One weight off leaves the others alone.
        let no_client = Weights { client: 0.0, ..Weights::production() };
        let (scores, _) = score_round(&trio(), &no_client, &seed());
        assert_eq!(scores[1].components.client, 0.0);
        assert_eq!(scores[1].components.provider, 100.0);
    }

    #[test]
    fn client_rule() {
        let client = |i: Option<&str>| {
            let c = ScoreInputs { implementation: i.map(str::to_string), ..plain("x") };
            score_round(&[c], &Weights::production(), &seed()).0[0].components.client
        };
        assert_eq!(client(Some("Kagome")), 200.0);
        assert_eq!(client(Some("Gossamer")), 200.0);
        assert_eq!(client(Some("Parity Polkadot")), 0.0);
        assert_eq!(client(Some(" parity polkadot ")), 0.0);
        assert_eq!(client(Some("  ")), 0.0);
        assert_eq!(client(None), 0.0);
    }

    #[test]
    fn banned_provider_zeroes_location_components() {
        let mut set = trio();
        set[1].provider_banned = true;
        let (scores, stats) = score_round(&set, &Weights::production(), &seed());
        let b = scores[1].components;
        assert_eq!((b.location, b.region, b.country, b.provider), (0.0, 0.0, 0.0, 0.0));
        // Still counted in the buckets, and the rest of its score is untouched.
        assert_eq!(stats.buckets.provider.get("ovh"), Some(&1));
        assert_eq!(b.client, 200.0);
        assert_eq!(scores[0].components.location, 0.0, "berlin (2) is the largest bucket, \"No Location\" (1) the smallest");
    }

    #[test]
    fn missing_location_gets_a_quarter() {
        let set = vec![plain("a"), ScoreInputs { city: s("  "), ..plain("b") }, ScoreInputs { city: s("Oslo"), ..plain("c") }];
        let w = Weights::production();
        let (scores, _) = score_round(&set, &w, &seed());
        for score in &scores {
            let c = score.components;
            assert_eq!((c.region, c.country, c.provider), (0.25 * w.region, 0.25 * w.country, 0.25 * w.provider));
        }
        assert_eq!(scores[0].components.location, 0.25 * w.location);
        assert_eq!(scores[1].components.location, 0.25 * w.location, "blank is missing");
        assert_eq!(scores[2].components.location, w.location);
    }

    #[test]
    fn missing_and_nan_data_is_never_rewarded() {
        let mut set = trio();
        set[0].inclusion = f64::NAN;
        set[0].bonded = f64::NAN;
        let (scores, stats) = score_round(&set, &Weights::production(), &seed());
        assert_eq!(scores[0].components.inclusion, 0.0);
        assert_eq!(scores[0].components.bonded, 0.0);
        assert_eq!(stats.inclusion.values, vec![0.0, 1.0]);
        assert_eq!(scores[2].components.discovered, 0.0, "never discovered");
    }

    #[test]
    fn empty_round() {
        let (scores, stats) = score_round(&[], &Weights::production(), &seed());
        assert!(scores.is_empty());
        assert_eq!(stats, ScoreStats::default());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;
        use proptest::sample::{Index, select};

        fn name(options: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
            proptest::option::of(select(options).prop_map(str::to_string))
        }

        /// Fractions with frequent ties (quarters) as well as arbitrary ones.
        fn fraction() -> impl Strategy<Value = f64> {
            prop_oneof![(0u8..=4).prop_map(|q| f64::from(q) / 4.0), 0.0..=1.0f64]
        }

        fn candidate() -> impl Strategy<Value = ScoreInputs> {
            let places = &["Berlin", " berlin", "Tokyo", "", "Paris"];
            (
                (fraction(), fraction(), proptest::option::of(0i64..10_000), proptest::option::of(0u32..50), 0u32..20, 0u32..5),
                (0.0..1e6f64, 0u32..5, 0i64..100_000, 0.0..1e4f64, prop::bool::weighted(0.1)),
                (name(places), name(places), name(&["DE", "de ", "JP"]), name(&["Hetzner", "OVH", "hetzner"])),
                name(&["Parity Polkadot", "Kagome", "", "parity polkadot "]),
            )
                .prop_map(
                    |(
                        (inc, span, disc, nom, rank, unclaimed),
                        (bonded, faults, offline, ns, banned),
                        (city, region, country, provider),
                        implementation,
                    )| {
                        ScoreInputs {
                            stash: String::new(),
                            inclusion: inc,
                            span_inclusion: span,
                            discovered_at_ms: disc,
                            nominated_at_era: nom,
                            rank,
                            unclaimed_eras: unclaimed,
                            bonded,
                            faults,
                            offline_ms: offline,
                            city,
                            region,
                            country,
                            provider,
                            provider_banned: banned,
                            nominator_stake: ns,
                            implementation,
                        }
                    },
                )
        }

        /// A valid set with distinct stashes.
        fn round() -> impl Strategy<Value = Vec<ScoreInputs>> {
            prop::collection::vec(candidate(), 1..12).prop_map(|mut set| {
                for (i, c) in set.iter_mut().enumerate() {
                    c.stash = format!("stash{i}");
                }
                set
            })
        }

        fn weights() -> impl Strategy<Value = Weights> {
            prop_oneof![
                Just(Weights::production()),
                prop::array::uniform15(prop_oneof![Just(0.0), 0.0..300.0f64]).prop_map(Weights::from_array)
            ]
        }

        fn assert_bounds(c: &ScoreInputs, score: &Score, w: &Weights) {
            for ((name, v), (_, w)) in score.components.named().into_iter().zip(w.named()) {
                if name == "unclaimed" {
                    assert!((-f64::from(c.unclaimed_eras) * w..=0.0).contains(&v), "{name}: {v}");
                } else {
                    assert!((0.0..=w).contains(&v), "{name}: {v} not in [0, {w}]");
                }
            }
            let (agg, total) = (score.aggregate, score.total);
            assert_eq!(agg, score.components.sum());
            assert!((1.0..1.0 + crate::score::RANDOMNESS_SPREAD).contains(&score.randomness));
            // total = agg * r with 1 <= r < 1.15; the product may round onto agg * 1.15.
            let (lo, hi) = if agg >= 0.0 { (agg, agg * 1.15) } else { (agg * 1.15, agg) };
            assert!(lo <= total && total <= hi, "{total} not within [{lo}, {hi}]");
        }

        /// A field of a candidate, whether raising it should raise the
        /// component, how to raise it by a step d in (0, 1], and the component.
        type Knob = (&'static str, bool, fn(&mut ScoreInputs, f64), fn(&Components) -> f64);

        const KNOBS: [Knob; 8] = [
            ("rank", true, |c, d| c.rank += (d * 5.0).ceil() as u32, |k| k.rank),
            ("bonded", true, |c, d| c.bonded += d * 1e5, |k| k.bonded),
            ("nominator_stake", true, |c, d| c.nominator_stake += d * 1e3, |k| k.nominator_stake),
            ("inclusion", false, |c, d| c.inclusion += d, |k| k.inclusion),
            ("span_inclusion", false, |c, d| c.span_inclusion += d, |k| k.span_inclusion),
            ("faults", false, |c, d| c.faults += (d * 3.0).ceil() as u32, |k| k.faults),
            ("offline", false, |c, d| c.offline_ms += (d * 1e4).ceil() as i64, |k| k.offline),
            (
                "discovered",
                false,
                |c, d| c.discovered_at_ms = c.discovered_at_ms.map(|ms| ms + (d * 1e3).ceil() as i64),
                |k| k.discovered,
            ),
        ];

        fn hostile_f64() -> impl Strategy<Value = f64> {
            prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(f64::MAX), Just(-0.0)]
        }

        proptest! {
            /// Every component is within [0, W]; unclaimed within
            /// [-unclaimed_eras * W, 0]; the total within the randomness band.
            #[test]
            fn components_within_weights(set in round(), w in weights(), round_no in any::<u64>()) {
                let seed = RoundSeed::derive("kusama", round_no);
                let (scores, _) = score_round(&set, &w, &seed);
                for (c, score) in set.iter().zip(&scores) {
                    assert_bounds(c, score, &w);
                }
            }

            /// Against fixed stats (score_one), raising one field of a
            /// candidate, all else equal, moves that component only in the
            /// right direction. Exact: no tolerance.
            #[test]
            fn monotonic_against_fixed_stats(set in round(), i in any::<Index>(), d in 0.0001..=1.0f64) {
                let (w, seed) = (Weights::production(), RoundSeed::derive("polkadot", 1));
                let stats = ScoreStats::of(&set);
                let c = &set[i.index(set.len())];
                let before = score_one(c, &stats, &w, &seed).components;
                for (name, up, raise, get) in KNOBS {
                    let mut raised = c.clone();
                    raise(&mut raised, d);
                    let after = score_one(&raised, &stats, &w, &seed).components;
                    let (b, a) = (get(&before), get(&after));
                    prop_assert!(if up { a >= b } else { a <= b }, "{name}: {b} -> {a}");
                }
            }

            /// In a whole round, where the candidate's own value also moves
            /// the quantiles, raising it (others unchanged) still moves its own
            /// component only in the right direction, up to 1e-9 of the weight
            /// for rounding. Other candidates' components are not asserted on.
            #[test]
            fn monotonic_in_whole_round(set in round(), i in any::<Index>(), d in 0.0001..=1.0f64) {
                let (w, seed) = (Weights::production(), RoundSeed::derive("polkadot", 1));
                let i = i.index(set.len());
                let before = score_round(&set, &w, &seed).0[i].components;
                for (name, up, raise, get) in KNOBS {
                    let mut changed = set.clone();
                    raise(&mut changed[i], d);
                    let after = score_round(&changed, &w, &seed).0[i].components;
                    let (b, a) = (get(&before), get(&after));
                    prop_assert!(if up { a >= b - 1e-9 * 300.0 } else { a <= b + 1e-9 * 300.0 }, "{name}: {b} -> {a}");
                }
            }

            /// Order of the valid set does not matter: same Score per stash
            /// and identical stats, bit for bit.
            #[test]
            fn permutation_invariant((set, shuffled) in round().prop_flat_map(|set| (Just(set.clone()), Just(set).prop_shuffle()))) {
                let (w, seed) = (Weights::production(), RoundSeed::derive("polkadot", 3));
                let (a, stats_a) = score_round(&set, &w, &seed);
                let (b, stats_b) = score_round(&shuffled, &w, &seed);
                prop_assert_eq!(stats_a, stats_b);
                let by_stash: BTreeMap<_, _> = b.into_iter().map(|s| (s.stash.clone(), s)).collect();
                for score in a {
                    prop_assert_eq!(Some(&score), by_stash.get(&score.stash));
                }
            }

            /// Any input at all (NaN, infinities, extreme integers) scores
            /// without panicking and without NaN components; with usable
            /// weights the bounds still hold.
            #[test]
            fn hostile_inputs(
                raw in prop::collection::vec((hostile_f64(), hostile_f64(), hostile_f64(), hostile_f64(), any::<Option<i64>>(), any::<i64>(), any::<(u32, u32, u32, Option<u32>)>(), any::<Option<String>>()), 0..8),
                bad_w in prop::array::uniform15(hostile_f64()).prop_map(Weights::from_array),
                w in weights(),
            ) {
                let set: Vec<ScoreInputs> = raw.into_iter().enumerate().map(|(i, (inc, span, bonded, ns, disc, off, (rank, un, faults, nom), place))| ScoreInputs {
                    stash: format!("s{i}"),
                    inclusion: inc,
                    span_inclusion: span,
                    discovered_at_ms: disc,
                    nominated_at_era: nom,
                    rank,
                    unclaimed_eras: un,
                    bonded,
                    faults,
                    offline_ms: off,
                    city: place.clone(),
                    region: place.clone(),
                    country: place.clone(),
                    provider: place.clone(),
                    provider_banned: false,
                    nominator_stake: ns,
                    implementation: place,
                }).collect();
                let seed = RoundSeed::derive("", u64::MAX);
                for score in score_round(&set, &bad_w, &seed).0 {
                    prop_assert!(score.components.named().iter().all(|(_, v)| !v.is_nan()));
                    prop_assert!(!score.aggregate.is_nan());
                }
                let (scores, stats) = score_round(&set, &w, &seed);
                for (c, score) in set.iter().zip(&scores) {
                    assert_bounds(c, score, &w);
                    prop_assert_eq!(&score_one(c, &stats, &w, &seed), score);
                }
            }
        }
    }
}
