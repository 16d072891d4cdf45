//! A chain topic's record decoded, not yet folded. Decoding (and reading a
//! nominator for the sums) is pure and was most of a rebuild's work (a Kusama
//! era is 20,000 nominator records of 16 targets), so a pass decodes its
//! certified records in parallel, a chunk at a time, and folds them in order.

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;
use tokio::sync::oneshot;
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
            t if t == topics::NOMINATORS => Self::Nominator(NominatorEra::read(payload, Nomination::of).map_err(e)?),
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

/// A chunk decoded: where its records are in the pass, and each record's outcome.
pub type DecodedChunk = (Range<usize>, Vec<Result<ChainRecord, String>>);

/// A pass's records decoded one chunk ahead of the fold: the chunk being
/// folded (in order, on the caller's thread) overlaps the next one's decoding
/// on the rayon pool, so on two cores neither waits for the other.
pub struct ChunkDecoder<T> {
    items: Arc<Vec<T>>,
    parts: fn(&T) -> (&str, &[u8]),
    next: usize,
    ahead: Option<(Range<usize>, oneshot::Receiver<Vec<Result<ChainRecord, String>>>)>,
}

impl<T: Send + Sync + 'static> ChunkDecoder<T> {
    /// Decodes `items`, each read as (topic, payload) by `parts`.
    pub fn new(items: Vec<T>, parts: fn(&T) -> (&str, &[u8])) -> Self {
        Self { items: Arc::new(items), parts, next: 0, ahead: None }
    }

    /// The records, in their order (a chunk's range indexes them).
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The next chunk, once decoded; the one after it starts decoding first.
    pub async fn next(&mut self) -> Option<DecodedChunk> {
        if self.ahead.is_none() {
            self.start();
        }
        let (range, decoded) = self.ahead.take()?;
        self.start();
        // A panic in a rayon task aborts the process (rayon's default), so the
        // sender is never dropped unsent.
        Some((range, decoded.await.expect("a chunk's decoding finishes")))
    }

    fn start(&mut self) {
        let len = self.items.len();
        if self.next >= len {
            return;
        }
        let range = self.next..(self.next + DECODE_CHUNK).min(len);
        self.next = range.end;
        let (tx, rx) = oneshot::channel();
        let (items, parts, r) = (Arc::clone(&self.items), self.parts, range.clone());
        rayon::spawn(move || {
            let records: Vec<(&str, &[u8])> = items[r].iter().map(parts).collect();
            // The fold may have ended early (an error): nobody to hand it to then.
            let _ = tx.send(ChainRecord::decode_all(&records));
        });
        self.ahead = Some((range, rx));
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

    #[tokio::test]
    async fn chunks_come_whole_and_in_order_while_the_next_decodes() {
        let n = DECODE_CHUNK * 2 + 5;
        let items: Vec<(&'static str, Vec<u8>)> =
            (0..n as i64).map(|i| (topics::BLOCKS, FinalizedBlock { number: i, ..Default::default() }.encode().unwrap())).collect();
        let mut chunks = ChunkDecoder::new(items, |(t, p)| (*t, p.as_slice()));
        let mut seen = Vec::new();
        while let Some((range, decoded)) = chunks.next().await {
            assert_eq!(range.len(), decoded.len());
            for (i, d) in range.zip(decoded) {
                match d {
                    Ok(ChainRecord::Block(b)) => assert_eq!(b.number, i as i64, "record {i} decoded in its place"),
                    other => panic!("record {i}: {other:?}"),
                }
                seen.push(i);
            }
        }
        assert_eq!(seen, (0..n).collect::<Vec<_>>(), "every record once, in order, over three chunks");
        assert!(ChunkDecoder::new(Vec::<(&'static str, Vec<u8>)>::new(), |(t, p)| (*t, p.as_slice())).next().await.is_none());
    }
}
