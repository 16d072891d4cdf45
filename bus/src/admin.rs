//! Topic provisioning and metadata.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::{BusConfig, BusError};

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// Create the topics that do not exist yet, with the configured partitions and
/// replication; topics that exist are left as they are.
pub async fn ensure_topics(cfg: &BusConfig, topics: &[&str]) -> Result<(), BusError> {
    let mut missing = Vec::new();
    let mut existing = Vec::new();
    for topic in topics {
        match partition_count(cfg, topic).await {
            // Keyed streams are ordered per partition and placed by hashing over the count:
            // another count re-hashes every key, so one that changed is refused, not used.
            Ok(n) if n != cfg.partitions && keyed(topic) => {
                return Err(BusError::TopicMismatch {
                    topic: topic.to_string(),
                    detail: format!(
                        "it has {n} partitions, kafka.partitions is {}: set kafka.partitions = {n} to use it as it is \
                         (a changed count re-places every key, breaking per-chain order)",
                        cfg.partitions
                    ),
                });
            }
            Ok(_) => existing.push(*topic),
            Err(BusError::MissingTopic { .. }) => missing.push(*topic),
            Err(e) => return Err(e),
        }
    }
    check_retention(cfg, &existing).await?;
    if missing.is_empty() {
        return Ok(());
    }
    let topics = missing.as_slice();
    let brokers = cfg.bootstrap();
    let admin: AdminClient<DefaultClientContext> =
        cfg.client_config().create().map_err(BusError::kafka("admin client", brokers))?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| {
            let topic = NewTopic::new(t, cfg.partitions, TopicReplication::Fixed(cfg.replication));
            // History is kept: a rebuild reads every era (84 at least), and a reader below the
            // low watermark would skip records. Compacted topics keep each key's latest.
            if schemas::topics::COMPACTED.contains(t) { topic.set("cleanup.policy", "compact") } else { topic.set("retention.ms", "-1") }
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(METADATA_TIMEOUT));
    let results = admin.create_topics(&new, &opts).await.map_err(BusError::kafka("create topics", brokers))?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(%topic, partitions = cfg.partitions, "created topic"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(BusError::Kafka {
                    op: "create topic",
                    brokers: format!("{brokers} (topic {topic})"),
                    source: rdkafka::error::KafkaError::AdminOp(code),
                });
            }
        }
    }
    Ok(())
}

/// Refuse an existing history topic that would lose records a rebuild reads.
/// A broker that cannot describe topic configs is said so, not refused.
async fn check_retention(cfg: &BusConfig, topics: &[&str]) -> Result<(), BusError> {
    let history: Vec<&str> = topics.iter().copied().filter(|t| keyed(t) && !schemas::topics::COMPACTED.contains(t)).collect();
    if history.is_empty() {
        return Ok(());
    }
    let brokers = cfg.bootstrap();
    let admin: AdminClient<DefaultClientContext> =
        cfg.client_config().create().map_err(BusError::kafka("admin client", brokers))?;
    let resources: Vec<ResourceSpecifier<'_>> = history.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
    let opts = AdminOptions::new().request_timeout(Some(METADATA_TIMEOUT));
    let results = match admin.describe_configs(&resources, &opts).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, %brokers, "the broker does not describe topic configs: retention of existing topics not checked");
            return Ok(());
        }
    };
    for (topic, result) in history.iter().zip(results) {
        let resource = match result {
            Ok(r) => r,
            Err(code) => {
                tracing::warn!(%topic, ?code, "topic config not described: its retention is not checked");
                continue;
            }
        };
        let entries: BTreeMap<String, String> =
            resource.entries.into_iter().filter_map(|e| Some((e.name, e.value?))).collect();
        if let Some(detail) = retention_problem(topic, &entries, cfg.min_retention) {
            return Err(BusError::TopicMismatch { topic: topic.to_string(), detail });
        }
    }
    Ok(())
}

