//! The programme's topics without a chain: the candidate list is published
//! when it changes (not again when unchanged, restarts included; a broken
//! version never), and the scorer sends an undecodable record to its
//! dead-letter topic, applies everything else, and holds back records whose
//! block the blocks topic has not certified yet.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bus::{Outgoing, Publisher};
use rdkafka::message::{Header, OwnedHeaders};
use schemas::{FinalizedBlock, SessionSnapshot, ValidatorEra, topics};
use ingest::candidates::{CandidateSource, CandidateWatcher};
use scoring::scorer::{ProgrammeConfig, ScoredNetwork, Scorer, latest_round};
use rules::validity::{CheckKind, Profile, Verdict};
use testkit::wait;
use tokio_util::sync::CancellationToken;

use crate::common::{Pipeline, read_topic};

const NET: &str = "synthetic";
const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const ALICE_HEX: &str = "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

fn list(names: &[(&str, &str)]) -> Vec<u8> {
    let c: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, (name, stash))| serde_json::json!({"slotId": i, "name": name, "stash": stash, "riotHandle": "@x:matrix.org", "kyc": true}))
        .collect();
    serde_json::to_vec_pretty(&serde_json::json!({"candidates": c})).unwrap()
}

async fn on_topic<T>(bootstrap: &str, topic: &'static str, decode: fn(&[u8]) -> Result<T, schemas::SchemaError>) -> Vec<T> {
    let b = bootstrap.to_string();
    let raw = tokio::task::spawn_blocking(move || read_topic(&b, topic)).await.unwrap();
    raw.into_iter().map(|(_, _, p)| decode(&p).unwrap()).collect()
}

async fn lists_on_topic(bootstrap: &str) -> Vec<schemas::CandidateList> {
    on_topic(bootstrap, topics::CANDIDATES, schemas::CandidateList::decode).await
}

type Check<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Option<Vec<T>>> + Send>>;

