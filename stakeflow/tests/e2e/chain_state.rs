//! Chain state on the topics: real signed extrinsics (bond, validate with a
//! commission, set an identity, nominate), then a session and an era forced
//! on the devnet; the session snapshot, the era's validators, nominators and
//! points, and the identities appear on their topics with the values a
//! direct storage read returns.

use std::time::Duration;

use ingest::{BlockIngest, IngestConfig};
use scale_value::{At, Value};
use schemas::topics;
use subxt::dynamic;
use subxt_signer::sr25519::dev;
use testkit::accounts::{UNIT, account_id};
use testkit::{Devnet, wait};
use tokio_util::sync::CancellationToken;

use crate::common::{Pipeline, assert_events_exactly_once, assert_exactly_once, blocks_on_topic, events_on_topic, read_topic};

fn hex0x(a: &[u8]) -> String {
    format!("0x{}", hex::encode(a))
}

async fn records<T>(bootstrap: &str, topic: &'static str, decode: fn(&[u8]) -> Result<T, schemas::SchemaError>) -> Vec<T> {
    let bootstrap = bootstrap.to_string();
    let raw = tokio::task::spawn_blocking(move || read_topic(&bootstrap, topic)).await.unwrap();
    raw.into_iter().map(|(p, o, payload)| decode(&payload).unwrap_or_else(|e| panic!("{topic} {p}@{o}: {e}"))).collect()
}

