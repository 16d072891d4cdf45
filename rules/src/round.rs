//! One round, evaluated in one pure step: candidates and folded facts in,
//! every candidate's checks, history and score out, with all inputs kept so
//! the round can be explained and recomputed.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smol_str::{SmolStr, format_smolstr};

use schemas::CandidateEntry as Candidate;
use schemas::ss58::hex_account;

use crate::chain_facts::ChainFacts;
use crate::history::{self, History};
use crate::node_match::{self, MatchedBy};
use crate::score::{self, RoundSeed, Score, ScoreInputs, ScoreStats, Weights};
use crate::uptime::{NodeUptime, Presence, UptimeState};
use crate::validity::{
    self, CandidateFacts, CheckContext, Fact, IdentityFacts, KusamaStanding, LocationFacts, NodeFacts, StakingFacts, Validity,
    ValidityConfig, Verdict, sources,
};

/// A candidate's standing, as another network's rounds give it (the Kusama rank check).
pub type Standings = BTreeMap<String, (u32, bool)>;

/// Everything a round is computed from.
pub struct RoundInput<'a> {
    /// Network.
    pub network: &'a str,
    /// Session index of the relay chain.
    pub round: u64,
    /// Chain whose session started the round.
    pub chain: &'a str,
    /// Block of the session change.
    pub block: u64,
    /// Its timestamp: checks are judged at this time.
    pub at_ms: i64,
    /// Token decimals.
    pub decimals: u8,
    /// The candidate list.
    pub candidates: &'a [Candidate],
    /// Relay chain facts (sessions, faults).
    pub relay: &'a ChainFacts,
    /// Staking chain facts (validators, nominators, points); the relay itself without a staking chain.
    pub staking: &'a ChainFacts,
    /// Identity chain facts.
    pub identity: &'a ChainFacts,
    /// Name of the identity chain (for evidence).
    pub identity_chain: &'a str,
    /// Telemetry.
    pub uptime: &'a UptimeState,
    /// Uptime window, ms.
    pub uptime_window_ms: i64,
    /// The Kusama programme's standings, when that network is scored here.
    pub kusama: Option<&'a Standings>,
    /// Check settings.
    pub validity: &'a ValidityConfig,
    /// The latest client release known at the round's time (raises the client-version bound after its grace).
    pub release: Option<&'a crate::validity::Release>,
    /// Weights.
    pub weights: &'a Weights,
}

/// One candidate in a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRound {
    /// The list entry.
    pub candidate: Candidate,
    /// Stash as 0x hex (the key of chain records); empty if undecodable.
    pub account: String,
    /// What validity was judged on.
    pub facts: CandidateFacts,
    /// Checks and verdict.
    pub validity: Validity,
    /// Rank, inclusion, last active era, faults.
    pub history: History,
    /// Score inputs (valid candidates only).
    pub inputs: Option<ScoreInputs>,
    /// Score (valid candidates only).
    pub score: Option<Score>,
}

/// A whole round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundSnapshot {
    /// Network.
    pub network: String,
    /// Session index.
    pub round: u64,
    /// Active era.
    pub era: Option<u32>,
    /// Chain of the session change.
    pub chain: String,
    /// Block of the session change.
    pub block: u64,
    /// Its timestamp.
    pub at_ms: i64,
    /// Seed of the random factors.
    pub seed: RoundSeed,
    /// Weights used.
    pub weights: Weights,
    /// Check settings used.
    pub validity: ValidityConfig,
    /// Statistics the components were scaled against.
    pub stats: ScoreStats,
    /// Every candidate, in list order.
    pub candidates: Vec<CandidateRound>,
}

