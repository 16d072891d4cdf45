//! What the topics hold of a chain, read back at every resume: its last
//! certified block and the positions an unfinished window already published.
//!
//! Reads go backwards from each partition's end and stop at the chain's
//! `Marks`, kept in the store before every window: offsets below which the
//! chain has only certified records, and its last block record before the
//! window (a block record of the window itself lies above the floors). So a
//! resume reads the unfinished window and what other chains sharing the
//! partition wrote since it began, never the partition's history.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use bus::consumer::{last_matching_above, scan_back};
use bus::{BusConfig, Publisher};
use schemas::{FinalizedBlock, topics};
use serde::{Deserialize, Serialize};
use store::Store;

use crate::IngestError;
use crate::blocks::INGEST;
use crate::position::{self, OutputPos};

/// Every topic ingest writes, dead letters included: what each holds of an
/// unfinished window says what is left to publish.
pub fn written_topics() -> Vec<String> {
    let mut t: Vec<String> = topics::CHAIN.iter().map(|t| t.to_string()).collect();
    t.push(topics::dead_letter(topics::EVENTS));
    t.push(topics::STORAGE_DEAD_LETTERS.to_string());
    t
}

/// Per chain, where reading back may stop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    /// Per topic, an offset of the chain's partition below which every record
    /// of the chain belongs to a certified block.
    pub floors: BTreeMap<String, i64>,
    /// The chain's last block record known to be on the blocks topic.
    pub last_block: Option<LastBlock>,
}

/// A chain's last certified block, and where its record is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastBlock {
    /// Block number.
    pub number: u64,
    /// Block hash (0x-hex).
    pub hash: String,
    /// Offset of its record in the chain's partition of the blocks topic.
    pub offset: i64,
}

impl Marks {
    fn key(network: &str) -> String {
        format!("marks/{network}")
    }

    /// The chain's marks (none before the first window, or from a version without them: read back fully once).
    pub async fn load(store: &dyn Store, network: &str) -> Result<Self, IngestError> {
        let Some(bytes) = store.load_state(INGEST, &Self::key(network)).await? else { return Ok(Self::default()) };
        // Unreadable marks only cost a longer read back.
        Ok(serde_json::from_slice(&bytes).unwrap_or_default())
    }

    /// Keep them (written by the lease holder only).
    pub async fn save(&self, store: &dyn Store, network: &str) -> Result<(), IngestError> {
        let bytes = serde_json::to_vec(self).map_err(|e| IngestError::Inconsistent { network: network.into(), detail: format!("marks: {e}") })?;
        store.put_state(INGEST, &Self::key(network), &bytes).await?;
        Ok(())
    }

    /// Marks of a chain that has published nothing yet: each partition's end.
    pub async fn at_ends(publisher: &Publisher, network: &str) -> Result<Self, IngestError> {
        Ok(Self { floors: ends(publisher, network).await?, last_block: None })
    }

    /// Before a window, once every earlier one is certified: the floors move
    /// to each partition's end, so a crash in the window reads back only the
    /// window (and what others wrote meanwhile), however long ago the last was.
    pub async fn window_starts(&mut self, publisher: &Publisher, network: &str) -> Result<(), IngestError> {
        self.floors = ends(publisher, network).await?;
        Ok(())
    }

    /// After a certified window whose last block is `number` with `hash`, from
    /// its records' (`topic`, offset): where that block's record is. (The
    /// floors move with the next window's start.)
    pub fn certified(&mut self, delivered: &[(String, i64)], number: u64, hash: &str) {
        let offset = delivered.iter().filter(|(t, _)| t == topics::BLOCKS).map(|(_, o)| *o).max();
        if let Some(offset) = offset {
            self.last_block = Some(LastBlock { number, hash: hash.to_string(), offset });
        }
    }
}

/// The end of `network`'s partition of every topic ingest writes.
async fn ends(publisher: &Publisher, network: &str) -> Result<BTreeMap<String, i64>, IngestError> {
    let key = topics::chain_key(network);
    let mut ours = Vec::new();
    for topic in written_topics() {
        let partition = publisher.partition_for(&topic, &key).await?;
        ours.push((topic, partition));
    }
    // Our partition of each topic only, over the producer's connection.
    let ends = publisher.ends_of(&ours).await?;
    Ok(ours.into_iter().map(|(t, _)| t).zip(ends).collect())
}

