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

/// Key of a network's latest round's stamp: its number and a digest of its
/// stored bytes, written with it, so a reader can tell whether the round it
/// holds is still the latest without reading the round again.
pub fn latest_stamp_row(network: &str) -> String {
    format!("latest-stamp/{network}")
}

/// The stamp saved with a round's stored bytes.
pub fn stamp(round: u64, bytes: &[u8]) -> String {
    use blake2::digest::consts::U16;
    use blake2::{Blake2b, Digest};
    format!("{round}-{}", hex::encode(Blake2b::<U16>::digest(bytes)))
}

/// The rows that store `r` as its network's latest round: the round, the
/// latest, and the latest's stamp, to be written together.
pub fn round_writes(r: &RoundSnapshot) -> Result<[store::StateWrite; 3], ScoringError> {
    let bytes = serde_json::to_vec(r).map_err(|e| ScoringError::State(e.to_string()))?;
    Ok([
        store::StateWrite { key: round_row(&r.network, r.round), value: bytes.clone() },
        store::StateWrite { key: latest_stamp_row(&r.network), value: stamp(r.round, &bytes).into_bytes() },
        store::StateWrite { key: latest_row(&r.network), value: bytes },
    ])
}

/// The stamp of a network's latest round (`None`: no round yet, or a store
/// written before stamps were saved).
pub async fn latest_stamp(store: &dyn Store, network: &str) -> Result<Option<String>, ScoringError> {
    Ok(store.load_state(SCORER, &latest_stamp_row(network)).await?.and_then(|b| String::from_utf8(b).ok()))
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
