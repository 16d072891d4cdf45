//! Time-delay proxies on the devnet, fed by the real pipeline: two stashes
//! of one delegate are announced in one `utility.batch_all` (a stale
//! announcement found on chain is removed in it); executing before the delay
//! is refused by the chain and not counted; once mature, one is executed and
//! the other, whose target raised its commission above the bound, is
//! removed and planned anew from the next round; a key rotated during a
//! pending announcement finishes it, the new key takes the next nomination
//! and the old one is reported removable; misconfigured keys (not a proxy,
//! another type, another delay) leave their accounts idle and the others
//! unaffected.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chain::proxy::Announcement;
use nominator::book::{AccountStatus, NominationRecord, State};
use nominator::reload::SettingsSource;
use nominator::{AccountConfig, Control, NetworkNominators, NetworkSetup, Nominator, PolicyKind, Settings};
use schemas::{NominatorEvent, topics};
use subxt_signer::SecretUri;
use subxt_signer::sr25519::{Keypair, dev};
use testkit::accounts::{UNIT, account_id};
use testkit::wait;

use crate::common::read_topic;
use crate::nominator::{PHRASE, World, api_get, book, hex, history, secret_file, set, ss58, targets_on_chain, wait_for_round_with_valid, world};

/// The proxies' announcement delay, in (the devnet's own) blocks.
pub(crate) const DELAY: u32 = 5;

pub(crate) fn key(who: &str) -> Keypair {
    Keypair::from_uri(&SecretUri::from_str(&format!("{PHRASE}//{who}")).unwrap()).unwrap()
}

/// A stash nominated through a time-delay proxy whose secret is `signer`'s.
pub(crate) fn delayed(dir: &std::path::Path, stash: &Keypair, signer: &str, pinned: &[&Keypair]) -> AccountConfig {
    AccountConfig {
        proxy_delay_blocks: u64::from(DELAY),
        pinned: pinned.iter().map(|k| ss58(account_id(k))).collect(),
        ..AccountConfig::new(ss58(account_id(stash)), Control::Proxy, secret_file(dir, signer))
    }
}

/// The configuration a running nominator reads again every pass.
struct Swappable(Mutex<NetworkNominators>);

impl SettingsSource for Swappable {
    fn settings(&self, _: &str) -> Result<Option<NetworkNominators>, String> {
        Ok(Some(self.0.lock().unwrap().clone()))
    }
}

/// `delegate`'s announcements on chain. One client for all polls: connecting
/// anew each time (metadata and all) loaded the devnet's only runtime executor
/// so much, beside other tests, that its block builds stalled.
pub(crate) async fn announcements(client: &chain::ChainClient, delegate: [u8; 32]) -> Vec<Announcement> {
    let fin = client.finalized_number().await.unwrap();
    client.staking_at(fin).await.unwrap().announcements(delegate).await.unwrap()
}

async fn status_where(w: &World, stash: [u8; 32], what: &str, pred: impl Fn(&AccountStatus) -> bool) -> AccountStatus {
    wait::until(what, Duration::from_secs(120), || {
        let store = w.pipeline.store.clone();
        let name = w.net.name.clone();
        let pred = &pred;
        async move { book(store.as_ref(), &name).await.statuses.get(&hex(stash)).filter(|s| pred(s)).cloned() }
    })
    .await
    .unwrap()
}

async fn history_where(w: &World, what: &str, pred: impl Fn(&NominationRecord) -> bool) -> NominationRecord {
    wait::until(what, Duration::from_secs(120), || {
        let store = w.pipeline.store.clone();
        let name = w.net.name.clone();
        let pred = &pred;
        async move { history(store.as_ref(), &name).await.into_iter().find(|r| pred(r)) }
    })
    .await
    .unwrap()
}

