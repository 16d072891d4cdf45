//! Restart safety: ingest and the consumer are killed (their tasks aborted at
//! arbitrary points, not asked to stop) again and again while the chain
//! produces blocks; afterwards the topic holds every block exactly once, in
//! order, and the state matches, as an independent reader checks.

use std::sync::Arc;
use std::time::Duration;

use ingest::{BlockIngest, IngestConfig};
use rand::Rng;
use scoring::HeadsConsumer;
use testkit::wait;
use tokio_util::sync::CancellationToken;

use crate::common::{Pipeline, assert_events_exactly_once, assert_exactly_once, blocks_on_topic, events_on_topic};

const KILLS: usize = 6;
const BLOCKS: u32 = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_ingest_resumes_without_gap_or_duplicate() {
    chaos(true, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_consumer_resumes_without_losing_or_double_applying() {
    chaos(false, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_killed_at_once_still_end_exactly_once() {
    chaos(true, true).await;
}

/// A long backfill (the chain is far ahead when ingest first starts) killed
/// again and again: no gap, no duplicate on either topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_killed_midway_resumes_exactly() {
    testkit::init_tracing();
    let (Pipeline { broker, bus, store, .. }, devnet) = Pipeline::with_devnet().await;
    let net = devnet.network("paseo-devnet");
    devnet.new_blocks(BLOCKS).await.unwrap();
    let last = devnet.finalized_number().await.unwrap();
    // Small windows, so kills land inside and between many windows.
    let cfg = IngestConfig { window_blocks: 3, fetch_concurrency: 2, ..IngestConfig::default() };
    let start_ingest = || {
        let svc = BlockIngest::new(net.clone(), bus.clone(), cfg.clone(), store.clone());
        tokio::spawn(svc.run(CancellationToken::new()))
    };
    let mut published = 0;
    for _ in 0..KILLS * 2 {
        let task = start_ingest();
        let after = rand::rng().random_range(20..600);
        tokio::time::sleep(Duration::from_millis(after)).await; // fault injection, not synchronisation
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        published = blocks_on_topic(broker.bootstrap(), &net.name).await.len();
    }
    assert!(published as u64 <= last + 1);
    let ingest = start_ingest();
    let blocks = wait::until("the backfill to finish", Duration::from_secs(180), || async {
        let blocks = blocks_on_topic(broker.bootstrap(), &net.name).await;
        (blocks.len() as u64 > last).then_some(blocks)
    })
    .await
    .unwrap();
    ingest.abort();
    assert_exactly_once(&blocks, &devnet, last).await;
    assert_events_exactly_once(&events_on_topic(broker.bootstrap(), &net.name).await, &blocks);
}

/// Kill ingest and/or the consumer `KILLS` times at random points while the
/// chain builds `BLOCKS` blocks; a service that is not being killed runs throughout.
async fn chaos(kill_ingest: bool, kill_consumer: bool) {
    testkit::init_tracing();
    let (Pipeline { broker, bus, store, .. }, devnet) = Pipeline::with_devnet().await;
    let devnet = Arc::new(devnet);
    let net = devnet.network("paseo-devnet");

    // The chain keeps producing blocks while we kill things.
    let producer = {
        let devnet = devnet.clone();
        tokio::spawn(async move {
            for _ in 0..BLOCKS {
                devnet.new_blocks(1).await.unwrap();
            }
        })
    };

    let start_ingest = || {
        let svc = BlockIngest::new(net.clone(), bus.clone(), IngestConfig::default(), store.clone());
        tokio::spawn(svc.run(CancellationToken::new()))
    };
    let start_consumer = || tokio::spawn(HeadsConsumer::new(bus.clone(), store.clone()).run(CancellationToken::new()));

    let steady_ingest = (!kill_ingest).then(start_ingest);
    let steady_consumer = (!kill_consumer).then(start_consumer);
    let ingest_chaos = async {
        for _ in 0..if kill_ingest { KILLS } else { 0 } {
            let task = start_ingest();
            let after = rand::rng().random_range(50..2500);
            tokio::time::sleep(Duration::from_millis(after)).await; // fault injection, not synchronisation
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
        }
    };
    let consumer_chaos = async {
        for _ in 0..if kill_consumer { KILLS } else { 0 } {
            let task = start_consumer();
            let after = rand::rng().random_range(50..2500);
            tokio::time::sleep(Duration::from_millis(after)).await; // fault injection, not synchronisation
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
        }
    };
    tokio::join!(ingest_chaos, consumer_chaos);
    producer.await.unwrap();

    // The killed ones restart once more and are left to finish.
    let last = devnet.finalized_number().await.unwrap();
    let ingest = steady_ingest.unwrap_or_else(start_ingest);
    let consumer = steady_consumer.unwrap_or_else(start_consumer);
    let head = wait::until("state to reach the last block", Duration::from_secs(180), || async {
        let heads = store.chain_heads(scoring::HEADS_CONSUMER).await.unwrap();
        heads.into_iter().find(|h| h.chain == net.name && h.number == last)
    })
    .await
    .unwrap();

    let blocks = blocks_on_topic(broker.bootstrap(), &net.name).await;
    assert_exactly_once(&blocks, &devnet, last).await;
    assert_events_exactly_once(&events_on_topic(broker.bootstrap(), &net.name).await, &blocks);
    assert_eq!(head.hash, blocks.last().unwrap().hash);
    assert_eq!(head.applied_blocks, last + 1, "each block applied exactly once");
    let positions = store.positions(scoring::HEADS_CONSUMER, schemas::topics::BLOCKS).await.unwrap();
    let consumed: i64 = positions.iter().map(|p| p.next_offset).sum();
    assert_eq!(consumed, blocks.len() as i64, "the stored position is just past the last record");

    ingest.abort();
    consumer.abort();
}
