//! Records we cannot decode go to `<topic>.dlq` with their raw bytes and why,
//! so nothing is lost and the consumer moves on.

use rdkafka::message::{Header, OwnedHeaders};

use crate::producer::Delivered;
use crate::{BusError, Publisher, Record};

/// A record a consumer cannot use: logged, counted and republished to
/// `<topic>.dlq` with why, in one place, so every consumer does all three.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetter<'a> {
    /// The consumer that gave up on it (log field).
    pub consumer: &'a str,
    /// The record as read.
    pub record: &'a Record,
    /// Why it cannot be used.
    pub reason: &'a str,
}

impl DeadLetter<'_> {
    /// Log at ERROR, count in [`crate::metrics::DEAD_LETTERS`] and send.
    pub async fn emit(self, publisher: &Publisher) -> Result<Delivered, BusError> {
        let r = self.record;
        tracing::error!(consumer = self.consumer, topic = %r.topic, partition = r.partition, offset = r.offset, reason = self.reason, error_code = "undecodable_record", "record sent to the dead-letter topic");
        metrics::counter!(crate::metrics::DEAD_LETTERS, "topic" => r.topic.clone()).increment(1);
        send(publisher, r, self.reason).await
    }
}

/// Republish `record` to the dead-letter topic of its source, with the reason
/// (use [`DeadLetter::emit`], which also logs and counts).
pub(crate) async fn send(publisher: &Publisher, record: &Record, reason: &str) -> Result<Delivered, BusError> {
    let topic = format!("{}.dlq", record.topic);
    let partition = record.partition.to_string();
    let offset = record.offset.to_string();
    let headers = OwnedHeaders::new()
        .insert(Header { key: "stakeflow.source.topic", value: Some(record.topic.as_bytes()) })
        .insert(Header { key: "stakeflow.source.partition", value: Some(partition.as_bytes()) })
        .insert(Header { key: "stakeflow.source.offset", value: Some(offset.as_bytes()) })
        .insert(Header { key: "stakeflow.error", value: Some(reason.as_bytes()) });
    let key = record.key.clone().unwrap_or_default();
    let payload = record.payload.clone().unwrap_or_default();
    publisher.publish_with_headers(&topic, &key, &payload, Some(headers)).await
}

/// Record headers from name/value pairs, so callers need not know rdkafka.
pub fn headers(pairs: &[(&str, &str)]) -> OwnedHeaders {
    pairs.iter().fold(OwnedHeaders::new_with_capacity(pairs.len()), |h, (k, v)| {
        h.insert(Header { key: k, value: Some(v.as_bytes()) })
    })
}