/// Why `stash` waits, signed by `signer`: its status, the transactions in flight, the node's pool, chopsticks' log.
async fn stuck(w: &World, net: &str, stash: [u8; 32], signer: [u8; 32]) -> String {
    let b = book(w.pipeline.store.as_ref(), net).await;
    // The whole chopsticks log outlives the test (its tempdir does not): the tail below may not reach back far enough.
    let kept = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("chopsticks-{}.log", std::process::id()));
    let kept = match std::fs::write(&kept, w.devnet.log()) {
        Ok(()) => format!("whole log kept at {}", kept.display()),
        Err(e) => format!("could not keep the whole log: {e}"),
    };
    let txs: Vec<_> = b.txs.values().map(|t| (&t.hash, t.nonce, t.birth, t.mortal_until, t.searched_to, &t.items)).collect();
    format!(
        "{:#?}\nin flight (hash, nonce, birth, mortal until, searched to, items): {txs:#?}\n{}\nchopsticks ({kept}):\n{}",
        b.statuses.get(&hex(stash)),
        w.devnet.pool_report(signer).await,
        w.devnet.log_tail(80)
    )
}

/// Build blocks until the finalized head reaches `block`.
pub(crate) async fn build_to(devnet: &testkit::Devnet, block: u64) {
    while devnet.finalized_number().await.unwrap() < block {
        devnet.new_blocks(1).await.unwrap();
    }
}

