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

/// Key of a network's latest round as stores written before the stamp
/// named it kept it: a copy of the round, read only where no stamp is.
pub fn legacy_latest_row(network: &str) -> String {
    format!("latest/{network}")
}

/// Key of a network's latest round's stamp: its number and a digest of its
/// stored bytes, written with it. It names the latest round (no copy of a
/// ~2 MB round is kept), and a reader can tell whether the round it holds is
/// still the latest without reading the round again.
pub fn latest_stamp_row(network: &str) -> String {
    format!("latest-stamp/{network}")
}

/// The stamp saved with a round's stored bytes. The digest only tells our
/// own rounds apart (nobody chooses their bytes to collide), so a fast
/// non-cryptographic one: BLAKE2 over ~2 MB a pass was ~2 s of a year's
/// rebuild. A stamp of another digest (an older store) only reads the round again.
pub fn stamp(round: u64, bytes: &[u8]) -> String {
    format!("{round}-{:032x}", twox_hash::XxHash3_128::oneshot(bytes))
}

/// The round a stamp names (`None`: not a stamp).
fn stamped_round(stamp: &str) -> Option<u64> {
    stamp.split_once('-')?.0.parse().ok()
}

/// The rows that store `r` as its network's latest round: the round and the
/// latest's stamp, to be written together.
pub fn round_writes(r: &RoundSnapshot) -> Result<[store::StateWrite; 2], ScoringError> {
    let bytes = round_bytes(r)?;
    let stamp = stamp_write(r, &bytes);
    Ok([store::StateWrite { key: round_row(&r.network, r.round), value: bytes }, stamp])
}

fn round_bytes(r: &RoundSnapshot) -> Result<Vec<u8>, ScoringError> {
    serde_json::to_vec(r).map_err(|e| ScoringError::State(e.to_string()))
}

/// The latest's stamp, for `r` stored as `bytes`.
fn stamp_write(r: &RoundSnapshot, bytes: &[u8]) -> store::StateWrite {
    store::StateWrite { key: latest_stamp_row(&r.network), value: stamp(r.round, bytes).into_bytes() }
}

/// The rows that store `rounds` (in the order scored): every round, and
/// each network's last one's stamp, once per write. A rebuild's pass scores
/// several rounds a network; a stamp (a digest) each was a tenth of writing
/// them, and a copy of each network's last round as its latest a third.
pub fn rounds_writes(rounds: &[RoundSnapshot]) -> Result<Vec<store::StateWrite>, ScoringError> {
    let mut writes = Vec::with_capacity(rounds.len() + 2);
    for (i, r) in rounds.iter().enumerate() {
        let bytes = round_bytes(r)?;
        let last_of_its_network = !rounds[i + 1..].iter().any(|later| later.network == r.network);
        let stamp = last_of_its_network.then(|| stamp_write(r, &bytes));
        writes.push(store::StateWrite { key: round_row(&r.network, r.round), value: bytes });
        writes.extend(stamp);
    }
    Ok(writes)
}

/// The stamp of a network's latest round (`None`: no round yet, or a store
/// written before stamps were saved).
pub async fn latest_stamp(store: &dyn Store, network: &str) -> Result<Option<String>, ScoringError> {
    Ok(store.load_state(SCORER, &latest_stamp_row(network)).await?.and_then(|b| String::from_utf8(b).ok()))
}

/// The bytes of the latest round as `stamp` (read with [`latest_stamp`])
/// has it: the round it names, or with no stamp (a store written before
/// them), the copy kept then. A round's row changes only with its stamp, so
/// these bytes are the ones the stamp was made of.
pub async fn stamped_round_bytes(store: &dyn Store, network: &str, stamp: Option<&str>) -> Result<Option<Vec<u8>>, ScoringError> {
    let named = stamp.and_then(stamped_round);
    let key = match named {
        Some(round) => round_row(network, round),
        None => legacy_latest_row(network),
    };
    let bytes = store.load_state(SCORER, &key).await?;
    if named.is_some() && bytes.is_none() {
        return Err(ScoringError::State(format!("the latest round of {network} is stamped as {key}, which is not stored")));
    }
    Ok(bytes)
}

/// The latest round of a network, as stored.
pub async fn latest_round(store: &dyn Store, network: &str) -> Result<Option<RoundSnapshot>, ScoringError> {
    let stamp = latest_stamp(store, network).await?;
    match stamped_round_bytes(store, network, stamp.as_deref()).await? {
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
    fn a_pass_writes_every_round_and_each_networks_last_ones_stamp_once() {
        let rs = rounds(&[("a", 1), ("b", 1), ("a", 2)]);
        let writes = rounds_writes(&rs).unwrap();
        let keys: Vec<&str> = writes.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, [&round_row("a", 1), &round_row("b", 1), "latest-stamp/b", &round_row("a", 2), "latest-stamp/a"]);
        let value = |k: &str| &writes.iter().find(|w| w.key == k).unwrap().value;
        let a = String::from_utf8(value("latest-stamp/a").clone()).unwrap();
        assert_eq!(a, stamp(2, value(&round_row("a", 2))));
        assert_eq!(stamped_round(&a), Some(2), "the stamp names a's last round");
        // One round alone is what round_writes gives.
        let one: Vec<_> = round_writes(&rs[1]).unwrap().into_iter().map(|w| (w.key, w.value)).collect();
        let many: Vec<_> = rounds_writes(&rs[1..2]).unwrap().into_iter().map(|w| (w.key, w.value)).collect();
        assert_eq!(one, many);
    }

    #[tokio::test]
    async fn the_latest_is_the_round_its_stamp_names_or_the_copy_an_older_store_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap();
        assert!(latest_round(&store, "a").await.unwrap().is_none(), "no round yet");
        let rs = rounds(&[("a", 1), ("a", 2), ("a", 3)]);
        // An older store: its copy of the latest round, no stamp.
        let old = store::StateWrite { key: legacy_latest_row("a"), value: round_bytes(&rs[0]).unwrap() };
        store.commit_redoable(SCORER, vec![old]).await.unwrap();
        assert_eq!(latest_round(&store, "a").await.unwrap().unwrap().round, 1);
        // Written since: the stamp names the last round written, the stale copy is not read.
        store.commit_redoable(SCORER, rounds_writes(&rs[1..]).unwrap()).await.unwrap();
        assert_eq!(latest_round(&store, "a").await.unwrap().unwrap().round, 3);
        // A stamp naming a round that is not stored is an error, not an older round.
        let lost = store::StateWrite { key: latest_stamp_row("a"), value: b"9-00".to_vec() };
        store.commit_redoable(SCORER, vec![lost]).await.unwrap();
        let e = latest_round(&store, "a").await.unwrap_err().to_string();
        assert!(e.contains("round/a/000000000009"), "{e}");
    }
}
