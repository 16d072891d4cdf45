//! Bad input on the blocks topic: a record that is not ours goes to the
//! dead-letter topic with its bytes and the reason, and the consumer carries
//! on with the next record. Only the broker is needed.

use std::time::Duration;

use bus::Publisher;
use scoring::HeadsConsumer;
use schemas::{FinalizedBlock, topics};
use testkit::wait;
use tokio_util::sync::CancellationToken;

use crate::common::{Pipeline, read_topic};

fn block(number: i64) -> FinalizedBlock {
    FinalizedBlock {
        chain: "garbage-net".into(),
        number,
        hash: format!("0x{number:064x}"),
        parent_hash: format!("0x{:064x}", number - 1),
        timestamp_ms: Some(1_800_000_000_000),
        extrinsic_count: 2,
        event_count: 2,
        spec_version: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_records_go_to_the_dead_letter_topic_and_nothing_else_is_lost() {
    testkit::init_tracing();
    let Pipeline { broker, bus, store, .. } = Pipeline::start().await;
    let publisher = Publisher::new(&bus).unwrap();
    let key = topics::chain_key("garbage-net");
    publisher.publish(topics::BLOCKS, &key, &block(1).encode().unwrap()).await.unwrap();
    publisher.publish(topics::BLOCKS, &key, b"{\"not\": \"avro\"}").await.unwrap();
    let mut foreign = block(2).encode().unwrap();
    foreign[4] = 77; // a schema id we do not know
    publisher.publish(topics::BLOCKS, &key, &foreign).await.unwrap();
    publisher.publish(topics::BLOCKS, &key, &block(2).encode().unwrap()).await.unwrap();

    let token = CancellationToken::new();
    let consumer = tokio::spawn(HeadsConsumer::new(bus.clone(), store.clone()).run(token.child_token()));
    let head = wait::until("block 2 to be applied", Duration::from_secs(60), || async {
        store.chain_heads(scoring::HEADS_CONSUMER).await.unwrap().into_iter().find(|h| h.number == 2)
    })
    .await
    .unwrap();
    assert_eq!(head.applied_blocks, 2, "the two good blocks, each once");
    token.cancel();
    consumer.await.unwrap().unwrap();

    let bootstrap = broker.bootstrap().to_string();
    let dlq = tokio::task::spawn_blocking(move || read_topic(&bootstrap, &topics::dead_letter(topics::BLOCKS)))
        .await
        .unwrap();
    let payloads: Vec<Vec<u8>> = dlq.into_iter().map(|(_, _, p)| p).collect();
    assert_eq!(payloads, vec![b"{\"not\": \"avro\"}".to_vec(), foreign], "both bad records, bytes intact, in order");
    // The consumer's position is past all four records.
    let positions = store.positions(scoring::HEADS_CONSUMER, topics::BLOCKS).await.unwrap();
    assert_eq!(positions.iter().map(|p| p.next_offset).sum::<i64>(), 4);
}
