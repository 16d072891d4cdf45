//! Block certification, the scorer's ordering rule without transactions.
//!
//! Ingest writes all of a block's outputs before the block's record. So once
//! the blocks topic holds block N of a chain (and every other topic has been
//! read up to where it was then), everything of that chain up to N is on the
//! other topics: block N is *certified*. Records of certified blocks are
//! applied in their chain's output order; the rest stay held. Pure: the
//! consumer reads, this decides.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bus::Record;
use schemas::position::{self, OutputPos};
use schemas::topics;

/// Newest certified block per chain.
pub type Clock = BTreeMap<String, u64>;

/// Records read but not applied, per (topic, partition), in offset order.
pub type Held = BTreeMap<(&'static str, i32), VecDeque<Record>>;

/// Where a record sits in its chain's output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The chain (the record key's first segment); empty if the key is not one.
    pub chain: String,
    /// Block whose output it is.
    pub block: u64,
    /// Its index among the block's outputs.
    pub seq: u32,
    /// Whether the record carries ingest's position header at all.
    pub positioned: bool,
}

/// Per chain and topic, the position of the last record applied.
pub type Applied = BTreeMap<String, BTreeMap<String, (u64, u32)>>;

/// Whether a certified record is applied for the first time. Records of a
/// chain's topic are applied in increasing (block, seq), so one at or below
/// the last applied is a duplicate on the topic (a producer retry, a second
/// writer): it is dropped, never applied twice. Records without a position
/// cannot be told apart and are always applied.
pub fn first_time(applied: &mut Applied, topic: &str, place: &Place) -> bool {
    if !place.positioned {
        return true;
    }
    let last = applied.entry(place.chain.clone()).or_default().entry(topic.to_string()).or_insert((0, 0));
    let here = (place.block, place.seq);
    if *last != (0, 0) && here <= *last {
        return false;
    }
    *last = here;
    true
}

/// A record's place, from its key and its `stakeflow.pos` header. A record
/// without a position (not written by ingest) sits at block 0: it applies as
/// soon as it is read.
pub fn place(record: &Record) -> Place {
    let chain = record
        .key
        .as_deref()
        .and_then(|k| std::str::from_utf8(k).ok())
        .map(|k| k.split('/').next().unwrap_or(k).to_string())
        .unwrap_or_default();
    let pos = record.header(position::HEADER).and_then(OutputPos::parse);
    let positioned = pos.is_some();
    let pos = pos.unwrap_or(OutputPos { block: 0, seq: 0 });
    Place { chain, block: pos.block, seq: pos.seq, positioned }
}

/// Whether a record at `place` may be applied: its block is certified, or
/// its chain is none the scorer follows (it is skipped, never held).
pub fn is_certified(place: &Place, chains: &BTreeSet<String>, clock: &Clock) -> bool {
    !chains.contains(&place.chain) || clock.get(&place.chain).is_some_and(|c| place.block <= *c)
}

/// The clock: what is applied, moved on by the block records held (each
/// certifies its block once the other topics are read up to it).
pub fn clock(applied: &Clock, held: &Held) -> Clock {
    let mut clock = applied.clone();
    let held_blocks = held.iter().filter(|((t, _), _)| *t == topics::BLOCKS).flat_map(|(_, q)| q);
    for record in held_blocks {
        let p = place(record);
        if !p.chain.is_empty() {
            let e = clock.entry(p.chain).or_default();
            *e = (*e).max(p.block);
        }
    }
    clock
}

/// A certified record, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Certified {
    /// Its place.
    pub place: Place,
    /// The topic it was read from.
    pub topic: &'static str,
    /// The record.
    pub record: Record,
}

/// The order certified records are applied in: by chain and block; within a
/// block its outputs by position and topic, and the block record last (it is
/// the block's last output: a round starts at it, after all of the block).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ApplyOrder<'a> {
    chain: &'a str,
    block: u64,
    block_record: bool,
    seq: u32,
    topic: usize,
}

