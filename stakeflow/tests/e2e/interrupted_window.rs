//! The resume rule against the real broker, with the crash placed exactly:
//! a window of blocks is cut off with each topic holding a different prefix
//! of its records (as a kill between acknowledgements leaves it), then ingest's
//! resume logic completes it. Every record ends up on its topic exactly once.

use std::collections::BTreeMap;

use bus::Publisher;
use chain::{BlockData, BlockFacts, EventFacts};
use ingest::outputs::{BlockExtras, Output, block_outputs};
use ingest::position::{self, HEADER, OutputPos};
use schemas::topics;
use serde_json::json;

use crate::common::{Pipeline, read_topic};

const CHAIN: &str = "window-net";

fn block(number: u64) -> BlockData {
    let ev = |index: u32, pallet: &str, variant: &str, fields| EventFacts {
        index,
        phase: "ApplyExtrinsic",
        extrinsic_index: Some(1),
        pallet: pallet.into(),
        variant: variant.into(),
        fields,
    };
    BlockData {
        facts: BlockFacts {
            number,
            hash: format!("0x{number:064x}"),
            parent_hash: format!("0x{:064x}", number.saturating_sub(1)),
            timestamp_ms: Some(1_800_000_000_000 + number * 6000),
            extrinsic_count: 2,
            event_count: 4,
            spec_version: 1,
        },
        events: vec![
            ev(0, "System", "ExtrinsicSuccess", json!({})),
            ev(1, "Staking", "Bonded", json!({"stash": "0x01", "amount": number})),
            ev(2, "Identity", "IdentitySet", json!({"who": "0x02"})),
            ev(3, "System", "ExtrinsicSuccess", json!({})),
        ],
        undecoded: vec![],
    }
}

fn window(blocks: std::ops::RangeInclusive<u64>) -> Vec<(u64, Vec<Output>)> {
    blocks.map(|n| (n, block_outputs(CHAIN, &block(n), &BlockExtras::default()).unwrap())).collect()
}

/// Positions of `CHAIN`'s records on every topic ingest writes, per topic.
fn positions_on_topics(bootstrap: &str) -> BTreeMap<String, Vec<OutputPos>> {
    let mut out = BTreeMap::new();
    for topic in topics::CHAIN {
        let records = read_topic_with_headers(bootstrap, topic);
        out.insert(topic.to_string(), records);
    }
    out
}

