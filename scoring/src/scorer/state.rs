//! What the scorer folds from the topics, saved with its positions.

use std::collections::{BTreeMap, BTreeSet};

use rules::chain_facts::ChainFacts;
use rules::uptime::UptimeState;
use rules::{RoundInput, RoundSnapshot, Standings, evaluate_round};
use schemas::CandidateEntry;

use super::ScoredNetwork;
use super::chain_record::ChainRecord;
use serde::{Deserialize, Serialize};

/// One version of a network's candidate list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListVersion {
    /// When it was loaded.
    pub loaded_at_ms: i64,
    /// Hash of the source.
    pub digest: String,
    /// The candidates.
    pub candidates: Vec<CandidateEntry>,
}

/// Everything the scorer has folded.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScorerState {
    /// Facts per chain.
    pub chains: BTreeMap<String, ChainFacts>,
    /// Candidate lists per network, oldest first.
    pub lists: BTreeMap<String, Vec<ListVersion>>,
    /// Per chain, a session snapshot waiting for its block record: (session, block).
    pub pending: BTreeMap<String, (u64, u64)>,
    /// Per network, the last round evaluated.
    pub rounds: BTreeMap<String, u64>,
    /// Per network, the standings of its last round.
    pub standings: BTreeMap<String, Standings>,
    /// Per chain and topic, the position of the last record applied (duplicates on a topic are dropped).
    #[serde(default)]
    pub applied: super::certify::Applied,
    /// Client releases per network, in the order seen (oldest first).
    #[serde(default)]
    pub releases: BTreeMap<String, Vec<schemas::Release>>,
    /// Uptime per network with telemetry, folded from the telemetry topic up
    /// to its clock (see [`super::telemetry`]).
    #[serde(default)]
    pub uptime: BTreeMap<String, rules::uptime::UptimeState>,
    /// Per network, the offset of the last telemetry record applied (a
    /// network's records share one partition): records read again after a
    /// restart are not applied twice.
    #[serde(default)]
    pub telemetry_applied: BTreeMap<String, i64>,
}

impl ScorerState {
    /// Apply one decoded record from `chain`; `ours` are the programme's
    /// nominators on that chain. A session snapshot leaves its round pending
    /// on its block ([`Self::take_due`]).
    pub fn apply(&mut self, chain: &str, record: ChainRecord, ours: &BTreeSet<String>) {
        let facts = self.chains.entry(chain.to_string()).or_default();
        match record {
            ChainRecord::Block(b) => facts.apply_block(b.number.max(0) as u64, b.timestamp_ms),
            ChainRecord::Session(s) => {
                let block = s.block_number.max(0) as u64;
                if facts.clock.is_some_and(|(n, _)| n >= block) {
                    // Its block was certified without it: the round waits for a block past it.
                    tracing::warn!(consumer = super::SCORER, chain, session = s.session_index, block, "session snapshot applied after its block");
                }
                facts.apply_session(&s);
                self.pending.insert(chain.to_string(), (s.session_index.max(0) as u64, block));
            }
            ChainRecord::Validator(v) => facts.apply_validator(&v),
            ChainRecord::Nominator(n) => facts.apply_nomination(n, ours),
            ChainRecord::Points(p) => facts.apply_points(&p),
            ChainRecord::Identity(i) => facts.apply_identity(&i),
            ChainRecord::SessionEvent(ev) => facts.apply_session_event(&ev),
            ChainRecord::Unread => {}
        }
    }

    /// The session whose round `chain`'s clock has reached, if one is
    /// pending, with the clock's time; it is pending no more.
    pub fn take_due(&mut self, chain: &str) -> Option<(u64, i64)> {
        let clock = self.chains.get(chain).and_then(|f| f.clock)?;
        let (session, block) = self.pending.get(chain).copied()?;
        if clock.0 < block {
            return None;
        }
        self.pending.remove(chain);
        Some((session, clock.1))
    }

    /// Rounds of every one of `networks` whose relay chain is `chain`, for
    /// `session` (a network that has scored it already is passed over).
    pub fn evaluate(&mut self, networks: &[ScoredNetwork], chain: &str, session: u64, uptime_window_ms: i64) -> Vec<RoundSnapshot> {
        let no_telemetry = UptimeState::default();
        let mut out = Vec::new();
        for net in networks.iter().filter(|n| n.relay == chain) {
            if self.rounds.get(&net.name).is_some_and(|r| *r >= session) {
                continue; // already evaluated (a re-read snapshot)
            }
            let empty = ChainFacts::default();
            let relay = self.chains.get(&net.relay).unwrap_or(&empty);
            let (block, at_ms) = relay.clock.unwrap_or_default();
            let candidates = self.list_at(&net.name, at_ms).map(|l| l.candidates.clone()).unwrap_or_default();
            let release = self.release_at(&net.name, at_ms).map(|r| rules::validity::Release {
                tag: r.tag.clone(),
                version: r.version.clone(),
                published_at_ms: r.published_at_ms,
            });
            let kusama_net = &net.validity.kusama_rank.network;
            let input = RoundInput {
                network: &net.name,
                round: session,
                chain,
                block,
                at_ms,
                decimals: net.decimals,
                candidates: &candidates,
                relay,
                staking: self.chains.get(&net.staking).unwrap_or(&empty),
                identity: self.chains.get(&net.identity).unwrap_or(&empty),
                identity_chain: &net.identity,
                uptime: self.uptime.get(&net.name).unwrap_or(&no_telemetry),
                uptime_window_ms,
                kusama: self.standings.get(kusama_net),
                validity: &net.validity,
                release: release.as_ref(),
                weights: &net.programme.weights,
            };
            let snapshot = evaluate_round(&input);
            self.prune_lists(&net.name, at_ms);
            self.prune_releases(&net.name, at_ms);
            self.rounds.insert(net.name.clone(), session);
            self.standings.insert(net.name.clone(), snapshot.standings());
            out.push(snapshot);
        }
        out
    }

