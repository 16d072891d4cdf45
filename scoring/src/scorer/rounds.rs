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
    let bytes = round_bytes(r)?;
    let [stamp, latest] = latest_writes(r, bytes.clone());
    Ok([store::StateWrite { key: round_row(&r.network, r.round), value: bytes }, stamp, latest])
}

fn round_bytes(r: &RoundSnapshot) -> Result<Vec<u8>, ScoringError> {
    serde_json::to_vec(r).map_err(|e| ScoringError::State(e.to_string()))
}

/// The latest's stamp and the latest, for `r` stored as `bytes`.
fn latest_writes(r: &RoundSnapshot, bytes: Vec<u8>) -> [store::StateWrite; 2] {
    [
        store::StateWrite { key: latest_stamp_row(&r.network), value: stamp(r.round, &bytes).into_bytes() },
        store::StateWrite { key: latest_row(&r.network), value: bytes },
    ]
}

/// The rows that store `rounds` (in the order scored): every round, and
/// each network's last one as its latest with the latest's stamp, once per
/// write. A rebuild's pass scores several rounds a network; the stamp
/// (a digest) and the latest (a copy of a ~2 MB round) of each were a
/// third of writing them.
pub fn rounds_writes(rounds: &[RoundSnapshot]) -> Result<Vec<store::StateWrite>, ScoringError> {
    let mut writes = Vec::with_capacity(rounds.len() + 2);
    for (i, r) in rounds.iter().enumerate() {
        let bytes = round_bytes(r)?;
        if rounds[i + 1..].iter().any(|later| later.network == r.network) {
            writes.push(store::StateWrite { key: round_row(&r.network, r.round), value: bytes });
        } else {
            writes.push(store::StateWrite { key: round_row(&r.network, r.round), value: bytes.clone() });
            writes.extend(latest_writes(r, bytes));
        }
    }
    Ok(writes)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorer::{ProgrammeConfig, ScoredNetwork, ScorerState};

    /// Rounds (no candidates) of the (network, session) pairs, in that order, as a pass scores them.
    fn rounds(order: &[(&str, u64)]) -> Vec<RoundSnapshot> {
        let mut state = ScorerState::default();
        let mut out = Vec::new();
        for &(name, session) in order {
            let net = ScoredNetwork::new(name, ("c", "c", "c"), 10, 0, ProgrammeConfig::default()).unwrap();
            out.extend(state.evaluate(&[net], "c", session, 0));
        }
        out
    }

    #[test]
    fn a_pass_writes_every_round_and_each_networks_last_as_its_latest_once() {
        let rs = rounds(&[("a", 1), ("b", 1), ("a", 2)]);
        let writes = rounds_writes(&rs).unwrap();
        let keys: Vec<&str> = writes.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, [&round_row("a", 1), &round_row("b", 1), "latest-stamp/b", "latest/b", &round_row("a", 2), "latest-stamp/a", "latest/a"]);
        let value = |k: &str| &writes.iter().find(|w| w.key == k).unwrap().value;
        assert_eq!(value("latest/a"), value(&round_row("a", 2)), "a's latest is its last round");
        assert_eq!(String::from_utf8(value("latest-stamp/a").clone()).unwrap(), stamp(2, value(&round_row("a", 2))));
        // One round alone is what round_writes gives.
        let one: Vec<_> = round_writes(&rs[1]).unwrap().into_iter().map(|w| (w.key, w.value)).collect();
        let many: Vec<_> = rounds_writes(&rs[1..2]).unwrap().into_iter().map(|w| (w.key, w.value)).collect();
        assert_eq!(one, many);
    }
}