/// What is wrong with a history topic's retention settings, if anything:
/// a size limit deletes history whatever its age, and a time limit below
/// `min` (unset: forever) deletes history a rebuild needs.
pub fn retention_problem(topic: &str, entries: &BTreeMap<String, String>, min: Option<Duration>) -> Option<String> {
    let get = |k: &str| entries.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    let fix = format!(
        "keep history (kafka-configs --alter --entity-type topics --entity-name {topic} --add-config retention.ms=-1,retention.bytes=-1)"
    );
    if let Some(policy) = entries.get("cleanup.policy").filter(|p| p.contains("compact")) {
        return Some(format!(
            "cleanup.policy is {policy}: compaction deletes every record but a key's latest, and a rebuild reads them all; \
             kafka-configs --alter --entity-type topics --entity-name {topic} --add-config cleanup.policy=delete,retention.ms=-1"
        ));
    }
    if let Some(bytes) = get("retention.bytes").filter(|b| *b >= 0) {
        return Some(format!("retention.bytes is {bytes}: old records are deleted by size, and a rebuild reads from the start; {fix}"));
    }
    let ms = get("retention.ms").filter(|ms| *ms >= 0)?;
    let kept = Duration::from_millis(ms as u64);
    match min {
        Some(min) if kept >= min => None,
        Some(min) => Some(format!(
            "retention.ms is {ms} ({}), shorter than kafka.min_retention ({}): {fix}",
            humantime::format_duration(kept),
            humantime::format_duration(min)
        )),
        None => Some(format!(
            "retention.ms is {ms} ({}): records older are deleted and a rebuild reads from the start; {fix}, \
             or accept it with kafka.min_retention (at least 84 eras)",
            humantime::format_duration(kept)
        )),
    }
}

/// Whether `topic` is one of the keyed streams whose order per partition matters.
fn keyed(topic: &str) -> bool {
    schemas::topics::CHAIN.contains(&topic) || schemas::topics::PROGRAMME.contains(&topic) || schemas::topics::NOMINATOR.contains(&topic)
}

/// Number of partitions of `topic`; an error if the topic does not exist.
pub async fn partition_count(cfg: &BusConfig, topic: &str) -> Result<i32, BusError> {
    let cfg = cfg.clone();
    let topic = topic.to_string();
    blocking(move || {
        let brokers = cfg.bootstrap();
        let client: BaseConsumer = cfg.client_config().create().map_err(BusError::kafka("metadata client", brokers))?;
        partitions_of(&client, &topic, brokers)
    })
    .await
}

/// Partition count of an existing topic, with an open metadata client.
fn partitions_of(client: &BaseConsumer, topic: &str, brokers: &str) -> Result<i32, BusError> {
    let md = client.fetch_metadata(Some(topic), METADATA_TIMEOUT).map_err(BusError::kafka("fetch metadata", brokers))?;
    let count = md
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map(|t| t.partitions().len() as i32)
        .unwrap_or(0);
    if count == 0 {
        return Err(BusError::MissingTopic { topic: topic.to_string(), brokers: brokers.to_string() });
    }
    Ok(count)
}

/// `(partition, low, high)` of every partition of `topic`, with one client;
/// an error if the topic does not exist.
pub async fn partition_watermarks(cfg: &BusConfig, topic: &str) -> Result<Vec<(i32, i64, i64)>, BusError> {
    let cfg = cfg.clone();
    let topic = topic.to_string();
    blocking(move || {
        let brokers = cfg.bootstrap();
        let client: BaseConsumer = cfg.client_config().create().map_err(BusError::kafka("metadata client", brokers))?;
        marks_of_topic(&client, &topic, brokers)
    })
    .await
}

/// `(partition, low, high)` of every partition of an existing topic, with an open client.
fn marks_of_topic(client: &BaseConsumer, topic: &str, brokers: &str) -> Result<Vec<(i32, i64, i64)>, BusError> {
    (0..partitions_of(client, topic, brokers)?)
        .map(|p| {
            let (low, high) = client.fetch_watermarks(topic, p, METADATA_TIMEOUT).map_err(BusError::kafka("fetch watermarks", brokers))?;
            Ok((p, low, high))
        })
        .collect()
}

/// Low and high watermarks of one partition.
pub async fn watermarks(cfg: &BusConfig, topic: &str, partition: i32) -> Result<(i64, i64), BusError> {
    let cfg = cfg.clone();
    let topic = topic.to_string();
    blocking(move || {
        let brokers = cfg.bootstrap();
        let client: BaseConsumer = cfg.client_config().create().map_err(BusError::kafka("metadata client", brokers))?;
        client
            .fetch_watermarks(&topic, partition, METADATA_TIMEOUT)
            .map_err(BusError::kafka("fetch watermarks", brokers))
    })
    .await
}

/// High watermarks (next offset to be written) of every partition of
/// `topics`, with one client: what "caught up" means for a reader.
pub async fn high_watermarks(cfg: &BusConfig, topics: &[&str]) -> Result<Vec<(String, i32, i64)>, BusError> {
    EndOffsets::new(cfg)?.of(topics).await
}

