//! Network configuration against the real chain: a dead endpoint fails over to
//! the next, and an endpoint serving another chain than the configured
//! genesis is refused, by the client and by ingest (which stops instead of
//! retrying forever).

use std::sync::Arc;

use chain::{ChainClient, ChainError};
use ingest::{BlockIngest, IngestConfig, IngestError};
use store::{EmbeddedStore, Store};
use testkit::Devnet;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_endpoints_fail_over_and_a_wrong_genesis_is_refused() {
    testkit::init_tracing();
    let devnet = Devnet::start().await.unwrap();
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut net = devnet.network("net");
    net.endpoints = vec![format!("ws://127.0.0.1:{dead_port}").parse().unwrap(), devnet.ws_url().parse().unwrap()];

    let client = ChainClient::connect(&net).await.expect("fails over to the live endpoint");
    assert_eq!(client.endpoint(), devnet.ws_url(), "shown without credentials, path or query");

    net.genesis_hash = Some(client.genesis_hash());
    ChainClient::connect(&net).await.expect("the right genesis is accepted");

    net.genesis_hash = Some(format!("0x{}", "00".repeat(32)));
    let err = ChainClient::connect(&net).await.err().expect("a wrong genesis is refused");
    assert!(matches!(err, ChainError::WrongGenesis { .. }), "{err}");
    assert!(err.to_string().contains("refusing"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    let ingest = BlockIngest::new(net, bus::BusConfig::for_brokers("127.0.0.1:9"), IngestConfig::default(), store);
    let result = tokio::time::timeout(std::time::Duration::from_secs(60), ingest.run(CancellationToken::new()))
        .await
        .expect("ingest stops on a wrong genesis instead of retrying");
    assert!(matches!(result, Err(IngestError::Chain(ChainError::WrongGenesis { .. }))), "{result:?}");
}

/// The node's connection goes silent mid-subscription (a TCP black hole: open,
/// carrying nothing) while the chain moves on: ingest finds the silence, asks
/// the node, gets no answer, and fails over to the next endpoint; every block
/// reaches the topic once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_connection_is_found_stalled_and_failed_over() {
    use std::time::Duration;

    use crate::common::{Pipeline, assert_exactly_once, blocks_on_topic};

    testkit::init_tracing();
    let (pipeline, devnet) = Pipeline::with_devnet().await;
    let target: std::net::SocketAddr = devnet.ws_url().trim_start_matches("ws://").parse().unwrap();
    let proxy = testkit::TcpProxy::start(target).await.unwrap();
    let mut net = devnet.network("paseo-devnet");
    net.endpoints = vec![proxy.ws_url().parse().unwrap(), devnet.ws_url().parse().unwrap()];
    let cfg = IngestConfig { stall_after: Duration::from_secs(3), stall_probe: Duration::from_secs(2), ..IngestConfig::default() };
    let token = CancellationToken::new();
    let ingest = tokio::spawn(BlockIngest::new(net.clone(), pipeline.bus.clone(), cfg, pipeline.store.clone()).run(token.clone()));
    let bootstrap = pipeline.broker.bootstrap().to_string();
    let reached = |last: u64| {
        let bootstrap = bootstrap.clone();
        let name = net.name.clone();
        async move {
            testkit::wait::until(&format!("block {last} on the topic"), Duration::from_secs(120), move || {
                let (bootstrap, name) = (bootstrap.clone(), name.clone());
                async move { blocks_on_topic(&bootstrap, &name).await.last().filter(|b| b.number as u64 >= last).map(|_| ()) }
            })
            .await
        }
    };
    devnet.new_blocks(2).await.unwrap();
    reached(devnet.finalized_number().await.unwrap()).await.unwrap();

    proxy.black_hole(true);
    devnet.new_blocks(3).await.unwrap();
    let head = devnet.finalized_number().await.unwrap();
    reached(head).await.expect("failed over to the live endpoint");
    assert_exactly_once(&blocks_on_topic(&bootstrap, &net.name).await, &devnet, head).await;
    token.cancel();
    ingest.await.unwrap().unwrap();
}
