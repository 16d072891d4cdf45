use serde::{Deserialize, Serialize};

use crate::registry::{
    CANDIDATE_LIST_ID, CANDIDATE_LIST_SUBJECT, CANDIDATE_SCORE_ID, CANDIDATE_SCORE_SUBJECT, RELEASE_ID, RELEASE_SUBJECT, ROUND_ID,
    ROUND_SUBJECT,
};

/// The newest client release of a network's programme (schema `release.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Release {
    /// Network name.
    pub network: String,
    /// The release's tag.
    pub tag: String,
    /// The node version it ships, from the tag.
    pub version: String,
    /// When it was published, Unix ms.
    pub published_at_ms: i64,
    /// When stakeflow first saw it, Unix ms.
    pub observed_at_ms: i64,
}

codec!(Release, RELEASE_ID, RELEASE_SUBJECT);

/// A network's candidate list (schema `candidate_list.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CandidateList {
    /// Network name.
    pub network: String,
    /// File path or URL.
    pub source: String,
    /// Hex hash of the source bytes.
    pub digest: String,
    /// When it was loaded, Unix ms.
    pub loaded_at_ms: i64,
    /// The candidates, in file order.
    pub candidates: Vec<CandidateEntry>,
}

/// One candidate of a list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename = "Candidate")]
pub struct CandidateEntry {
    /// Programme slot.
    pub slot_id: i64,
    /// Name.
    pub name: String,
    /// Stash, SS58.
    pub stash: String,
    /// Kusama stash, SS58.
    pub kusama_stash: Option<String>,
    /// Exempt from the self-stake check.
    pub skip_self_stake: bool,
    /// KYC done (informational).
    pub kyc: bool,
    /// Matrix handles.
    pub matrix: Vec<String>,
}

/// A scoring round (schema `round.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Round {
    /// Network name.
    pub network: String,
    /// Session index.
    pub round: i64,
    /// Active era.
    pub era: Option<i64>,
    /// Chain whose session started the round.
    pub chain: String,
    /// Block of the session change.
    pub block_number: i64,
    /// Its timestamp, Unix ms.
    pub at_ms: i64,
    /// 0x hex seed.
    pub seed: String,
    /// Weights by component (ordered: one round always encodes to the same bytes).
    pub weights: std::collections::BTreeMap<String, f64>,
    /// Validity settings, JSON.
    pub validity_config_json: String,
    /// Score statistics, JSON.
    pub stats_json: String,
    /// Candidates in the round.
    pub candidates: i64,
    /// Valid ones.
    pub valid: i64,
    /// Invalid ones.
    pub invalid: i64,
    /// Unknown ones.
    pub unknown: i64,
}

/// A candidate in a round (schema `candidate_score.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CandidateScore {
    /// Network name.
    pub network: String,
    /// Session index.
    pub round: i64,
    /// Stash, SS58.
    pub stash: String,
    /// Name.
    pub name: String,
    /// Programme slot.
    pub slot_id: i64,
    /// valid, invalid or unknown.
    pub verdict: String,
    /// verdict == valid.
    pub valid: bool,
    /// Every enabled check.
    pub checks: Vec<CheckRecord>,
    /// Checks switched off.
    pub skipped: Vec<String>,
    /// Eras any address of its identity was active.
    pub rank: i64,
    /// Share of the last 84 eras with points.
    pub inclusion: f64,
    /// Share of the last 28 eras with points.
    pub span_inclusion: f64,
    /// Last era active.
    pub nominated_at: Option<i64>,
    /// Offline faults recorded.
    pub faults: i64,
    /// Score, for valid candidates.
    pub score: Option<ScoreRecord>,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename = "Check")]
pub struct CheckRecord {
    /// Check name.
    pub check: String,
    /// valid, invalid or unknown.
    pub verdict: String,
    /// For people.
    pub reason: String,
    /// Value seen.
    pub value: Option<String>,
    /// Bound.
    pub bound: Option<String>,
    /// Source.
    pub source: String,
    /// When.
    pub at: Option<String>,
}

/// A score with its components.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename = "Score")]
pub struct ScoreRecord {
    /// Components by name.
    pub components: std::collections::BTreeMap<String, f64>,
    /// Sum of the components.
    pub aggregate: f64,
    /// Random factor in [1, 1.15).
    pub randomness: f64,
    /// aggregate * randomness.
    pub total: f64,
    /// Inputs, JSON.
    pub inputs_json: String,
}

codec!(CandidateList, CANDIDATE_LIST_ID, CANDIDATE_LIST_SUBJECT);
codec!(Round, ROUND_ID, ROUND_SUBJECT);
codec!(CandidateScore, CANDIDATE_SCORE_ID, CANDIDATE_SCORE_SUBJECT);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programme_records_round_trip() {
        let list = CandidateList {
            network: "polkadot".into(),
            source: "candidates.json".into(),
            digest: "ab".into(),
            loaded_at_ms: 5,
            candidates: vec![CandidateEntry { slot_id: 1, name: "a".into(), stash: "1x".into(), matrix: vec!["@a:m.org".into()], ..Default::default() }],
        };
        assert_eq!(CandidateList::decode(&list.encode().unwrap()).unwrap(), list);
        let round = Round { network: "p".into(), round: 7, era: Some(2), weights: [("rank".to_string(), 50.0)].into(), ..Default::default() };
        assert_eq!(Round::decode(&round.encode().unwrap()).unwrap(), round);
        let score = CandidateScore {
            network: "p".into(),
            round: 7,
            checks: vec![CheckRecord { check: "online".into(), verdict: "valid".into(), value: Some("online".into()), ..Default::default() }],
            nominated_at: Some(3),
            score: Some(ScoreRecord { components: [("client".to_string(), 200.0)].into(), total: 1.0, ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(CandidateScore::decode(&score.encode().unwrap()).unwrap(), score);
        assert!(Round::decode(&score.encode().unwrap()).is_err(), "another schema id is refused");
    }
}
