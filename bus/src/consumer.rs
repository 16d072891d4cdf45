//! Reading partitions from positions the caller owns.
//!
//! Consumers here never let Kafka decide where to start: the caller stores its
//! position with the state it derived and assigns from there. Kafka offset
//! commits are advisory, for lag tooling.

use std::ops::ControlFlow;
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::{BusConfig, BusError, admin};

/// The next offset to read in one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// Partition.
    pub partition: i32,
    /// Offset of the next record to read.
    pub next_offset: i64,
}

/// An owned record read from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Topic it was read from.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key bytes, if any.
    pub key: Option<Vec<u8>>,
    /// Value bytes, if any (a tombstone has none).
    pub payload: Option<Vec<u8>>,
    /// Headers in order.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Record {
    fn from_message(m: &BorrowedMessage<'_>) -> Self {
        Record {
            topic: m.topic().to_string(),
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            payload: m.payload().map(<[u8]>::to_vec),
            headers: m
                .headers()
                .map(|h| {
                    (0..h.count())
                        .map(|i| {
                            let h = h.get(i);
                            (h.key.to_string(), h.value.map(<[u8]>::to_vec).unwrap_or_default())
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_slice())
    }
}

/// Whether a stored position fits its partition (`marks`: low and high
/// watermarks, `None` when the partition does not exist). Beyond the end:
/// the topic was recreated or the broker restored from an older copy (the
/// records we applied are gone); before the start: records we never applied
/// were deleted by retention; no such partition: the topic has fewer
/// partitions than we read. Each would skip or re-apply records silently.
pub fn check_position(topic: &str, pos: Position, partitions: i32, marks: Option<(i64, i64)>) -> Result<(), BusError> {
    let fail = |detail: String| Err(BusError::PositionMismatch { topic: topic.to_string(), partition: pos.partition, detail });
    match marks {
        None => fail(format!(
            "a position is stored for this partition, but the topic has {partitions} partitions: it was recreated with fewer; \
             restore it, or rebuild this consumer into a fresh namespace"
        )),
        Some((_, high)) if pos.next_offset > high => fail(format!(
            "the stored position {} is beyond the partition's end {high}: the topic was recreated or the broker restored from an \
             older copy; the records applied up to there are not on the broker. Restore the broker's data, or rebuild from the topics \
             into a fresh store (`stakeflow rescore`)",
            pos.next_offset
        )),
        Some((low, _)) if pos.next_offset < low => fail(format!(
            "the stored position {} is before the partition's first record {low}: records not yet applied were deleted by retention; \
             keep history longer (retention.ms = -1) and rebuild from a complete copy",
            pos.next_offset
        )),
        Some(_) => Ok(()),
    }
}

/// The settings every reader shares: never commits by itself, waits briefly
/// on an idle partition. librdkafka's read-ahead (`queued.max.messages.kbytes`,
/// 64 MiB) stays: 4 MiB made the embedded broker's replay 4-5x slower
/// (`stakeflow-bench replay --read-ahead-kb`) and did not lower its peak.
fn reader_config(cfg: &BusConfig, group: &str) -> rdkafka::ClientConfig {
    let mut c = cfg.client_config();
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false");
    // An idle partition must not hold up the busy ones for librdkafka's 500 ms
    // default (unless the operator said otherwise in `[kafka.client]`).
    if !cfg.client.contains_key("fetch.wait.max.ms") {
        c.set("fetch.wait.max.ms", "50");
    }
    c
}

/// A consumer assigned to explicit partitions and offsets.
pub struct PartitionReader {
    /// `None` only while being dropped.
    consumer: Option<StreamConsumer>,
    brokers: String,
    /// Partitions not fetched now (see [`PartitionReader::fetch_only`]).
    paused: std::sync::Mutex<std::collections::BTreeSet<i32>>,
}

impl Drop for PartitionReader {
    fn drop(&mut self) {
        if let Some(consumer) = self.consumer.take() {
            // rdkafka closes a consumer that has a group id by polling until
            // the group is left: forever when the broker is gone. Never on a
            // runtime worker, never in the way of a shutdown: on a thread of
            // its own, which the process does not wait for.
            let spawned = std::thread::Builder::new().name("kafka-close".into()).spawn(move || drop(consumer));
            if let Err(e) = spawned {
                tracing::debug!(error = %e, "no thread to close a Kafka consumer on; leaking it");
            }
        }
    }
}

impl PartitionReader {
    /// Assign `topic`'s partitions: those in `from` at their stored position,
    /// every other partition from the beginning. A stored position the
    /// partition cannot have (beyond its end, before its first record, of a
    /// partition that no longer exists) is refused: see [`check_position`].
    pub async fn assign(cfg: &BusConfig, group: &str, topic: &str, from: &[Position]) -> Result<Self, BusError> {
        let brokers = cfg.bootstrap().to_string();
        let marks = admin::partition_watermarks(cfg, topic).await?;
        let partitions = marks.len() as i32;
        let marks_of = |p: i32| marks.iter().find(|(q, ..)| *q == p).map(|(_, low, high)| (*low, *high));
        for pos in from {
            check_position(topic, *pos, partitions, marks_of(pos.partition))?;
        }
        let consumer: StreamConsumer = reader_config(cfg, group)
            // Never let librdkafka move a reader elsewhere on its own.
            .set("auto.offset.reset", "error")
            .create()
            .map_err(BusError::kafka("consumer", &brokers))?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            // "From the beginning" as the low watermark, not `Offset::Beginning`:
            // librdkafka resolves that with one ListOffsets per partition and
            // starts each partition's fetches as its answer comes, and a broker
            // that holds every fetch for fetch.wait.max.ms (tansu) then costs
            // that wait per partition: 0.6 s to open a 12-partition topic.
            let offset = from
                .iter()
                .find(|pos| pos.partition == p)
                .map_or_else(|| Offset::Offset(marks_of(p).map_or(0, |(low, _)| low)), |pos| Offset::Offset(pos.next_offset));
            tpl.add_partition_offset(topic, p, offset).map_err(BusError::kafka("assign", &brokers))?;
        }
        consumer.assign(&tpl).map_err(BusError::kafka("assign", &brokers))?;
        Ok(Self { consumer: Some(consumer), brokers, paused: Default::default() })
    }

    fn consumer(&self) -> &StreamConsumer {
        self.consumer.as_ref().expect("a reader has its consumer until it is dropped")
    }

    /// The next record, waiting as long as it takes.
    pub async fn next(&self) -> Result<Record, BusError> {
        let m = self.consumer().recv().await.map_err(BusError::kafka("consume", &self.brokers))?;
        Ok(Record::from_message(&m))
    }

    /// The next record, or `None` if none arrives within `wait`.
    pub async fn next_within(&self, wait: Duration) -> Result<Option<Record>, BusError> {
        match tokio::time::timeout(wait, self.next()).await {
            Ok(r) => r.map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Fetch only the partitions of `topic` marked `true`; pause the others
    /// (a caller that knows a partition is read to its end). A paused
    /// partition costs nothing, where an idle one is fetched again every
    /// `fetch.wait.max.ms`: the embedded broker answered the scorer's idle
    /// readers with more than half a core. Resumed, a partition goes on from
    /// the last record handed out.
    pub fn fetch_only(&self, topic: &str, partitions: impl IntoIterator<Item = (i32, bool)>) -> Result<(), BusError> {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let (mut pause, mut resume) = (TopicPartitionList::new(), TopicPartitionList::new());
        for (p, fetch) in partitions {
            if fetch && paused.remove(&p) {
                resume.add_partition(topic, p);
            } else if !fetch && paused.insert(p) {
                pause.add_partition(topic, p);
            }
        }
        if pause.count() > 0 {
            self.consumer().pause(&pause).map_err(BusError::kafka("pause", &self.brokers))?;
        }
        if resume.count() > 0 {
            self.consumer().resume(&resume).map_err(BusError::kafka("resume", &self.brokers))?;
        }
        Ok(())
    }

    /// Tell Kafka how far this group got (advisory: positions live in our store).
    pub fn commit_advisory(&self, topic: &str, partition: i32, next_offset: i64) {
        let mut tpl = TopicPartitionList::new();
        if tpl.add_partition_offset(topic, partition, Offset::Offset(next_offset)).is_ok()
            && let Err(err) = self.consumer().commit(&tpl, CommitMode::Async)
        {
            tracing::debug!(%topic, partition, next_offset, %err, "advisory offset commit failed");
        }
    }
}

/// The last record of `partition` whose key equals `key`, scanning back from
/// the end. This is how a producer finds where it left off: what is durably on
/// the topic is the truth, whatever the producer believed before a crash.
pub async fn last_with_key(
    cfg: &BusConfig,
    topic: &str,
    partition: i32,
    key: &[u8],
) -> Result<Option<Record>, BusError> {
    last_matching(cfg, topic, partition, |k| k == key).await
}

/// The last record of `partition` whose key satisfies `wanted`.
pub async fn last_matching(
    cfg: &BusConfig,
    topic: &str,
    partition: i32,
    wanted: impl Fn(&[u8]) -> bool,
) -> Result<Option<Record>, BusError> {
    last_matching_above(cfg, topic, partition, 0, wanted).await
}

/// The last record at or above offset `floor` of `partition` whose key satisfies `wanted`.
pub async fn last_matching_above(
    cfg: &BusConfig,
    topic: &str,
    partition: i32,
    floor: i64,
    wanted: impl Fn(&[u8]) -> bool,
) -> Result<Option<Record>, BusError> {
    let mut found = None;
    scan_back(cfg, topic, partition, floor, |rec| {
        if rec.key.as_deref().is_some_and(&wanted) {
            found = Some(rec);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })
    .await?;
    Ok(found)
}

/// Visit `partition`'s records from its end backwards, newest first, down to
/// offset `floor` (or the partition's start), until `visit` breaks. Reads go in
/// growing windows so a long scan opens few readers; a caller that knows
/// where its records cannot be older than passes that as `floor`, so the work
/// is bounded by what lies above it, not by the partition's history. Returns
/// the partition's end offset when the scan began.
pub async fn scan_back(
    cfg: &BusConfig,
    topic: &str,
    partition: i32,
    floor: i64,
    mut visit: impl FnMut(Record) -> ControlFlow<()>,
) -> Result<i64, BusError> {
    const FIRST_WINDOW: i64 = 256;
    const MAX_WINDOW: i64 = 16_384;
    const READ_TIMEOUT: Duration = Duration::from_secs(15);
    let (low, high) = admin::watermarks(cfg, topic, partition).await?;
    let floor = floor.max(low);
    let mut end = high;
    let mut window = FIRST_WINDOW;
    while end > floor {
        let start = (end - window).max(floor);
        let reader = PartitionReader::assign_one(cfg, topic, partition, start).await?;
        let mut chunk = Vec::with_capacity((end - start) as usize);
        loop {
            let Some(rec) = reader.next_within(READ_TIMEOUT).await? else {
                return Err(BusError::Kafka {
                    op: "read topic tail",
                    brokers: cfg.bootstrap().to_string(),
                    source: rdkafka::error::KafkaError::MessageConsumption(
                        rdkafka::types::RDKafkaErrorCode::OperationTimedOut,
                    ),
                });
            };
            if rec.offset >= end {
                break;
            }
            let last = rec.offset == end - 1;
            chunk.push(rec);
            if last {
                break;
            }
        }
        for rec in chunk.into_iter().rev() {
            if visit(rec).is_break() {
                return Ok(high);
            }
        }
        end = start;
        window = (window * 4).min(MAX_WINDOW);
    }
    Ok(high)
}

impl PartitionReader {
    /// A group-less reader of one partition from `offset`.
    pub async fn assign_one(cfg: &BusConfig, topic: &str, partition: i32, offset: i64) -> Result<Self, BusError> {
        let brokers = cfg.bootstrap().to_string();
        // librdkafka wants a group id even for assign-only reads; it never commits.
        let consumer: StreamConsumer = reader_config(cfg, "stakeflow-tail-reader")
            .create()
            .map_err(BusError::kafka("consumer", &brokers))?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(offset))
            .map_err(BusError::kafka("assign", &brokers))?;
        consumer.assign(&tpl).map_err(BusError::kafka("assign", &brokers))?;
        Ok(Self { consumer: Some(consumer), brokers, paused: Default::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_the_partition_cannot_have_are_refused() {
        let at = |next_offset| Position { partition: 1, next_offset };
        assert!(check_position("t", at(5), 3, Some((0, 5))).is_ok(), "at the end: caught up");
        assert!(check_position("t", at(2), 3, Some((2, 5))).is_ok());
        let beyond = check_position("t", at(6), 3, Some((0, 5))).unwrap_err().to_string();
        assert!(beyond.contains("beyond the partition's end 5") && beyond.contains("t partition 1"), "{beyond}");
        let before = check_position("t", at(1), 3, Some((2, 5))).unwrap_err().to_string();
        assert!(before.contains("deleted by retention"), "{before}");
        let gone = check_position("t", Position { partition: 4, next_offset: 0 }, 3, None).unwrap_err();
        assert!(gone.to_string().contains("has 3 partitions") && !gone.is_transient(), "{gone}");
    }
}
