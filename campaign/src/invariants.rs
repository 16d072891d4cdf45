//! What must hold after every run, as pure functions over what an
//! independent reader found on the topics and what the stores hold. Each
//! returns its violations, described; none is the only passing answer.

use std::collections::{BTreeMap, BTreeSet};

use rules::RoundSnapshot;
use schemas::position::OutputPos;
use schemas::{CandidateScore, ChainEvent, FinalizedBlock, Round, topics};
use scoring::scorer::publish::{round_record, score_records};

use crate::reader::Raw;

/// At most this many examples per kind of violation.
const EXAMPLES: usize = 8;

fn chain_of(key: Option<&str>) -> &str {
    key.map(|k| k.split('/').next().unwrap_or(k)).unwrap_or_default()
}

fn examples<T: std::fmt::Debug>(what: &str, items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| {
        let shown: Vec<String> = items.iter().take(EXAMPLES).map(|i| format!("{i:?}")).collect();
        format!("{what}: {} (e.g. {})", items.len(), shown.join(", "))
    })
}

/// The chain's blocks on the blocks topic, in topic order.
pub fn blocks(chain: &str, records: &[Raw]) -> Result<Vec<FinalizedBlock>, String> {
    records
        .iter()
        .filter(|r| r.topic == topics::BLOCKS && chain_of(r.key.as_deref()) == chain)
        .map(|r| FinalizedBlock::decode(&r.payload).map_err(|e| format!("block record {}@{}: {e}", r.partition, r.offset)))
        .collect()
}

/// Blocks 0..=`head` once each, in order, each linked to its parent.
pub fn block_sequence(blocks: &[FinalizedBlock], head: u64) -> Vec<String> {
    let numbers: Vec<i64> = blocks.iter().map(|b| b.number).collect();
    let mut out = Vec::new();
    let mut seen = BTreeMap::<i64, usize>::new();
    for n in &numbers {
        *seen.entry(*n).or_default() += 1;
    }
    let twice: Vec<i64> = seen.iter().filter(|(_, c)| **c > 1).map(|(n, _)| *n).collect();
    let missing: Vec<i64> = (0..=head as i64).filter(|n| !seen.contains_key(n)).collect();
    out.extend(examples("blocks on the topic more than once", &twice));
    out.extend(examples("blocks missing from the topic", &missing));
    if twice.is_empty() && missing.is_empty() && numbers.windows(2).any(|w| w[1] != w[0] + 1) {
        out.push("blocks out of order on the topic".into());
    }
    let unlinked: Vec<i64> = blocks.windows(2).filter(|w| w[1].number == w[0].number + 1 && w[1].parent_hash != w[0].hash).map(|w| w[1].number).collect();
    out.extend(examples("blocks whose parent is not the block before", &unlinked));
    out
}

/// Every output of every block on the chain's topics once, none missing:
/// a block's outputs are numbered 0..=s across all topics, its block record
/// last at s, so the block records say which positions must exist.
pub fn positions(chain: &str, records: &[Raw]) -> Vec<String> {
    let chain_topics: BTreeSet<&str> = topics::CHAIN.iter().copied().collect();
    let mut count = BTreeMap::<(u64, u32), Vec<&str>>::new();
    let mut last_seq = BTreeMap::<u64, u32>::new();
    let mut unpositioned = Vec::new();
    for r in records.iter().filter(|r| chain_topics.contains(r.topic.as_str()) && chain_of(r.key.as_deref()) == chain) {
        let Some(pos) = r.pos.as_deref().and_then(|p| OutputPos::parse(p.as_bytes())) else {
            unpositioned.push(format!("{}@{}/{}", r.topic, r.partition, r.offset));
            continue;
        };
        count.entry((pos.block, pos.seq)).or_default().push(r.topic.as_str());
        if r.topic == topics::BLOCKS {
            last_seq.insert(pos.block, pos.seq);
        }
    }
    let twice: Vec<String> =
        count.iter().filter(|(_, t)| t.len() > 1).map(|((b, s), t)| format!("{b}:{s} on {}", t.join("+"))).collect();
    let stray: Vec<String> = count
        .keys()
        .filter(|(b, s)| last_seq.get(b).is_none_or(|last| s > last))
        .map(|(b, s)| format!("{b}:{s}"))
        .collect();
    let missing: Vec<String> = last_seq
        .iter()
        .flat_map(|(b, last)| (0..=*last).map(move |s| (*b, s)))
        .filter(|k| !count.contains_key(k))
        .map(|(b, s)| format!("{b}:{s}"))
        .collect();
    let mut out = Vec::new();
    out.extend(examples("positions on the topics more than once", &twice));
    out.extend(examples("positions missing (a hole)", &missing));
    out.extend(examples("positions of a block that has no block record, or past its block record", &stray));
    out.extend(examples("chain records without a position", &unpositioned));
    out
}