fn sorted(keys: &[&Keypair]) -> Vec<[u8; 32]> {
    let mut v: Vec<[u8; 32]> = keys.iter().map(|k| account_id(k)).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_nominations_are_announced_rechecked_then_executed_or_removed_and_keys_rotate() {
    testkit::init_tracing();
    let w = world().await;
    let dir = w.pipeline.dir.path().to_path_buf();
    let net = w.net.name.clone();
    let [ferdie, bob, eve, alice, dave, charlie] = [dev::ferdie(), dev::bob(), dev::eve(), dev::alice(), dev::dave(), dev::charlie()];
    let [nova, one, two, three] = ["Nova", "One", "Two", "Three"].map(key);
    let (a, d, c, n) = (account_id(&alice), account_id(&dave), account_id(&charlie), account_id(&nova));
    for k in [&charlie, &nova, &one, &two, &three] {
        w.devnet.fund(account_id(k), 1_000_000 * UNIT).await.unwrap();
    }
    w.devnet.add_proxy(&alice, c, "Staking", DELAY).await.unwrap();
    w.devnet.add_proxy(&dave, c, "Staking", DELAY).await.unwrap();
    w.devnet.add_proxy(&dave, n, "Staking", DELAY).await.unwrap();
    // Misconfigured: One's proxy has another delay, Two has none, Three's is of another type.
    w.devnet.add_proxy(&one, c, "Staking", DELAY + 2).await.unwrap();
    w.devnet.add_proxy(&three, c, "Governance", DELAY).await.unwrap();
    // An announcement for Dave that nobody recorded (a crash, another tool): reconciled away.
    w.devnet.announce(&charlie, d, [7; 32]).await.unwrap();
    let polls = w.devnet.client(&net).await.unwrap();
    assert_eq!(announcements(&polls, c).await.len(), 1);

    let settings = NetworkNominators {
        era_buffer: Some(1),
        min_bond: 1.0,
        max_nominations: Some(16),
        policy: PolicyKind::Pinned,
        accounts: vec![
            delayed(&dir, &alice, "Charlie", &[&ferdie, &bob]),
            delayed(&dir, &dave, "Charlie", &[&bob, &eve]),
            delayed(&dir, &one, "Charlie", &[&bob]),
            delayed(&dir, &two, "Charlie", &[&bob]),
            delayed(&dir, &three, "Charlie", &[&bob]),
        ],
        ..Default::default()
    };
    let source = Arc::new(Swappable(Mutex::new(settings.clone())));
    let accounts = settings.load(&net, 42).unwrap();
    let setup = NetworkSetup { name: net.clone(), staking_chain: w.net.clone(), decimals: 10, ss58_prefix: 42, settings: settings.clone(), accounts };
    let run = Settings { dry_run: false, poll: Duration::from_millis(200), lease_ttl: Duration::from_secs(5), holder: "delayed".into() };
    let nominator = Nominator::new(w.pipeline.bus.clone(), w.pipeline.store.clone(), w.namespaces.clone(), vec![setup], run).with_settings_source(source.clone());
    let token = w.token.child_token();
    tokio::spawn(nominator.run(token.clone()));

    // Alice and Dave announced by Charlie in one batch, with the stale announcement's removal.
    let client = w.devnet.client(&net).await.unwrap();
    let alice_targets = sorted(&[&ferdie, &bob]);
    let alice_hash = client.nominate_call_hash(&alice_targets).await.unwrap();
    let dave_hash = client.nominate_call_hash(&sorted(&[&bob, &eve])).await.unwrap();
    let pending = wait::until("Alice and Dave announced, the stale announcement removed", Duration::from_secs(120), || {
        let polls = &polls;
        async move {
            let anns = announcements(polls, c).await;
            (anns.len() == 2 && anns.iter().all(|x| x.call_hash != [7; 32])).then_some(anns)
        }
    })
    .await;
    let Ok(pending) = pending else {
        panic!("Alice and Dave not announced: {}", stuck(&w, &net, d, c).await);
    };
    assert!(pending.iter().any(|p| p.real == a && p.call_hash == alice_hash), "the hash of the exact call, targets sorted: {pending:?}");
    assert!(pending.iter().any(|p| p.real == d && p.call_hash == dave_hash), "{pending:?}");
    let records = wait::until("both announcements recorded", Duration::from_secs(60), || {
        let store = w.pipeline.store.clone();
        let net = net.clone();
        async move { Some(book(store.as_ref(), &net).await.announcements).filter(|r| r.len() == 2) }
    })
    .await
    .unwrap();
    let recs: Vec<_> = records.values().collect();
    assert_eq!(recs[0].tx_hash, recs[1].tx_hash, "one batch_all for both stashes of the signer");
    for r in &recs {
        let on_chain = pending.iter().find(|p| hex(p.real) == r.stash_hex).unwrap();
        assert_eq!((r.height, r.executes_at), (on_chain.height, on_chain.height + u64::from(DELAY)), "{r:?}");
    }
    let height = recs[0].height;
    let alice_status = status_where(&w, a, "Alice awaiting execution", |s| s.state == State::AwaitingProxyExecution).await;
    assert!(alice_status.why.contains("executes at block") && alice_status.announcement.is_some(), "{alice_status:?}");
    let api = api_get(&w).await;
    let px = api("/proxytxs").await;
    assert_eq!(px["total"], 2, "{px}");
    assert!(px["proxytxs"].as_array().unwrap().iter().all(|p| p["executes_at"] == height + u64::from(DELAY) && p["callHash"].is_string()), "{px}");

    // Misconfigured keys: reported, their accounts idle.
    for (k, needle) in [(&one, "delay of 7 blocks on chain"), (&two, "is not a proxy of"), (&three, "of type Governance, not Staking")] {
        let s = status_where(&w, account_id(k), "a misconfigured key reported", |s| s.state == State::NotNominating).await;
        assert!(s.why.contains(needle), "{needle}: {s:?}");
    }

    // Executing before the delay: the chain refuses, nothing is counted as done.
    assert!(w.devnet.finalized_number().await.unwrap() < height + u64::from(DELAY), "the test built too many blocks");
    let early = w.devnet.proxy_announced(&ferdie, c, a, &alice_targets).await;
    if early.is_ok() {
        // Which blocks came between the announcement and this attempt, and from what.
        let fin = w.devnet.finalized_number().await.unwrap();
        let mut seen = Vec::new();
        for b in height..=fin {
            let events = client.block(b).await.unwrap().events;
            seen.push((b, events.iter().filter(|e| e.phase == "ApplyExtrinsic").map(|e| format!("{}.{}", e.pallet, e.variant)).collect::<Vec<_>>()));
        }
        panic!("executed before the delay (announced at {height}, delay {DELAY}): {seen:#?}");
    }
    let err = format!("{:#}", early.unwrap_err());
    assert!(err.contains("Unannounced"), "{err}");
    assert!(history(w.pipeline.store.as_ref(), &net).await.iter().all(|r| r.outcome != "confirmed"), "nothing counted as done");
    assert_eq!(targets_on_chain(&w, a).await, None);

    // Eve raises her commission above the bound during the delay; then the delay passes.
    w.devnet.validate(&eve, 1_000_000_000).await.unwrap();
    build_to(&w.devnet, height + u64::from(DELAY)).await;
    let ra = history_where(&w, "Alice's announcement executed", |r| r.stash == ss58(a) && r.outcome == "confirmed").await;
    assert_eq!(targets_on_chain(&w, a).await, Some(set(&[&ferdie, &bob])));
    let removed = history_where(&w, "Dave's announcement removed", |r| r.stash == ss58(d) && r.outcome == "cancelled").await;
    assert!(removed.reason.as_deref().is_some_and(|r| r.contains("raised its commission")), "{removed:?}");
    assert_eq!(targets_on_chain(&w, d).await, None, "nothing of Dave's announcement was executed");
    wait::until("Charlie's announcements cleared", Duration::from_secs(60), || {
        let polls = &polls;
        async move { announcements(polls, c).await.is_empty().then_some(()) }
    })
    .await
    .unwrap();
    let alice_now = status_where(&w, a, "Alice nominated", |s| s.state == State::Nominated).await;
    assert!(alice_now.announcement.is_none(), "{alice_now:?}");

    // The next round plans Dave anew, without Eve.
    let removed_in = book(w.pipeline.store.as_ref(), &net).await.replan_after.get(&hex(d)).map(|(r, _)| *r).expect("Dave waits for a later round");
    w.devnet.force_session().await.unwrap();
    wait::until("a round after the removal", Duration::from_secs(240), || {
        let ns = w.namespaces.clone();
        let net = net.clone();
        async move {
            let (_, store) = ns.live().await.ok()?;
            let r = scoring::scorer::latest_round(store.as_ref(), &net).await.ok()??;
            (r.round > removed_in).then_some(())
        }
    })
    .await
    .unwrap();
    let bob_hash = client.nominate_call_hash(&sorted(&[&bob])).await.unwrap();
    let second = wait::until("Dave announced anew without Eve", Duration::from_secs(120), || {
        let polls = &polls;
        async move { announcements(polls, c).await.into_iter().find(|x| x.real == d) }
    })
    .await;
    let Ok(second) = second else {
        panic!("Dave not announced anew: {}", stuck(&w, &net, d, c).await);
    };
    assert_eq!(second.call_hash, bob_hash);

    // Rotation during that pending announcement, picked up without a restart:
    // Nova is Dave's key from now on, Charlie the previous one.
    let mut rotated = settings.clone();
    rotated.accounts[1] = AccountConfig { previous_secret_file: Some(secret_file(&dir, "Charlie")), ..delayed(&dir, &dave, "Nova", &[&ferdie, &bob]) };
    *source.0.lock().unwrap() = rotated;
    let s = status_where(&w, d, "the rotation picked up", |s| s.signer == ss58(n) && s.previous_signer_pending == 1).await;
    assert_eq!(s.previous_signer.as_deref(), Some(ss58(c).as_str()));
    build_to(&w.devnet, second.height + u64::from(DELAY)).await;
    let rd = history_where(&w, "Charlie's announcement for Dave executed", |r| r.stash == ss58(d) && r.outcome == "confirmed").await;
    assert_eq!(rd.targets.iter().map(|t| t.stash.clone()).collect::<BTreeSet<_>>(), set(&[&bob]));
    assert_eq!(targets_on_chain(&w, d).await, Some(set(&[&bob])));
    let s = status_where(&w, d, "the previous key reported removable", |s| s.previous_signer_removable).await;
    assert!(s.why.contains("nothing pending") && s.why.contains(&ss58(c)), "{s:?}");

    // The new key takes the next nomination: a new era, Dave's cohort has drifted.
    let era = w.devnet.advance_era().await.unwrap();
    w.devnet.force_session().await.unwrap();
    wait_for_round_with_valid(&w, 2, era).await;
    let by_nova = client.nominate_call_hash(&sorted(&[&ferdie, &bob])).await.unwrap();
    // From its event: once the delay has passed (the era's sessions build blocks) it may
    // already be executed when we look at the chain.
    let bootstrap = w.pipeline.broker.bootstrap().to_string();
    let announced = wait::until("Dave announced by the new key", Duration::from_secs(120), || {
        let bootstrap = bootstrap.clone();
        async move {
            let raw = tokio::task::spawn_blocking(move || read_topic(&bootstrap, topics::NOMINATOR_EVENTS)).await.ok()?;
            raw.iter().filter_map(|(_, _, p)| NominatorEvent::decode(p).ok()).find(|e| {
                e.kind == "announced" && e.stash.as_deref() == Some(ss58(d).as_str()) && e.detail_json.contains(&hex(by_nova))
            })
        }
    })
    .await;
    let Ok(announced) = announced else {
        panic!("Dave not announced by Nova: {}", stuck(&w, &net, d, n).await);
    };
    assert_eq!(announced.signer.as_deref(), Some(ss58(n).as_str()), "{announced:?}");
    assert!(announcements(&polls, c).await.is_empty(), "nothing new from the previous key");

    // Every step is on the topic, once.
    wait::until("every event published", Duration::from_secs(30), || {
        let store = w.pipeline.store.clone();
        let net = net.clone();
        async move { book(store.as_ref(), &net).await.pending.is_empty().then_some(()) }
    })
    .await
    .unwrap();
    token.cancel();
    let bootstrap = w.pipeline.broker.bootstrap().to_string();
    let raw = tokio::task::spawn_blocking(move || read_topic(&bootstrap, topics::NOMINATOR_EVENTS)).await.unwrap();
    let events: Vec<NominatorEvent> = raw.iter().map(|(_, _, p)| NominatorEvent::decode(p).unwrap()).collect();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=events.len() as i64).collect::<Vec<_>>());
    for kind in ["announced", "matured", "executed", "cancelled"] {
        assert!(events.iter().any(|e| e.kind == kind), "no {kind} event in {:?}", events.iter().map(|e| &e.kind).collect::<Vec<_>>());
    }
    let cancelled: Vec<_> = events.iter().filter(|e| e.kind == "cancelled").collect();
    assert!(cancelled.iter().any(|e| e.reason.as_deref().is_some_and(|r| r.contains("not ours"))), "the stale one: {cancelled:?}");
    let _ = (ra, w.token.cancel());
}