/// The last block record of `network` on the blocks topic; `marks` learns it.
///
/// A block record newer than the marks' (a window certified just before a
/// crash) is above the blocks floor; else it is the marks' own, checked to be
/// still within the partition, not read: an old offset is slow to fetch from
/// some brokers, and others may have written much since.
pub async fn last_block(bus: &BusConfig, publisher: &Publisher, network: &str, marks: &mut Marks) -> Result<Option<LastBlock>, IngestError> {
    let key = topics::chain_key(network);
    let partition = publisher.partition_for(topics::BLOCKS, &key).await?;
    let above = match &marks.last_block {
        Some(b) => marks.floors.get(topics::BLOCKS).copied().unwrap_or(b.offset).max(b.offset),
        None => marks.floors.get(topics::BLOCKS).copied().unwrap_or(0),
    };
    if let Some(record) = last_matching_above(bus, topics::BLOCKS, partition, above, |k| k == key.as_slice()).await? {
        let payload = record.payload.unwrap_or_default();
        let block = FinalizedBlock::decode(&payload).map_err(|e| IngestError::Inconsistent {
            network: network.to_string(),
            detail: format!("last record at {}/{}@{} is not a block we wrote: {e}", record.topic, record.partition, record.offset),
        })?;
        marks.last_block = Some(LastBlock { number: block.number as u64, hash: block.hash, offset: record.offset });
        return Ok(marks.last_block.clone());
    }
    let Some(known) = &marks.last_block else { return Ok(None) };
    let (low, high) = bus::admin::watermarks(bus, topics::BLOCKS, partition).await?;
    if known.offset < low || known.offset >= high {
        return Err(IngestError::Inconsistent {
            network: network.to_string(),
            detail: format!(
                "{}/{partition} no longer holds this chain's block {} at offset {} (it holds {low}..{high}): the topic was \
                 recreated or truncated (restore it, or start this chain afresh with a new store)",
                topics::BLOCKS,
                known.number,
                known.offset
            ),
        });
    }
    Ok(Some(known.clone()))
}

/// What `network` already has on each topic at or after block `from`, read
/// back down to the marks' floors; `marks` is raised to where reading stopped,
/// so the next resume reads less.
pub async fn present_positions(
    bus: &BusConfig,
    publisher: &Publisher,
    network: &str,
    from: u64,
    marks: &mut Marks,
) -> Result<BTreeMap<String, BTreeSet<OutputPos>>, IngestError> {
    let chain_key = topics::chain_key(network);
    let floors = marks.floors.clone();
    // All topics at once: a resume holds the lease while it reads.
    let reads = written_topics().into_iter().map(|topic| {
        let (chain_key, floor) = (chain_key.clone(), floors.get(&topic).copied().unwrap_or(0));
        async move {
            let partition = publisher.partition_for(&topic, &chain_key).await?;
            let (found, raised) = read_back(bus, &topic, partition, network, from, floor).await?;
            Ok::<_, IngestError>((topic, found, raised))
        }
    });
    let mut present = BTreeMap::new();
    for (topic, found, raised) in futures::future::try_join_all(reads).await? {
        marks.floors.insert(topic.clone(), raised);
        if !found.is_empty() {
            present.insert(topic, found);
        }
    }
    Ok(present)
}

/// One topic's positions of `network` at or after `from`, and the floor raised to where reading stopped.
async fn read_back(bus: &BusConfig, topic: &str, partition: i32, network: &str, from: u64, floor: i64) -> Result<(BTreeSet<OutputPos>, i64), IngestError> {
    let mut found = BTreeSet::new();
    let mut lowest = None;
    // Offset of the chain's newest record before `from`, if reached.
    let mut certified_at = None;
    let high = scan_back(bus, topic, partition, floor, |r| {
        if !r.key.as_deref().is_some_and(|k| topics::key_of_chain(k, network)) {
            return ControlFlow::Continue(());
        }
        let Some(pos) = r.header(position::HEADER).and_then(OutputPos::parse) else {
            return ControlFlow::Continue(());
        };
        if pos.block < from {
            // A chain's records are in order in its partition: all older ones are certified too.
            certified_at = Some(r.offset);
            return ControlFlow::Break(());
        }
        found.insert(pos);
        lowest = Some(r.offset);
        ControlFlow::Continue(())
    })
    .await?;
    // Nothing of the chain's below this is uncertified.
    let raised = match (lowest, certified_at) {
        (Some(lowest), _) => lowest,
        (None, Some(at)) => at + 1,
        (None, None) => high,
    };
    Ok((found, raised.max(floor)))
}
