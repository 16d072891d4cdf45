//! Scale-out by network: the real binary as separate processes on a broker
//! process, four networks on the devnet, two scorer processes splitting them
//! with `--only-network`. Killing one (`kill -9`) stops only its networks'
//! rounds; started again, it scores what it missed from the topics and goes
//! on, every round of every network once on the topic.
//!
//! Here each scorer keeps its own embedded store (one process per redb file).
//! With `SCYLLA_URI` set, the same scenario runs on one shared ScyllaDB
//! keyspace and adds what only a shared store allows: an API process serving
//! every network's rounds, and a third scorer of networks the others hold
//! that stands by on their leases.

use std::path::{Path, PathBuf};
use std::time::Duration;

use schemas::topics;
use testkit::{Devnet, wait};

use crate::processes::{wait_rounds, world};

const NETWORKS: [&str; 4] = ["n1", "n2", "n3", "n4"];

async fn split_scorers_stop_and_resume_only_their_networks(store: Option<&str>) {
    testkit::init_tracing();
    let devnet = Devnet::start().await.unwrap();
    let w = world(&devnet, &NETWORKS, store).await;
    let logs: Vec<(&str, PathBuf)> = ["ingest", "a", "b", "api", "c"].iter().map(|r| (*r, w.log(r))).collect();
    let logs: Vec<(&str, &Path)> = logs.iter().map(|(r, p)| (*r, p.as_path())).collect();

    let (_ingest, _) = w.spawn("ingest", &["ingest"]).start(None).await.unwrap();
    let a = w.spawn("a", &["--only-network", "n1,n2", "score"]);
    let (proc_a, _) = a.start(None).await.unwrap();
    let (_b, _) = w.spawn("b", &["--only-network", "n3", "--only-network", "n4", "score"]).start(None).await.unwrap();

    devnet.force_session().await.unwrap();
    let s1 = devnet.session_index().await.unwrap();
    wait_rounds(&w.bootstrap, &NETWORKS, s1, &logs).await;

    // Scorer a dies: only n1 and n2 stop.
    proc_a.kill9().await.unwrap();
    devnet.force_session().await.unwrap();
    let s2 = devnet.session_index().await.unwrap();
    let rounds = wait_rounds(&w.bootstrap, &["n3", "n4"], s2, &logs).await;
    for n in ["n1", "n2"] {
        assert_eq!(rounds[n].last(), Some(&i64::from(s1)), "{n} is scored by the dead process only: {rounds:?}");
    }

    // Started again on its files, it scores the round it missed and the next.
    let (_a, _) = a.start(None).await.unwrap();
    devnet.force_session().await.unwrap();
    let s3 = devnet.session_index().await.unwrap();
    let mut rounds = wait_rounds(&w.bootstrap, &NETWORKS, s3, &logs).await;

    let mut api = None;
    if store.is_some() {
        // A scorer of networks both others hold stands by: no round twice.
        let (_c, _) = w.spawn("c", &["--only-network", "n2,n3", "score"]).start(None).await.unwrap();
        let (proc_api, line) = w.spawn("api", &["--api-listen", "127.0.0.1:0", "api"]).start(Some("api: http://")).await.unwrap();
        let addr = line.unwrap().trim_start_matches("api: http://").split('/').next().unwrap().to_string();
        devnet.force_session().await.unwrap();
        let s4 = devnet.session_index().await.unwrap();
        rounds = wait_rounds(&w.bootstrap, &NETWORKS, s4, &logs).await;
        // The API process serves every network, whichever process scored it.
        let http = reqwest::Client::new();
        for n in NETWORKS {
            let body: serde_json::Value =
                http.get(format!("http://{addr}/candidates?network={n}")).send().await.unwrap().error_for_status().unwrap().json().await.unwrap();
            assert!(body.to_string().contains(&format!("\"round\":{s4}")), "{n} served at round {s4}: {body}");
        }
        api = Some((proc_api, _c));
    }

    for n in NETWORKS {
        let r = &rounds[n];
        assert!(r.windows(2).all(|w| w[0] < w[1]), "{n}: every round once, in order: {r:?}");
        for s in [s1, s2, s3] {
            assert!(r.contains(&i64::from(s)), "{n}: round {s} on the topic: {r:?}");
        }
    }
    drop(api);
    if store.is_none() {
        // Each scorer's store holds its own networks' rounds and nothing of the other's.
        drop(_a);
        drop(_b);
        for (role, own, other) in [("a", ["n1", "n2"], ["n3", "n4"]), ("b", ["n3", "n4"], ["n1", "n2"])] {
            let path = w.dir.path().join(role).join("state.redb");
            // The killed process's lock goes with it; wait for the exit to land.
            let st = wait::until(&format!("{role}'s store to open"), Duration::from_secs(30), || async {
                store::EmbeddedStore::open(&path).await.ok()
            })
            .await
            .unwrap();
            for n in own {
                assert!(!scoring::scorer::round_numbers(&st, n).await.unwrap().is_empty(), "{role} stored {n}'s rounds");
            }
            for n in other {
                assert!(scoring::scorer::round_numbers(&st, n).await.unwrap().is_empty(), "{role} scored {n}, another's network");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scorer_processes_split_four_networks_and_a_killed_one_stops_only_its_own() {
    split_scorers_stop_and_resume_only_their_networks(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ScyllaDB: set SCYLLA_URI (scripts/test then runs it)"]
async fn on_a_shared_store_one_api_serves_every_network_and_an_overlapping_scorer_stands_by() {
    let uri = std::env::var("SCYLLA_URI").expect("SCYLLA_URI");
    split_scorers_stop_and_resume_only_their_networks(Some(&uri)).await;
}

/// Scorers of different networks on one store (what ScyllaDB gives
/// processes; here tasks of one process on the embedded store): each keeps
/// its own state and positions and holds its own networks' leases; a scorer
/// of networks both hold stands by without holding either, so when one
/// owner stops, its network waits for that owner rather than being taken
/// halfway, and the owner, back, takes it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_one_store_scorers_of_different_networks_keep_apart_and_an_overlapping_one_holds_nothing() {
    use std::sync::Arc;

    use ingest::{BlockIngest, IngestConfig};
    use scoring::scorer::{ProgrammeConfig, SCORER, ScoredNetwork, Scope, Scorer, lease_subject};
    use store::lease::LeaseRow;
    use store::{Namespaces, StoreConfig};
    use tokio_util::sync::CancellationToken;

    testkit::init_tracing();
    let (pipeline, devnet) = crate::common::Pipeline::with_devnet().await;
    let chain = devnet.network("paseo-devnet");
    let bootstrap = pipeline.broker.bootstrap().to_string();
    let stop = CancellationToken::new();
    tokio::spawn(BlockIngest::new(chain.clone(), pipeline.bus.clone(), IngestConfig::default(), pipeline.store.clone()).run(stop.clone()));
    let namespaces = Arc::new(Namespaces::new(StoreConfig::Embedded { path: pipeline.dir.path().join("state.redb") }, pipeline.store.clone()));
    let c = chain.name.as_str();
    let scorer = |who: &str, networks: &[&str]| {
        let scored = networks.iter().map(|n| ScoredNetwork::new(n, (c, c, c), 10, 42, ProgrammeConfig::default()).unwrap()).collect();
        Scorer::new(pipeline.bus.clone(), namespaces.clone(), scored, 1)
            .with_idle(Duration::from_millis(100))
            // Renewed with half of it left: a pass under CI's load took over
            // a second, and a 2 s lease lapsed under a live owner.
            .with_lease(who, Duration::from_secs(10))
            .only_these()
    };
    let holder = |network: &str| {
        let store = pipeline.store.clone();
        let key = format!("lease/{}", lease_subject(network));
        async move {
            let row: LeaseRow = serde_json::from_slice(&store.load_state(SCORER, &key).await.ok()??).ok()?;
            let now = schemas::clock::now_ms();
            (row.expires_at_ms > now).then_some(row.holder)
        }
    };
    let logs: [(&str, &Path); 0] = [];

    let x_owner = stop.child_token();
    tokio::spawn(scorer("x", &["x"]).run(x_owner.clone()));
    tokio::spawn(scorer("y", &["y"]).run(stop.clone()));
    devnet.force_session().await.unwrap();
    let s1 = devnet.session_index().await.unwrap();
    wait_rounds(&bootstrap, &["x", "y"], s1, &logs).await;
    tokio::spawn(scorer("both", &["x", "y"]).run(stop.clone()));

    // x's owner stops: x waits (the overlapping scorer cannot have y), y goes on.
    x_owner.cancel();
    devnet.force_session().await.unwrap();
    let s2 = devnet.session_index().await.unwrap();
    let rounds = wait_rounds(&bootstrap, &["y"], s2, &logs).await;
    assert_eq!(rounds["x"].last(), Some(&i64::from(s1)), "x waits for its owner: {rounds:?}");

    // x's owner comes back and scores what it missed (an overlapping scorer
    // keeping x's lease while waiting for y's would stop it here).
    tokio::spawn(scorer("x again", &["x"]).run(stop.clone()));
    devnet.force_session().await.unwrap();
    let s3 = devnet.session_index().await.unwrap();
    let rounds = wait_rounds(&bootstrap, &["x", "y"], s3, &logs).await;
    for n in ["x", "y"] {
        let r = &rounds[n];
        assert!(r.windows(2).all(|w| w[0] < w[1]), "{n}: every round once, in order: {r:?}");
        assert!([s1, s2, s3].iter().all(|s| r.contains(&i64::from(*s))), "{n}: {r:?}");
    }
    assert_eq!((holder("x").await.as_deref(), holder("y").await.as_deref()), (Some("x again"), Some("y")));
    // Each keeps its own folded state and positions in the one store.
    for n in ["x", "y"] {
        let scope = Scope::only([n]);
        assert!(pipeline.store.load_state(SCORER, &scope.state_key()).await.unwrap().is_some(), "{n}'s state");
        assert!(!pipeline.store.positions(SCORER, &scope.position_topic(topics::BLOCKS)).await.unwrap().is_empty(), "{n}'s positions");
    }
    assert!(pipeline.store.load_state(SCORER, &Scope::only(["x", "y"]).state_key()).await.unwrap().is_none(), "the standby never saved");
    stop.cancel();
}