    /// The list in force at `at_ms`: the newest loaded by then, else the oldest.
    pub fn list_at(&self, network: &str, at_ms: i64) -> Option<&ListVersion> {
        let versions = self.lists.get(network)?;
        versions.iter().rev().find(|v| v.loaded_at_ms <= at_ms).or_else(|| versions.first())
    }

    /// A candidate list as published (the same list again is no new version).
    pub fn apply_list(&mut self, list: &schemas::CandidateList) {
        let versions = self.lists.entry(list.network.clone()).or_default();
        if versions.last().is_some_and(|v| v.digest == list.digest) {
            return;
        }
        versions.push(ListVersion { loaded_at_ms: list.loaded_at_ms, digest: list.digest.clone(), candidates: list.candidates.clone() });
    }

    /// The newest release seen by `at_ms` (none before the first was seen).
    pub fn release_at(&self, network: &str, at_ms: i64) -> Option<&schemas::Release> {
        self.releases.get(network)?.iter().rev().find(|r| r.observed_at_ms <= at_ms)
    }

    pub(super) fn apply_release(&mut self, r: &schemas::Release) {
        let seen = self.releases.entry(r.network.clone()).or_default();
        if seen.last().is_some_and(|last| last.tag == r.tag) {
            return; // published again (a restart): the same release
        }
        seen.push(r.clone());
    }

    /// As [`Self::prune_lists`], for releases.
    pub(super) fn prune_releases(&mut self, network: &str, at_ms: i64) {
        if let Some(seen) = self.releases.get_mut(network)
            && let Some(in_force) = seen.iter().rposition(|r| r.observed_at_ms <= at_ms)
        {
            seen.drain(..in_force);
        }
    }

    /// A round at `at_ms` was evaluated: the versions superseded by then are
    /// needed by no later round (rounds come in time order) and go. Every
    /// other version is kept, however many: a rebuild reads every list
    /// before the blocks that were judged with them.
    pub(super) fn prune_lists(&mut self, network: &str, at_ms: i64) {
        if let Some(versions) = self.lists.get_mut(network)
            && let Some(in_force) = versions.iter().rposition(|v| v.loaded_at_ms <= at_ms)
        {
            versions.drain(..in_force);
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_gets_the_release_seen_by_its_time_and_a_republished_one_is_not_new() {
        let mut s = ScorerState::default();
        let release = |tag: &str, seen: i64| schemas::Release { network: "n".into(), tag: tag.into(), version: "1.0.0".into(), published_at_ms: 0, observed_at_ms: seen };
        s.apply_release(&release("v1", 100));
        s.apply_release(&release("v1", 150));
        s.apply_release(&release("v2", 300));
        assert_eq!(s.releases["n"].len(), 2, "the same tag again is not a new release");
        assert_eq!(s.release_at("n", 50), None, "before any was seen");
        assert_eq!(s.release_at("n", 299).map(|r| r.tag.as_str()), Some("v1"));
        s.prune_releases("n", 299);
        assert_eq!(s.release_at("n", 300).map(|r| r.tag.as_str()), Some("v2"));
        s.prune_releases("n", 300);
        assert_eq!(s.releases["n"].len(), 1);
    }

    fn list(at: i64) -> schemas::CandidateList {
        schemas::CandidateList { network: "n".into(), loaded_at_ms: at, digest: format!("d{at}"), ..Default::default() }
    }

    /// A rebuild reads every list version before the blocks: each round still
    /// gets the list in force at its time, however many versions came since.
    #[test]
    fn every_round_gets_the_list_in_force_at_its_time_however_many_versions_follow() {
        let mut s = ScorerState::default();
        for at in (1..=40).map(|i| i * 100) {
            s.apply_list(&list(at));
        }
        for round_at in [150, 1_050, 2_999, 4_000, 9_999] {
            let expected = format!("d{}", ((round_at / 100) * 100).min(4_000));
            assert_eq!(s.list_at("n", round_at).map(|l| l.digest.clone()), Some(expected), "round at {round_at}");
            s.prune_lists("n", round_at);
        }
        // What no later round can need is gone; the list in force stays.
        assert_eq!(s.lists["n"].len(), 1);
        assert_eq!(s.list_at("n", 20_000).unwrap().digest, "d4000");
    }
}
