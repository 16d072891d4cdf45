//! The nominator on the devnet, fed by the real pipeline (ingest, candidate
//! list, scorer): a dry run leaves the chain untouched; a direct and a
//! proxied account share a signer and nominate in one `utility.batch_all`,
//! confirmed by `Staking.Nominators`; a blocked target fails inside
//! `Proxy.ProxyExecuted` under a successful outer call, is detected, and the
//! account is nominated again without it; a removed proxy is found in
//! `Proxy.Proxies` before anything is signed; every event is on the topic
//! once, in order.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ingest::candidates::{CandidateSource, CandidateWatcher};
use nominator::book::{Book, NominationRecord, State, book_key, history_prefix};
use nominator::lease::NOMINATOR;
use nominator::{AccountConfig, Control, NetworkNominators, NetworkSetup, Nominator, PolicyKind, Settings};
use rules::validity::Profile;
use schemas::{NominatorEvent, topics};
use scoring::scorer::{ProgrammeConfig, ScoredNetwork, Scorer, latest_round};
use store::{Namespaces, Store, StoreConfig};
use subxt_signer::sr25519::{Keypair, dev};
use testkit::accounts::{UNIT, account_id};
use testkit::{Devnet, wait};
use tokio_util::sync::CancellationToken;

use crate::common::{Pipeline, read_topic};
use crate::run_binary::start_with;

pub(crate) const PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

pub(crate) fn ss58(key: [u8; 32]) -> String {
    schemas::ss58::encode(42, &key)
}

pub(crate) fn hex(key: [u8; 32]) -> String {
    format!("0x{}", ::hex::encode(key))
}

/// A validity setting the devnet can meet: no telemetry feed, identities or session keys here.
pub(crate) fn devnet_validity() -> serde_json::Value {
    serde_json::json!({
        "online": {"skip": true}, "connection_time": {"skip": true}, "client_version": {"skip": true},
        "offline_time": {"skip": true}, "identity": {"skip": true}, "beefy_key": {"skip": true},
        "nodes_per_identity": {"skip": true}, "kusama_rank": {"skip": true}, "sanctioned_geo": {"skip": true},
        "self_stake": {"min_tokens": 1000}
    })
}

/// The programme's world: Ferdie, Bob and Eve validate; Alice nominates
/// herself; Dave's stash is nominated through Alice, his Staking proxy.
pub(crate) struct World {
    pub pipeline: Pipeline,
    pub devnet: Devnet,
    pub net: chain::NetworkConfig,
    pub namespaces: Arc<Namespaces>,
    pub token: CancellationToken,
}

pub(crate) async fn world() -> World {
    let (pipeline, devnet) = Pipeline::with_devnet().await;
    let net = devnet.network("paseo-devnet");
    let token = CancellationToken::new();
    let (bus, store, dir) = (pipeline.bus.clone(), pipeline.store.clone(), pipeline.dir.path().to_path_buf());
    tokio::spawn(ingest::BlockIngest::new(net.clone(), bus.clone(), ingest::IngestConfig::default(), store.clone()).run(token.clone()));
    let namespaces = Arc::new(Namespaces::new(StoreConfig::Embedded { path: dir.join("state.redb") }, store.clone()));

    let [ferdie, bob, eve, alice, dave] = [dev::ferdie(), dev::bob(), dev::eve(), dev::alice(), dev::dave()];
    let list = serde_json::json!({"candidates": [
        {"slotId": 1, "name": "Ferdie", "stash": ss58(account_id(&ferdie)), "kyc": true},
        {"slotId": 2, "name": "Bob", "stash": ss58(account_id(&bob)), "kyc": true},
        {"slotId": 3, "name": "Eve", "stash": ss58(account_id(&eve)), "kyc": true},
    ]});
    let list_file = dir.join("candidates.json");
    std::fs::write(&list_file, serde_json::to_vec_pretty(&list).unwrap()).unwrap();
    let source: CandidateSource = list_file.display().to_string().parse().unwrap();
    let watcher = CandidateWatcher::new(source.clone(), 42, Duration::from_millis(200));
    tokio::spawn(ingest::candidates::publish_lists(bus.clone(), net.name.clone(), source, watcher, token.clone()));
    let programme = ProgrammeConfig {
        candidates: Some(list_file.display().to_string()),
        profile: Some(Profile::Testnet),
        validity: devnet_validity(),
        nominators: vec![ss58(account_id(&alice)), ss58(account_id(&dave))],
        ..ProgrammeConfig::default()
    };
    let scored = ScoredNetwork::new(&net.name, (&net.name, &net.name, &net.name), 10, 42, programme).unwrap();
    let scorer = Scorer::new(bus.clone(), namespaces.clone(), vec![scored], 7 * 24 * 3_600_000).with_idle(Duration::from_millis(100));
    tokio::spawn(scorer.run(token.clone()));

    shape_chain(&devnet).await;
    let w = World { pipeline, devnet, net, namespaces, token };
    wait_for_round_with_valid(&w, 3, 0).await;
    w
}