/// `stakeflow run` with Dave nominated through Charlie, a time-delay proxy:
/// its settings, with `previous` as the previous key when rotating.
fn rotating_config(dir: &std::path::Path, list: &std::path::Path, signer: &str, previous: Option<&str>, poll: Duration) -> std::path::PathBuf {
    let [ferdie, bob, dave] = [dev::ferdie(), dev::bob(), dev::dave()];
    let mut account = serde_json::json!({
        "stash": ss58(account_id(&dave)), "mode": "proxy", "proxy_delay_blocks": DELAY,
        "secret_file": secret_file(dir, signer).display().to_string(),
        "pinned": [ss58(account_id(&ferdie)), ss58(account_id(&bob))],
    });
    if let Some(p) = previous {
        account["previous_secret_file"] = secret_file(dir, p).display().to_string().into();
    }
    let cfg = serde_json::json!({
        "scoring": {"networks": {"paseo-devnet": {
            "candidates": list.display().to_string(), "candidates_poll": "200ms", "profile": "testnet",
            "validity": crate::nominator::devnet_validity(),
        }}},
        // A transaction sent in one pass is recorded in the next: with a long `poll`, a
        // kill right after the execution lands falls before its record, whatever the load.
        "nominator": {"poll": format!("{}s", poll.as_secs()), "lease_ttl": format!("{}s", (poll.as_secs() * 3).max(3)), "networks": {"paseo-devnet": {
            "era_buffer": 1, "min_bond": 1.0, "max_nominations": 16, "policy": "pinned", "accounts": [account],
        }}},
    });
    let path = dir.join("stakeflow.toml");
    std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
    path
}

