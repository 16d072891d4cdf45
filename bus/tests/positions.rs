//! A stored position the broker's partition cannot have stops the reader
//! with a clear error, against the real (embedded) broker: a topic that was
//! recreated (so it is empty again) is never read from offset 0 as if new.

use bus::consumer::{PartitionReader, Position};
use bus::embedded::EmbeddedBroker;
use bus::{BusConfig, BusError, Publisher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_beyond_the_end_of_a_recreated_topic_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    let bus = BusConfig::for_brokers(broker.bootstrap());
    bus::admin::ensure_topics(&bus, &["positions.t"]).await.unwrap();
    let publisher = Publisher::new(&bus).unwrap();
    for i in 0..3u8 {
        publisher.publish("positions.t", b"k", &[i]).await.unwrap();
    }
    let partition = publisher.partition_for("positions.t", b"k").await.unwrap();
    // Where a consumer had got to on the old topic: past what the broker now holds.
    let (_, high) = bus::admin::watermarks(&bus, "positions.t", partition).await.unwrap();
    let stored = [Position { partition, next_offset: high + 7 }];
    match PartitionReader::assign(&bus, "positions-group", "positions.t", &stored).await {
        Err(e @ BusError::PositionMismatch { .. }) => {
            assert!(e.to_string().contains("beyond the partition's end"), "{e}");
            assert!(!e.is_transient(), "retrying cannot help: the consumer stops");
        }
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("a reader was assigned beyond the end"),
    }
    // At its end it is fine: caught up.
    PartitionReader::assign(&bus, "positions-group", "positions.t", &[Position { partition, next_offset: high }]).await.expect("at the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_topic_with_another_partition_count_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    let bus = BusConfig::for_brokers(broker.bootstrap());
    let blocks = schemas::topics::BLOCKS;
    bus::admin::ensure_topics(&bus, &[blocks]).await.unwrap();
    bus::admin::ensure_topics(&bus, &[blocks]).await.expect("the same count again");
    let more = BusConfig { partitions: bus.partitions + 2, ..bus.clone() };
    match bus::admin::ensure_topics(&more, &[blocks]).await {
        Err(e @ BusError::TopicMismatch { .. }) => assert!(e.to_string().contains(&format!("set kafka.partitions = {}", bus.partitions)), "{e}"),
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_topic_that_deletes_old_records_is_refused() {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    let bus = BusConfig::for_brokers(broker.bootstrap());
    // Someone created the events topic by hand with a week's retention.
    let admin: AdminClient<DefaultClientContext> = bus.client_config().create().unwrap();
    let week = (7 * 24 * 3600 * 1000_i64).to_string();
    let topic = NewTopic::new(schemas::topics::EVENTS, bus.partitions, TopicReplication::Fixed(1)).set("retention.ms", &week);
    admin.create_topics(&[topic], &AdminOptions::new()).await.unwrap().into_iter().for_each(|r| {
        r.unwrap();
    });
    match bus::admin::ensure_topics(&bus, &[schemas::topics::EVENTS]).await {
        Err(e @ BusError::TopicMismatch { .. }) => assert!(e.to_string().contains("retention.ms=-1"), "{e}"),
        other => panic!("not refused: {other:?}"),
    }
    // Accepted where the operator says a week is enough.
    let week_ok = BusConfig { min_retention: Some(std::time::Duration::from_secs(7 * 24 * 3600)), ..bus.clone() };
    bus::admin::ensure_topics(&week_ok, &[schemas::topics::EVENTS]).await.expect("a week is the minimum asked for");
    // Topics stakeflow creates itself keep history and pass.
    bus::admin::ensure_topics(&bus, &[schemas::topics::BLOCKS]).await.unwrap();
    bus::admin::ensure_topics(&bus, &[schemas::topics::BLOCKS]).await.expect("its own topic, again");
}

/// The end offsets asked in one request per pass are each partition's high
/// watermark as the broker gives it one partition at a time: empty partitions
/// at 0, written ones past their last record, and again after more is written
/// (the counts are kept, the offsets never are). A topic that is missing is an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_offsets_of_many_topics_at_once_are_each_partitions_high_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    let bus = BusConfig::for_brokers(broker.bootstrap());
    let (a, b) = ("ends.a", "ends.b");
    bus::admin::ensure_topics(&bus, &[a, b]).await.unwrap();
    let publisher = Publisher::new(&bus).unwrap();
    let one_by_one = || async {
        let mut out = Vec::new();
        for topic in [a, b] {
            for p in 0..bus.partitions {
                out.push((topic.to_string(), p, bus::admin::watermarks(&bus, topic, p).await.unwrap().1));
            }
        }
        out
    };
    let ends = bus::admin::EndOffsets::new(&bus).unwrap();
    let empty = ends.of(&[a, b]).await.unwrap();
    assert_eq!(empty, one_by_one().await);
    assert!(empty.iter().all(|(.., h)| *h == 0), "{empty:?}");

    for i in 0..5u8 {
        publisher.publish(a, &[i], &[i]).await.unwrap();
    }
    publisher.publish(b, b"k", b"v").await.unwrap();
    let written = ends.of(&[a, b]).await.unwrap();
    assert_eq!(written, one_by_one().await);
    let total = |t: &str| written.iter().filter(|(x, ..)| x == t).map(|(.., h)| h).sum::<i64>();
    assert_eq!((total(a), total(b)), (5, 1));

    match ends.of(&[a, "ends.missing"]).await {
        Err(BusError::MissingTopic { topic, .. }) => assert_eq!(topic, "ends.missing"),
        other => panic!("a missing topic answered: {other:?}"),
    }
}
