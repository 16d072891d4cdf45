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

const GENESIS: &str = "0x91b171bb158e2d3848fa23a9f1c25182fb8e20313b2c1eb49219da7a70ce90c3";

fn added(id: u64, name: &str, peer: &str) -> String {
    format!(r#"3,[{id},["{name}","Parity Polkadot","1.20.2",null,"{peer}","linux","x86_64","gnu",null,null,null],[10,0],[[]],[[],[],[]],[100,"0x64",6000,1,null],null,null]"#)
}

/// A feed server: each accepted connection must subscribe to `GENESIS`, then
/// gets the next script's frames; the server closes it when the script's
/// signal fires (never, without one).
async fn feed_server(scripts: Vec<(Vec<String>, Option<tokio::sync::oneshot::Receiver<()>>)>) -> String {
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
