//! A score field by field: for each component the input, the rule, the
//! bounds it was scaled between and the points, so a validator can see why.

use serde::Serialize;

use crate::round::{CandidateRound, RoundSnapshot};
use crate::score::{MISSING_BUCKET, ScoreInputs, Stats, quantile};

/// Why the unclaimed component is 0 for everyone (said wherever it is shown).
pub const UNCLAIMED_NOT_COMPUTED: &str = "not computed: stakeflow does not read claimed rewards yet, so no candidate is charged for unclaimed eras (would be minus the weight per unclaimed era)";

/// One component of one candidate's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained {
    /// Component name.
    pub component: &'static str,
    /// Its weight this round.
    pub weight: f64,
    /// The candidate's input value.
    pub input: serde_json::Value,
    /// How the input became points.
    pub rule: String,
    /// Lower and upper bound the input was scaled between, when it was.
    pub bounds: Option<(f64, f64)>,
    /// Points earned.
    pub points: f64,
}

fn bounds(stats: &Stats, lo: f64, hi: f64) -> Option<(f64, f64)> {
    Some((quantile(&stats.values, lo), quantile(&stats.values, hi)))
}

/// Every component of a scored candidate (empty when it was not scored).
pub fn explain(row: &CandidateRound, round: &RoundSnapshot) -> Vec<Explained> {
    let (Some(i), Some(score)) = (&row.inputs, &row.score) else { return Vec::new() };
    let w = &round.weights;
    let s = &round.stats;
    let c = &score.components;
    let lower = "lower scores higher";
    let higher = "higher scores higher";
    let e = |component, weight, input: serde_json::Value, rule: String, bounds, points| Explained {
        component,
        weight,
        input,
        rule,
        bounds,
        points,
    };
    let loc = |name: &str, field: &Option<String>| match field {
        _ if i.provider_banned => "banned provider: 0".to_string(),
        None => format!("unknown: a quarter of the weight (counted in the {MISSING_BUCKET:?} bucket of the {name} counts)"),
        Some(v) => format!("candidates in {name} {v:?}, min-max scaled over the {name} counts (the {MISSING_BUCKET:?} bucket included); fewer scores higher"),
    };
    let count = |m: &std::collections::BTreeMap<String, u64>, f: &Option<String>| {
        let key = f.as_deref().map(str::trim).filter(|v| !v.is_empty()).map_or_else(|| MISSING_BUCKET.to_string(), str::to_lowercase);
        m.get(&key).copied()
    };
    let ScoreInputs { inclusion, span_inclusion, discovered_at_ms, nominated_at_era, rank, unclaimed_eras, bonded, faults, offline_ms, nominator_stake, .. } = i;
    vec![
        e("inclusion", w.inclusion, (*inclusion).into(), format!("share of the last 84 eras with points; scaled q5..q95; {lower}"), bounds(&s.inclusion, 0.05, 0.95), c.inclusion),
        e("span_inclusion", w.span_inclusion, (*span_inclusion).into(), format!("share of the last 28 eras with points; scaled q5..q95; {lower}"), bounds(&s.span_inclusion, 0.05, 0.95), c.span_inclusion),
        e("discovered", w.discovered, serde_json::json!(discovered_at_ms), "first telemetry sighting (ms); scaled q10..q90; earlier scores higher".to_string(), bounds(&s.discovered, 0.1, 0.9), c.discovered),
        e("nominated", w.nominated, serde_json::json!(nominated_at_era), format!("last era with points (none counts as 0); scaled q10..q90; {lower}"), bounds(&s.nominated, 0.1, 0.9), c.nominated),
        e("rank", w.rank, (*rank).into(), format!("eras any address of the identity was active; scaled q10..q90; {higher}"), bounds(&s.rank, 0.1, 0.9), c.rank),
        e("unclaimed", w.unclaimed, (*unclaimed_eras).into(), UNCLAIMED_NOT_COMPUTED.into(), None, c.unclaimed),
        e("bonded", w.bonded, (*bonded).into(), format!("self stake (tokens); scaled q5..q85; {higher}"), bounds(&s.bonded, 0.05, 0.85), c.bonded),
        e("faults", w.faults, (*faults).into(), format!("offline faults in the last 84 eras; scaled q10..q90; {lower}"), bounds(&s.faults, 0.1, 0.9), c.faults),
        e("offline", w.offline, (*offline_ms).into(), format!("offline ms in the uptime window; scaled q10..q90; {lower}"), bounds(&s.offline, 0.1, 0.9), c.offline),
        e("location", w.location, serde_json::json!({"city": i.city, "count": count(&s.buckets.city, &i.city)}), loc("city", &i.city), bounds(&s.location, 0.0, 1.0), c.location),
        e("region", w.region, serde_json::json!({"region": i.region, "count": count(&s.buckets.region, &i.region)}), loc("region", &i.region), bounds(&s.region, 0.0, 1.0), c.region),
        e("country", w.country, serde_json::json!({"country": i.country, "count": count(&s.buckets.country, &i.country)}), loc("country", &i.country), bounds(&s.country, 0.0, 1.0), c.country),
        e("provider", w.provider, serde_json::json!({"provider": i.provider, "count": count(&s.buckets.provider, &i.provider)}), loc("provider", &i.provider), bounds(&s.provider, 0.0, 1.0), c.provider),
        e("nominator_stake", w.nominator_stake, (*nominator_stake).into(), format!("sum of sqrt(bond in tokens) of its nominators, ours excluded; scaled q5..q95; {higher}"), bounds(&s.nominator_stake, 0.05, 0.95), c.nominator_stake),
        e("client", w.client, serde_json::json!(i.implementation), "the full weight for a client other than Parity Polkadot".into(), None, c.client),
    ]
}