/// Take every record whose block is certified from each held queue (what
/// stays keeps its offset order), in [`ApplyOrder`].
/// `topic_order` ranks the topics; returns the records and how many stay held.
pub fn take_certified(held: &mut Held, chains: &BTreeSet<String>, clock: &Clock, topic_order: &[&str]) -> (Vec<Certified>, usize) {
    let mut out = Vec::new();
    let mut still_held = 0;
    for ((topic, _), queue) in held.iter_mut() {
        if super::UNCLOCKED.contains(topic) {
            continue; // not tied to blocks: applied as read
        }
        // Not only from the front: a record that failed and was published again
        // (a hole ingest filled) sits behind later blocks' records, and must be
        // applied with its own block, not dropped as older than what followed.
        // Only positioned ones overtake: after a restart a record applied behind
        // the saved position is read again, and only a position tells it apart.
        let mut rest = VecDeque::new();
        for record in queue.drain(..) {
            let place = place(&record);
            if is_certified(&place, chains, clock) && (rest.is_empty() || place.positioned) {
                out.push(Certified { place, topic, record });
            } else {
                rest.push_back(record);
            }
        }
        still_held += rest.len();
        *queue = rest;
    }
    let rank = |t: &str| topic_order.iter().position(|x| *x == t).unwrap_or(topic_order.len());
    fn order<'c>(c: &'c Certified, rank: &dyn Fn(&str) -> usize) -> ApplyOrder<'c> {
        ApplyOrder { chain: &c.place.chain, block: c.place.block, block_record: c.topic == topics::BLOCKS, seq: c.place.seq, topic: rank(c.topic) }
    }
    out.sort_by(|a, b| order(a, &rank).cmp(&order(b, &rank)));
    (out, still_held)
}