impl RoundSnapshot {
    /// Counts of valid, invalid and unknown candidates.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |v: Verdict| self.candidates.iter().filter(|c| c.validity.verdict == v).count();
        (n(Verdict::Valid), n(Verdict::Invalid), n(Verdict::Unknown))
    }

    /// Standings to hand to a network that checks this one's ranks.
    pub fn standings(&self) -> Standings {
        self.candidates.iter().map(|c| (c.account.clone(), (c.history.rank, c.validity.valid))).collect()
    }

    /// Recompute every score from the stored inputs, weights and seed (what
    /// "reproducible" means; also how a weight change is tried on a round).
    pub fn rescore(&self, weights: &Weights) -> Vec<Score> {
        let inputs: Vec<ScoreInputs> = self.candidates.iter().filter_map(|c| c.inputs.clone()).collect();
        score::score_round(&inputs, weights, &self.seed).0
    }
}

/// The last millisecond RFC 3339 can write (9999-12-31T23:59:59.999Z).
const RFC3339_MAX_MS: i64 = 253_402_300_799_999;

/// A time for evidence; out-of-range input (a telemetry field far in the
/// future, say) is clamped, never a panic.
fn rfc3339(ms: i64) -> humantime::Rfc3339Timestamp {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.clamp(0, RFC3339_MAX_MS) as u64);
    humantime::format_rfc3339_seconds(t)
}

/// The telemetry nodes of a network by the stash they belong to, and how
/// each was tied ([`node_match`]: the GRANDPA key the node reports, else,
/// where `online.match_by_name` is set, its name equal to the candidate's).
fn nodes_by_stash<'a>(input: &'a RoundInput<'_>) -> BTreeMap<String, Vec<(&'a NodeUptime, MatchedBy)>> {
    let keys = node_match::grandpa_keys(
        input
            .relay
            .session
            .iter()
            .flat_map(|s| s.keys.iter())
            .filter_map(|(stash, keys)| keys.get("grandpa").map(|k| (stash.as_str(), k.as_str()))),
    );
    // Names only where the programme allows it: a name is a claim, a session key is proof.
    let names: Option<node_match::Names> = input
        .validity
        .online
        .match_by_name
        .then(|| input.candidates.iter().filter_map(|c| Some((c.name.trim().to_string(), hex_account(&c.stash)?))).collect());
    // Decoding each node's key is the work: in parallel, then gathered in node order.
    let nodes: Vec<&NodeUptime> = input.uptime.nodes.values().filter(|n| n.network == input.network).collect();
    let matched: Vec<Option<(String, MatchedBy)>> =
        nodes.par_iter().map(|node| node_match::stash_of(node.validator.as_deref(), &node.name, &keys, names.as_ref())).collect();
    let mut out: BTreeMap<String, Vec<(&NodeUptime, MatchedBy)>> = BTreeMap::new();
    for (node, m) in nodes.into_iter().zip(matched) {
        if let Some((stash, how)) = m {
            out.entry(stash).or_default().push((node, how));
        }
    }
    out
}

/// What telemetry says of a candidate (its best node speaks for it), and where that node is.
fn node_facts(nodes: &[(&NodeUptime, MatchedBy)], input: &RoundInput<'_>) -> Option<(Fact<NodeFacts>, Option<LocationFacts>)> {
    // The best node speaks for the candidate: online first, then the longest known.
    let rank = |n: &NodeUptime| match n.presence {
        Presence::Online => 0,
        Presence::Unknown => 1,
        Presence::Offline => 2,
    };
    let (best, how) = nodes.iter().min_by_key(|&&(n, _)| (rank(n), n.discovered_at_ms, n.peer_id.as_str()))?;
    let online = match best.presence {
        Presence::Online => Some(true),
        Presence::Offline => Some(false),
        Presence::Unknown => None,
    };
    let facts = NodeFacts {
        online,
        online_since_ms: (online == Some(true)).then_some(best.since_ms),
        discovered_at_ms: nodes.iter().map(|(n, _)| n.discovered_at_ms).min().unwrap_or(best.discovered_at_ms),
        offline_ms: input.uptime.offline_in_window(&best.network, &best.peer_id, input.at_ms, input.uptime_window_ms),
        window_ms: input.uptime_window_ms,
        implementation: best.implementation.clone(),
        version: best.version.clone(),
        matched_by: SmolStr::new_static(how.as_str()),
    };
    let at = format_smolstr!("node {} last seen {}", best.name, rfc3339(best.last_seen_ms));
    let place = best.coordinates.and_then(|(lat, lon)| crate::geo::locate(lat, lon));
    let location = (best.city.is_some() || place.is_some()).then(|| LocationFacts {
        city: best.city.clone(),
        region: place.as_ref().and_then(|p| p.region.clone()),
        country: place.map(|p| p.country),
        provider: None,
    });
    Some((Fact::new(facts, sources::TELEMETRY, at), location))
}

