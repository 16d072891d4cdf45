//! The thin slice: a finalized block on the chain becomes an Avro record on
//! the topic, the consumer turns it into state, the API serves that state.

use std::sync::Arc;
use std::time::Duration;

use api::{ApiConfig, AppState};
use ingest::{BlockIngest, IngestConfig};
use scoring::HeadsConsumer;
use testkit::wait;
use tokio_util::sync::CancellationToken;

use crate::common::{Pipeline, 
    assert_events_exactly_once, assert_exactly_once, blocks_on_topic, events_on_topic, typed_on_topic,
};

async fn ready(client: &reqwest::Client, url: &str) -> (u16, serde_json::Value) {
    let resp = client.get(url).send().await.expect("GET /ready");
    (resp.status().as_u16(), resp.json().await.expect("json body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_flows_from_chain_to_topic_to_state_to_api() {
    testkit::init_tracing();
    let (Pipeline { broker, bus, store, .. }, devnet) = Pipeline::with_devnet().await;
    let net = devnet.network("paseo-devnet");
    let token = CancellationToken::new();

    let ingest = BlockIngest::new(net.clone(), bus.clone(), IngestConfig::default(), store.clone());
    let ingest = tokio::spawn(ingest.run(token.child_token()));
    let scoring = tokio::spawn(HeadsConsumer::new(bus.clone(), store.clone()).run(token.child_token()));
    let api_cfg = ApiConfig { listen: "127.0.0.1:0".parse().unwrap(), ready_max_lag: 0, ..Default::default() };
    let state = AppState {
        store: store.clone(),
        networks: Arc::new(vec![net.name.clone()]),
        consumer: scoring::HEADS_CONSUMER,
        ready_max_lag: 0, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX,
        metrics: None,
        uptime_window_ms: 0,
        namespaces: None,
        scored_networks: Arc::new(vec![]), nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None,
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
    let head = store.chain_heads(scoring::HEADS_CONSUMER).await.unwrap().pop().unwrap();
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

    // A real signed extrinsic: its events reach the events topic with the
    // values a direct storage read gives.
    let ferdie = subxt_signer::sr25519::dev::ferdie();
    let who = testkit::accounts::account_id(&ferdie);
    devnet.fund(who, 1_000_000 * testkit::accounts::UNIT).await.unwrap();
    devnet.bond(&ferdie, 123_000 * testkit::accounts::UNIT).await.unwrap();
    let target3 = devnet.finalized_number().await.unwrap();
    wait::until("the bond block to be applied", Duration::from_secs(120), || async {
        let (status, body) = ready(&http, &url).await;
        (status == 200 && body["chains"][0]["applied"].as_u64() == Some(target3)).then_some(())
    })
    .await
    .unwrap();
    let blocks = blocks_on_topic(broker.bootstrap(), &net.name).await;
    let events = events_on_topic(broker.bootstrap(), &net.name).await;
    assert_exactly_once(&blocks, &devnet, target3).await;
    assert_events_exactly_once(&events, &blocks);
    let bonded = events.iter().find(|e| e.pallet == "Staking" && e.variant == "Bonded").expect("Staking::Bonded published");
    assert_eq!(bonded.phase, "ApplyExtrinsic");
    let fields: serde_json::Value = serde_json::from_str(&bonded.fields_json).unwrap();
    assert_eq!(fields["stash"], format!("0x{}", hex::encode(who)));
    let ledger = devnet.client("devnet").await.unwrap().api().at_current_block().await.unwrap();
    let ledger = ledger
        .storage()
        .fetch(subxt::dynamic::storage::<([u8; 32],), scale_value::Value>("Staking", "Ledger"), (who,))
        .await
        .unwrap()
        .decode()
        .unwrap();
    use scale_value::At;
    let active = ledger.at("active").and_then(|v| v.as_u128()).expect("Ledger.active");
    let amount = |v: &serde_json::Value| v.as_u64().map(u128::from).or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    assert_eq!(amount(&fields["amount"]), Some(active), "event amount equals Staking.Ledger[stash].active");

    // The same event as a typed record on the staking topic.
    let typed = typed_on_topic(broker.bootstrap(), schemas::topics::STAKING_EVENTS, &net.name).await;
    let bonded_typed = typed.iter().find(|t| t.kind == "Bonded").expect("typed Bonded");
    assert_eq!(bonded_typed.account.as_deref(), Some(format!("0x{}", hex::encode(who)).as_str()));
    assert_eq!(bonded_typed.amount.as_deref(), Some(active.to_string().as_str()));
    assert_eq!((bonded_typed.block_number, bonded_typed.index), (bonded.block_number, bonded.index));

    token.cancel();
    ingest.await.unwrap().unwrap();
    scoring.await.unwrap().unwrap();
    server.await.unwrap().unwrap();
}