fn read_topic_with_headers(bootstrap: &str, topic: &str) -> Vec<OutputPos> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", testkit::unique("window-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let total: usize = read_topic(bootstrap, topic).len();
    if total == 0 {
        return Vec::new();
    }
    let md = consumer.fetch_metadata(Some(topic), std::time::Duration::from_secs(10)).unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in md.topics()[0].partitions() {
        tpl.add_partition_offset(topic, p.id(), rdkafka::Offset::Beginning).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    while out.len() < total {
        let Some(m) = consumer.poll(std::time::Duration::from_secs(10)) else { panic!("{topic}: read {} of {total}", out.len()) };
        let m = m.unwrap();
        let h = m.headers().expect("records carry headers");
        let pos = (0..h.count()).map(|i| h.get(i)).find(|h| h.key == HEADER).and_then(|h| h.value).and_then(OutputPos::parse);
        out.push(pos.expect("position header"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_window_is_completed_without_duplicates() {
    testkit::init_tracing();
    let Pipeline { broker, bus, .. } = Pipeline::start().await;
    let publisher = Publisher::new(&bus).unwrap();

    // Blocks 0..=1 certified.
    ingest::publish_window(&publisher, &window(0..=1), &position::Resume::fresh(0), ingest::oversized::DEFAULT_MAX_RECORD_BYTES).await.unwrap();
    // Window 2..=4 cut off: the events topic got its first 5 records of the
    // window, the staking topic 1, identity and blocks nothing.
    let unfinished = window(2..=4);
    let mut landed: BTreeMap<&str, usize> = BTreeMap::from([(topics::EVENTS, 5), (topics::STAKING_EVENTS, 1)]);
    let mut partial = Vec::new();
    for (number, outs) in &unfinished {
        for (seq, o) in outs.iter().enumerate() {
            let left = landed.get_mut(o.topic.as_str());
            if let Some(left) = left.filter(|l| **l > 0) {
                *left -= 1;
                let pos = OutputPos { block: *number, seq: seq as u32 }.header_value();
                partial.push((o.clone(), pos));
            }
        }
    }
    let sends = partial.iter().map(|(o, pos)| ingest::outgoing(o, pos)).collect();
    publisher.publish_all(sends).await.unwrap();

    // Ingest's resume: tails, last certified block, the rule.
    let last = ingest::last_block(&bus, &publisher, CHAIN).await.unwrap().map(|b| b.number as u64);
    assert_eq!(last, Some(1));
    let tails = ingest::tail_positions(&bus, &publisher, CHAIN).await.unwrap();
    let resume = position::resume(last, &tails, 0);
    assert_eq!(resume.block, 2);
    ingest::publish_window(&publisher, &unfinished, &resume, ingest::oversized::DEFAULT_MAX_RECORD_BYTES).await.unwrap();

    // Every output of blocks 0..=4 is on its topic once, in order.
    let expected: BTreeMap<String, Vec<OutputPos>> = {
        let mut m: BTreeMap<String, Vec<OutputPos>> = BTreeMap::new();
        for (number, outs) in window(0..=4) {
            for (seq, o) in outs.iter().enumerate() {
                m.entry(o.topic.clone()).or_default().push(OutputPos { block: number, seq: seq as u32 });
            }
        }
        m
    };
    let bootstrap = broker.bootstrap().to_string();
    let found = tokio::task::spawn_blocking(move || positions_on_topics(&bootstrap)).await.unwrap();
    for (topic, want) in &expected {
        assert_eq!(found.get(topic), Some(want), "{topic}: every record once, in order");
    }
}

/// A record over the size limit goes as a placeholder at its own position:
/// every position is on its topic once (no hole), the block still certifies,
/// and the placeholder has no value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_record_leaves_a_placeholder_not_a_hole() {
    testkit::init_tracing();
    let Pipeline { broker, bus, .. } = Pipeline::start().await;
    let publisher = Publisher::new(&bus).unwrap();
    let outs = window(0..=2);
    let (topic, biggest) = outs.iter().flat_map(|(_, o)| o.iter()).filter(|o| o.topic != topics::BLOCKS).map(|o| (o.topic.clone(), o.payload.len())).max_by_key(|(_, n)| *n).unwrap();
    let oversized = outs.iter().flat_map(|(_, o)| o.iter()).filter(|o| o.topic == topic && o.payload.len() >= biggest).count();
    ingest::publish_window(&publisher, &outs, &position::Resume::fresh(0), biggest - 1).await.unwrap();
    let last = ingest::last_block(&bus, &publisher, CHAIN).await.unwrap().map(|b| b.number);
    assert_eq!(last, Some(2), "the window certified");
    let bootstrap = broker.bootstrap().to_string();
    let b = bootstrap.clone();
    let found = tokio::task::spawn_blocking(move || positions_on_topics(&b)).await.unwrap();
    for (t, want) in window(0..=2).into_iter().flat_map(|(n, o)| o.into_iter().enumerate().map(move |(seq, o)| (o.topic, OutputPos { block: n, seq: seq as u32 }))).fold(BTreeMap::<String, Vec<OutputPos>>::new(), |mut m, (t, p)| {
        m.entry(t).or_default().push(p);
        m
    }) {
        assert_eq!(found.get(&t), Some(&want), "{t}: every position once, the oversized one included");
    }
    let t = topic.clone();
    let records = tokio::task::spawn_blocking(move || read_topic(&bootstrap, &t)).await.unwrap();
    assert_eq!(records.iter().filter(|(_, _, p)| p.is_empty()).count(), oversized, "{topic}: the placeholders carry no value");
}