/// Evaluate a round.
pub fn evaluate_round(input: &RoundInput<'_>) -> RoundSnapshot {
    let era = input.staking.active_era().or(input.relay.active_era());
    let telemetry_up = input.uptime.feeds_up.iter().any(|(net, _)| net == input.network);
    let nodes = nodes_by_stash(input);
    let ctx = CheckContext { now_ms: input.at_ms, decimals: input.decimals };
    // The settings in force: the round records them, bound included.
    let mut in_force = input.validity.clone();
    in_force.client_version = input.validity.client_version.with_release(input.release, input.at_ms);
    let input = &RoundInput { validity: &in_force, ..*input };

    // Identity roots first: nodes per identity counts candidates sharing one.
    let accounts: Vec<Option<String>> = input.candidates.par_iter().map(|c| hex_account(&c.stash)).collect();
    let mut per_root: BTreeMap<&str, u32> = BTreeMap::new();
    for account in accounts.iter().flatten() {
        if let Some(root) = history::identity_root(account, input.identity) {
            *per_root.entry(root).or_default() += 1;
        }
    }

    // Each candidate is judged on its own: in parallel, in list order.
    let mut rows: Vec<CandidateRound> = input
        .candidates
        .par_iter()
        .zip(&accounts)
        .map(|(candidate, account)| {
            let account = account.clone().unwrap_or_default();
            let (node, location) = nodes.get(&account).and_then(|n| node_facts(n, input)).unzip();
            let facts = candidate_facts(input, candidate, &account, node, location.flatten(), telemetry_up, &per_root);
            let validity = validity::evaluate(&facts, input.validity, ctx);
            let addresses = history::identity_addresses(&account, input.identity);
            let history = history::history(&account, &addresses, input.staking, input.relay, era);
            CandidateRound { candidate: candidate.clone(), account, facts, validity, history, inputs: None, score: None }
        })
        .collect();

    // Only valid candidates are scored, against statistics of the valid set.
    let inputs: Vec<ScoreInputs> = rows
        .par_iter()
        .filter(|r| r.validity.valid)
        .map(|row| score_inputs(input, row, history::nominator_stake(input.staking, &row.account, input.decimals)))
        .collect();
    let seed = RoundSeed::derive(input.network, input.round);
    let (scores, stats) = score::score_round(&inputs, input.weights, &seed);
    // Scores come back in the order of the valid rows they were computed from.
    for ((row, inputs), score) in rows.iter_mut().filter(|r| r.validity.valid).zip(inputs).zip(scores) {
        (row.inputs, row.score) = (Some(inputs), Some(score));
    }

    RoundSnapshot {
        network: input.network.to_string(),
        round: input.round,
        era,
        chain: input.chain.to_string(),
        block: input.block,
        at_ms: input.at_ms,
        seed,
        weights: *input.weights,
        validity: input.validity.clone(),
        stats,
        candidates: rows,
    }
}