/// End offsets of whole topics through one client kept open, for a reader
/// that asks every pass: one ListOffsets request per broker for every
/// partition asked. Asked one partition at a time on a new client each call,
/// a scorer pass spent ~100 ms on the embedded broker (96 round trips for 8
/// topics of 12 partitions, and the client's start), in a round's path.
pub struct EndOffsets {
    client: std::sync::Arc<BaseConsumer>,
    brokers: String,
    /// Partition counts, asked once: a reader is assigned the partitions
    /// there were when it opened, and a keyed topic's count never changes
    /// under a service ([`ensure_topics`] refuses one that did).
    partitions: std::sync::Arc<std::sync::Mutex<BTreeMap<String, i32>>>,
}

impl EndOffsets {
    /// Create the client (no round trip yet).
    pub fn new(cfg: &BusConfig) -> Result<Self, BusError> {
        let brokers = cfg.bootstrap().to_string();
        let client: BaseConsumer = cfg.client_config().create().map_err(BusError::kafka("metadata client", &brokers))?;
        Ok(Self { client: std::sync::Arc::new(client), brokers, partitions: Default::default() })
    }

    /// `(topic, partition, high watermark)` of every partition of `topics`;
    /// an error if a topic does not exist.
    pub async fn of(&self, topics: &[&str]) -> Result<Vec<(String, i32, i64)>, BusError> {
        let (client, brokers, counts) = (self.client.clone(), self.brokers.clone(), self.partitions.clone());
        let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
        blocking(move || {
            let mut asked = rdkafka::TopicPartitionList::new();
            for topic in &topics {
                let known = counts.lock().unwrap_or_else(|e| e.into_inner()).get(topic).copied();
                let count = match known {
                    Some(n) => n,
                    None => {
                        let n = partitions_of(&client, topic, &brokers)?;
                        counts.lock().unwrap_or_else(|e| e.into_inner()).insert(topic.clone(), n);
                        n
                    }
                };
                for p in 0..count {
                    // The "timestamp" -1 asks for the latest offset: the high watermark.
                    asked.add_partition_offset(topic, p, rdkafka::Offset::End).map_err(BusError::kafka("list offsets", &brokers))?;
                }
            }
            let answered = client.offsets_for_times(asked, METADATA_TIMEOUT).map_err(BusError::kafka("list offsets", &brokers))?;
            let mut out = Vec::with_capacity(answered.count());
            for e in answered.elements() {
                e.error().map_err(BusError::kafka("list offsets", &brokers))?;
                let rdkafka::Offset::Offset(high) = e.offset() else {
                    return Err(BusError::Kafka {
                        op: "list offsets",
                        brokers: format!("{brokers} ({} [{}]: no end offset, {:?})", e.topic(), e.partition(), e.offset()),
                        source: rdkafka::error::KafkaError::OffsetFetch(RDKafkaErrorCode::OffsetNotAvailable),
                    });
                };
                out.push((e.topic().to_string(), e.partition(), high));
            }
            Ok(out)
        })
        .await
    }
}

/// librdkafka's metadata calls block; keep them off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BusError> + Send + 'static,
) -> Result<T, BusError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|join| {
        Err(BusError::EmbeddedBroker { what: "blocking kafka call", reason: join.to_string() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn history_kept_forever_passes_and_anything_that_deletes_it_is_refused() {
        let forever = entries(&[("retention.ms", "-1"), ("retention.bytes", "-1")]);
        assert_eq!(retention_problem("t", &forever, None), None);
        assert_eq!(retention_problem("t", &entries(&[]), None), None, "nothing said: the broker's default, not ours to refuse");
        let week = entries(&[("retention.ms", "604800000")]);
        assert!(retention_problem("t", &week, None).unwrap().contains("7days"));
        assert_eq!(retention_problem("t", &week, Some(Duration::from_secs(7 * 86400))), None);
        assert!(retention_problem("t", &week, Some(Duration::from_secs(84 * 86400))).unwrap().contains("kafka.min_retention"));
        let compacted = entries(&[("cleanup.policy", "compact"), ("retention.ms", "-1")]);
        assert!(retention_problem("t", &compacted, None).unwrap().contains("cleanup.policy=delete"));
        assert_eq!(retention_problem("t", &entries(&[("cleanup.policy", "delete"), ("retention.ms", "-1")]), None), None);
        let sized = entries(&[("retention.ms", "-1"), ("retention.bytes", "1073741824")]);
        assert!(retention_problem("t", &sized, Some(Duration::from_secs(1))).unwrap().contains("retention.bytes is 1073741824"));
    }
}