/// A `wait::until` check: the records on `topic` once there are `n` of them.
fn count<T: Send + 'static>(bootstrap: &str, topic: &'static str, decode: fn(&[u8]) -> Result<T, schemas::SchemaError>, n: usize) -> impl FnMut() -> Check<T> {
    let b = bootstrap.to_string();
    move || {
        let b = b.clone();
        Box::pin(async move {
            let records = on_topic(&b, topic, decode).await;
            (records.len() == n).then_some(records)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidate_lists_are_published_once_per_change() {
    testkit::init_tracing();
    let Pipeline { broker, bus, dir, .. } = Pipeline::start().await;
    let file = dir.path().join("candidates.json");
    std::fs::write(&file, list(&[("alice", ALICE)])).unwrap();
    let source: CandidateSource = file.display().to_string().parse().unwrap();
    let start = |token: CancellationToken| {
        let watcher = CandidateWatcher::new(source.clone(), 42, Duration::from_millis(50));
        tokio::spawn(ingest::candidates::publish_lists(bus.clone(), NET.into(), source.clone(), watcher, token))
    };
    let bootstrap = broker.bootstrap().to_string();
    let count = |n: usize| count(&bootstrap, topics::CANDIDATES, schemas::CandidateList::decode, n);
    let token = CancellationToken::new();
    let task = start(token.clone());
    let first = wait::until("the first list", Duration::from_secs(30), count(1)).await.unwrap();
    assert_eq!(first[0].candidates[0].stash, ALICE);
    // A restart with the same file publishes nothing new; it has said so once it is watching again.
    token.cancel();
    task.await.unwrap().unwrap();
    let token = CancellationToken::new();
    let task = start(token.clone());
    // A broken version is not published; the fix is.
    std::fs::write(&file, b"{\"candidates\": [ {\"slotId\": 1, ").unwrap();
    std::fs::write(&file, list(&[("alice", ALICE), ("alice", BOB)])).unwrap(); // duplicate name: invalid
    std::fs::write(&file, list(&[("alice", ALICE), ("bob", BOB)])).unwrap();
    let lists = wait::until("the changed list", Duration::from_secs(30), count(2)).await.unwrap();
    assert_eq!(lists[1].candidates.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["alice", "bob"]);
    assert_ne!(lists[0].digest, lists[1].digest);
    token.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(lists_on_topic(&bootstrap).await.len(), 2, "each version once");
}

fn releases(tags: &[(&str, &str)]) -> Vec<u8> {
    let r: Vec<_> = tags.iter().map(|(tag, at)| serde_json::json!({"tag_name": tag, "published_at": at, "draft": false, "prerelease": false})).collect();
    serde_json::to_vec(&r).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_release_is_published_once_per_change_and_folded_for_the_api() {
    testkit::init_tracing();
    let Pipeline { broker, bus, store, dir } = Pipeline::start().await;
    let file = dir.path().join("releases.json");
    std::fs::write(&file, releases(&[("polkadot-v1.16.0", "2024-09-26T13:23:45Z"), ("polkadot-v1.15.2", "2024-08-20T09:00:00Z")])).unwrap();
    let source: CandidateSource = file.display().to_string().parse().unwrap();
    let format = regex::Regex::new(scoring::scorer::config::DEFAULT_RELEASE_TAG_FORMAT).unwrap();
    let start = |token: CancellationToken| {
        tokio::spawn(ingest::releases::publish_releases(bus.clone(), NET.into(), source.clone(), Duration::from_millis(50), format.clone(), token))
    };
    let bootstrap = broker.bootstrap().to_string();
    let count = |n: usize| count(&bootstrap, topics::RELEASES, schemas::Release::decode, n);
    let token = CancellationToken::new();
    let task = start(token.clone());
    let first = wait::until("the first release", Duration::from_secs(30), count(1)).await.unwrap();
    assert_eq!((first[0].tag.as_str(), first[0].version.as_str(), first[0].published_at_ms), ("polkadot-v1.16.0", "1.16.0", 1_727_357_025_000));
    token.cancel();
    task.await.unwrap().unwrap();
    // A restart reads the same newest release: nothing new. A newer one is published.
    let token = CancellationToken::new();
    let task = start(token.clone());
    std::fs::write(&file, b"{\"message\": \"API rate limit exceeded\"}").unwrap();
    std::fs::write(&file, releases(&[("polkadot-v1.17.0", "2024-12-01T08:00:00Z"), ("polkadot-v1.16.0", "2024-09-26T13:23:45Z")])).unwrap();
    let both = wait::until("the newer release", Duration::from_secs(30), count(2)).await.unwrap();
    assert_eq!(both[1].version, "1.17.0");
    token.cancel();
    task.await.unwrap().unwrap();
    scoring::FoldConsumer::releases(bus.clone(), store.clone()).catch_up(store.clone()).await.unwrap();
    let latest = scoring::load_state::<scoring::ReleasesFold>(store.as_ref()).await.unwrap();
    assert_eq!(latest[NET].tag, "polkadot-v1.17.0");
}

fn pos(block: u64, seq: u32) -> Option<OwnedHeaders> {
    let v = schemas::position::OutputPos { block, seq }.header_value();
    Some(OwnedHeaders::new().insert(Header { key: schemas::position::HEADER, value: Some(v.as_bytes()) }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scorer_dead_letters_bad_records_and_waits_for_certified_blocks() {
    testkit::init_tracing();
    let Pipeline { broker, bus, store, dir } = Pipeline::start().await;
    let publisher = Publisher::new(&bus).unwrap();
    let list = schemas::CandidateList {
        network: NET.into(),
        source: "test".into(),
        digest: "d1".into(),
        loaded_at_ms: 0,
        candidates: vec![schemas::CandidateEntry { slot_id: 1, name: "alice".into(), stash: ALICE.into(), kyc: true, ..Default::default() }],
    };
    publisher.publish(topics::CANDIDATES, NET.as_bytes(), &list.encode().unwrap()).await.unwrap();
    // A client release known before block 1 and out of its grace by then, published twice (a restart).
    let release = schemas::Release { network: NET.into(), tag: "polkadot-v1.99.0".into(), version: "1.99.0".into(), published_at_ms: -49 * 3_600_000, observed_at_ms: 0 };
    for _ in 0..2 {
        publisher.publish(topics::RELEASES, NET.as_bytes(), &release.encode().unwrap()).await.unwrap();
    }
    // Block 1: a session, Alice's prefs, a record that is not Avro, then the block record.
    let session = SessionSnapshot { chain: NET.into(), session_index: 1, block_number: 1, active_era: Some(1), ..Default::default() };
    let alice = ValidatorEra {
        chain: NET.into(),
        era: 1,
        block_number: 1,
        stash: ALICE_HEX.into(),
        commission_perbill: 10_000_000,
        self_bonded: "1000000000000000".into(),
        ..Default::default()
    };
    let (s, a, block) = (session.encode().unwrap(), alice.encode().unwrap(), FinalizedBlock { chain: NET.into(), number: 1, timestamp_ms: Some(1), ..Default::default() }.encode().unwrap());
    // Bob nominates Alice; the record reaches the topic twice (a producer retry, a second writer).
    let bob = schemas::NominatorEra { chain: NET.into(), era: 1, block_number: 1, nominator: format!("0x{}", "02".repeat(32)), bonded: "40000000000".into(), targets: vec![ALICE_HEX.into()], ..Default::default() };
    let b = bob.encode().unwrap();
    let key_b = format!("{NET}/bob");
    let key_a = format!("{NET}/{ALICE_HEX}");
    let key_bad = format!("{NET}/junk");
    publisher
        .publish_all(vec![
            Outgoing { topic: topics::SESSION_SNAPSHOTS, partition_key: NET.as_bytes(), key: NET.as_bytes(), payload: &s, headers: pos(1, 0) },
            Outgoing { topic: topics::VALIDATORS, partition_key: NET.as_bytes(), key: key_a.as_bytes(), payload: &a, headers: pos(1, 1) },
            Outgoing { topic: topics::VALIDATORS, partition_key: NET.as_bytes(), key: key_bad.as_bytes(), payload: b"not avro", headers: pos(1, 2) },
            Outgoing { topic: topics::NOMINATORS, partition_key: NET.as_bytes(), key: key_b.as_bytes(), payload: &b, headers: pos(1, 3) },
            Outgoing { topic: topics::NOMINATORS, partition_key: NET.as_bytes(), key: key_b.as_bytes(), payload: &b, headers: pos(1, 3) },
        ])
        .await
        .unwrap();
    publisher
        .publish_all(vec![Outgoing { topic: topics::BLOCKS, partition_key: NET.as_bytes(), key: NET.as_bytes(), payload: &block, headers: pos(1, 4) }])
        .await
        .unwrap();
    // Block 2's outputs are out, its block record is not: a session that must wait.
    let later = SessionSnapshot { session_index: 2, block_number: 2, ..session.clone() }.encode().unwrap();
    publisher
        .publish_all(vec![Outgoing { topic: topics::SESSION_SNAPSHOTS, partition_key: NET.as_bytes(), key: NET.as_bytes(), payload: &later, headers: pos(2, 0) }])
        .await
        .unwrap();

    let cfg = store::StoreConfig::Embedded { path: dir.path().join("state.redb") };
    let namespaces = Arc::new(store::Namespaces::new(cfg, store.clone()));
    let programme = ProgrammeConfig {
        profile: Some(Profile::Testnet),
        validity: serde_json::json!({"online": {"skip": true}, "offline_time": {"skip": true}}),
        // The scorer reads releases for a programme with a source (the test publishes them itself).
        releases: Some("releases.json".into()),
        ..ProgrammeConfig::default()
    };
    let net = ScoredNetwork::new(NET, (NET, NET, NET), 10, 42, programme).unwrap();
    let token = CancellationToken::new();
    tokio::spawn(Scorer::new(bus.clone(), namespaces, vec![net], 1).run(token.clone()));
    let round = wait::until("round 1", Duration::from_secs(60), || {
        let store = store.clone();
        async move { latest_round(store.as_ref(), NET).await.ok()? }
    })
    .await
    .unwrap();
    assert_eq!(round.round, 1);
    let alice_row = &round.candidates[0];
    let commission = alice_row.validity.checks.iter().find(|c| c.check == CheckKind::Commission).unwrap();
    assert_eq!((commission.verdict, commission.evidence.value.as_deref()), (Verdict::Valid, Some("1%")), "Alice's prefs applied");
    assert_eq!(round.validity.client_version.min_version.as_deref(), Some("1.99.0"), "the release raised the client-version bound");
    let identity = alice_row.validity.checks.iter().find(|c| c.check == CheckKind::Identity).unwrap();
    assert_eq!(identity.verdict, Verdict::Unknown, "no identity read: unknown");
    // The duplicate NominatorEra was dropped: Bob's stake counts once.
    let state: scoring::scorer::ScorerState =
        serde_json::from_slice(&store.load_state(scoring::scorer::SCORER, scoring::scorer::STATE_KEY).await.unwrap().unwrap()).unwrap();
    assert_eq!(state.releases[NET].len(), 1, "the release published again is not a second one");
    let stake = &state.chains[NET].nominator_stake[ALICE_HEX];
    assert_eq!((stake.nominators, stake.sqrt_planck), (1, 200_000.0), "one nominator of sqrt(4e10) planck, applied once");

    let bootstrap = broker.bootstrap().to_string();
    let dlq = wait::until("the bad record in the dead-letter topic", Duration::from_secs(30), || {
        let b = bootstrap.clone();
        async move {
            let d = tokio::task::spawn_blocking(move || read_topic(&b, &topics::dead_letter(topics::VALIDATORS))).await.unwrap();
            (!d.is_empty()).then_some(d)
        }
    })
    .await
    .unwrap();
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].2, b"not avro");
    // Session 2 waits for block 2's record; then its round follows.
    let rounds = scoring::scorer::round_numbers(store.as_ref(), NET).await.unwrap();
    assert_eq!(rounds, vec![1], "block 2 is not certified yet");
    let block2 = FinalizedBlock { chain: NET.into(), number: 2, timestamp_ms: Some(2), ..Default::default() }.encode().unwrap();
    publisher
        .publish_all(vec![Outgoing { topic: topics::BLOCKS, partition_key: NET.as_bytes(), key: NET.as_bytes(), payload: &block2, headers: pos(2, 1) }])
        .await
        .unwrap();
    let rounds = wait::until("round 2", Duration::from_secs(60), || {
        let store = store.clone();
        async move {
            let r = scoring::scorer::round_numbers(store.as_ref(), NET).await.ok()?;
            (r.len() == 2).then_some(r)
        }
    })
    .await
    .unwrap();
    assert_eq!(rounds, vec![1, 2]);
    let published: BTreeMap<i64, i64> = read_topic(&bootstrap, topics::ROUNDS)
        .into_iter()
        .map(|(_, _, p)| schemas::Round::decode(&p).unwrap())
        .map(|r| (r.round, r.candidates))
        .collect();
    assert_eq!(published, BTreeMap::from([(1, 1), (2, 1)]));
    token.cancel();
}
