//! Synthetic programmes of any size, deterministic: the inputs of the
//! benchmarks and of tests that need a realistic round without a chain
//! (validators with prefs and history, identities and subs, 4N nominators,
//! a telemetry node each). Behind the `synthetic` feature.

use std::collections::{BTreeMap, BTreeSet};

use schemas::{CandidateEntry as Candidate, NominatorEra};

use crate::chain_facts::{ChainFacts, IdentityRecord, SessionFacts, ValidatorFacts};
use crate::round::{RoundInput, RoundSnapshot, evaluate_round};
use crate::score::Weights;
use crate::uptime::UptimeState;
use crate::validity::{Profile, ValidityConfig};

/// The network of synthetic rounds.
pub const NET: &str = "bench";
/// A day, ms.
pub const DAY: i64 = 86_400_000;
/// The time synthetic rounds are evaluated at, ms.
pub const NOW: i64 = 1_800_000_000_000;

/// splitmix64: deterministic inputs without a dependency.
pub struct Rng(pub u64);
impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The stash key of candidate `i`.
pub fn key(i: usize) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    k[31] = 0xAB;
    k
}

/// The GRANDPA session key of candidate `i`'s node.
pub fn grandpa(i: usize) -> [u8; 32] {
    let mut k = key(i);
    k[31] = 0xCD;
    k
}

/// `k` as 0x hex.
pub fn hex(k: [u8; 32]) -> String {
    format!("0x{}", ::hex::encode(k))
}

/// `k` in the generic SS58 encoding (prefix 42).
pub fn ss58(k: [u8; 32]) -> String {
    schemas::ss58::encode(42, &k)
}

/// The candidates file of `n` candidates.
pub fn candidates(n: usize) -> Vec<Candidate> {
    (0..n)
        .map(|i| Candidate { slot_id: i as i64, name: format!("node-{i}"), stash: ss58(key(i)), kusama_stash: None, skip_self_stake: false, kyc: true, matrix: vec![] })
        .collect()
}

/// N validators with prefs, identities (every third a sub of the one before),
/// 4N nominators of 16 targets, 200 eras of history, and a telemetry node each.
pub fn world(n: usize) -> (ChainFacts, UptimeState) {
    let mut rng = Rng(n as u64);
    let mut f = ChainFacts { validators_era: Some(200), points_era: Some(199), ..ChainFacts::default() };
    for i in 0..n {
        let stash = hex(key(i));
        f.validators.insert(
            stash.clone(),
            ValidatorFacts {
                era: 200,
                block: 1,
                commission_perbill: (rng.below(12) * 10_000_000) as u32,
                blocked: rng.below(50) == 0,
                self_bonded: ((rng.below(100_000) + 1) as u128 * 10u128.pow(10)).to_string(),
            },
        );
        for era in 0..200u32 {
            if rng.below(3) > 0 {
                f.active.entry(stash.clone()).or_default().insert(era);
                f.pointed.entry(stash.clone()).or_default().insert(era);
            }
        }
        let record = if i % 3 == 2 {
            IdentityRecord { super_account: Some(hex(key(i - 1))), ..IdentityRecord::default() }
        } else {
            let subs = if i % 3 == 1 && i + 1 < n { vec![hex(key(i + 1))] } else { vec![] };
            IdentityRecord { has_identity: true, judgements: vec!["Reasonable".into()], subs, ..IdentityRecord::default() }
        };
        f.identities.insert(stash, record);
    }
    let ours = BTreeSet::new();
    for j in 0..4 * n {
        let record = NominatorEra {
            era: 200,
            nominator: format!("0xn{j:08}"),
            bonded: (rng.below(1_000_000) as u128 * 10u128.pow(10)).to_string(),
            targets: (0..16).map(|_| hex(key(rng.below(n as u64) as usize))).collect(),
            ..Default::default()
        };
        f.apply_nominator(&record, &ours);
    }
    // Each node is tied to its stash the way the live rounds tie them: by the GRANDPA key it reports.
    let keys = (0..n).map(|i| (hex(key(i)), BTreeMap::from([("grandpa".to_string(), hex(grandpa(i))), ("beefy".to_string(), "0x02".to_string())]))).collect();
    f.session = Some(SessionFacts { index: 1000, block: 1, active_era: Some(200), keys });
    let mut uptime = UptimeState::default();
    let w = 7 * DAY;
    uptime.apply_feed(&schemas::TelemetryFeedEvent { network: NET.into(), source: "f".into(), kind: "up".into(), at_ms: NOW - 30 * DAY, reason: None }, w);
    for i in 0..n {
        let ev = schemas::TelemetryNodeEvent {
            network: NET.into(),
            source: "f".into(),
            peer_id: format!("peer-{i}"),
            kind: "added".into(),
            at_ms: NOW - (rng.below(20) as i64 + 8) * DAY,
            name: format!("node-{i}"),
            validator: Some(ss58(grandpa(i))),
            implementation: Some(if i % 5 == 0 { "Kagome Node" } else { "Parity Polkadot" }.into()),
            version: Some("1.16.0".into()),
            city: Some(format!("city-{}", rng.below(40))),
            latitude: Some([47.37, 52.52, 48.85, 40.71, 35.68][i % 5]),
            longitude: Some([8.54, 13.40, 2.35, -74.0, 139.69][i % 5]),
            ..Default::default()
        };
        uptime.apply_node(&ev, w);
    }
    (f, uptime)
}

/// Run `f` on the input of a round of `n` synthetic candidates (Kusama profile, production weights).
pub fn with_round_input<R>(n: usize, f: impl FnOnce(&RoundInput<'_>) -> R) -> R {
    let validity = ValidityConfig::for_profile(Profile::Kusama);
    let weights = Weights::production();
    let (facts, uptime) = world(n);
    let list = candidates(n);
    f(&RoundInput {
        network: NET,
        round: 1000,
        chain: NET,
        block: 1,
        at_ms: NOW,
        decimals: 10,
        candidates: &list,
        relay: &facts,
        staking: &facts,
        identity: &facts,
        identity_chain: NET,
        uptime: &uptime,
        uptime_window_ms: 7 * DAY,
        kusama: None,
        validity: &validity,
        release: None,
        weights: &weights,
    })
}

/// One evaluated round of `n` synthetic candidates.
pub fn round(n: usize) -> RoundSnapshot {
    with_round_input(n, evaluate_round)
}
