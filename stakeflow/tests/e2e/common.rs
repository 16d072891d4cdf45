//! Helpers shared by the scenarios: an independent topic reader (plain
//! rdkafka, not our bus crate) and the expected-topic check.

use schemas::FinalizedBlock;
use testkit::Devnet;

/// Every record of `topic`, per partition in offset order, read from the
/// beginning by a consumer that shares no code with the services (the
/// campaign's independent reader).
pub fn read_topic(bootstrap: &str, topic: &str) -> Vec<(i32, i64, Vec<u8>)> {
    campaign::reader::read_topic(bootstrap, topic)
        .unwrap_or_else(|e| panic!("reading {topic}: {e:#}"))
        .into_iter()
        .map(|r| (r.partition, r.offset, r.payload))
        .collect()
}

/// The blocks of `chain` on the topic, in topic order.
pub async fn blocks_on_topic(bootstrap: &str, chain: &str) -> Vec<FinalizedBlock> {
    let bootstrap = bootstrap.to_string();
    let records = tokio::task::spawn_blocking(move || read_topic(&bootstrap, schemas::topics::BLOCKS)).await.unwrap();
    records
        .into_iter()
        .map(|(p, o, payload)| FinalizedBlock::decode(&payload).unwrap_or_else(|e| panic!("record {p}@{o}: {e}")))
        .filter(|b| b.chain == chain)
        .collect()
}

/// The topic holds blocks 0..=`last` of the devnet exactly once, in order,
/// with the chain's own hashes and parent links.
pub async fn assert_exactly_once(blocks: &[FinalizedBlock], devnet: &Devnet, last: u64) {
    let numbers: Vec<i64> = blocks.iter().map(|b| b.number).collect();
    let expected: Vec<i64> = (0..=last as i64).collect();
    assert_eq!(numbers, expected, "every block once, in order");
    for pair in blocks.windows(2) {
        assert_eq!(pair[1].parent_hash, pair[0].hash, "parent link at {}", pair[1].number);
    }
    for b in blocks {
        assert_eq!(b.hash, devnet.block_hash(b.number as u64).await.unwrap(), "hash of block {}", b.number);
    }
}

/// The events of `chain` on the topic, in topic order.
pub async fn events_on_topic(bootstrap: &str, chain: &str) -> Vec<schemas::ChainEvent> {
    let bootstrap = bootstrap.to_string();
    let records = tokio::task::spawn_blocking(move || read_topic(&bootstrap, schemas::topics::EVENTS)).await.unwrap();
    records
        .into_iter()
        .map(|(p, o, payload)| schemas::ChainEvent::decode(&payload).unwrap_or_else(|e| panic!("event {p}@{o}: {e}")))
        .filter(|e| e.chain == chain)
        .collect()
}

/// Every event of every block is on the topic once, in (block, index) order,
/// and each block's events are as many as the block record says.
pub fn assert_events_exactly_once(events: &[schemas::ChainEvent], blocks: &[FinalizedBlock]) {
    let got: Vec<(i64, i32)> = events.iter().map(|e| (e.block_number, e.index)).collect();
    let expected: Vec<(i64, i32)> =
        blocks.iter().flat_map(|b| (0..b.event_count).map(move |i| (b.number, i))).collect();
    assert_eq!(got, expected, "every event once, in order");
    for e in events {
        let b = &blocks[e.block_number as usize];
        assert_eq!(e.block_hash, b.hash, "event {}/{} names its block's hash", e.block_number, e.index);
    }
}

/// The typed events of `chain` on `topic`, in topic order.
pub async fn typed_on_topic(bootstrap: &str, topic: &'static str, chain: &str) -> Vec<schemas::TypedEvent> {
    let bootstrap = bootstrap.to_string();
    let records = tokio::task::spawn_blocking(move || read_topic(&bootstrap, topic)).await.unwrap();
    records
        .into_iter()
        .map(|(p, o, payload)| schemas::TypedEvent::decode(&payload).unwrap_or_else(|e| panic!("typed {p}@{o}: {e}")))
        .filter(|e| e.chain == chain)
        .collect()
}

/// A fresh broker with stakeflow's topics, and a fresh embedded store.
pub struct Pipeline {
    pub broker: testkit::TestBroker,
    pub bus: bus::BusConfig,
    pub store: std::sync::Arc<dyn store::Store>,
    pub dir: tempfile::TempDir,
}

impl Pipeline {
    pub async fn start() -> Self {
        let broker = testkit::TestBroker::start().await.unwrap();
        let bus = broker.bus();
        let topics = schemas::topics::provisioned();
        bus::admin::ensure_topics(&bus, &topics.iter().map(String::as_str).collect::<Vec<_>>()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = store::EmbeddedStore::open(&dir.path().join("state.redb")).await.unwrap();
        Self { broker, bus, store: std::sync::Arc::new(store), dir }
    }

    /// The pipeline and a devnet, started side by side.
    pub async fn with_devnet() -> (Self, Devnet) {
        let (pipeline, devnet) = tokio::join!(Self::start(), Devnet::start());
        (pipeline, devnet.unwrap())
    }
}
