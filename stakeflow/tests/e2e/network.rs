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
