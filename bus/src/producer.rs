//! Idempotent, keyed publishing with awaited delivery.

use std::collections::HashMap;
use std::sync::Mutex;

use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{Producer, FutureProducer, FutureRecord};

use crate::{BusConfig, BusError, admin, partition};

/// Where a record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Partition written.
    pub partition: i32,
    /// Offset of the record.
    pub offset: i64,
}

/// One record of a [`Publisher::publish_all`] batch.
pub struct Outgoing<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Key that picks the partition.
    pub partition_key: &'a [u8],
    /// Record key.
    pub key: &'a [u8],
    /// Value bytes.
    pub payload: &'a [u8],
    /// Headers.
    pub headers: Option<OwnedHeaders>,
}

/// A producer with idempotence on, so librdkafka's retries never duplicate or
/// reorder a record within a session. The partition is chosen from the key
/// with Kafka's default hash, so every record of a key stays in order.
pub struct Publisher {
    producer: FutureProducer,
    cfg: BusConfig,
    partitions: Mutex<HashMap<String, i32>>,
}

impl Publisher {
    /// Connect a producer (no network round trip yet).
    pub fn new(cfg: &BusConfig) -> Result<Self, BusError> {
        let producer = cfg
            .client_config()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("message.timeout.ms", cfg.produce_timeout.as_millis().to_string())
            .create()
            .map_err(BusError::kafka("producer", cfg.bootstrap()))?;
        Ok(Self { producer, cfg: cfg.clone(), partitions: Mutex::new(HashMap::new()) })
    }

    /// High watermarks of the given (topic, partition) pairs, through this
    /// producer's own connection (no new client per call).
    pub async fn ends_of(&self, partitions: &[(String, i32)]) -> Result<Vec<i64>, BusError> {
        let producer = self.producer.clone();
        let partitions = partitions.to_vec();
        let brokers = self.cfg.bootstrap().to_string();
        admin::blocking(move || {
            partitions
                .iter()
                .map(|(topic, p)| {
                    producer.client().fetch_watermarks(topic, *p, std::time::Duration::from_secs(10)).map(|(_, high)| high).map_err(BusError::kafka("fetch watermarks", &brokers))
                })
                .collect()
        })
        .await
    }

    /// The partition `key` goes to on `topic`.
    pub async fn partition_for(&self, topic: &str, key: &[u8]) -> Result<i32, BusError> {
        let cached = self.partitions.lock().map(|m| m.get(topic).copied()).unwrap_or(None);
        let count = match cached {
            Some(n) => n,
            None => {
                let n = admin::partition_count(&self.cfg, topic).await?;
                if let Ok(mut m) = self.partitions.lock() {
                    m.insert(topic.to_string(), n);
                }
                n
            }
        };
        Ok(partition::for_key(key, count))
    }

    /// Publish one record and wait until the broker has it.
    pub async fn publish(&self, topic: &str, key: &[u8], payload: &[u8]) -> Result<Delivered, BusError> {
        self.publish_with_headers(topic, key, payload, None).await
    }

    /// Publish a batch: everything is handed to librdkafka at once and every
    /// acknowledgement awaited. Order holds within each partition (idempotent
    /// producer), not across partitions; the first failure is returned. A failed
    /// batch may have left a hole: a record that timed out in the queue while
    /// later ones landed. Callers resume from what they read back as present
    /// (not from the last record at the tail).
    pub async fn publish_all(&self, records: Vec<Outgoing<'_>>) -> Result<Vec<Delivered>, BusError> {
        let mut pending = Vec::with_capacity(records.len());
        for r in records {
            let partition = self.partition_for(r.topic, r.partition_key).await?;
            let mut record = FutureRecord::to(r.topic).key(r.key).payload(r.payload).partition(partition);
            if let Some(h) = r.headers {
                record = record.headers(h);
            }
            // `send` waits for queue space if librdkafka's local queue is full.
            pending.push(self.producer.send(record, self.cfg.produce_timeout));
        }
        let mut out = Vec::with_capacity(pending.len());
        let mut first_error = None;
        for result in futures::future::join_all(pending).await {
            match result {
                Ok(d) => out.push(Delivered { partition: d.partition, offset: d.offset }),
                Err((source, _)) => {
                    first_error.get_or_insert(BusError::Kafka { op: "produce", brokers: self.cfg.bootstrap().to_string(), source });
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Publish one record with headers and wait until the broker has it.
    pub async fn publish_with_headers(
        &self,
        topic: &str,
        key: &[u8],
        payload: &[u8],
        headers: Option<OwnedHeaders>,
    ) -> Result<Delivered, BusError> {
        self.publish_keyed(topic, key, key, payload, headers).await
    }

    /// Publish with a record key that differs from the key that picks the
    /// partition (e.g. one key per event, all of a chain's events in one
    /// partition so they stay in order).
    pub async fn publish_keyed(
        &self,
        topic: &str,
        partition_key: &[u8],
        key: &[u8],
        payload: &[u8],
        headers: Option<OwnedHeaders>,
    ) -> Result<Delivered, BusError> {
        let partition = self.partition_for(topic, partition_key).await?;
        let mut record = FutureRecord::to(topic).key(key).payload(payload).partition(partition);
        if let Some(h) = headers {
            record = record.headers(h);
        }
        match self.producer.send(record, self.cfg.produce_timeout).await {
            Ok(d) => Ok(Delivered { partition: d.partition, offset: d.offset }),
            Err((source, _)) => {
                Err(BusError::Kafka { op: "produce", brokers: self.cfg.bootstrap().to_string(), source })
            }
        }
    }
}
