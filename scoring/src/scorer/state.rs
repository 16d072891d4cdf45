//! What the scorer folds from the topics, saved with its positions.

use std::collections::BTreeMap;

use rules::Standings;
use rules::chain_facts::ChainFacts;
use schemas::CandidateEntry;
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

/// Versions of a list kept, for rounds evaluated behind the list's changes.
const LIST_VERSIONS: usize = 8;

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
}

impl ScorerState {
    /// The list in force at `at_ms`: the newest loaded by then, else the oldest.
    pub fn list_at(&self, network: &str, at_ms: i64) -> Option<&ListVersion> {
        let versions = self.lists.get(network)?;
        versions.iter().rev().find(|v| v.loaded_at_ms <= at_ms).or_else(|| versions.first())
    }

    pub(super) fn apply_list(&mut self, list: &schemas::CandidateList) {
        let versions = self.lists.entry(list.network.clone()).or_default();
        if versions.last().is_some_and(|v| v.digest == list.digest) {
            return;
        }
        versions.push(ListVersion { loaded_at_ms: list.loaded_at_ms, digest: list.digest.clone(), candidates: list.candidates.clone() });
        if versions.len() > LIST_VERSIONS {
            versions.remove(0);
        }
    }
}

