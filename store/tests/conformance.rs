//! The store conformance suite: always on the embedded store; on ScyllaDB
//! only when `SCYLLA_URI` is set, as an ignored test that `scripts/test` runs
//! (`--include-ignored`) then, so without a server it is reported as skipped,
//! never as passed.

use std::sync::Arc;

use store::conformance::{Opener, checks};
use store::{EmbeddedStore, ScyllaStore, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_conforms() {
    for (name, check) in checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let open: Opener = Arc::new(move || {
            let path = path.clone();
            Box::pin(async move { Arc::new(EmbeddedStore::open(&path).await.unwrap()) as Arc<dyn Store> })
        });
        eprintln!("embedded: {name}");
        check(open).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ScyllaDB: set SCYLLA_URI (scripts/test then runs it)"]
async fn scylla_store_conforms() {
    let uri = std::env::var("SCYLLA_URI").expect("SCYLLA_URI names the ScyllaDB to test against (e.g. 127.0.0.1:9042)");
    for (name, check) in checks() {
        // A fresh keyspace per check, so checks see empty tables.
        let keyspace = format!("stakeflow_test_{}", uuid::Uuid::new_v4().simple());
        println!("scylla {uri} keyspace {keyspace}: {name}");
        let uri = uri.clone();
        let open: Opener = Arc::new(move || {
            let (uri, keyspace) = (uri.clone(), keyspace.clone());
            Box::pin(async move { Arc::new(ScyllaStore::connect(&uri, &keyspace, 1).await.unwrap()) as Arc<dyn Store> })
        });
        check(open).await;
    }
}