/// Validators Ferdie, Bob and Eve; nominator stashes Alice and Dave, Dave's
/// Staking proxy Alice; then a new era (the validators in its snapshot) and a session.
pub(crate) async fn shape_chain(devnet: &Devnet) {
    let [ferdie, bob, eve, alice, dave] = [dev::ferdie(), dev::bob(), dev::eve(), dev::alice(), dev::dave()];
    for k in [&ferdie, &bob, &eve, &alice, &dave] {
        devnet.fund(account_id(k), 1_000_000 * UNIT).await.unwrap();
    }
    for v in [&ferdie, &bob, &eve] {
        devnet.bond(v, 300_000 * UNIT).await.unwrap();
        devnet.validate(v, 50_000_000).await.unwrap();
    }
    devnet.bond(&alice, 10_000 * UNIT).await.unwrap();
    devnet.bond(&dave, 10_000 * UNIT).await.unwrap();
    devnet.add_staking_proxy(&dave, account_id(&alice)).await.unwrap();
    devnet.advance_era().await.unwrap();
    devnet.force_session().await.unwrap();
}

/// Until the newest round is of era `era` or later and has `n` valid candidates.
pub(crate) async fn wait_for_round_with_valid(w: &World, n: usize, era: u32) {
    wait::until(&format!("a round of era {era} with {n} valid candidates"), Duration::from_secs(240), || {
        let ns = w.namespaces.clone();
        let name = w.net.name.clone();
        async move {
            let (_, store) = ns.live().await.ok()?;
            let r = latest_round(store.as_ref(), &name).await.ok()??;
            (r.counts().0 == n && r.era.unwrap_or_default() >= era).then_some(())
        }
    })
    .await
    .unwrap();
}

/// Start the next era and wait for its first round.
async fn next_era(w: &World, valid: usize) -> u32 {
    let era = w.devnet.advance_era().await.unwrap();
    w.devnet.force_session().await.unwrap();
    wait_for_round_with_valid(w, valid, era).await;
    era
}

pub(crate) fn secret_file(dir: &Path, who: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{who}.secret"));
    std::fs::write(&path, format!("{PHRASE}//{who}")).unwrap();
    path
}

fn account(dir: &Path, stash: &Keypair, mode: Control, signer: &str, pinned: &[&Keypair]) -> AccountConfig {
    AccountConfig { pinned: pinned.iter().map(|k| ss58(account_id(k))).collect(), ..AccountConfig::new(ss58(account_id(stash)), mode, secret_file(dir, signer)) }
}

fn setup(w: &World, accounts: Vec<AccountConfig>) -> NetworkSetup {
    // The devnet's early runtime does not state its quota (16 on Paseo).
    let settings = NetworkNominators { era_buffer: Some(1), min_bond: 1.0, max_nominations: Some(16), policy: PolicyKind::Pinned, accounts, ..Default::default() };
    let accounts = settings.load(&w.net.name, 42).unwrap();
    NetworkSetup { name: w.net.name.clone(), staking_chain: w.net.clone(), decimals: 10, ss58_prefix: 42, settings, accounts }
}

