//! A chain topic's record decoded, not yet folded. Decoding (and reading a
//! nominator for the sums) is pure and was most of a rebuild's work (a Kusama
//! era is 20,000 nominator records of 16 targets), so a pass decodes its
//! certified records in parallel, a chunk at a time, and folds them in order.

use rayon::prelude::*;
use rules::chain_facts::Nomination;
use schemas::{EraPoints, FinalizedBlock, Identity, NominatorEra, SessionSnapshot, TypedEvent, ValidatorEra, topics};

/// Records decoded at once: bounds what a pass holds decoded (a nominator
/// record is about 1.5 KB decoded) while keeping the threads busy.
pub const DECODE_CHUNK: usize = 4096;

/// One decoded record of a chain topic.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainRecord {
    Block(FinalizedBlock),
    Session(SessionSnapshot),
    Validator(ValidatorEra),
    /// Read for the sums already ([`Nomination::of`]): that part is pure too.
    Nominator(Nomination),
    Points(EraPoints),
    Identity(Identity),
    SessionEvent(TypedEvent),
    /// A topic the fold does not read.
    Unread,
}

impl ChainRecord {
    /// `payload` as a record of `topic`; an error is the record's own (it goes to the dead letters).
    pub fn decode(topic: &str, payload: &[u8]) -> Result<Self, String> {
        let e = |e: schemas::SchemaError| e.to_string();
        Ok(match topic {
            t if t == topics::BLOCKS => Self::Block(FinalizedBlock::decode(payload).map_err(e)?),
            t if t == topics::SESSION_SNAPSHOTS => Self::Session(SessionSnapshot::decode(payload).map_err(e)?),
            t if t == topics::VALIDATORS => Self::Validator(ValidatorEra::decode(payload).map_err(e)?),
            t if t == topics::NOMINATORS => Self::Nominator(Nomination::of(NominatorEra::decode(payload).map_err(e)?)),
            t if t == topics::ERA_POINTS => Self::Points(EraPoints::decode(payload).map_err(e)?),
            t if t == topics::IDENTITIES => Self::Identity(Identity::decode(payload).map_err(e)?),
            t if t == topics::SESSION_EVENTS => Self::SessionEvent(TypedEvent::decode(payload).map_err(e)?),
            _ => Self::Unread,
        })
    }

    /// Each of `records` (topic, payload) decoded, in their order; in
    /// parallel when there are enough to be worth it.
    pub fn decode_all(records: &[(&str, &[u8])]) -> Vec<Result<Self, String>> {
        // Below this a thread hand-off costs more than it saves (a block record decodes in ~1 µs).
        const SERIAL_BELOW: usize = 64;
        if records.len() < SERIAL_BELOW {
            return records.iter().map(|(t, p)| Self::decode(t, p)).collect();
        }
        records.par_iter().with_min_len(SERIAL_BELOW).map(|(t, p)| Self::decode(t, p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_decode_in_their_order_with_each_error_in_its_place() {
        let blocks: Vec<Vec<u8>> = (0..200).map(|n| FinalizedBlock { number: n, ..Default::default() }.encode().unwrap()).collect();
        let mut records: Vec<(&str, &[u8])> = blocks.iter().map(|b| (topics::BLOCKS, b.as_slice())).collect();
        records[77] = (topics::NOMINATORS, b"\xff\xff not avro");
        records[150] = ("stakeflow.other", b"");
        let decoded = ChainRecord::decode_all(&records);
        assert_eq!(decoded.len(), 200);
        for (i, d) in decoded.iter().enumerate() {
            match (i, d) {
                (77, d) => assert!(d.is_err(), "a malformed record is an error in its own place"),
                (150, d) => assert_eq!(d, &Ok(ChainRecord::Unread)),
                (i, Ok(ChainRecord::Block(b))) => assert_eq!(b.number, i as i64),
                (i, other) => panic!("record {i}: {other:?}"),
            }
        }
        assert_eq!(ChainRecord::decode_all(&records[..3]), decoded[..3].to_vec(), "a few decode alike without threads");
    }
}
