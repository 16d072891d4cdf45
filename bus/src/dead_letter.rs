//! Records we cannot decode go to `<topic>.dlq` with their raw bytes and why,
//! so nothing is lost and the consumer moves on.

use rdkafka::message::{Header, OwnedHeaders};

use crate::producer::Delivered;
use crate::{BusError, Publisher, Record};

/// Republish `record` to the dead-letter topic of its source, with the reason.
pub async fn send(publisher: &Publisher, record: &Record, reason: &str) -> Result<Delivered, BusError> {
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