fn candidate_facts(
    input: &RoundInput<'_>,
    candidate: &Candidate,
    account: &str,
    node: Option<Fact<NodeFacts>>,
    location: Option<LocationFacts>,
    telemetry_up: bool,
    per_root: &BTreeMap<&str, u32>,
) -> CandidateFacts {
    let staking = input.staking;
    let era_at = |e: u32, b: u64| format_smolstr!("era {e} (block {b})");
    // A snapshot older than the era the sessions report is stale: judge nothing on it.
    let current = input.relay.session.as_ref().and_then(|s| s.active_era);
    let fresh = staking.validators_era.filter(|e| current.is_none_or(|c| *e >= c));
    let intends = fresh.map(|e| {
        let at = staking.validators.values().next().map_or_else(|| format_smolstr!("era {e}"), |v| era_at(e, v.block));
        Fact::new(staking.validators.contains_key(account), sources::VALIDATORS, at)
    });
    let prefs = staking.validators.get(account).filter(|_| fresh.is_some()).map(|v| {
        Fact::new(
            StakingFacts {
                commission_perbill: v.commission_perbill,
                blocked: v.blocked,
                self_bonded: v.self_bonded.parse().unwrap_or_default(),
            },
            sources::VALIDATORS,
            era_at(v.era, v.block),
        )
    });
    let root = history::identity_root(account, input.identity);
    let identity = input.identity.identities.get(account).zip(root).map(|(own, root)| {
        let root_record = input.identity.identities.get(root);
        // A sub-identity is judged by its super's identity, as in 1KV.
        let (has, display, judgements, block) = match (&own.super_account, root_record) {
            (Some(_), Some(r)) => (r.has_identity, r.display.clone(), r.judgements.clone(), r.block),
            (Some(_), None) => (true, None, Vec::new(), own.block),
            (None, _) => (own.has_identity, own.display.clone(), own.judgements.clone(), own.block),
        };
        let facts = IdentityFacts { root: root.to_string(), display, has_identity: has, judgements };
        Fact::new(facts, sources::IDENTITIES, format_smolstr!("block {block} of {}", input.identity_chain))
    });
    let nodes_of_identity = root.map(|root| {
        let n = per_root.get(root).copied().unwrap_or(1);
        Fact::new(n, sources::IDENTITIES, format_smolstr!("candidates sharing identity {root}"))
    });
    let beefy_key = input.relay.session.as_ref().and_then(|s| {
        let key = s.keys.get(account)?.get("beefy")?;
        Some(Fact::new(key.clone(), sources::SESSIONS, format_smolstr!("session {}", s.index)))
    });
    // City from telemetry, country and region from its coordinates; the provider needs an IP source.
    let location = location.map(|l| Fact::new(l, sources::TELEMETRY, SmolStr::new_static("telemetry location")));
    let kusama = candidate.kusama_stash.as_deref().and_then(|k| {
        let standing = input.kusama?.get(&hex_account(k)?)?;
        Some(Fact::new(KusamaStanding { rank: standing.0, valid: standing.1 }, sources::KUSAMA, SmolStr::new_static("latest Kusama round")))
    });
    CandidateFacts {
        stash: candidate.stash.clone(),
        skip_self_stake: candidate.skip_self_stake,
        has_kusama_stash: candidate.kusama_stash.is_some(),
        telemetry_up,
        node,
        location,
        intends_to_validate: intends,
        staking: prefs,
        identity,
        nodes_of_identity,
        beefy_key,
        unclaimed_eras: None,
        kusama,
    }
}