fn start(w: &World, setup: NetworkSetup, dry_run: bool, holder: &str) -> CancellationToken {
    let settings = Settings { dry_run, poll: Duration::from_millis(200), lease_ttl: Duration::from_secs(5), holder: holder.into() };
    let n = Nominator::new(w.pipeline.bus.clone(), w.pipeline.store.clone(), w.namespaces.clone(), vec![setup], settings);
    let token = w.token.child_token();
    tokio::spawn(n.run(token.clone()));
    token
}

pub(crate) async fn book(store: &dyn Store, network: &str) -> Book {
    store.load_state(NOMINATOR, &book_key(network)).await.unwrap().map(|b| serde_json::from_slice(&b).unwrap()).unwrap_or_default()
}

pub(crate) async fn history(store: &dyn Store, network: &str) -> Vec<NominationRecord> {
    store
        .scan_states(NOMINATOR, &history_prefix(network))
        .await
        .unwrap()
        .into_iter()
        .map(|(_, v)| serde_json::from_slice(&v).unwrap())
        .collect()
}

/// Until the history has a row of `stash` with `outcome` (and, when given, `tx` different from `not_tx`).
pub(crate) async fn wait_history(w: &World, stash: [u8; 32], outcome: &str, not_tx: Option<&str>) -> NominationRecord {
    let stash = ss58(stash);
    wait::until(&format!("{stash} to be {outcome}"), Duration::from_secs(120), || {
        let store = w.pipeline.store.clone();
        let (name, stash) = (w.net.name.clone(), stash.clone());
        async move {
            history(store.as_ref(), &name)
                .await
                .into_iter()
                .rev()
                .find(|r| r.stash == stash && r.outcome == outcome && not_tx.is_none_or(|t| r.tx_hash != t))
        }
    })
    .await
    .unwrap()
}

async fn alice_nonce(w: &World) -> u64 {
    let client = w.devnet.client(&w.net.name).await.unwrap();
    let fin = client.finalized_number().await.unwrap();
    client.staking_at(fin).await.unwrap().account_info(account_id(&dev::alice())).await.unwrap().nonce
}

pub(crate) async fn targets_on_chain(w: &World, stash: [u8; 32]) -> Option<BTreeSet<String>> {
    let client = w.devnet.client(&w.net.name).await.unwrap();
    let fin = client.finalized_number().await.unwrap();
    client.staking_at(fin).await.unwrap().nominations(stash).await.unwrap().map(|n| n.targets.into_iter().map(ss58).collect())
}

pub(crate) fn set(keys: &[&Keypair]) -> BTreeSet<String> {
    keys.iter().map(|k| ss58(account_id(k))).collect()
}

