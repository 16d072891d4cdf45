//! The resume rule against the real broker, with the crash placed exactly:
//! a window of blocks is cut off with each topic holding a different part of
//! its records (a prefix, as a kill between acknowledgements leaves it, or a
//! prefix with a hole, as a record that timed out in the queue while later ones
//! landed leaves it), then ingest's resume logic completes it in shorter
//! windows. Every record ends up on its topic exactly once.

use std::collections::BTreeMap;

use bus::Publisher;
use ingest::outputs::{BlockExtras, Output, block_outputs};
use ingest::position::{self, HEADER, OutputPos};
use schemas::topics;
use testkit::blocks::synthetic as block;

use crate::common::{Pipeline, read_topic};

const CHAIN: &str = "window-net";

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
    // window but the third, the staking topic 1, identity and blocks nothing.
    let unfinished = window(2..=4);
    let landed: BTreeMap<&str, Vec<usize>> = BTreeMap::from([(topics::EVENTS, vec![0, 1, 3, 4]), (topics::STAKING_EVENTS, vec![0])]);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut partial = Vec::new();
    for (number, outs) in &unfinished {
        for (seq, o) in outs.iter().enumerate() {
            let Some((topic, wanted)) = landed.get_key_value(o.topic.as_str()) else { continue };
            let nth = seen.entry(topic).or_default();
            if wanted.contains(nth) {
                partial.push((o.clone(), OutputPos { block: *number, seq: seq as u32 }.header_value()));
            }
            *nth += 1;
        }
    }
    let sends = partial.iter().map(|(o, pos)| ingest::outgoing(o, pos)).collect();
    publisher.publish_all(sends).await.unwrap();

    // Ingest's resume: last certified block, what each topic has after it, the rule.
    let mut marks = ingest::Marks::default();
    let last = ingest::last_block(&bus, &publisher, CHAIN, &mut marks).await.unwrap().map(|b| b.number);
    assert_eq!(last, Some(1));
    let present = ingest::present_positions(&bus, &publisher, CHAIN, 2, &mut marks).await.unwrap();
    let mut resume = position::resume(last, present, 0);
    assert_eq!(resume.block, 2);
    assert_eq!(resume.present_count(), 5);
    // Completed in windows shorter than the interrupted one.
    for blocks in [2..=2, 3..=4] {
        let next = blocks.end() + 1;
        let outs: Vec<_> = unfinished.iter().filter(|(n, _)| blocks.contains(n)).cloned().collect();
        marks.window_starts(&publisher, CHAIN).await.unwrap();
        let delivered = ingest::publish_window(&publisher, &outs, &resume, ingest::oversized::DEFAULT_MAX_RECORD_BYTES).await.unwrap();
        marks.certified(&delivered, *blocks.end(), &block(*blocks.end()).facts.hash);
        resume.certified_before(next);
    }
    // The marks bound the next read back: nothing of the chain above them is uncertified.
    let mut again = marks.clone();
    assert_eq!(ingest::last_block(&bus, &publisher, CHAIN, &mut again).await.unwrap().map(|b| b.number), Some(4));
    assert!(ingest::present_positions(&bus, &publisher, CHAIN, 5, &mut again).await.unwrap().is_empty());

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
        let mut got = found.get(topic).cloned().unwrap_or_default();
        if topic.as_str() == topics::EVENTS {
            // The hole is filled after what had landed behind it; the scorer applies it with its block.
            let hole = got.iter().position(|p| *p == OutputPos { block: 2, seq: 3 }).expect("the hole is filled");
            assert!(got[hole + 1..].iter().all(|p| p.block > 2 || p.seq > 3), "only the hole is out of order: {got:?}");
        }
        got.sort();
        assert_eq!(&got, want, "{topic}: every record once");
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
    let last = ingest::last_block(&bus, &publisher, CHAIN, &mut ingest::Marks::default()).await.unwrap().map(|b| b.number);
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