/// The chain's events, once per (block, index), as many per block as its record says.
pub fn events(chain: &str, records: &[Raw], blocks: &[FinalizedBlock]) -> Vec<String> {
    let mut got = BTreeMap::<(i64, i32), usize>::new();
    let mut undecodable = Vec::new();
    for r in records.iter().filter(|r| r.topic == topics::EVENTS && chain_of(r.key.as_deref()) == chain) {
        match ChainEvent::decode(&r.payload) {
            Ok(e) => *got.entry((e.block_number, e.index)).or_default() += 1,
            Err(e) => undecodable.push(format!("{}/{}: {e}", r.partition, r.offset)),
        }
    }
    let expected: BTreeSet<(i64, i32)> = blocks.iter().flat_map(|b| (0..b.event_count).map(move |i| (b.number, i))).collect();
    let twice: Vec<&(i64, i32)> = got.iter().filter(|(_, c)| **c > 1).map(|(k, _)| k).collect();
    let missing: Vec<&(i64, i32)> = expected.iter().filter(|k| !got.contains_key(k)).collect();
    let extra: Vec<&(i64, i32)> = got.keys().filter(|k| !expected.contains(k)).collect();
    let mut out = Vec::new();
    out.extend(examples("events more than once", &twice));
    out.extend(examples("events missing", &missing));
    out.extend(examples("events no block record counts", &extra));
    out.extend(examples("undecodable events", &undecodable));
    out
}

/// The rounds on the topics are the stored rounds: every copy of a round
/// record and of each candidate record is byte for byte what the stored
/// round gives (a re-publication after a crash repeats it, never mixes two
/// evaluations), and every stored round is on the topic.
pub fn rounds(network: &str, records: &[Raw], stored: &BTreeMap<u64, RoundSnapshot>) -> Vec<String> {
    let mut out = Vec::new();
    let mut on_topic = BTreeSet::new();
    let mut differ = Vec::new();
    for r in records.iter().filter(|r| r.topic == topics::ROUNDS) {
        let Ok(round) = Round::decode(&r.payload) else { continue };
        if round.network != network {
            continue;
        }
        let n = round.round as u64;
        on_topic.insert(n);
        match stored.get(&n).map(round_record) {
            Some(expected) if expected.encode().is_ok_and(|b| b == r.payload) => {}
            Some(expected) => differ.push(format!("round {n} at {}/{} differs in {:?}", r.partition, r.offset, fields_differing(&expected, &round))),
            None => differ.push(format!("round {n} is on the topic but not stored")),
        }
    }
    let mut scores = BTreeMap::<(u64, String), Vec<Vec<u8>>>::new();
    for r in records.iter().filter(|r| r.topic == topics::SCORES) {
        let Ok(s) = CandidateScore::decode(&r.payload) else { continue };
        if s.network == network {
            scores.entry((s.round as u64, s.stash.clone())).or_default().push(r.payload.clone());
        }
    }
    let mut score_differ = Vec::new();
    let mut score_missing = Vec::new();
    for (n, snap) in stored {
        if !on_topic.contains(n) {
            differ.push(format!("round {n} is stored but not on the topic"));
        }
        let expected: BTreeMap<String, Vec<u8>> =
            score_records(snap).into_iter().filter_map(|s| Some((s.stash.clone(), s.encode().ok()?))).collect();
        for (stash, bytes) in &expected {
            match scores.get(&(*n, stash.clone())) {
                None => score_missing.push(format!("{n}/{stash}")),
                Some(copies) if copies.iter().any(|c| c != bytes) => score_differ.push(format!("{n}/{stash}")),
                Some(_) => {}
            }
        }
    }
    out.extend(examples("round records that are not the stored round", &differ));
    out.extend(examples("candidate records missing from the scores topic", &score_missing));
    out.extend(examples("candidate records that differ from the stored round", &score_differ));
    out
}