/// Whether `record` (the newest held of its partition) is beyond the clock of
/// a followed chain: reading that partition further cannot certify anything.
pub fn beyond_clock(record: &Record, chains: &BTreeSet<String>, clock: &Clock) -> bool {
    let p = place(record);
    chains.contains(&p.chain) && clock.get(&p.chain).is_none_or(|c| p.block > *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(topic: &str, key: &str, block: u64, seq: u32, offset: i64) -> Record {
        Record {
            topic: topic.into(),
            partition: 0,
            offset,
            key: Some(key.as_bytes().to_vec()),
            payload: None,
            headers: vec![(position::HEADER.into(), OutputPos { block, seq }.header_value().into_bytes())],
        }
    }

    fn chains() -> BTreeSet<String> {
        ["relay".to_string(), "ah".to_string()].into()
    }

    const ORDER: [&str; 3] = [topics::BLOCKS, topics::SESSION_SNAPSHOTS, topics::VALIDATORS];

    fn held(records: Vec<Record>) -> Held {
        let mut h = Held::new();
        for r in records {
            let topic = ORDER.into_iter().find(|t| *t == r.topic).expect("known topic");
            h.entry((topic, r.partition)).or_default().push_back(r);
        }
        h
    }

    #[test]
    fn places_come_from_the_key_and_the_position_header() {
        let r = record(topics::VALIDATORS, "relay/0xabc", 7, 3, 0);
        assert_eq!(place(&r), Place { chain: "relay".into(), block: 7, seq: 3, positioned: true });
        let bare = Record { headers: vec![], key: None, ..r };
        assert_eq!(place(&bare), Place { chain: String::new(), block: 0, seq: 0, positioned: false });
    }

    #[test]
    fn a_held_block_record_moves_the_clock_of_its_chain_only() {
        let applied = Clock::from([("relay".to_string(), 4)]);
        let h = held(vec![record(topics::BLOCKS, "relay", 6, 0, 0), record(topics::BLOCKS, "ah", 2, 0, 1)]);
        assert_eq!(clock(&applied, &h), Clock::from([("relay".to_string(), 6), ("ah".to_string(), 2)]));
        assert_eq!(clock(&applied, &Held::new()), applied);
    }

    #[test]
    fn only_certified_blocks_are_taken_and_in_apply_order() {
        let mut h = held(vec![
            record(topics::BLOCKS, "relay", 5, 9, 0),
            record(topics::BLOCKS, "relay", 6, 9, 1),
            record(topics::SESSION_SNAPSHOTS, "relay", 5, 1, 0),
            record(topics::VALIDATORS, "relay/0xa", 5, 0, 0),
            record(topics::VALIDATORS, "relay/0xb", 6, 0, 1),
            record(topics::VALIDATORS, "relay/0xc", 7, 0, 2),
        ]);
        let clock = Clock::from([("relay".to_string(), 6)]);
        let (taken, still) = take_certified(&mut h, &chains(), &clock, &ORDER);
        let got: Vec<(&str, u64, u32)> = taken.iter().map(|c| (c.topic, c.place.block, c.place.seq)).collect();
        assert_eq!(
            got,
            vec![
                (topics::VALIDATORS, 5, 0),
                (topics::SESSION_SNAPSHOTS, 5, 1),
                (topics::BLOCKS, 5, 9),
                (topics::VALIDATORS, 6, 0),
                (topics::BLOCKS, 6, 9),
            ],
            "outputs by position, each block's record after its outputs"
        );
        assert_eq!(still, 1, "block 7 is not certified");
        assert_eq!(h[&(topics::VALIDATORS, 0)].front().map(|r| r.offset), Some(2));
    }

    #[test]
    fn a_filled_hole_is_taken_with_its_block_from_behind_a_held_record() {
        // 5:1 failed and was published again after 9:0 had landed.
        let mut h = held(vec![
            record(topics::VALIDATORS, "relay/0xa", 5, 0, 0),
            record(topics::VALIDATORS, "relay/0xa", 9, 0, 1),
            record(topics::VALIDATORS, "relay/0xa", 5, 1, 2),
        ]);
        let (taken, still) = take_certified(&mut h, &chains(), &Clock::from([("relay".to_string(), 5)]), &ORDER);
        assert_eq!(taken.iter().map(|c| (c.place.block, c.place.seq)).collect::<Vec<_>>(), vec![(5, 0), (5, 1)]);
        assert_eq!(still, 1);
        assert_eq!(h[&(topics::VALIDATORS, 0)].front().map(|r| r.offset), Some(1), "the position stays at the first record not applied");
    }

    #[test]
    fn a_record_without_a_position_never_overtakes_a_held_one() {
        let mut bare = record(topics::VALIDATORS, "relay/0xb", 0, 0, 1);
        bare.headers.clear();
        let mut h = held(vec![record(topics::VALIDATORS, "relay/0xa", 9, 0, 0), bare]);
        let (taken, still) = take_certified(&mut h, &chains(), &Clock::from([("relay".to_string(), 5)]), &ORDER);
        assert!(taken.is_empty());
        assert_eq!(still, 2);
    }

    #[test]
    fn a_record_applied_once_is_dropped_when_it_comes_again() {
        let mut applied = Applied::new();
        let at = |block, seq| place(&record(topics::NOMINATORS, "relay/0xa", block, seq, 0));
        assert!(first_time(&mut applied, topics::NOMINATORS, &at(5, 2)));
        assert!(!first_time(&mut applied, topics::NOMINATORS, &at(5, 2)), "the same position again");
        assert!(!first_time(&mut applied, topics::NOMINATORS, &at(4, 9)), "an older one");
        assert!(first_time(&mut applied, topics::VALIDATORS, &at(5, 2)), "topics are apart");
        assert!(first_time(&mut applied, topics::NOMINATORS, &at(5, 3)));
        let bare = Place { positioned: false, ..at(1, 0) };
        assert!(first_time(&mut applied, topics::NOMINATORS, &bare) && first_time(&mut applied, topics::NOMINATORS, &bare), "no position: always applied");
    }

    #[test]
    fn records_of_chains_not_followed_pass_through_and_never_hold_reading() {
        let other = record(topics::VALIDATORS, "elsewhere/0xa", 1_000, 0, 0);
        assert!(is_certified(&place(&other), &chains(), &Clock::new()));
        assert!(!beyond_clock(&other, &chains(), &Clock::new()));
        let ahead = record(topics::VALIDATORS, "relay/0xa", 8, 0, 0);
        assert!(beyond_clock(&ahead, &chains(), &Clock::from([("relay".to_string(), 7)])));
        assert!(beyond_clock(&ahead, &chains(), &Clock::new()), "no block of the chain yet");
        assert!(!beyond_clock(&ahead, &chains(), &Clock::from([("relay".to_string(), 8)])));
    }
}
