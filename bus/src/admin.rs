//! Topic provisioning and metadata.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::{BusConfig, BusError};

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// Create the topics that do not exist yet, with the configured partitions and
/// replication; topics that exist are left as they are.
pub async fn ensure_topics(cfg: &BusConfig, topics: &[&str]) -> Result<(), BusError> {
    let mut missing = Vec::new();
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
            Ok(_) => {}
            Err(BusError::MissingTopic { .. }) => missing.push(*topic),
            Err(e) => return Err(e),
        }
    }
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
    let cfg = cfg.clone();
    let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
    blocking(move || {
        let brokers = cfg.bootstrap();
        let client: BaseConsumer = cfg.client_config().create().map_err(BusError::kafka("metadata client", brokers))?;
        let mut out = Vec::new();
        for topic in topics {
            for p in 0..partitions_of(&client, &topic, brokers)? {
                let (_, high) =
                    client.fetch_watermarks(&topic, p, METADATA_TIMEOUT).map_err(BusError::kafka("fetch watermarks", brokers))?;
                out.push((topic.clone(), p, high));
            }
        }
        Ok(out)
    })
    .await
}

/// librdkafka's metadata calls block; keep them off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BusError> + Send + 'static,
) -> Result<T, BusError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|join| {
        Err(BusError::EmbeddedBroker { what: "blocking kafka call", reason: join.to_string() })
    })
}