/// The names of the fields in which two records differ.
fn fields_differing<T: serde::Serialize>(a: &T, b: &T) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) = (serde_json::to_value(a), serde_json::to_value(b)) else {
        return vec!["(not comparable)".into()];
    };
    a.iter().filter(|(k, v)| b.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect()
}

/// A rebuild from the topics (`stakeflow rescore`) gives the live rounds,
/// byte for byte.
pub fn rebuild(live: &BTreeMap<u64, RoundSnapshot>, rebuilt: &BTreeMap<u64, RoundSnapshot>) -> Vec<String> {
    let json = |s: &RoundSnapshot| serde_json::to_vec(s).unwrap_or_default();
    let differ: Vec<u64> = live.iter().filter(|(n, s)| rebuilt.get(n).is_some_and(|r| json(r) != json(s))).map(|(n, _)| *n).collect();
    let only_live: Vec<&u64> = live.keys().filter(|n| !rebuilt.contains_key(n)).collect();
    let only_rebuilt: Vec<&u64> = rebuilt.keys().filter(|n| !live.contains_key(n)).collect();
    let mut out = Vec::new();
    out.extend(examples("rounds the rebuild scores differently", &differ));
    out.extend(examples("live rounds the rebuild lacks", &only_live));
    out.extend(examples("rebuilt rounds never scored live", &only_rebuilt));
    out
}

/// No era nominated twice: the batches that landed on the chain (every
/// `Utility.BatchCompleted` after `after_block`; only the nominator sends
/// batches on this devnet) are no more than the eras it nominated for, and
/// no stash has two confirmed nominations for one era.
pub fn nominations(chain: &str, records: &[Raw], after_block: u64) -> (usize, Vec<String>) {
    let landed: Vec<(i64, i32)> = records
        .iter()
        .filter(|r| r.topic == topics::EVENTS && chain_of(r.key.as_deref()) == chain)
        .filter_map(|r| ChainEvent::decode(&r.payload).ok())
        .filter(|e| e.block_number as u64 > after_block && e.pallet == "Utility" && e.variant == "BatchCompleted")
        .map(|e| (e.block_number, e.index))
        .collect();
    let mut eras = BTreeSet::new();
    let mut confirmed = BTreeMap::<(i64, String), BTreeSet<String>>::new();
    for r in records.iter().filter(|r| r.topic == topics::NOMINATOR_EVENTS) {
        let Ok(e) = schemas::NominatorEvent::decode(&r.payload) else { continue };
        if let (Some(era), "signed") = (e.era, e.kind.as_str()) {
            eras.insert(era);
        }
        if let (Some(era), Some(stash), Some(tx), "confirmed") = (e.era, e.stash.clone(), e.tx_hash.clone(), e.kind.as_str()) {
            confirmed.entry((era, stash)).or_default().insert(tx);
        }
    }
    let mut out = Vec::new();
    if landed.len() > eras.len() {
        out.push(format!("{} batches landed on the chain for {} era(s) nominated: {landed:?}", landed.len(), eras.len()));
    }
    let doubled: Vec<String> =
        confirmed.iter().filter(|(_, t)| t.len() > 1).map(|((era, stash), t)| format!("era {era} {stash}: {t:?}")).collect();
    out.extend(examples("stashes with two confirmed nominations in one era", &doubled));
    (landed.len(), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(topic: &str, pos: &str) -> Raw {
        Raw { topic: topic.into(), partition: 0, offset: 0, key: Some("c/x".into()), pos: Some(pos.into()), payload: vec![] }
    }

    #[test]
    fn positions_find_a_hole_a_duplicate_and_a_stray() {
        let whole = vec![raw(topics::EVENTS, "0:0"), raw(topics::BLOCKS, "0:1"), raw(topics::EVENTS, "1:0"), raw(topics::BLOCKS, "1:1")];
        assert!(positions("c", &whole).is_empty());
        let mut holed = whole.clone();
        holed.remove(2);
        assert!(positions("c", &holed)[0].contains("missing"), "{:?}", positions("c", &holed));
        let mut doubled = whole.clone();
        doubled.push(raw(topics::EVENTS, "1:0"));
        assert!(positions("c", &doubled)[0].contains("more than once"));
        let mut stray = whole;
        stray.push(raw(topics::EVENTS, "2:0"));
        assert!(positions("c", &stray)[0].contains("no block record"));
        // Another chain's records are not this chain's business.
        let other = vec![Raw { key: Some("d/x".into()), ..raw(topics::EVENTS, "5:0") }];
        assert!(positions("c", &other).is_empty());
    }
}
