//! One writer per stream: two ingests of one chain started at once (two
//! holders over one store and one broker) publish every block and event
//! once; when the holder dies without releasing its lease, the standby takes
//! over once the lease lapses and carries on without a gap or a duplicate.
//! Two scorers over one store: only the lease holder saves and publishes, so
//! every round is on its topic once.

use std::sync::Arc;
use std::time::Duration;

use ingest::{BlockIngest, IngestConfig};
use schemas::topics;
use scoring::scorer::{ProgrammeConfig, SCORER, ScoredNetwork, Scorer};
use store::lease::LeaseRow;
use store::{Namespaces, Store, StoreConfig};
use testkit::wait;
use tokio_util::sync::CancellationToken;

use crate::common::{Pipeline, assert_events_exactly_once, assert_exactly_once, blocks_on_topic, events_on_topic, read_topic};

async fn holder(store: &dyn Store, consumer: &str, subject: &str) -> Option<String> {
    let row: LeaseRow = serde_json::from_slice(&store.load_state(consumer, &format!("lease/{subject}")).await.ok()??).ok()?;
    (row.expires_at_ms > 0).then_some(row.holder)
}

async fn wait_blocks_to(bootstrap: &str, chain: &str, last: u64) {
    wait::until(&format!("block {last} on the topic"), Duration::from_secs(120), || async {
        blocks_on_topic(bootstrap, chain).await.last().filter(|b| b.number as u64 >= last).map(|_| ())
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingests_of_one_chain_publish_each_record_once_and_a_standby_takes_over() {
    testkit::init_tracing();
    let (pipeline, devnet) = Pipeline::with_devnet().await;
    let net = devnet.network("paseo-devnet");
    let bootstrap = pipeline.broker.bootstrap().to_string();
    let cfg = IngestConfig { lease_ttl: Duration::from_secs(2), ..IngestConfig::default() };
    let ingest = |who: &str| BlockIngest::new(net.clone(), pipeline.bus.clone(), cfg.clone(), pipeline.store.clone()).with_holder(who);
    let token = CancellationToken::new();
    let a = tokio::spawn(ingest("a").run(token.clone()));
    let b = tokio::spawn(ingest("b").run(token.clone()));
    devnet.new_blocks(4).await.unwrap();
    let head = devnet.finalized_number().await.unwrap();
    wait_blocks_to(&bootstrap, &net.name, head).await;
    let first = holder(pipeline.store.as_ref(), ingest::INGEST, &net.name).await.expect("a holder");

    // The holder dies (its task is gone, its lease left to lapse); the other takes over.
    let (dead, standby) = if first == "a" { (a, b) } else { (b, a) };
    dead.abort();
    let _ = dead.await;
    devnet.new_blocks(4).await.unwrap();
    let head = devnet.finalized_number().await.unwrap();
    wait_blocks_to(&bootstrap, &net.name, head).await;
    let second = holder(pipeline.store.as_ref(), ingest::INGEST, &net.name).await.expect("a holder");
    assert_ne!(first, second, "the standby holds the lease");

    let blocks = blocks_on_topic(&bootstrap, &net.name).await;
    assert_exactly_once(&blocks, &devnet, head).await;
    assert_events_exactly_once(&events_on_topic(&bootstrap, &net.name).await, &blocks);
    token.cancel();
    standby.await.unwrap().unwrap();
    assert_eq!(holder(pipeline.store.as_ref(), ingest::INGEST, &net.name).await, None, "released on shutdown, for a standby to take at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_scorers_only_the_lease_holder_publishes_rounds() {
    testkit::init_tracing();
    let (pipeline, devnet) = Pipeline::with_devnet().await;
    let net = devnet.network("paseo-devnet");
    let bootstrap = pipeline.broker.bootstrap().to_string();
    let token = CancellationToken::new();
    tokio::spawn(BlockIngest::new(net.clone(), pipeline.bus.clone(), IngestConfig::default(), pipeline.store.clone()).run(token.clone()));
    let namespaces = Arc::new(Namespaces::new(StoreConfig::Embedded { path: pipeline.dir.path().join("state.redb") }, pipeline.store.clone()));
    let scorer = |who: &str| {
        let scored = ScoredNetwork::new(&net.name, (&net.name, &net.name, &net.name), 10, 42, ProgrammeConfig::default()).unwrap();
        Scorer::new(pipeline.bus.clone(), namespaces.clone(), vec![scored], 1).with_idle(Duration::from_millis(100)).with_lease(who, Duration::from_secs(2))
    };
    tokio::spawn(scorer("one").run(token.clone()));
    tokio::spawn(scorer("two").run(token.clone()));
    // Three sessions, three rounds.
    for _ in 0..3 {
        devnet.force_session().await.unwrap();
    }
    let session = devnet.session_index().await.unwrap();
    let rounds = wait::until("the rounds of every session", Duration::from_secs(180), || {
        let bootstrap = bootstrap.clone();
        async move {
            let raw = tokio::task::spawn_blocking(move || read_topic(&bootstrap, topics::ROUNDS)).await.ok()?;
            let rounds: Vec<i64> = raw.iter().filter_map(|(_, _, p)| schemas::Round::decode(p).ok()).map(|r| r.round).collect();
            rounds.contains(&i64::from(session)).then_some(rounds)
        }
    })
    .await
    .unwrap();
    let mut unique = rounds.clone();
    unique.dedup();
    assert_eq!(rounds, unique, "each round once, in order: {rounds:?}");
    let h = holder(pipeline.store.as_ref(), SCORER, &scoring::scorer::lease_subject("paseo-devnet")).await.expect("a holder");
    assert!(h == "one" || h == "two", "{h}");
    token.cancel();
}
