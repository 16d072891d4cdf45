//! A scoring round on the devnet: five candidates set up with real
//! extrinsics (commissions, self stakes, identities with judgements, a
//! sub-identity) and telemetry nodes end with the expected verdicts, reasons
//! and score order; rounds reach their topics exactly once across a scorer
//! restart; a node that leaves between rounds changes only the later round,
//! and a rebuild with the same programme reproduces every live round byte
//! for byte (the rounds fold telemetry up to cuts on the topic, not the
//! uptime consumer's latest state); a rebuild into a second namespace with
//! another weight gives the same verdicts, and a swap makes the API serve it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use ingest::telemetry::{FeedClient, TelemetryConfig};
use ingest::{BlockIngest, IngestConfig};
use schemas::topics;
use ingest::candidates::{CandidateSource, CandidateWatcher};
use rules::RoundSnapshot;
use scoring::scorer::{ProgrammeConfig, ScoredNetwork, Scorer, latest_round};
use rules::validity::{CheckKind, Profile, Verdict};
use store::{Namespaces, StoreConfig};
use subxt_signer::sr25519::dev;
use testkit::accounts::{UNIT, account_id};
use testkit::wait;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::common::{Pipeline, read_topic};
use crate::telemetry::{GENESIS, feed_server};

const REASONABLE: u8 = 2;

fn ss58(key: [u8; 32]) -> String {
    use subxt::utils::AccountId32;
    AccountId32(key).to_string()
}

