//! The rounds as the scorer stores them: its read model, for the API,
//! the nominator and tests.

use rules::RoundSnapshot;
use store::Store;

use super::SCORER;
use crate::ScoringError;

/// Key of a stored round.
pub fn round_row(network: &str, round: u64) -> String {
    format!("round/{network}/{round:012}")
}

/// Key of a network's latest round.
pub fn latest_row(network: &str) -> String {
    format!("latest/{network}")
}

/// The latest round of a network, as stored.
pub async fn latest_round(store: &dyn Store, network: &str) -> Result<Option<RoundSnapshot>, ScoringError> {
    match store.load_state(SCORER, &latest_row(network)).await? {
        Some(b) => serde_json::from_slice(&b).map(Some).map_err(|e| ScoringError::State(e.to_string())),
        None => Ok(None),
    }
}

/// One stored round.
pub async fn stored_round(store: &dyn Store, network: &str, round: u64) -> Result<Option<RoundSnapshot>, ScoringError> {
    match store.load_state(SCORER, &round_row(network, round)).await? {
        Some(b) => serde_json::from_slice(&b).map(Some).map_err(|e| ScoringError::State(e.to_string())),
        None => Ok(None),
    }
}

/// The rounds stored for a network, as (round, key) in order.
pub async fn round_numbers(store: &dyn Store, network: &str) -> Result<Vec<u64>, ScoringError> {
    let prefix = format!("round/{network}/");
    Ok(store.scan_keys(SCORER, &prefix).await?.into_iter().filter_map(|k| k.strip_prefix(&prefix).and_then(|n| n.parse().ok())).collect())
}
