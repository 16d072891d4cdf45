//! The thin slice: a finalized block on the chain becomes an Avro record on
//! the topic, the consumer turns it into state, the API serves that state.

use std::sync::Arc;
use std::time::Duration;

use api::{ApiConfig, AppState};
use ingest::{BlockIngest, IngestConfig};
use scoring::HeadsConsumer;
use store::{EmbeddedStore, Store};
use testkit::{Devnet, TestBroker, wait};
use tokio_util::sync::CancellationToken;

use crate::common::{assert_exactly_once, blocks_on_topic};

async fn ready(client: &reqwest::Client, url: &str) -> (u16, serde_json::Value) {
    let resp = client.get(url).send().await.expect("GET /ready");
    (resp.status().as_u16(), resp.json().await.expect("json body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_flows_from_chain_to_topic_to_state_to_api() {
    testkit::init_tracing();
    let (broker, devnet) = tokio::join!(TestBroker::start(), Devnet::start());
    let (broker, devnet) = (broker.unwrap(), devnet.unwrap());
    let bus = broker.bus();
    let topics = schemas::topics::provisioned();
    bus::admin::ensure_topics(&bus, &topics.iter().map(String::as_str).collect::<Vec<_>>()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("state.redb")).await.unwrap());
    let net = devnet.network("paseo-devnet");
    let token = CancellationToken::new();

    let ingest = BlockIngest::new(net.clone(), bus.clone(), IngestConfig::default(), store.clone());
    let ingest = tokio::spawn(ingest.run(token.child_token()));
    let scoring = tokio::spawn(HeadsConsumer::new(bus.clone(), store.clone()).run(token.child_token()));
    let api_cfg = ApiConfig { listen: "127.0.0.1:0".parse().unwrap(), ready_max_lag: 0 };
    let state = AppState {
        store: store.clone(),
        networks: Arc::new(vec![net.name.clone()]),
        consumer: scoring::CONSUMER,
        ready_max_lag: 0,
    };
    let (addr, server) = api::serve(&api_cfg, state, token.child_token()).await.unwrap();
    let url = format!("http://{addr}/ready");
    let http = reqwest::Client::new();

    let health = http.get(format!("http://{addr}/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);

    devnet.new_blocks(3).await.unwrap();
    let target = devnet.finalized_number().await.unwrap();
    let body = wait::until("applied state to reach the chain head", Duration::from_secs(120), || async {
        let (status, body) = ready(&http, &url).await;
        (status == 200 && body["chains"][0]["applied"].as_u64() == Some(target)).then_some(body)
    })
    .await
    .unwrap();
    assert_eq!(body["chains"][0]["seen_on_chain"].as_u64(), Some(target));
    assert_eq!(body["chains"][0]["lag"].as_u64(), Some(0));

    // The state is the chain's block, and every block was applied once.
    let head = store.chain_heads(scoring::CONSUMER).await.unwrap().pop().unwrap();
    assert_eq!(head.hash, devnet.block_hash(target).await.unwrap());
    assert_eq!(head.applied_blocks, target + 1);
    assert!(head.timestamp_ms.is_some());
    assert_exactly_once(&blocks_on_topic(broker.bootstrap(), &net.name).await, &devnet, target).await;

    // New blocks keep flowing; while they do not, the API says not ready.
    devnet.new_blocks(2).await.unwrap();
    let target2 = devnet.finalized_number().await.unwrap();
    assert_eq!(target2, target + 2);
    wait::until("the next blocks to be applied", Duration::from_secs(120), || async {
        let (status, body) = ready(&http, &url).await;
        (status == 200 && body["chains"][0]["applied"].as_u64() == Some(target2)).then_some(())
    })
    .await
    .unwrap();
    let blocks = blocks_on_topic(broker.bootstrap(), &net.name).await;
    assert_exactly_once(&blocks, &devnet, target2).await;
    // The record carries what the block holds: timestamp.set and paraInherent.enter.
    assert!(blocks.last().unwrap().extrinsic_count >= 2);
    assert!(blocks.last().unwrap().event_count >= 2);

    token.cancel();
    ingest.await.unwrap().unwrap();
    scoring.await.unwrap().unwrap();
    server.await.unwrap().unwrap();
}