/// A GET against the API over the test's store, as JSON.
pub(crate) async fn api_get(w: &World) -> impl Fn(&str) -> std::pin::Pin<Box<dyn std::future::Future<Output = serde_json::Value> + Send>> {
    use tower::ServiceExt;
    let state = api::AppState {
        store: w.pipeline.store.clone(),
        networks: Arc::new(vec![w.net.name.clone()]),
        consumer: scoring::HEADS_CONSUMER,
        ready_max_lag: 10, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX,
        metrics: None,
        uptime_window_ms: 1000,
        namespaces: Some(w.namespaces.clone()),
        scored_networks: Arc::new(vec![w.net.name.clone()]), nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None,
    };
    move |path: &str| {
        let (state, path) = (state.clone(), path.to_string());
        Box::pin(async move {
            let req = axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap();
            let resp = api::router(state).oneshot(req).await.unwrap();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22).await.unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nominations_are_batched_confirmed_and_recover_from_refused_targets() {
    testkit::init_tracing();
    let w = world().await;
    let dir = w.pipeline.dir.path().to_path_buf();
    let [ferdie, bob, eve, alice, dave] = [dev::ferdie(), dev::bob(), dev::eve(), dev::alice(), dev::dave()];
    let (a, d) = (account_id(&alice), account_id(&dave));
    let store = w.pipeline.store.clone();

    // Dry run: decided and recorded with the unsigned call, nothing on chain.
    let accounts = || {
        vec![
            account(&dir, &alice, Control::Direct, "Alice", &[&ferdie, &bob]),
            account(&dir, &dave, Control::Proxy, "Alice", &[&bob]),
        ]
    };
    let dry = start(&w, setup(&w, accounts()), true, "dry");
    wait_history(&w, a, "dry_run", None).await;
    wait_history(&w, d, "dry_run", None).await;
    dry.cancel();
    assert_eq!((targets_on_chain(&w, a).await, targets_on_chain(&w, d).await), (None, None), "a dry run signs nothing");

    // Live, two nominators started at once: one holds the lease, the other stands by.
    // Alice signs one batch_all for her own stash and, as proxy, Dave's.
    let nonce_before = alice_nonce(&w).await;
    let live = start(&w, setup(&w, accounts()), false, "live-a");
    let standby = start(&w, setup(&w, accounts()), false, "live-b");
    let ra = wait_history(&w, a, "confirmed", None).await;
    let rd = wait_history(&w, d, "confirmed", None).await;
    assert_eq!(ra.tx_hash, rd.tx_hash, "one transaction for both accounts of one signer");
    assert_eq!(targets_on_chain(&w, a).await, Some(set(&[&ferdie, &bob])));
    assert_eq!(targets_on_chain(&w, d).await, Some(set(&[&bob])));
    let b = book(store.as_ref(), &w.net.name).await;
    let statuses = b.statuses;
    assert!(statuses.values().all(|s| s.state == State::Nominated), "{statuses:#?}");
    // Each pass is stamped, for `/ready` to find a nominator that stopped passing.
    let now_ms = schemas::clock::now_ms();
    assert!(b.passed_at_ms.is_some_and(|at| now_ms - at < 60_000), "{:?}", b.passed_at_ms);
    assert_eq!(alice_nonce(&w).await, nonce_before + 1, "one transaction for both accounts, whoever held the lease");
    live.cancel();
    standby.cancel();

    // The API: accounts with their state, one found by another SS58 encoding, the history, the round's nominations.
    let api = api_get(&w).await;
    let all = api("/nominators").await;
    assert_eq!(all["total"], 2, "{all}");
    assert!(all["nominators"].as_array().unwrap().iter().all(|n| n["state"] == "Nominated" && n["signer"] == ss58(a)), "{all}");
    let dave_kusama = schemas::ss58::encode(2, &d);
    let one = api(&format!("/nominators/{dave_kusama}")).await;
    assert_eq!((one["stash"].as_str(), one["mode"].as_str()), (Some(ss58(d).as_str()), Some("proxy")), "{one}");
    assert_eq!(one["targets"].as_array().map(Vec::len), Some(1));
    let hist = api(&format!("/nominations?stash={}&limit=10", ss58(a))).await;
    assert!(hist["nominations"].as_array().unwrap().iter().any(|n| n["outcome"] == "confirmed" && n["tx_hash"] == ra.tx_hash), "{hist}");
    let round = api(&format!("/rounds/{}", ra.round)).await;
    assert!(round["nominations"].as_array().is_some_and(|n| n.len() >= 2), "{round}");
    assert_eq!(api("/nominators/nope").await["error"], "bad_query");

    // At most one nomination per account and era: a new cohort waits for the next era.
    next_era(&w, 3).await;
    // Eve blocks new nominations; the round (from the era's start) still rates her valid.
    w.devnet.validate_blocked(&eve, 50_000_000, true).await.unwrap();
    // A new cohort for Dave with Eve in it: his item fails inside ProxyExecuted, the outer call succeeds.
    let cohort = || vec![account(&dir, &alice, Control::Direct, "Alice", &[&ferdie, &bob]), account(&dir, &dave, Control::Proxy, "Alice", &[&eve, &ferdie])];
    let live = start(&w, setup(&w, cohort()), false, "live-2");
    let failed = wait_history(&w, d, "failed", None).await;
    assert!(failed.reason.as_deref().is_some_and(|r| r.contains("BadTarget")), "{failed:?}");
    // Planned again without Eve.
    let again = wait_history(&w, d, "confirmed", Some(&rd.tx_hash)).await;
    assert_eq!(again.targets.iter().map(|t| t.stash.clone()).collect::<BTreeSet<_>>(), set(&[&ferdie]));
    assert_eq!(targets_on_chain(&w, d).await, Some(set(&[&ferdie])));
    live.cancel();

    // Next era (Eve, blocked, is no longer valid). Dave removes Alice as his proxy:
    // found in `Proxy.Proxies` before anything is signed, shown, and nothing sent.
    next_era(&w, 2).await;
    w.devnet.remove_staking_proxy(&dave, a).await.unwrap();
    let nonce_before = alice_nonce(&w).await;
    let cohort = || vec![account(&dir, &alice, Control::Direct, "Alice", &[&ferdie, &bob]), account(&dir, &dave, Control::Proxy, "Alice", &[&bob, &ferdie])];
    let live = start(&w, setup(&w, cohort()), false, "live-3");
    let status = wait::until("Dave's account to show why it does not nominate", Duration::from_secs(120), || {
        let store = store.clone();
        let name = w.net.name.clone();
        async move { book(store.as_ref(), &name).await.statuses.get(&hex(d)).filter(|s| s.state == State::NotNominating && s.why.contains("is not a proxy of")).cloned() }
    })
    .await
    .unwrap();
    assert!(status.why.contains(&ss58(a)), "names the key: {status:?}");
    assert_eq!(alice_nonce(&w).await, nonce_before, "nothing signed for an account its key cannot act for");
    assert_eq!(targets_on_chain(&w, d).await, Some(set(&[&ferdie])), "nothing changed on chain");

    // Every event once, numbered without gaps, once the book has published them.
    wait::until("every event published", Duration::from_secs(30), || {
        let store = store.clone();
        let name = w.net.name.clone();
        async move { book(store.as_ref(), &name).await.pending.is_empty().then_some(()) }
    })
    .await
    .unwrap();
    live.cancel();
    let bootstrap = w.pipeline.broker.bootstrap().to_string();
    let raw = tokio::task::spawn_blocking(move || read_topic(&bootstrap, topics::NOMINATOR_EVENTS)).await.unwrap();
    let events: Vec<NominatorEvent> = raw.iter().map(|(_, _, p)| NominatorEvent::decode(p).unwrap()).collect();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "each event once, in order");
    for kind in ["decided", "dry_run", "signed", "in_block", "finalized", "confirmed", "failed"] {
        assert!(events.iter().any(|e| e.kind == kind), "no {kind} event in {:?}", events.iter().map(|e| &e.kind).collect::<Vec<_>>());
    }
    assert!(events.iter().all(|e| !e.detail_json.contains(PHRASE) && e.signer.as_deref().is_none_or(|s| s == ss58(a))), "no secret on the topic");
    let _ = bob;
    w.token.cancel();
}

/// The programme and nominator settings of `stakeflow run` on the devnet, as an operator writes them.
pub(crate) fn binary_config(dir: &Path, list: &Path) -> std::path::PathBuf {
    let [alice, dave] = [dev::alice(), dev::dave()];
    let secret = secret_file(dir, "Alice").display().to_string();
    let cfg = serde_json::json!({
        "scoring": {"networks": {"paseo-devnet": {
            "candidates": list.display().to_string(), "candidates_poll": "200ms", "profile": "testnet", "validity": devnet_validity(),
        }}},
        "nominator": {
            "poll": "200ms", "lease_ttl": "3s",
            "networks": {"paseo-devnet": {
                // One target each, so both ranked accounts get a slice of the three candidates.
                "era_buffer": 1, "min_bond": 1.0, "max_nominations": 1,
                "accounts": [
                    {"stash": ss58(account_id(&alice)), "mode": "direct", "secret_file": secret},
                    {"stash": ss58(account_id(&dave)), "mode": "proxy", "secret_file": secret},
                ],
            }},
        },
    });
    let path = dir.join("stakeflow.toml");
    std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
    path
}

/// `stakeflow run` (ingest, scorer, nominator, API in one process) killed with
/// SIGKILL at random instants, then left to finish: each account is
/// nominated once for the era, by one transaction (the signer's nonce moved
/// by one), and every nominator event is on the topic once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakeflow_killed_at_random_instants_nominates_each_account_once() {
    use rand::Rng;
    testkit::init_tracing();
    let devnet = Devnet::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let network_file = dir.path().join("devnet.toml");
    std::fs::write(&network_file, format!("name = \"paseo-devnet\"\nendpoints = [\"{}\"]\nbackend = \"legacy\"\nstart_block = 0\n", devnet.ws_url())).unwrap();
    let [ferdie, bob, eve, alice, dave] = [dev::ferdie(), dev::bob(), dev::eve(), dev::alice(), dev::dave()];
    let list = serde_json::json!({"candidates": [
        {"slotId": 1, "name": "Ferdie", "stash": ss58(account_id(&ferdie)), "kyc": true},
        {"slotId": 2, "name": "Bob", "stash": ss58(account_id(&bob)), "kyc": true},
        {"slotId": 3, "name": "Eve", "stash": ss58(account_id(&eve)), "kyc": true},
    ]});
    let list_file = dir.path().join("candidates.json");
    std::fs::write(&list_file, serde_json::to_vec_pretty(&list).unwrap()).unwrap();
    shape_chain(&devnet).await;
    let client = devnet.client("paseo-devnet").await.unwrap();
    let fin = client.finalized_number().await.unwrap();
    let nonce_before = client.staking_at(fin).await.unwrap().account_info(account_id(&alice)).await.unwrap().nonce;
    let config = binary_config(dir.path(), &list_file);
    let data = dir.path().join("data");

    let mut rng = rand::rng();
    let kills = 8;
    for _ in 0..kills {
        let mut run = start_with(Some(&config), &network_file, &data).await;
        // A random instant: during backfill, scoring, signing, broadcast or settling.
        tokio::time::sleep(Duration::from_millis(rng.random_range(100..5_000))).await;
        run.child.kill().await.unwrap();
    }
    let mut run = start_with(Some(&config), &network_file, &data).await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/nominators", run.api);
    wait::until("both accounts nominated, every event published", Duration::from_secs(240), || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let v: serde_json::Value = http.get(&url).send().await.ok()?.json().await.ok()?;
            let all = v["nominators"].as_array()?;
            (all.len() == 2 && all.iter().all(|n| n["state"] == "Nominated")).then_some(())
        }
    })
    .await
    .unwrap();
    let fin = client.finalized_number().await.unwrap();
    let at = client.staking_at(fin).await.unwrap();
    let era = at.current_era().await.unwrap().unwrap();
    let mut chosen = BTreeSet::new();
    for stash in [account_id(&alice), account_id(&dave)] {
        let n = at.nominations(stash).await.unwrap().expect("nominated");
        assert_eq!((n.submitted_in, n.targets.len()), (era, 1), "{}", ss58(stash));
        assert!(chosen.insert(n.targets[0]), "ranked slices never overlap");
    }
    assert_eq!(at.account_info(account_id(&alice)).await.unwrap().nonce, nonce_before + 1, "one transaction in all, across {kills} kills");
    let kafka = run.kafka.clone();
    let events = wait::until("the events on the topic", Duration::from_secs(60), || {
        let kafka = kafka.clone();
        async move {
            let raw = tokio::task::spawn_blocking(move || read_topic(&kafka, topics::NOMINATOR_EVENTS)).await.ok()?;
            let events: Vec<NominatorEvent> = raw.iter().filter_map(|(_, _, p)| NominatorEvent::decode(p).ok()).collect();
            (events.iter().filter(|e| e.kind == "confirmed").count() == 2).then_some(events)
        }
    })
    .await
    .unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "each event once, in order, across kills");
    assert_eq!(events.iter().filter(|e| e.kind == "signed").count(), 2, "signed once per account: {:?}", events.iter().map(|e| &e.kind).collect::<Vec<_>>());
    run.child.kill().await.unwrap();
}
