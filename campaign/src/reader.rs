//! An independent reader of the topics: plain rdkafka, none of our bus code,
//! every record from the beginning with its key and `stakeflow.pos` header.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

/// One record as it is on the topic.
#[derive(Debug, Clone)]
pub struct Raw {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    /// The `stakeflow.pos` header, when there is one.
    pub pos: Option<String>,
    pub payload: Vec<u8>,
}

/// Every record of `topic`, per partition in offset order.
pub fn read_topic(bootstrap: &str, topic: &str) -> anyhow::Result<Vec<Raw>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("campaign-reader-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "50")
        .create()
        .context("reader")?;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(20)).with_context(|| format!("metadata of {topic}"))?;
    let partitions: Vec<i32> = md.topics().first().map(|t| t.partitions().iter().map(|p| p.id()).collect()).unwrap_or_default();
    let mut tpl = TopicPartitionList::new();
    let mut ends = HashMap::new();
    for &p in &partitions {
        let (lo, hi) = consumer.fetch_watermarks(topic, p, Duration::from_secs(20)).with_context(|| format!("watermarks of {topic}/{p}"))?;
        if hi > lo {
            tpl.add_partition_offset(topic, p, Offset::Beginning)?;
            ends.insert(p, hi);
        }
    }
    let mut out = Vec::new();
    if ends.is_empty() {
        return Ok(out);
    }
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut open: HashMap<i32, i64> = ends;
    while !open.is_empty() {
        anyhow::ensure!(Instant::now() < deadline, "reading {topic} did not finish within 300 s");
        let Some(msg) = consumer.poll(Duration::from_millis(500)) else { continue };
        let msg = msg.with_context(|| format!("consuming {topic}"))?;
        let pos = msg.headers().and_then(|h| {
            h.iter().find(|h| h.key == schemas::position::HEADER).and_then(|h| h.value).map(|v| String::from_utf8_lossy(v).into_owned())
        });
        out.push(Raw {
            topic: topic.to_string(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            pos,
            payload: msg.payload().unwrap_or_default().to_vec(),
        });
        if open.get(&msg.partition()).is_some_and(|&end| msg.offset() + 1 >= end) {
            open.remove(&msg.partition());
        }
    }
    out.sort_by_key(|r| (r.partition, r.offset));
    Ok(out)
}

/// `read_topic` off the async workers.
pub async fn read(bootstrap: &str, topic: &str) -> anyhow::Result<Vec<Raw>> {
    let (b, t) = (bootstrap.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || read_topic(&b, &t)).await?
}