/// The book as the killed process left it in its embedded store.
async fn book_on_disk(data: &std::path::Path) -> nominator::book::Book {
    let store = store::open(&store::StoreConfig::Embedded { path: data.join("state.redb") }).await.unwrap();
    book(store.as_ref(), "paseo-devnet").await
}

async fn nonce(devnet: &testkit::Devnet, who: [u8; 32]) -> u64 {
    let client = devnet.client("paseo-devnet").await.unwrap();
    let fin = client.finalized_number().await.unwrap();
    client.staking_at(fin).await.unwrap().account_info(who).await.unwrap().nonce
}

/// SIGKILL between announce and execute, a restart with a rotated key, SIGKILL
/// between the execution landing and its record, a restart: one announcement,
/// one execution, the nomination confirmed once, nothing left pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_nomination_survives_sigkill_between_its_steps_and_a_restart_with_a_rotated_key() {
    use crate::run_binary::start_with;
    testkit::init_tracing();
    let devnet = testkit::Devnet::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let network_file = dir.path().join("devnet.toml");
    std::fs::write(&network_file, format!("name = \"paseo-devnet\"\nendpoints = [\"{}\"]\nbackend = \"legacy\"\nstart_block = 0\n", devnet.ws_url())).unwrap();
    let [ferdie, bob, eve, dave, charlie] = [dev::ferdie(), dev::bob(), dev::eve(), dev::dave(), dev::charlie()];
    let nova = key("Nova");
    let (d, c, n) = (account_id(&dave), account_id(&charlie), account_id(&nova));
    let list = serde_json::json!({"candidates": [
        {"slotId": 1, "name": "Ferdie", "stash": ss58(account_id(&ferdie)), "kyc": true},
        {"slotId": 2, "name": "Bob", "stash": ss58(account_id(&bob)), "kyc": true},
        {"slotId": 3, "name": "Eve", "stash": ss58(account_id(&eve)), "kyc": true},
    ]});
    let list_file = dir.path().join("candidates.json");
    std::fs::write(&list_file, serde_json::to_vec_pretty(&list).unwrap()).unwrap();
    crate::nominator::shape_chain(&devnet).await;
    for k in [&charlie, &nova] {
        devnet.fund(account_id(k), 1_000_000 * UNIT).await.unwrap();
    }
    devnet.add_proxy(&dave, c, "Staking", DELAY).await.unwrap();
    devnet.add_proxy(&dave, n, "Staking", DELAY).await.unwrap();
    let (charlie_before, nova_before) = (nonce(&devnet, c).await, nonce(&devnet, n).await);
    let data = dir.path().join("data");
    let http = reqwest::Client::new();

    // Announced by Charlie, then killed before the delay has passed.
    let config = rotating_config(dir.path(), &list_file, "Charlie", None, Duration::from_secs(3));
    let mut run = start_with(Some(&config), &network_file, &data).await;
    let url = format!("http://{}/proxytxs", run.api);
    let px = wait::until("the announcement recorded", Duration::from_secs(240), || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let v: serde_json::Value = http.get(&url).send().await.ok()?.json().await.ok()?;
            (v["total"] == 1).then_some(v)
        }
    })
    .await
    .unwrap();
    run.child.kill().await.unwrap();
    let executes_at = px["proxytxs"][0]["executes_at"].as_u64().unwrap();
    let call_hash = px["proxytxs"][0]["call_hash"].as_str().unwrap().to_string();
    let polls = devnet.client("paseo-devnet").await.unwrap();
    assert_eq!(announcements(&polls, c).await.len(), 1);

    // Restarted with Nova as the key and Charlie as the previous one, once the delay has passed;
    // killed as soon as the execution is on chain (a pass every 30 s: before its record).
    build_to(&devnet, executes_at).await;
    let config = rotating_config(dir.path(), &list_file, "Nova", Some("Charlie"), Duration::from_secs(30));
    let mut run = start_with(Some(&config), &network_file, &data).await;
    wait::until("the execution on chain", Duration::from_secs(120), || {
        let polls = &polls;
        async move { announcements(polls, c).await.is_empty().then_some(()) }
    })
    .await
    .unwrap();
    run.child.kill().await.unwrap();
    let left = book_on_disk(&data).await;
    let in_flight: Vec<_> = left.txs.values().flat_map(|t| t.items.iter().map(|i| i.step)).collect();
    assert_eq!(in_flight, vec![nominator::book::Step::Execute], "killed between the execution and its record");
    assert_eq!(left.announcements.len(), 1, "still recorded as pending");

    // Restarted: the execution is found and recorded once; nothing is sent again.
    let config = rotating_config(dir.path(), &list_file, "Nova", Some("Charlie"), Duration::from_secs(3));
    let mut run = start_with(Some(&config), &network_file, &data).await;
    let status_url = format!("http://{}/nominators/{}", run.api, ss58(d));
    let status = wait::until("Dave nominated, the previous key removable", Duration::from_secs(240), || {
        let (http, url) = (http.clone(), status_url.clone());
        async move {
            let v: serde_json::Value = http.get(&url).send().await.ok()?.json().await.ok()?;
            (v["state"] == "Nominated" && v["previous_signer_removable"] == true && v["in_flight"].as_array()?.is_empty()).then_some(v)
        }
    })
    .await
    .unwrap();
    assert_eq!(status["signer"], ss58(n), "{status}");
    assert_eq!(targets_on_chain_at(&devnet, d).await, Some(set(&[&ferdie, &bob])));
    assert_eq!(nonce(&devnet, c).await, charlie_before + 1, "Charlie announced once");
    assert_eq!(nonce(&devnet, n).await, nova_before + 1, "Nova executed once");
    let px: serde_json::Value = http.get(format!("http://{}/proxytxs", run.api)).send().await.unwrap().json().await.unwrap();
    assert_eq!(px["total"], 0, "nothing pending: {px}");
    let kafka = run.kafka.clone();
    let events = wait::until("the events on the topic", Duration::from_secs(60), || {
        let kafka = kafka.clone();
        async move {
            let raw = tokio::task::spawn_blocking(move || read_topic(&kafka, topics::NOMINATOR_EVENTS)).await.ok()?;
            let events: Vec<NominatorEvent> = raw.iter().filter_map(|(_, _, p)| NominatorEvent::decode(p).ok()).collect();
            events.iter().any(|e| e.kind == "confirmed").then_some(events)
        }
    })
    .await
    .unwrap();
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
    assert_eq!((count("announced"), count("executed"), count("confirmed")), (1, 1, 1), "{:?}", events.iter().map(|e| &e.kind).collect::<Vec<_>>());
    assert!(events.iter().any(|e| e.kind == "executed" && e.detail_json.contains(&call_hash)));
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=events.len() as i64).collect::<Vec<_>>());
    run.child.kill().await.unwrap();
}

async fn targets_on_chain_at(devnet: &testkit::Devnet, stash: [u8; 32]) -> Option<BTreeSet<String>> {
    let client = devnet.client("paseo-devnet").await.unwrap();
    let fin = client.finalized_number().await.unwrap();
    client.staking_at(fin).await.unwrap().nominations(stash).await.unwrap().map(|n| n.targets.into_iter().map(ss58).collect())
}
