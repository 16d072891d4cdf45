//! Telemetry feeds: a websocket server that speaks the feed protocol (v33)
//! replays frames built from the protocol description; the client turns them
//! into node events keyed by peer id, skips malformed frames, reconnects after
//! the feed drops, and records its own connection going down and up.

use std::time::Duration;

use ingest::telemetry::{FeedClient, TelemetryConfig};
use schemas::{TelemetryFeedEvent, TelemetryNodeEvent, topics};
use futures::{SinkExt, StreamExt};
use testkit::wait;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::common::{Pipeline, read_topic};

pub(crate) const GENESIS: &str = "0x91b171bb158e2d3848fa23a9f1c25182fb8e20313b2c1eb49219da7a70ce90c3";

pub(crate) fn added(id: u64, name: &str, peer: &str) -> String {
    format!(r#"3,[{id},["{name}","Parity Polkadot","1.20.2",null,"{peer}","linux","x86_64","gnu",null,null,null],[10,0],[[]],[[],[],[]],[100,"0x64",6000,1,null],null,null]"#)
}

/// A feed server: each accepted connection must subscribe to `GENESIS`, then
/// gets the next script's frames; the server closes it when the script's
/// signal fires (never, without one).
pub(crate) async fn feed_server(scripts: Vec<(Vec<String>, Option<tokio::sync::oneshot::Receiver<()>>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for (frames, close) in scripts {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            ws.send(Message::binary(format!(r#"[0,33,11,["Polkadot","{GENESIS}",2]]"#).into_bytes())).await.unwrap();
            let Some(Ok(Message::Text(cmd))) = ws.next().await else { panic!("client sent no command") };
            assert_eq!(cmd.as_str(), format!("subscribe:{GENESIS}"));
            for f in frames {
                ws.send(Message::binary(f.into_bytes())).await.unwrap();
            }
            if let Some(close) = close {
                let _ = close.await;
                ws.close(None).await.unwrap();
            } else {
                // Hold the connection until the test ends.
                tokio::spawn(async move { while ws.next().await.is_some() {} });
            }
        }
    });
    format!("ws://{addr}/feed")
}

/// The telemetry topic holds two record types; the schema id says which.
fn node_events(bootstrap: &str) -> Vec<TelemetryNodeEvent> {
    read_topic(bootstrap, topics::TELEMETRY_NODES).into_iter().filter_map(|(_, _, p)| TelemetryNodeEvent::decode(&p).ok()).collect()
}

fn feed_events(bootstrap: &str) -> Vec<TelemetryFeedEvent> {
    read_topic(bootstrap, topics::TELEMETRY_NODES).into_iter().filter_map(|(_, _, p)| TelemetryFeedEvent::decode(&p).ok()).collect()
}

/// What `read` finds on the broker once it holds at least `n` of them (waits up to a minute).
async fn at_least<T: Send + 'static>(bootstrap: &str, n: usize, what: &str, read: fn(&str) -> Vec<T>) -> Vec<T> {
    let b = bootstrap.to_string();
    wait::until(&format!("{n} {what}"), Duration::from_secs(60), move || {
        let b = b.clone();
        async move { Some(tokio::task::spawn_blocking(move || read(&b)).await.unwrap()).filter(|e| e.len() >= n) }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_events_are_keyed_by_peer_survive_bad_frames_and_reconnects() {
    testkit::init_tracing();
    let Pipeline { broker, bus, .. } = Pipeline::start().await;
    let first = vec![
        format!("[13,\"{GENESIS}\",{},{}]", added(1, "alice", "12D3KooAlice"), added(2, "bob", "12D3KooBob")),
        "this is not json".to_string(),
        "[4,1,20]".to_string(),                                   // odd length: refused whole
        r#"[99,{"future":true},4,1]"#.to_string(),                // unknown action skipped; alice removed
        format!("[{},8,[3,[7,0]]]", added(3, "alice", "12D3KooAlice")), // alice back under another id
        format!("[4,3,{}]", added(1, "alice", "12D3KooAlice")),   // flapping
    ];
    let second = vec![format!("[13,\"{GENESIS}\",{},{}]", added(5, "alice", "12D3KooAlice"), added(6, "bob", "12D3KooBob"))];
    let (close_first, closed) = tokio::sync::oneshot::channel();
    let url = feed_server(vec![(first, Some(closed)), (second, None)]).await;
    let cfg = TelemetryConfig {
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        settle: Duration::from_millis(300),
        ..TelemetryConfig::default()
    };
    let token = CancellationToken::new();
    let client = FeedClient::new("polkadot", GENESIS, url.parse().unwrap(), bus.clone(), cfg);
    let task = tokio::spawn(client.run(token.clone()));

    let bootstrap = broker.bootstrap().to_string();
    let b = bootstrap.clone();
    wait::until("the first connection's events and the feed up", Duration::from_secs(60), || {
        let b = b.clone();
        async move {
            let (f, n) = tokio::task::spawn_blocking(move || (feed_events(&b), node_events(&b))).await.unwrap();
            (f.len() == 1 && n.len() == 7).then_some(())
        }
    })
    .await
    .unwrap();
    // The feed drops: our own outage.
    close_first.send(()).unwrap();
    let feed = wait::until("the feed to go up, down and up again", Duration::from_secs(60), || {
        let b = bootstrap.clone();
        async move {
            let f = tokio::task::spawn_blocking(move || feed_events(&b)).await.unwrap();
            (f.len() >= 3).then_some(f)
        }
    })
    .await
    .unwrap();
    assert_eq!(feed.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>(), vec!["up", "down", "up"]);
    assert!(feed[1].reason.is_some());
    assert!(feed.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));

    let b = bootstrap.clone();
    let nodes = wait::until("the second snapshot", Duration::from_secs(60), || {
        let b = b.clone();
        async move {
            let n = tokio::task::spawn_blocking(move || node_events(&b)).await.unwrap();
            (n.len() >= 9).then_some(n)
        }
    })
    .await
    .unwrap();
    token.cancel();
    task.await.unwrap().unwrap();
    let seen: Vec<(&str, &str)> = nodes.iter().map(|e| (e.peer_id.as_str(), e.kind.as_str())).collect();
    assert_eq!(
        seen,
        vec![
            ("12D3KooAlice", "added"),
            ("12D3KooBob", "added"),
            ("12D3KooAlice", "removed"),
            ("12D3KooAlice", "added"),
            ("12D3KooAlice", "stats"),
            ("12D3KooAlice", "removed"),
            ("12D3KooAlice", "added"),
            // Reconnected: the new snapshot; nobody was "removed" by our drop.
            ("12D3KooAlice", "added"),
            ("12D3KooBob", "added"),
        ]
    );
    assert!(nodes.iter().all(|e| e.network == "polkadot" && e.source == url));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_seen_by_two_feeds_is_reported_by_each() {
    testkit::init_tracing();
    let Pipeline { broker, bus, .. } = Pipeline::start().await;
    let snapshot = vec![format!("[13,\"{GENESIS}\",{}]", added(4, "alice", "12D3KooAlice"))];
    let (a, b) = (feed_server(vec![(snapshot.clone(), None)]).await, feed_server(vec![(snapshot, None)]).await);
    let token = CancellationToken::new();
    for url in [&a, &b] {
        let client = FeedClient::new("polkadot", GENESIS, url.parse().unwrap(), bus.clone(), TelemetryConfig::default());
        tokio::spawn(client.run(token.clone()));
    }
    let bootstrap = broker.bootstrap().to_string();
    let nodes = wait::until("both feeds' snapshots", Duration::from_secs(60), || {
        let b = bootstrap.clone();
        async move {
            let n = tokio::task::spawn_blocking(move || node_events(&b)).await.unwrap();
            (n.len() >= 2).then_some(n)
        }
    })
    .await
    .unwrap();
    token.cancel();
    let mut sources: Vec<&str> = nodes.iter().map(|e| e.source.as_str()).collect();
    sources.sort_unstable();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort_unstable();
    assert_eq!(sources, want);
    assert!(nodes.iter().all(|e| e.peer_id == "12D3KooAlice" && e.kind == "added"));
}

/// The uptime consumer killed again and again ends with exactly the state of
/// an uninterrupted replay of the same topic, and `/nodes` reports it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uptime_survives_consumer_kills_and_equals_an_uninterrupted_replay() {
    use rand::Rng;
    use scoring::{UptimeConfig, UptimeConsumer};
    testkit::init_tracing();
    let Pipeline { broker, bus, store, .. } = Pipeline::start().await;

    // Alice flaps 15 times, Bob stays; a malformed frame in the middle.
    let mut frames = vec![format!("[13,\"{GENESIS}\",{},{}]", added(1, "alice", "12D3KooAlice"), added(2, "bob", "12D3KooBob"))];
    for i in 0..15u64 {
        frames.push(format!("[4,1,{}]", added(1, "alice", "12D3KooAlice")));
        if i == 7 {
            frames.push("{\"not\":\"a frame\"}".into());
        }
    }
    frames.push("[4,1]".into()); // Alice finally leaves.
    let url = feed_server(vec![(frames, None)]).await;
    // Up at once, so the flaps below happen while the feed is up.
    let cfg = TelemetryConfig { settle: Duration::ZERO, ..TelemetryConfig::default() };
    let token = CancellationToken::new();
    tokio::spawn(FeedClient::new("polkadot", GENESIS, url.parse().unwrap(), bus.clone(), cfg).run(token.clone()));
    // 2 snapshot + 15 x (removed, added) + final removed + feed up = 34 records.
    let bootstrap = broker.bootstrap().to_string();
    let total = wait::until("all telemetry records", Duration::from_secs(60), || {
        let b = bootstrap.clone();
        async move {
            let n = tokio::task::spawn_blocking(move || read_topic(&b, topics::TELEMETRY_NODES).len()).await.unwrap();
            (n >= 34).then_some(n as i64)
        }
    })
    .await
    .unwrap();

    let small = UptimeConfig { batch: 2, ..UptimeConfig::default() };
    for _ in 0..8 {
        let task = tokio::spawn(UptimeConsumer::new(bus.clone(), store.clone(), small.clone()).run(CancellationToken::new()));
        let after = rand::rng().random_range(5..150);
        tokio::time::sleep(Duration::from_millis(after)).await; // fault injection, not synchronisation
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    }
    let killed = finish(store.clone(), bus.clone(), small.clone(), total).await;
    let dir = tempfile::tempdir().unwrap();
    let fresh: std::sync::Arc<dyn store::Store> = std::sync::Arc::new(store::EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    let replayed = finish(fresh, bus.clone(), small, total).await;
    token.cancel();
    assert_eq!(killed, replayed, "a killed and restarted consumer ends where an uninterrupted one does");

    let alice = killed.node("polkadot", "12D3KooAlice").unwrap();
    let bob = killed.node("polkadot", "12D3KooBob").unwrap();
    assert_eq!((alice.presence, bob.presence), (rules::uptime::Presence::Offline, rules::uptime::Presence::Online));
    // Offline since her last removal; a removal and re-addition within one
    // frame share a receive time and charge nothing.
    let now = alice.since_ms + 60_000;
    let window = UptimeConfig::default().window_ms();
    let charged = killed.offline_in_window("polkadot", "12D3KooAlice", now, window);
    let closed: i64 = alice.offline.iter().map(|(s, e)| e - s).sum();
    assert_eq!(charged, closed + 60_000);
    assert_eq!(killed.offline_in_window("polkadot", "12D3KooBob", now, window), 0);

    // The API shows the same.
    let state = api::AppState {
        store: store.clone(),
        networks: std::sync::Arc::new(vec![]),
        consumer: scoring::HEADS_CONSUMER,
        ready_max_lag: 0, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX,
        metrics: None,
        uptime_window_ms: UptimeConfig::default().window_ms(),
        namespaces: None,
        scored_networks: std::sync::Arc::new(vec![]), nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None,
    };
    use tower::ServiceExt;
    let resp = api::router(state.clone())
        .oneshot(axum::http::Request::get("/nodes?network=polkadot&name=alice").body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap()).unwrap();
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert_eq!(body[0]["status"], "offline");
    assert!(body[0]["offline_in_window_ms"].as_i64().unwrap() > 0);
    let bad = api::router(state).oneshot(axum::http::Request::get("/nodes?colour=red").body(axum::body::Body::empty()).unwrap()).await.unwrap();
    assert_eq!(bad.status(), 400, "unknown query parameters are refused");
}

/// Run the uptime consumer until its position covers all `total` records; its state then.
async fn finish(
    store: std::sync::Arc<dyn store::Store>,
    bus: bus::BusConfig,
    cfg: scoring::UptimeConfig,
    total: i64,
) -> rules::uptime::UptimeState {
    let task = tokio::spawn(scoring::UptimeConsumer::new(bus, store.clone(), cfg).run(CancellationToken::new()));
    wait::until("the consumer to reach the end", Duration::from_secs(60), || {
        let store = store.clone();
        async move {
            let p = store.positions(scoring::UPTIME_CONSUMER, topics::TELEMETRY_NODES).await.unwrap();
            (p.iter().map(|c| c.next_offset).sum::<i64>() == total).then_some(())
        }
    })
    .await
    .unwrap();
    task.abort();
    scoring::load_uptime(store.as_ref()).await.unwrap()
}

/// A node reporting a validator's GRANDPA session key (as telemetry does) is
/// tied to that validator's stash, through the session snapshot ingest read
/// from the real chain runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_are_tied_to_stashes_by_the_session_keys_they_report() {
    use tower::ServiceExt;
    testkit::init_tracing();
    let (Pipeline { broker, bus, store, .. }, devnet) = Pipeline::with_devnet().await;
    let net = devnet.network("polkadot");
    let ingest = tokio::spawn(
        ingest::BlockIngest::new(net, bus.clone(), ingest::IngestConfig::default(), store.clone()).run(CancellationToken::new()),
    );
    devnet.force_session().await.unwrap();
    let keys_task = tokio::spawn(scoring::FoldConsumer::session_keys(bus.clone(), store.clone()).run(CancellationToken::new()));
    let keys = wait::until("the session keys of the network", Duration::from_secs(120), || {
        let store = store.clone();
        async move {
            let k = scoring::load_state::<scoring::SessionKeysFold>(store.as_ref()).await.unwrap();
            k.get("polkadot").filter(|m| !m.is_empty()).cloned()
        }
    })
    .await
    .unwrap();
    let (grandpa_hex, stash) = keys.iter().next().map(|(k, s)| (k.clone(), s.clone())).unwrap();
    let grandpa: [u8; 32] = hex::decode(grandpa_hex.trim_start_matches("0x")).unwrap().try_into().unwrap();
    let ss58 = subxt::utils::AccountId32(grandpa).to_string();

    let frame = format!(
        r#"[13,"{GENESIS}",3,[7,["val-node","Parity Polkadot","1.20.2","{ss58}","12D3KooVal","linux","x86_64","gnu",null,null,null],[10,0],[[]],[[],[],[]],[100,"0x64",6000,1,null],null,null]]"#
    );
    let url = feed_server(vec![(vec![frame], None)]).await;
    let token = CancellationToken::new();
    let cfg = TelemetryConfig { settle: Duration::ZERO, ..TelemetryConfig::default() };
    tokio::spawn(FeedClient::new("polkadot", GENESIS, url.parse().unwrap(), bus.clone(), cfg).run(token.clone()));
    let uptime = tokio::spawn(scoring::UptimeConsumer::new(bus.clone(), store.clone(), scoring::UptimeConfig::default()).run(token.clone()));
    let state = api::AppState {
        store: store.clone(),
        networks: std::sync::Arc::new(vec![]),
        consumer: scoring::HEADS_CONSUMER,
        ready_max_lag: 0, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX,
        metrics: None,
        uptime_window_ms: 1000,
        namespaces: None,
        scored_networks: std::sync::Arc::new(vec![]), nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None,
    };
    let body = wait::until("the node in /nodes", Duration::from_secs(60), || {
        let state = state.clone();
        async move {
            let resp = api::router(state).oneshot(axum::http::Request::get("/nodes").body(axum::body::Body::empty()).unwrap()).await.ok()?;
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.ok()?;
            let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
            (v.as_array()?.len() == 1).then_some(v)
        }
    })
    .await
    .unwrap();
    let _ = broker;
    token.cancel();
    uptime.await.unwrap().unwrap();
    ingest.abort();
    keys_task.abort();
    assert_eq!(body[0]["stash"], stash);
    assert_eq!(body[0]["matched_by"], "session_key");
    assert_eq!(body[0]["status"], "online");
}

/// Nodes that report to stakeflow's own `/submit` endpoint appear like feed
/// nodes (source `submit`); a node closing its connection is removed, and
/// the uptime consumer counts it offline from then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_reporting_to_submit_are_tracked_without_a_feed() {
    testkit::init_tracing();
    let Pipeline { broker, bus, store, .. } = Pipeline::start().await;
    let networks = std::collections::BTreeMap::from([(GENESIS.to_string(), "polkadot".to_string())]);
    let server = ingest::telemetry::SubmitServer::bind("127.0.0.1:0".parse().unwrap(), networks, bus.clone(), &TelemetryConfig::default()).await.unwrap();
    let addr = server.local_addr().unwrap();
    let token = CancellationToken::new();
    tokio::spawn(server.run(token.clone()));
    let uptime = tokio::spawn(scoring::UptimeConsumer::new(bus.clone(), store.clone(), scoring::UptimeConfig::default()).run(token.clone()));

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/submit")).await.unwrap();
    let msgs = [
        format!(r#"{{"id":1,"ts":"2025-11-24T09:00:00Z","payload":{{"msg":"system.connected","chain":"Polkadot","genesis_hash":"{GENESIS}","name":"own-node","implementation":"Parity Polkadot","version":"1.20.2","network_id":"12D3KooOwn","startup_time":"1762300000000"}}}}"#),
        r#"{"id":1,"ts":"2025-11-24T09:00:01Z","payload":{"msg":"afg.authority_set","authority_id":"5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu","authority_set_id":"1","authorities":"[]"}}"#.to_string(),
        r#"{"id":1,"ts":"2025-11-24T09:00:06Z","payload":{"msg":"block.import","best":"0xc3","height":28401235,"origin":"NetworkBroadcast"}}"#.to_string(),
        "garbage".to_string(),
    ];
    for m in msgs {
        ws.send(Message::text(m)).await.unwrap();
    }
    let bootstrap = broker.bootstrap().to_string();
    let b = bootstrap.clone();
    wait::until("the node to be online", Duration::from_secs(60), || {
        let store = store.clone();
        async move {
            let u = scoring::load_uptime(store.as_ref()).await.unwrap();
            u.node("polkadot", "12D3KooOwn").filter(|n| n.presence == rules::uptime::Presence::Online).cloned()
        }
    })
    .await
    .unwrap();
    ws.close(None).await.unwrap();
    let node = wait::until("the node to be offline after it disconnects", Duration::from_secs(60), || {
        let store = store.clone();
        async move {
            let u = scoring::load_uptime(store.as_ref()).await.unwrap();
            u.node("polkadot", "12D3KooOwn").filter(|n| n.presence == rules::uptime::Presence::Offline).cloned()
        }
    })
    .await
    .unwrap();
    assert_eq!(node.validator.as_deref(), Some("5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"));
    let events = tokio::task::spawn_blocking(move || node_events(&b)).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["added", "added", "imported", "removed"]);
    assert!(events.iter().all(|e| e.source == "submit" && e.peer_id == "12D3KooOwn"));
    token.cancel();
    uptime.await.unwrap().unwrap();
}

/// A feed session ended by a crash (the task is gone, no "down" sent) is
/// recorded as our outage at the next start, as of the last record, before
/// the new session's "up"; stopping cleanly records "down" itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_by_a_crash_is_recorded_as_our_outage_at_the_next_start() {
    testkit::init_tracing();
    let Pipeline { broker, bus, .. } = Pipeline::start().await;
    let snapshot = || vec![format!("[13,\"{GENESIS}\",{}]", added(1, "alice", "12D3KooAlice"))];
    let url = feed_server(vec![(snapshot(), None), (snapshot(), None)]).await;
    let cfg = TelemetryConfig { settle: Duration::from_millis(300), ..TelemetryConfig::default() };
    let bootstrap = broker.bootstrap().to_string();
    let kinds = |n: usize| at_least(&bootstrap, n, "feed records", feed_events);
    let crashed = tokio::spawn(FeedClient::new("polkadot", GENESIS, url.parse().unwrap(), bus.clone(), cfg.clone()).run(CancellationToken::new()));
    kinds(1).await;
    let first_nodes = at_least(&bootstrap, 1, "node events of the first snapshot", node_events).await;
    crashed.abort();
    let _ = crashed.await;
    let token = CancellationToken::new();
    let again = tokio::spawn(FeedClient::new("polkadot", GENESIS, url.parse().unwrap(), bus.clone(), cfg).run(token.clone()));
    let feed = kinds(3).await;
    assert_eq!(feed.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>(), vec!["up", "down", "up"]);
    assert_eq!(feed[1].reason.as_deref(), Some(ingest::telemetry::UNRECORDED));
    let last_node = first_nodes.iter().map(|e| e.at_ms).max().unwrap();
    assert_eq!(feed[1].at_ms, last_node.max(feed[0].at_ms), "the outage began when the feed was last known to work");
    assert!(feed[1].at_ms <= feed[2].at_ms);
    token.cancel();
    again.await.unwrap().unwrap();
    let feed = kinds(4).await;
    assert_eq!((feed[3].kind.as_str(), feed[3].reason.as_deref()), ("down", Some("stakeflow stopped")));
}

fn connected(id: u64, peer: &str) -> String {
    format!(r#"{{"id":{id},"ts":"2025-11-24T09:00:00Z","payload":{{"msg":"system.connected","chain":"Polkadot","genesis_hash":"{GENESIS}","name":"n-{peer}","implementation":"Parity Polkadot","version":"1.20.2","network_id":"{peer}"}}}}"#)
}

/// `/submit` admits nodes by operator token, holds connections to their
/// limits (count, message size), and tracks presence per connection: a node
/// that reconnected is not removed when its old connection closes; an id
/// reused for another node removes the one it named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_admits_by_token_bounds_connections_and_tracks_presence_per_connection() {
    testkit::init_tracing();
    let Pipeline { broker, bus, dir, .. } = Pipeline::start().await;
    let tokens = dir.path().join("submit-tokens");
    std::fs::write(&tokens, "# operator A\nop-t0ken\n").unwrap();
    let cfg = TelemetryConfig { submit_tokens_file: Some(tokens), submit_max_connections: 2, submit_max_frame_bytes: 4096, ..TelemetryConfig::default() };
    let networks = std::collections::BTreeMap::from([(GENESIS.to_string(), "polkadot".to_string())]);
    let server = ingest::telemetry::SubmitServer::bind("127.0.0.1:0".parse().unwrap(), networks, bus.clone(), &cfg).await.unwrap();
    let addr = server.local_addr().unwrap();
    let token = CancellationToken::new();
    tokio::spawn(server.run(token.clone()));
    let url = format!("ws://{addr}/submit/op-t0ken");

    // Without a valid token: refused at the handshake.
    for bad in [format!("ws://{addr}/submit"), format!("ws://{addr}/submit/guess")] {
        assert!(tokio_tungstenite::connect_async(bad.as_str()).await.is_err(), "{bad} admitted");
    }
    // P reports on a, then reconnects on b; a closes afterwards: P stays.
    let (mut a, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    a.send(Message::text(connected(1, "12D3KooP"))).await.unwrap();
    let bootstrap = broker.bootstrap().to_string();
    let events = |n: usize| at_least(&bootstrap, n, "node events", node_events);
    events(1).await;
    let (mut b, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    b.send(Message::text(connected(1, "12D3KooP"))).await.unwrap();
    events(2).await;
    a.close(None).await.unwrap();
    while a.next().await.is_some() {}
    // Two connections at most: b and c; d is closed at once.
    let (mut c, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    let d = tokio_tungstenite::connect_async(url.as_str()).await;
    if let Ok((mut d, _)) = d {
        let ended = tokio::time::timeout(Duration::from_secs(10), d.next()).await.expect("the extra connection is closed");
        assert!(!matches!(ended, Some(Ok(Message::Text(_)))), "{ended:?}");
    }
    // A message over the limit closes its connection.
    c.send(Message::text("x".repeat(8192))).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), async { while let Some(Ok(_)) = c.next().await {} }).await;
    assert!(ended.is_ok(), "an oversized message closes the connection");
    // The id reused for another node: P is removed, Q added; b closes: Q removed.
    b.send(Message::text(connected(1, "12D3KooQ"))).await.unwrap();
    events(4).await;
    b.close(None).await.unwrap();
    let all = events(5).await;
    let seen: Vec<(&str, &str)> = all.iter().map(|e| (e.peer_id.as_str(), e.kind.as_str())).collect();
    assert_eq!(seen, vec![("12D3KooP", "added"), ("12D3KooP", "added"), ("12D3KooP", "removed"), ("12D3KooQ", "added"), ("12D3KooQ", "removed")]);
    token.cancel();
}