fn score_inputs(input: &RoundInput<'_>, row: &CandidateRound, nominator_stake: f64) -> ScoreInputs {
    let f = &row.facts;
    let node = f.node.as_ref().map(|n| &n.value);
    let loc = f.location.as_ref().map(|l| l.value.clone()).unwrap_or_default();
    let banned = loc
        .provider
        .as_ref()
        .is_some_and(|p| input.validity.provider.banned.iter().any(|b| b.trim().eq_ignore_ascii_case(p.trim())));
    ScoreInputs {
        stash: row.account.clone(),
        inclusion: row.history.inclusion,
        span_inclusion: row.history.span_inclusion,
        discovered_at_ms: node.map(|n| n.discovered_at_ms),
        nominated_at_era: row.history.nominated_at,
        rank: row.history.rank,
        unclaimed_eras: 0,
        bonded: f
            .staking
            .as_ref()
            .map(|s| validity::planck_to_tokens(s.value.self_bonded, input.decimals))
            .unwrap_or_default(),
        faults: row.history.faults.len() as u32,
        offline_ms: node.map(|n| n.offline_ms).unwrap_or_default(),
        city: loc.city,
        region: loc.region,
        country: loc.country,
        provider: loc.provider,
        provider_banned: banned,
        nominator_stake,
        implementation: node.and_then(|n| n.implementation.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain_facts::{IdentityRecord, SessionFacts, ValidatorFacts};

    #[test]
    fn out_of_range_times_are_clamped_not_a_panic() {
        assert_eq!(rfc3339(i64::MAX).to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MIN).to_string(), "1970-01-01T00:00:00Z");
    }
    use crate::validity::{CheckKind, Profile};
    use schemas::{TelemetryFeedEvent, TelemetryNodeEvent};

    const NET: &str = "testnet";
    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_800_000_000_000;

    fn ss58(prefix: u16, key: [u8; 32]) -> String {
        schemas::ss58::encode(prefix, &key)
    }

    fn key(n: u8) -> [u8; 32] {
        [n; 32]
    }

    fn hex(k: [u8; 32]) -> String {
        format!("0x{}", ::hex::encode(k))
    }

    fn candidate(slot: i64, name: &str, k: [u8; 32]) -> Candidate {
        Candidate { slot_id: slot, name: name.into(), stash: ss58(42, k), kusama_stash: None, skip_self_stake: false, kyc: true, matrix: vec![] }
    }

    fn node(peer: &str, name: &str, validator: Option<String>, at: i64) -> TelemetryNodeEvent {
        TelemetryNodeEvent {
            network: NET.into(),
            source: "feed".into(),
            peer_id: peer.into(),
            kind: "added".into(),
            at_ms: at,
            name: name.into(),
            implementation: Some("Parity Polkadot".into()),
            version: Some("1.16.0".into()),
            validator,
            city: Some("Zurich".into()),
            latitude: Some(47.37),
            longitude: Some(8.54),
            ..Default::default()
        }
    }

    /// Three validators intending to validate with judged identities, two of
    /// them under one identity; telemetry up with nodes for all three.
    fn world() -> (ChainFacts, UptimeState, Vec<Candidate>) {
        let mut chain = ChainFacts::default();
        chain.validators_era = Some(10);
        for (n, commission, bonded) in [(1u8, 10_000_000u32, 500u128), (2, 20_000_000, 900), (3, 30_000_000, 700)] {
            chain.validators.insert(
                hex(key(n)),
                ValidatorFacts { era: 10, block: 100, commission_perbill: commission, blocked: false, self_bonded: (bonded * 10u128.pow(10)).to_string() },
            );
        }
        let judged = |subs: Vec<String>| IdentityRecord { has_identity: true, judgements: vec!["KnownGood".into()], subs, ..Default::default() };
        chain.identities.insert(hex(key(1)), judged(vec![]));
        chain.identities.insert(hex(key(2)), judged(vec![hex(key(3))]));
        chain.identities.insert(hex(key(3)), IdentityRecord { super_account: Some(hex(key(2))), ..Default::default() });
        // Validator 1's node reports GRANDPA key 0x11.. under an unrelated name.
        let mut keys = BTreeMap::new();
        keys.insert(hex(key(1)), BTreeMap::from([("grandpa".to_string(), hex(key(0x11)))]));
        chain.session = Some(SessionFacts { index: 5, block: 100, active_era: Some(10), keys });
        let mut uptime = UptimeState::default();
        let window = 7 * DAY;
        uptime.apply_feed(&TelemetryFeedEvent { network: NET.into(), source: "feed".into(), kind: "up".into(), at_ms: NOW - 30 * DAY, reason: None }, window);
        uptime.apply_node(&node("p1", "my-box", Some(ss58(42, key(0x11))), NOW - 20 * DAY), window);
        uptime.apply_node(&node("p2", "two", None, NOW - 10 * DAY), window);
        uptime.apply_node(&node("p3", "three", None, NOW - 15 * DAY), window);
        let candidates = vec![candidate(1, "one", key(1)), candidate(2, "two", key(2)), candidate(3, "three", key(3))];
        (chain, uptime, candidates)
    }

    /// A round of a programme that ties nodes by name too (the world's node "two" reports only its name).
    fn run(chain: &ChainFacts, uptime: &UptimeState, candidates: &[Candidate], validity: &ValidityConfig) -> RoundSnapshot {
        run_with(chain, uptime, candidates, validity, None)
    }

    fn run_with(chain: &ChainFacts, uptime: &UptimeState, candidates: &[Candidate], validity: &ValidityConfig, kusama: Option<&Standings>) -> RoundSnapshot {
        let mut by_name = validity.clone();
        by_name.online.match_by_name = true;
        evaluate(chain, uptime, candidates, &by_name, kusama)
    }

    fn evaluate(chain: &ChainFacts, uptime: &UptimeState, candidates: &[Candidate], validity: &ValidityConfig, kusama: Option<&Standings>) -> RoundSnapshot {
        evaluate_at(chain, uptime, candidates, validity, kusama, None)
    }

    fn evaluate_at(
        chain: &ChainFacts,
        uptime: &UptimeState,
        candidates: &[Candidate],
        validity: &ValidityConfig,
        kusama: Option<&Standings>,
        release: Option<&crate::validity::Release>,
    ) -> RoundSnapshot {
        let weights = Weights::production();
        evaluate_round(&RoundInput {
            network: NET,
            round: 5,
            chain: NET,
            block: 100,
            at_ms: NOW,
            decimals: 10,
            candidates,
            relay: chain,
            staking: chain,
            identity: chain,
            identity_chain: NET,
            uptime,
            uptime_window_ms: 7 * DAY,
            kusama,
            validity,
            release,
            weights: &weights,
        })
    }

    fn row<'a>(r: &'a RoundSnapshot, name: &str) -> &'a CandidateRound {
        r.candidates.iter().find(|c| c.candidate.name == name).expect("candidate in round")
    }

    #[test]
    fn a_release_past_its_grace_period_is_the_client_version_bound_and_the_round_records_it() {
        let (chain, uptime, candidates) = world();
        let validity = ValidityConfig::for_profile(Profile::Kusama);
        let release = |hours_ago: i64| crate::validity::Release { tag: "polkadot-v1.17.0".into(), version: "1.17.0".into(), published_at_ms: NOW - hours_ago * 3_600_000 };
        let client = |r: &RoundSnapshot| row(r, "one").validity.checks.iter().find(|c| c.check == CheckKind::ClientVersion).map(|c| c.verdict);
        let fresh = evaluate_at(&chain, &uptime, &candidates, &validity, None, Some(&release(47)));
        assert_eq!(client(&fresh), Some(crate::validity::Verdict::Valid), "1.16.0 within the 48 hours");
        assert_eq!(fresh.validity.client_version.min_version.as_deref(), Some("1.15.2"));
        let due = evaluate_at(&chain, &uptime, &candidates, &validity, None, Some(&release(49)));
        assert_eq!(client(&due), Some(crate::validity::Verdict::Invalid), "1.16.0 after the grace of 1.17.0");
        assert_eq!(due.validity.client_version.min_version.as_deref(), Some("1.17.0"), "the bound judged with is in the round");
    }

    #[test]
    fn by_default_a_node_is_tied_by_its_session_key_only() {
        let (chain, uptime, candidates) = world();
        let validity = ValidityConfig::for_profile(Profile::Kusama);
        assert!(!validity.online.match_by_name);
        let r = evaluate(&chain, &uptime, &candidates, &validity, None);
        assert_eq!(row(&r, "one").facts.node.as_ref().map(|n| n.value.matched_by.as_str()), Some("session_key"));
        assert!(row(&r, "two").facts.node.is_none(), "a node that only reports the candidate's name is not tied to it");
        assert!(!row(&r, "two").validity.valid);
    }

    #[test]
    fn nodes_are_tied_by_session_key_or_name_and_identities_are_counted() {
        let (chain, uptime, candidates) = world();
        let validity = ValidityConfig::for_profile(Profile::Kusama); // at most 2 per identity
        let r = run(&chain, &uptime, &candidates, &validity);
        let one = row(&r, "one");
        assert_eq!(one.facts.node.as_ref().map(|n| n.value.matched_by.as_str()), Some("session_key"));
        assert_eq!(row(&r, "two").facts.node.as_ref().map(|n| n.value.matched_by.as_str()), Some("name"));
        assert_eq!(row(&r, "three").facts.nodes_of_identity.as_ref().map(|f| f.value), Some(2));
        assert_eq!(row(&r, "three").facts.identity.as_ref().map(|f| f.value.root.clone()), Some(hex(key(2))));
        assert!(r.candidates.iter().all(|c| c.validity.valid), "{:#?}", r.candidates.iter().map(|c| c.validity.reasons().collect::<Vec<_>>()).collect::<Vec<_>>());
        assert_eq!(r.candidates.iter().filter(|c| c.score.is_some()).count(), 3);

        // Polkadot allows one node per identity: two and three both fail it.
        let strict = crate::validity::resolve(Profile::Kusama, &serde_json::json!({"nodes_per_identity": {"max": 1}})).unwrap();
        let r = run(&chain, &uptime, &candidates, &strict);
        for name in ["two", "three"] {
            let bad: Vec<CheckKind> = row(&r, name).validity.reasons().map(|c| c.check).collect();
            assert_eq!(bad, vec![CheckKind::NodesPerIdentity], "{name}");
        }
        assert!(row(&r, "one").validity.valid);
        assert!(row(&r, "two").score.is_none(), "invalid candidates are not scored");
    }

    #[test]
    fn kusama_standing_comes_from_the_kusama_rounds_of_this_deployment() {
        let (chain, uptime, mut candidates) = world();
        let validity = ValidityConfig::for_profile(Profile::Polkadot);
        let validity = ValidityConfig { nodes_per_identity: crate::validity::resolve(Profile::Kusama, &serde_json::json!({})).unwrap().nodes_per_identity, ..validity };
        candidates[0].kusama_stash = Some(ss58(2, key(0x21)));
        candidates[1].kusama_stash = Some(ss58(2, key(0x22)));
        let standings: Standings = [(hex(key(0x21)), (150, true)), (hex(key(0x22)), (40, true))].into_iter().collect();
        let r = run_with(&chain, &uptime, &candidates, &validity, Some(&standings));
        let check = |name: &str| row(&r, name).validity.checks.iter().find(|c| c.check == CheckKind::KusamaRank).map(|c| c.verdict);
        assert_eq!(check("one"), Some(Verdict::Valid), "rank 150 >= 100");
        assert_eq!(check("two"), Some(Verdict::Invalid), "rank 40 < 100");
        assert_eq!(check("three"), Some(Verdict::Valid), "no Kusama stash listed");
        // Without the Kusama network's rounds the standing is unknown, not invalid.
        let r = run_with(&chain, &uptime, &candidates, &validity, None);
        assert_eq!(row(&r, "one").validity.checks.iter().find(|c| c.check == CheckKind::KusamaRank).map(|c| c.verdict), Some(Verdict::Unknown));
    }

    #[test]
    fn nodes_located_in_sanctioned_areas_are_invalid_and_unlocated_ones_unknown() {
        let (chain, mut uptime, candidates) = world();
        let window = 7 * DAY;
        // "two" moves to Simferopol (UA-43), "three" has no location at all.
        let moved = TelemetryNodeEvent { kind: "located".into(), latitude: Some(44.95), longitude: Some(34.10), city: Some("Simferopol".into()), ..node("p2", "two", None, NOW - DAY) };
        uptime.apply_node(&moved, window);
        let mut bare = node("p3", "three", None, NOW - 15 * DAY);
        (bare.city, bare.latitude, bare.longitude) = (None, None, None);
        let mut fresh = UptimeState::default();
        for (k, n) in &uptime.nodes {
            if n.peer_id != "p3" {
                fresh.nodes.insert(k.clone(), n.clone());
            }
        }
        fresh.feeds_up = uptime.feeds_up.clone();
        fresh.apply_node(&bare, window);
        let validity = ValidityConfig::for_profile(Profile::Kusama);
        assert!(!validity.sanctioned_geo.skip, "on in the production profiles");
        let r = run(&chain, &fresh, &candidates, &validity);
        let geo = |name: &str| row(&r, name).validity.checks.iter().find(|c| c.check == CheckKind::SanctionedGeo).cloned().unwrap();
        assert_eq!(geo("one").verdict, Verdict::Valid);
        assert_eq!(geo("one").evidence.value.as_deref(), Some("CH / ?"));
        assert_eq!(geo("two").verdict, Verdict::Invalid, "{:?}", geo("two"));
        assert_eq!(geo("two").evidence.value.as_deref(), Some("RU / UA-43"));
        assert_eq!(geo("three").verdict, Verdict::Unknown);
        // Country counts feed the score: one of the valid candidates is in CH.
        assert_eq!(row(&r, "one").inputs.as_ref().and_then(|i| i.country.clone()), Some("CH".into()));
    }

    #[test]
    fn a_stale_era_snapshot_is_unknown_not_judged() {
        let (mut chain, uptime, candidates) = world();
        // The sessions say era 11 is active; the newest validator snapshot is era 10.
        if let Some(s) = chain.session.as_mut() {
            s.active_era = Some(11);
        }
        let r = run(&chain, &uptime, &candidates, &ValidityConfig::for_profile(Profile::Kusama));
        for c in &r.candidates {
            assert_eq!(c.validity.verdict, Verdict::Unknown, "{}", c.candidate.name);
            for k in [CheckKind::ValidateIntention, CheckKind::Commission, CheckKind::SelfStake, CheckKind::Blocked] {
                assert_eq!(c.validity.checks.iter().find(|x| x.check == k).map(|x| x.verdict), Some(Verdict::Unknown), "{k:?}");
            }
        }
    }

    #[test]
    fn our_feed_down_makes_online_unknown_not_invalid() {
        let (chain, mut uptime, candidates) = world();
        uptime.apply_feed(&TelemetryFeedEvent { network: NET.into(), source: "feed".into(), kind: "down".into(), at_ms: NOW - DAY, reason: None }, 7 * DAY);
        let r = run(&chain, &uptime, &candidates, &ValidityConfig::for_profile(Profile::Kusama));
        for c in &r.candidates {
            assert_eq!(c.validity.verdict, Verdict::Unknown, "{}", c.candidate.name);
            let online = c.validity.checks.iter().find(|x| x.check == CheckKind::Online).unwrap();
            assert_eq!(online.verdict, Verdict::Unknown);
        }
    }

    #[test]
    fn a_round_does_not_depend_on_list_order_and_replays_exactly() {
        let (chain, uptime, mut candidates) = world();
        let validity = ValidityConfig::for_profile(Profile::Kusama);
        let a = run(&chain, &uptime, &candidates, &validity);
        candidates.reverse();
        let b = run(&chain, &uptime, &candidates, &validity);
        let totals = |r: &RoundSnapshot| -> BTreeMap<String, f64> {
            r.candidates.iter().filter_map(|c| Some((c.account.clone(), c.score.as_ref()?.total))).collect()
        };
        assert_eq!(totals(&a), totals(&b));
        assert_eq!(a.stats, b.stats);
        // Stored as JSON and read back, the inputs give the same scores bit for bit.
        let stored: RoundSnapshot = serde_json::from_slice(&serde_json::to_vec(&a).unwrap()).unwrap();
        let again: BTreeMap<String, f64> = stored.rescore(&stored.weights).into_iter().map(|s| (s.stash, s.total)).collect();
        assert_eq!(again, totals(&a));
        // The most self stake (two: 900) gets the whole bonded weight.
        assert_eq!(row(&a, "two").score.as_ref().unwrap().components.bonded, a.weights.bonded);
    }
}