async fn storage(devnet: &Devnet, pallet: &str, item: &str, key: [u8; 32]) -> Option<Value> {
    let client = devnet.client("devnet").await.unwrap();
    let at = client.api().at_current_block().await.unwrap();
    at.storage()
        .try_fetch(dynamic::storage::<([u8; 32],), Value>(pallet, item), (key,))
        .await
        .unwrap()
        .map(|v| v.decode().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_eras_and_identities_reach_their_topics_as_the_chain_has_them() {
    testkit::init_tracing();
    let (Pipeline { broker, bus, store, .. }, devnet) = Pipeline::with_devnet().await;
    let net = devnet.network("paseo-devnet");
    let ingest = tokio::spawn(BlockIngest::new(net.clone(), bus.clone(), IngestConfig::default(), store.clone()).run(CancellationToken::new()));

    // A new validator with a commission and an identity, and a nominator.
    let (ferdie, eve) = (dev::ferdie(), dev::eve());
    let (f, e) = (account_id(&ferdie), account_id(&eve));
    devnet.fund(f, 1_000_000 * UNIT).await.unwrap();
    devnet.fund(e, 1_000_000 * UNIT).await.unwrap();
    devnet.bond(&ferdie, 200_000 * UNIT).await.unwrap();
    devnet.validate(&ferdie, 50_000_000).await.unwrap();
    devnet.set_identity(&ferdie, "Ferdie").await.unwrap();
    let dave = account_id(&dev::dave());
    let events = devnet.add_sub(&ferdie, dave, "ferdie-node").await.unwrap();
    assert!(events.iter().any(|e| e == "Identity::SubIdentityAdded"), "{events:?}");
    devnet.bond(&eve, 5_000 * UNIT).await.unwrap();
    devnet.nominate(&eve, &[f]).await.unwrap();

    // One session, then a whole era, then Ferdie chills.
    devnet.force_session().await.unwrap();
    let session = devnet.session_index().await.unwrap();
    let era = devnet.advance_era().await.unwrap();
    let chill = devnet.chill(&ferdie).await.unwrap();
    assert!(chill.iter().any(|e| e == "Staking::Chilled"), "{chill:?}");
    let bootstrap = broker.bootstrap().to_string();
    let ingested = |last: u64| {
        let bootstrap = bootstrap.clone();
        let chain = net.name.clone();
        wait::until("ingest to reach the last block", Duration::from_secs(240), move || {
            let (bootstrap, chain) = (bootstrap.clone(), chain.clone());
            async move {
                let blocks = blocks_on_topic(&bootstrap, &chain).await;
                (blocks.len() as u64 > last).then_some(blocks)
            }
        })
    };
    ingested(devnet.finalized_number().await.unwrap()).await.unwrap();
    // The ended era paid out for one of its validators. chopsticks' blocks
    // earn nobody points, so the validator is given the points a block earns.
    let ended = era - 1;
    let sessions = records(&bootstrap, topics::SESSION_SNAPSHOTS, schemas::SessionSnapshot::decode).await;
    let of_ended = sessions.iter().find(|s| s.session_index == i64::from(session)).expect("the forced session, in the ended era");
    let stash = of_ended.validators[0].stash.clone();
    let paid: [u8; 32] = hex::decode(stash.trim_start_matches("0x")).unwrap().try_into().unwrap();
    let earned = serde_json::json!({"total": 20, "individual": {stash.as_str(): 20}});
    devnet.set_storage(serde_json::json!({"Staking": {"ErasRewardPoints": [[[ended], earned]]}})).await.unwrap();
    let payout = devnet.payout_stakers(&dev::alice(), paid, ended).await.unwrap();
    assert!(payout.iter().any(|e| e == "Staking::PayoutStarted") && payout.iter().any(|e| e == "Staking::Rewarded"), "{payout:?}");
    let last = devnet.finalized_number().await.unwrap();
    let blocks = ingested(last).await.unwrap();
    ingest.abort();
    assert_exactly_once(&blocks, &devnet, last).await;
    assert_events_exactly_once(&events_on_topic(&bootstrap, &net.name).await, &blocks);

    // Session snapshots: one per NewSession, the forced one among them, with
    // the validator set and keys the chain has.
    let sessions = records(&bootstrap, topics::SESSION_SNAPSHOTS, schemas::SessionSnapshot::decode).await;
    let forced = sessions.iter().find(|s| s.session_index == i64::from(session)).expect("snapshot of the forced session");
    let last_session = sessions.last().unwrap();
    let client = devnet.client("devnet").await.unwrap();
    let at = client.api().at_current_block().await.unwrap();
    let validators: Vec<[u8; 32]> = at
        .storage()
        .fetch(dynamic::storage::<(), Vec<[u8; 32]>>("Session", "Validators"), ())
        .await
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(last_session.validators.iter().map(|v| v.stash.clone()).collect::<Vec<_>>(), validators.iter().map(|v| hex0x(v)).collect::<Vec<_>>());
    assert!(!forced.validators.is_empty());
    let v0 = &last_session.validators[0];
    let keys = storage(&devnet, "Session", "NextKeys", validators[0]).await.expect("NextKeys of a validator");
    let babe = keys.at("babe").map(|b| format!("{}", chain::value_json::value_to_json(b))).unwrap();
    assert_eq!(format!("\"{}\"", v0.keys["babe"]), babe, "babe key as the chain has it");
    assert!(v0.keys.contains_key("beefy"), "BEEFY key present: {:?}", v0.keys.keys());

    // The era's validators: Ferdie's prefs and self stake as the chain has them.
    let vals = records(&bootstrap, topics::VALIDATORS, schemas::ValidatorEra::decode).await;
    let this_era: Vec<_> = vals.iter().filter(|v| v.era == i64::from(era)).collect();
    let fv = this_era.iter().find(|v| v.stash == hex0x(&f)).expect("Ferdie in the era snapshot");
    assert_eq!((fv.commission_perbill, fv.blocked), (50_000_000, false));
    let ledger = storage(&devnet, "Staking", "Ledger", f).await.unwrap();
    assert_eq!(fv.self_bonded, ledger.at("active").and_then(Value::as_u128).unwrap().to_string());
    let elected: Vec<_> = this_era.iter().filter(|v| v.elected).collect();
    assert!(!elected.is_empty(), "someone was elected");
    for v in &elected {
        let total: u128 = v.exposure_total.as_deref().unwrap().parse().unwrap();
        let own: u128 = v.exposure_own.as_deref().unwrap().parse().unwrap();
        let backed: u128 = v.backers.iter().map(|b| b.value.parse::<u128>().unwrap()).sum();
        assert_eq!(total, own + backed, "exposure of {} adds up", v.stash);
    }

    // The nominator, with its bond and target.
    let noms = records(&bootstrap, topics::NOMINATORS, schemas::NominatorEra::decode).await;
    let en = noms.iter().find(|n| n.nominator == hex0x(&e) && n.era == i64::from(era)).expect("Eve in the era snapshot");
    assert_eq!(en.targets, vec![hex0x(&f)]);
    assert_eq!(en.bonded, (5_000 * UNIT).to_string());

    // Points of the era that ended.
    let points = records(&bootstrap, topics::ERA_POINTS, schemas::EraPoints::decode).await;
    assert!(points.iter().any(|p| p.era == i64::from(era) - 1), "points of era {}", era - 1);

    // Ferdie's identity: on its event and again at the era, display as set.
    let ids = records(&bootstrap, topics::IDENTITIES, schemas::Identity::decode).await;
    let fids: Vec<_> = ids.iter().filter(|i| i.account == hex0x(&f)).collect();
    assert!(fids.len() >= 2, "published on IdentitySet and at the era start");
    assert!(fids.iter().all(|i| i.has_identity && i.display.as_deref() == Some("Ferdie")));
    // Sub-identities: the sub names its main and its name, the main lists its sub.
    let dave_id = ids.iter().rev().find(|i| i.account == hex0x(&dave)).expect("the sub's identity, on SubIdentityAdded");
    assert_eq!((dave_id.super_account.as_deref(), dave_id.sub_name.as_deref()), (Some(hex0x(&f).as_str()), Some("ferdie-node")));
    assert!(fids.last().unwrap().subs.contains(&hex0x(&dave)), "Ferdie's subs: {:?}", fids.last().unwrap().subs);

    // The typed staking events: Ferdie's commission, and the chill.
    let staking = crate::common::typed_on_topic(&bootstrap, topics::STAKING_EVENTS, &net.name).await;
    let prefs = staking.iter().find(|t| t.kind == "ValidatorPrefsSet" && t.account.as_deref() == Some(hex0x(&f).as_str())).unwrap();
    assert_eq!(prefs.commission_perbill, Some(50_000_000));
    assert!(staking.iter().any(|t| t.kind == "Chilled" && t.account.as_deref() == Some(hex0x(&f).as_str())));
    let eras = staking.iter().filter(|t| t.kind == "EraPaid").map(|t| t.era).collect::<Vec<_>>();
    assert!(eras.contains(&Some(i64::from(era) - 1)), "EraPaid for era {}: {eras:?}", era - 1);
    let session_events = crate::common::typed_on_topic(&bootstrap, topics::SESSION_EVENTS, &net.name).await;
    assert!(session_events.iter().any(|t| t.kind == "NewSession" && t.session_index == Some(i64::from(session))));

    // Genesis validators have no identity: published as such, not skipped.
    assert!(ids.iter().any(|i| !i.has_identity && i.display.is_none()));

    // Rewards and nominator stake, folded from these topics by the consumers
    // a run starts, as the API answers them; a second pass adds nothing.
    let payout_events: Vec<_> = staking.iter().filter(|t| t.kind == "Rewarded" && t.block_number as u64 <= last).collect();
    let own = payout_events.iter().find(|t| t.account.as_deref() == Some(hex0x(&paid).as_str())).expect("the validator's own reward");
    let nominators_paid: std::collections::BTreeSet<String> =
        payout_events.iter().filter_map(|t| t.account.clone()).filter(|a| *a != hex0x(&paid)).collect();
    for _ in 0..2 {
        scoring::FoldConsumer::rewards(bus.clone(), store.clone()).catch_up(store.clone()).await.unwrap();
        scoring::FoldConsumer::nominator_stake(bus.clone(), store.clone()).catch_up(store.clone()).await.unwrap();
    }
    let state = api::AppState {
        store: store.clone(),
        networks: std::sync::Arc::new(vec![net.name.clone()]),
        consumer: scoring::HEADS_CONSUMER,
        ready_max_lag: 0, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX,
        metrics: None,
        uptime_window_ms: 0,
        namespaces: None,
        scored_networks: Default::default(), nominated_networks: Default::default(), events: None,
        decimals: std::sync::Arc::new([(net.name.clone(), 10)].into()),
        broker: None,
    };
    let get = |path: String| {
        let state = state.clone();
        async move {
            use tower::ServiceExt;
            let resp = api::router(state).oneshot(axum::http::Request::get(&path).body(axum::body::Body::empty()).unwrap()).await.unwrap();
            let status = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22).await.unwrap();
            (status.as_u16(), serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_else(|e| panic!("{path}: {e}")))
        }
    };
    let (status, rewards) = get(format!("/1kv/rewards/validator/{}", hex0x(&paid))).await;
    assert_eq!(status, 200, "{rewards}");
    let rewards = rewards.as_array().unwrap();
    assert_eq!(rewards.len(), 1, "one payout, booked once: {rewards:?}");
    assert_eq!((rewards[0]["era"].as_i64(), rewards[0]["role"].as_str()), (Some(i64::from(ended)), Some("validator")));
    assert_eq!(rewards[0]["rewardAmountPlanck"].as_str(), own.amount.as_deref());
    assert_eq!(rewards[0]["validator"].as_str(), Some(schemas::ss58::encode(42, &paid).as_str()));
    let (_, total) = get(format!("/1kv/rewards/validator/{}/total", hex0x(&paid))).await;
    assert_eq!((total["totalPlanck"].as_str(), total["rewardCount"].as_u64()), (own.amount.as_deref(), Some(1)), "{total}");
    let (_, nominators) = get("/1kv/rewards/nominators/total".into()).await;
    let listed: std::collections::BTreeSet<String> = nominators
        .as_array()
        .unwrap()
        .iter()
        .map(|t| schemas::ss58::hex_account(t["address"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(listed, nominators_paid, "every nominator paid, once");
    let (status, stake) = get(format!("/1kv/nominatorstake/{}", hex0x(&f))).await;
    assert_eq!(status, 200, "{stake}");
    assert_eq!(stake["era"].as_i64(), Some(i64::from(era)));
    let eve_bond = (5_000 * UNIT).to_string();
    assert_eq!(stake["nominators"].as_array().unwrap().iter().map(|n| n["bondedPlanck"].as_str().unwrap()).collect::<Vec<_>>(), vec![eve_bond.as_str()], "{stake}");
    assert_eq!((stake["totalStakePlanck"].as_str(), stake["totalStake"].as_f64()), (Some(eve_bond.as_str()), Some(5_000.0)));
}

/// A network whose Staking lives on another chain (as on Polkadot since Asset
/// Hub took it over): that chain is followed too, era snapshots come from it,
/// session snapshots only from the relay, and validators' identities are read
/// on the chain that holds identities.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staking_on_another_chain_is_followed_there() {
    testkit::init_tracing();
    let ((Pipeline { broker, bus, store, .. }, relay), staking) = tokio::join!(Pipeline::with_devnet(), Devnet::start());
    let staking = staking.unwrap();
    let mut net = relay.network("net");
    net.staking = Some(chain::SystemChain {
        name: None,
        endpoints: vec![staking.ws_url().parse().unwrap()],
        backend: chain::Backend::Legacy,
        genesis_hash: None,
        start_block: chain::StartBlock::Number(0),
    });
    let ingests: Vec<_> = BlockIngest::for_network(&net, bus.clone(), IngestConfig::default(), store)
        .into_iter()
        .map(|svc| tokio::spawn(svc.run(CancellationToken::new())))
        .collect();
    assert_eq!(ingests.len(), 2, "relay and staking chain");

    let ferdie = dev::ferdie();
    let f = account_id(&ferdie);
    relay.fund(f, 1_000_000 * UNIT).await.unwrap();
    relay.set_identity(&ferdie, "Ferdie").await.unwrap();
    staking.fund(f, 1_000_000 * UNIT).await.unwrap();
    staking.bond(&ferdie, 200_000 * UNIT).await.unwrap();
    staking.validate(&ferdie, 70_000_000).await.unwrap();
    let era = staking.advance_era().await.unwrap();
    relay.force_session().await.unwrap();
    let (relay_last, staking_last) = (relay.finalized_number().await.unwrap(), staking.finalized_number().await.unwrap());
    let bootstrap = broker.bootstrap().to_string();
    wait::until("both chains ingested", Duration::from_secs(240), || async {
        let r = blocks_on_topic(&bootstrap, "net").await.len() as u64;
        let s = blocks_on_topic(&bootstrap, "net.staking").await.len() as u64;
        (r > relay_last && s > staking_last).then_some(())
    })
    .await
    .unwrap();
    for task in ingests {
        task.abort();
    }

    let sessions = records(&bootstrap, topics::SESSION_SNAPSHOTS, schemas::SessionSnapshot::decode).await;
    assert!(sessions.iter().any(|s| s.chain == "net"), "the relay's session snapshot");
    assert!(sessions.iter().all(|s| s.chain == "net"), "no session snapshot from the staking chain");

    let vals = records(&bootstrap, topics::VALIDATORS, schemas::ValidatorEra::decode).await;
    assert!(vals.iter().all(|v| v.chain == "net.staking"), "era snapshots come from the staking chain only");
    let fv = vals.iter().find(|v| v.stash == hex0x(&f) && v.era == i64::from(era)).expect("Ferdie in the era snapshot");
    assert_eq!(fv.commission_perbill, 70_000_000);

    let ids = records(&bootstrap, topics::IDENTITIES, schemas::Identity::decode).await;
    let on_event = ids.iter().find(|i| i.chain == "net" && i.account == hex0x(&f)).expect("identity on its event, relay");
    assert_eq!(on_event.display.as_deref(), Some("Ferdie"));
    let at_era = ids.iter().find(|i| i.chain == "net.staking" && i.account == hex0x(&f)).expect("identity at the era");
    assert_eq!(at_era.display.as_deref(), Some("Ferdie"), "read on the identity chain, not the staking chain");
}