fn node(id: u64, name: &str, implementation: &str, peer: &str) -> String {
    format!(r#"3,[{id},["{name}","{implementation}","1.20.2",null,"{peer}","linux","x86_64","gnu",null,null,null],[10,0],[[]],[[],[],[]],[100,"0x64",6000,1,null],null,null]"#)
}

fn verdicts(r: &RoundSnapshot) -> BTreeMap<String, (Verdict, BTreeSet<CheckKind>)> {
    r.candidates
        .iter()
        .map(|c| (c.candidate.name.clone(), (c.validity.verdict, c.validity.reasons().filter(|x| x.verdict == Verdict::Invalid).map(|x| x.check).collect())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_end_with_the_expected_verdicts_reasons_and_order() {
    testkit::init_tracing();
    let (Pipeline { broker, bus, store, dir }, devnet) = Pipeline::with_devnet().await;
    let net = devnet.network("paseo-devnet");
    let token = CancellationToken::new();
    tokio::spawn(BlockIngest::new(net.clone(), bus.clone(), IngestConfig::default(), store.clone()).run(token.clone()));
    let store_cfg = StoreConfig::Embedded { path: dir.path().join("state.redb") };
    let namespaces = Arc::new(Namespaces::new(store_cfg.clone(), store.clone()));

    let [ferdie, bob, eve, charlie, dave, alice] = [dev::ferdie(), dev::bob(), dev::eve(), dev::charlie(), dev::dave(), dev::alice()];
    let [f, b, e, c, d, a] = [&ferdie, &bob, &eve, &charlie, &dave, &alice].map(account_id);

    // The candidate list, in 1KV's format.
    let list = serde_json::json!({"candidates": [
        {"slotId": 1, "name": "Ferdie", "stash": ss58(f), "riotHandle": "@ferdie:matrix.org", "kyc": true},
        {"slotId": 2, "name": "Bob", "stash": ss58(b), "riotHandle": "@bob:matrix.org", "kyc": true},
        {"slotId": 3, "name": "Eve", "stash": ss58(e), "riotHandle": "@eve:matrix.org", "kyc": false},
        {"slotId": 4, "name": "Charlie", "stash": ss58(c), "riotHandle": "@charlie:matrix.org", "kyc": true},
        {"slotId": 5, "name": "Dave", "stash": ss58(d), "riotHandle": "@dave:matrix.org", "kyc": true},
    ]});
    let list_file = dir.path().join("candidates.json");
    std::fs::write(&list_file, serde_json::to_vec_pretty(&list).unwrap()).unwrap();
    let programme = ProgrammeConfig {
        candidates: Some(list_file.display().to_string()),
        candidates_poll: Duration::from_millis(200),
        profile: Some(Profile::Testnet),
        // The feed's nodes report names only: this programme ties by name, as 1KV does.
        validity: serde_json::json!({"self_stake": {"min_tokens": 250000}, "nodes_per_identity": {"max": 1}, "online": {"match_by_name": true}}),
        // Dave nominates for the programme: left out of nominator stake.
        nominators: vec![ss58(d)],
        ..ProgrammeConfig::default()
    };
    let scored = |p: ProgrammeConfig| ScoredNetwork::new(&net.name, (&net.name, &net.name, &net.name), 10, 42, p).unwrap().with_telemetry(true);
    let source: CandidateSource = list_file.display().to_string().parse().unwrap();
    let watcher = CandidateWatcher::new(source.clone(), 42, Duration::from_millis(200));
    tokio::spawn(ingest::candidates::publish_lists(bus.clone(), net.name.clone(), source, watcher, token.clone()));

    // Telemetry: four candidates' nodes, tied by name; Bob runs another client.
    let snapshot = format!(
        "[13,\"{GENESIS}\",{},{},{},{}]",
        node(1, "Ferdie", "Parity Polkadot", "12D3KooFerdie"),
        node(2, "Bob", "Kagome Node", "12D3KooBob"),
        node(3, "Eve", "Parity Polkadot", "12D3KooEve"),
        node(4, "Charlie", "Parity Polkadot", "12D3KooCharlie"),
    );
    // The feed drops after the first checked round and comes back without Charlie's node.
    let without_charlie = format!(
        "[13,\"{GENESIS}\",{},{},{}]",
        node(1, "Ferdie", "Parity Polkadot", "12D3KooFerdie"),
        node(2, "Bob", "Kagome Node", "12D3KooBob"),
        node(3, "Eve", "Parity Polkadot", "12D3KooEve"),
    );
    let (drop_feed, feed_dropped) = tokio::sync::oneshot::channel();
    let url = feed_server(vec![(vec![snapshot], Some(feed_dropped)), (vec![without_charlie], None)]).await;
    let tcfg = TelemetryConfig { settle: Duration::ZERO, ..TelemetryConfig::default() };
    tokio::spawn(FeedClient::new(net.name.clone(), GENESIS, url.parse().unwrap(), bus.clone(), tcfg).run(token.clone()));
    let uptime_cfg = scoring::UptimeConfig::default();
    tokio::spawn(scoring::UptimeConsumer::new(bus.clone(), store.clone(), uptime_cfg.clone()).following(namespaces.clone()).run(token.clone()));
    let scorer_token = CancellationToken::new();
    let scorer = Scorer::new(bus.clone(), namespaces.clone(), vec![scored(programme.clone())], uptime_cfg.window_ms());
    let scorer_task = tokio::spawn(scorer.run(scorer_token.clone()));

    // The chain: stakes, commissions, identities, a sub-identity.
    for who in [f, b, e, c, d, a] {
        devnet.fund(who, 1_000_000 * UNIT).await.unwrap();
    }
    for (signer, stake, commission, name) in [
        (&ferdie, 260_000 * UNIT, 50_000_000, Some("Ferdie")),
        (&bob, 300_000 * UNIT, 50_000_000, Some("Bob")),
        (&eve, 260_000 * UNIT, 500_000_000, Some("Eve")),
        (&charlie, 100_000 * UNIT, 10_000_000, None),
    ] {
        devnet.bond(signer, stake).await.unwrap();
        devnet.validate(signer, commission).await.unwrap();
        if let Some(name) = name {
            devnet.set_identity(signer, name).await.unwrap();
            devnet.give_judgement(account_id(signer), REASONABLE).await.unwrap();
        }
    }
    devnet.add_sub(&eve, c, "charlie-node").await.unwrap();
    // Nominators of Ferdie: Alice (10,000 tokens, sqrt 100) and the programme's Dave.
    devnet.bond(&alice, 10_000 * UNIT).await.unwrap();
    devnet.nominate(&alice, &[f]).await.unwrap();
    devnet.bond(&dave, 40_000 * UNIT).await.unwrap();
    devnet.nominate(&dave, &[f]).await.unwrap();
    let era = devnet.advance_era().await.unwrap();
    devnet.force_session().await.unwrap();
    let session = devnet.session_index().await.unwrap();

    let round = wait::until("a round of the new era with every candidate judged", Duration::from_secs(300), || {
        let store = store.clone();
        let name = net.name.clone();
        async move {
            let r = latest_round(store.as_ref(), &name).await.ok()??;
            (r.round >= u64::from(session) && r.era >= Some(era) && r.candidates.len() == 5).then_some(r)
        }
    })
    .await
    .unwrap();

    // Verdicts and the invalid checks behind them.
    let v = verdicts(&round);
    let invalid = |checks: &[CheckKind]| checks.iter().copied().collect::<BTreeSet<_>>();
    assert_eq!(v["Ferdie"], (Verdict::Valid, invalid(&[])), "{:#?}", round.candidates[0].validity);
    assert_eq!(v["Bob"], (Verdict::Valid, invalid(&[])));
    assert_eq!(v["Eve"], (Verdict::Invalid, invalid(&[CheckKind::Commission, CheckKind::NodesPerIdentity])));
    assert_eq!(v["Charlie"], (Verdict::Invalid, invalid(&[CheckKind::SelfStake, CheckKind::NodesPerIdentity])));
    assert_eq!(v["Dave"], (Verdict::Invalid, invalid(&[CheckKind::Online, CheckKind::ValidateIntention])));
    let dave = round.candidates.iter().find(|c| c.candidate.name == "Dave").unwrap();
    let commission = dave.validity.checks.iter().find(|c| c.check == CheckKind::Commission).unwrap();
    assert_eq!(commission.verdict, Verdict::Unknown, "no prefs known for Dave: unknown, not invalid");
    let eve_row = round.candidates.iter().find(|c| c.candidate.name == "Eve").unwrap();
    let ev = eve_row.validity.checks.iter().find(|c| c.check == CheckKind::Commission).unwrap();
    assert_eq!((ev.evidence.value.as_deref(), ev.evidence.bound.as_deref()), (Some("50%"), Some("15%")));
    let charlie_id = &round.candidates.iter().find(|c| c.candidate.name == "Charlie").unwrap().facts.identity;
    assert_eq!(charlie_id.as_ref().map(|i| i.value.root.clone()), Some(format!("0x{}", hex::encode(e))), "Charlie is judged by Eve's identity");

    // Only valid candidates are scored; Bob (other client, more stake) leads.
    let score = |name: &str| round.candidates.iter().find(|c| c.candidate.name == name).unwrap().score.clone();
    let (fs, bs) = (score("Ferdie").expect("Ferdie scored"), score("Bob").expect("Bob scored"));
    assert!(score("Eve").is_none() && score("Dave").is_none());
    assert_eq!((bs.components.client, fs.components.client), (200.0, 0.0));
    assert_eq!((bs.components.bonded, fs.components.bonded), (50.0, 0.0));
    let input = |name: &str| round.candidates.iter().find(|c| c.candidate.name == name).unwrap().inputs.clone().unwrap();
    assert_eq!(input("Ferdie").nominator_stake, 100.0, "sqrt(10,000) from Alice; the programme's Dave left out");
    assert_eq!(input("Bob").nominator_stake, 0.0);
    assert_eq!((fs.components.nominator_stake, bs.components.nominator_stake), (100.0, 0.0));
    assert!(bs.total > fs.total, "Bob {} > Ferdie {}", bs.total, fs.total);
    // Reproducible from the stored inputs, weights and seed.
    let again = round.rescore(&round.weights);
    assert_eq!(again.iter().find(|s| s.stash == bs.stash).unwrap(), &bs);

    let online = |r: &RoundSnapshot, name: &str| r.candidates.iter().find(|c| c.candidate.name == name).and_then(|c| c.facts.node.as_ref()?.value.online);
    assert_eq!(online(&round, "Charlie"), Some(true));

    // The scorer is killed; rounds after a restart are still published once.
    scorer_token.cancel();
    scorer_task.await.unwrap().unwrap();
    // Meanwhile Charlie's node leaves telemetry: the feed drops and its new snapshot lacks it.
    let bootstrap = broker.bootstrap().to_string();
    drop_feed.send(()).unwrap();
    wait::until("the feed up again", Duration::from_secs(60), || {
        let b = bootstrap.clone();
        async move {
            let records = tokio::task::spawn_blocking(move || read_topic(&b, topics::TELEMETRY_NODES)).await.unwrap();
            let ups = records.iter().filter_map(|(_, _, p)| schemas::TelemetryFeedEvent::decode(p).ok()).filter(|f| f.kind == "up").count();
            (ups >= 2).then_some(())
        }
    })
    .await
    .unwrap();
    devnet.force_session().await.unwrap();
    let next = devnet.session_index().await.unwrap();
    let scorer = Scorer::new(bus.clone(), namespaces.clone(), vec![scored(programme.clone())], uptime_cfg.window_ms());
    tokio::spawn(scorer.run(token.clone()));
    let rounds_on_topic = wait::until("the next round on the topic", Duration::from_secs(120), || {
        let b = bootstrap.clone();
        async move {
            let rounds = tokio::task::spawn_blocking(move || read_topic(&b, topics::ROUNDS)).await.unwrap();
            let rounds: Vec<schemas::Round> = rounds.into_iter().map(|(_, _, p)| schemas::Round::decode(&p).unwrap()).collect();
            rounds.iter().any(|r| r.round == i64::from(next)).then_some(rounds)
        }
    })
    .await
    .unwrap();
    let keys: Vec<i64> = rounds_on_topic.iter().map(|r| r.round).collect();
    assert_eq!(keys.iter().collect::<BTreeSet<_>>().len(), keys.len(), "each round once: {keys:?}");
    let scores: Vec<schemas::CandidateScore> =
        read_topic(&bootstrap, topics::SCORES).into_iter().map(|(_, _, p)| schemas::CandidateScore::decode(&p).unwrap()).collect();
    for r in &rounds_on_topic {
        let of_round: Vec<&str> = scores.iter().filter(|s| s.round == r.round).map(|s| s.stash.as_str()).collect();
        assert_eq!(of_round.len() as i64, r.candidates, "round {}: every candidate once", r.round);
        assert_eq!(of_round.iter().collect::<BTreeSet<_>>().len(), of_round.len());
    }
    let after = scoring::scorer::stored_round(store.as_ref(), &net.name, u64::from(next)).await.unwrap().expect("the next round stored");
    assert_eq!(online(&after, "Charlie"), Some(false), "the round after the node left sees it offline");
    let published = scores.iter().find(|s| s.round == round.round as i64 && s.name == "Eve").unwrap();
    assert_eq!(published.verdict, "invalid");
    assert!(published.checks.iter().any(|c| c.check == "commission" && c.verdict == "invalid"));

    // A rebuild with the same programme reproduces every live round, byte for
    // byte: the earlier rounds still see Charlie's node online. The first
    // rebuild dies right after the first pass that scored a round: a rebuild
    // writes its rounds every pass but its state only every few seconds, so
    // that round is stored and the state is not; the second reads from the
    // start again and writes the same bytes.
    let same = namespaces.open(Some("r1")).await.unwrap();
    // Not the state before the end, however slow the machine.
    let crashing = Scorer::new(bus.clone(), namespaces.clone(), vec![scored(programme.clone())], uptime_cfg.window_ms())
        .with_rebuild_state_every(Duration::from_secs(3600));
    let died = {
        let same = same.clone();
        tokio::spawn(async move {
            crashing
                .rebuild(same, |_, rounds| {
                    if rounds > 0 {
                        panic!("crash injected after the first pass that scored a round");
                    }
                })
                .await
        })
        .await
    };
    assert!(died.is_err_and(|e| e.is_panic()), "the first rebuild died after a pass that scored a round");
    let stored_rounds = scoring::scorer::round_numbers(same.as_ref(), &net.name).await.unwrap();
    assert!(!stored_rounds.is_empty(), "the dead rebuild's rounds were written");
    assert_eq!(same.load_state(scoring::scorer::SCORER, scoring::scorer::STATE_KEY).await.unwrap(), None, "its state was not saved yet");
    let rebuilder = Scorer::new(bus.clone(), namespaces.clone(), vec![scored(programme.clone())], uptime_cfg.window_ms());
    rebuilder.rebuild(same.clone(), |_, _| {}).await.unwrap();
    assert!(same.load_state(scoring::scorer::SCORER, scoring::scorer::STATE_KEY).await.unwrap().is_some(), "a finished rebuild saves its state");
    let live_rounds = scoring::scorer::round_numbers(store.as_ref(), &net.name).await.unwrap();
    assert!(live_rounds.contains(&round.round) && live_rounds.contains(&u64::from(next)), "{live_rounds:?}");
    for n in &live_rounds {
        let row = scoring::scorer::round_row(&net.name, *n);
        let live = store.load_state(scoring::scorer::SCORER, &row).await.unwrap().unwrap();
        let rebuilt = same.load_state(scoring::scorer::SCORER, &row).await.unwrap();
        assert!(rebuilt.as_ref() == Some(&live), "round {n} rebuilt differs from the live one:\nlive    {}\nrebuilt {}", String::from_utf8_lossy(&live), rebuilt.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default());
    }

    // Rebuild with the client component off, into a second namespace.
    let rebuilt = namespaces.open(Some("r2")).await.unwrap();
    scoring::UptimeConsumer::new(bus.clone(), rebuilt.clone(), uptime_cfg.clone()).catch_up(rebuilt.clone()).await.unwrap();
    let mut changed = programme.clone();
    changed.weights.client = 0.0;
    let rescorer = Scorer::new(bus.clone(), namespaces.clone(), vec![scored(changed)], uptime_cfg.window_ms());
    let n = rescorer.rebuild(rebuilt.clone(), |_, _| {}).await.unwrap();
    assert!(n >= 2, "every round rebuilt ({n})");
    let r2 = scoring::scorer::stored_round(rebuilt.as_ref(), &net.name, round.round).await.unwrap().expect("the round rebuilt");
    assert_eq!(verdicts(&r2), verdicts(&round), "the same verdicts from the topics");
    let b2 = r2.candidates.iter().find(|c| c.candidate.name == "Bob").unwrap().score.clone().unwrap();
    assert_eq!(b2.components.client, 0.0);
    assert_eq!(b2.components.bonded, bs.components.bonded);

    // Swap: the API now serves the rebuilt tables.
    store::set_live(&store_cfg, Some("r2")).await.unwrap();
    let latest_r2 = latest_round(rebuilt.as_ref(), &net.name).await.unwrap().unwrap();
    let state = api::AppState {
        store: store.clone(),
        networks: Arc::new(vec![net.name.clone()]),
        consumer: scoring::HEADS_CONSUMER,
        ready_max_lag: 0, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX,
        metrics: None,
        uptime_window_ms: uptime_cfg.window_ms(),
        namespaces: Some(namespaces.clone()),
        scored_networks: Arc::new(vec![net.name.clone()]), nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None,
    };
    let get = |path: String| {
        let state = state.clone();
        async move {
            let resp = api::router(state).oneshot(axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap()).await.unwrap();
            let status = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22).await.unwrap();
            (status, serde_json::from_slice::<serde_json::Value>(&bytes).unwrap())
        }
    };
    let (status, body) = get("/candidates?verdict=valid".into()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["round"].as_u64(), Some(latest_r2.round));
    // Without the client component Ferdie's nominator stake (100) outweighs Bob's bonded (50).
    let best = latest_r2.candidates.iter().filter_map(|c| Some((c.candidate.name.clone(), c.score.as_ref()?.total))).max_by(|x, y| x.1.total_cmp(&y.1)).unwrap();
    assert_eq!(best.0, "Ferdie");
    assert_eq!((body["candidates"][0]["name"].as_str(), body["candidates"][0]["total"].as_f64()), (Some("Ferdie"), Some(best.1)));
    let (status, body) = get(format!("/candidates/{}/score", ss58(b))).await;
    assert_eq!(status, 200, "{body}");
    let sum: f64 = body["components"].as_array().unwrap().iter().map(|c| c["points"].as_f64().unwrap()).sum();
    assert!((sum - body["aggregate"].as_f64().unwrap()).abs() < 1e-9, "the fields add up to the aggregate");
    let (status, body) = get(format!("/candidates/{}", ss58(e))).await;
    assert_eq!((status.as_u16(), body["verdict"].as_str()), (200, Some("invalid")));
    let (status, _) = get("/candidates?verdict=maybe".into()).await;
    assert_eq!(status, 400);
    let (status, _) = get(format!("/candidates/{}/score", ss58(e))).await;
    assert_eq!(status, 404, "invalid candidates have no score");
    token.cancel();
}
