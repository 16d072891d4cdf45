//! `/events` against a real broker and a real HTTP client: a client that
//! disconnects and comes back with `Last-Event-ID` gets every event it had
//! not seen, once, and nothing it had.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use api::AppState;
use bus::embedded::EmbeddedBroker;
use bus::{BusConfig, Publisher};
use schemas::{CandidateScore, NominatorEvent, Round, TelemetryNodeEvent, topics};
use store::{EmbeddedStore, Store};

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
struct Sse {
    id: String,
    kind: String,
    data: serde_json::Value,
}

/// A client reading `/events` with reqwest, parsing the stream as it comes.
struct Client {
    resp: reqwest::Response,
    buf: String,
}

impl Client {
    async fn connect(url: &str, last: Option<&str>) -> Self {
        let mut req = reqwest::Client::new().get(url);
        if let Some(id) = last {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
        Client { resp, buf: String::new() }
    }

    /// The next event (keep-alive comments skipped), within 60 s.
    async fn next(&mut self) -> Sse {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut ev = Sse { id: String::new(), kind: String::new(), data: serde_json::Value::Null };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        ev.id = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        ev.kind = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        ev.data = serde_json::from_str(v.trim()).unwrap();
                    }
                }
                if !ev.kind.is_empty() {
                    return ev;
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.resp.chunk()).await.expect("an event within 60 s").unwrap().expect("the stream is open");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

/// What identifies an event across connections.
fn identity(e: &Sse) -> String {
    match e.kind.as_str() {
        "round" => format!("round {}", e.data["round"]),
        "nomination" => format!("nomination {}", e.data["seq"]),
        "node" => format!("node {} {}", e.data["peer_id"], e.data["online"]),
        "validity" => format!("validity {} {}", e.data["stash"], e.data["round"]),
        other => format!("{other} {}", e.data),
    }
}

struct World {
    publisher: Publisher,
    net: String,
}

impl World {
    async fn round(&self, n: i64) {
        let r = Round { network: self.net.clone(), round: n, candidates: 3, valid: 2, ..Default::default() };
        self.publisher.publish(topics::ROUNDS, format!("{}/{n}", self.net).as_bytes(), &r.encode().unwrap()).await.unwrap();
    }
    async fn nomination(&self, seq: i64) {
        let e = NominatorEvent { network: self.net.clone(), seq, kind: "decided".into(), detail_json: "{}".into(), ..Default::default() };
        // Partitioned by network, as the nominator does: its steps stay in order.
        let key = format!("{}/{seq}", self.net);
        self.publisher.publish_keyed(topics::NOMINATOR_EVENTS, self.net.as_bytes(), key.as_bytes(), &e.encode().unwrap(), None).await.unwrap();
    }
    async fn node(&self, peer: &str, online: bool) {
        let e = TelemetryNodeEvent { network: self.net.clone(), peer_id: peer.into(), kind: if online { "added" } else { "removed" }.into(), name: peer.into(), ..Default::default() };
        self.publisher.publish(topics::TELEMETRY_NODES, peer.as_bytes(), &e.encode().unwrap()).await.unwrap();
    }
    async fn score(&self, round: i64, stash: &str, verdict: &str) {
        let s = CandidateScore { network: self.net.clone(), round, stash: stash.into(), name: stash.into(), verdict: verdict.into(), valid: verdict == "valid", ..Default::default() };
        self.publisher.publish(topics::SCORES, format!("{}/{round}/{stash}", self.net).as_bytes(), &s.encode().unwrap()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reconnects_with_last_event_id_misses_nothing_and_sees_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(&dir.path().join("broker"), 0).await.unwrap();
    let bus = BusConfig::for_brokers(broker.bootstrap());
    bus::admin::ensure_topics(&bus, &[topics::BLOCKS, topics::ROUNDS, topics::SCORES, topics::NOMINATOR_EVENTS, topics::TELEMETRY_NODES]).await.unwrap();

    // The stored round the first verdict changes are judged against.
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    let stored = rules::synthetic::round(30);
    support::save(store.as_ref(), &stored).await;
    let valid = stored.candidates.iter().find(|c| c.validity.valid).unwrap().candidate.stash.clone();
    let other = stored.candidates.iter().filter(|c| c.validity.valid).nth(1).unwrap().candidate.stash.clone();
    let net = rules::synthetic::NET.to_string();
    let state = AppState { events: Some(bus.clone()), ..support::state(store) };
    let cfg = api::ApiConfig { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
    let token = tokio_util::sync::CancellationToken::new();
    let (addr, server) = api::serve(&cfg, state, token.clone()).await.unwrap();
    let base = format!("http://{addr}/events");
    // Everything read from the topics (readiness is a state, tested below).
    let url = format!("{base}?kind=block,round,validity,nomination,node,feed");
    let w = World { publisher: Publisher::new(&bus).unwrap(), net: net.clone() };
    let next_round = stored.round as i64 + 1;

    // A client from now on; then what happens.
    let mut first = Client::connect(&url, None).await;
    w.score(next_round, &valid, "invalid").await; // a change: an event
    w.score(next_round, &other, "valid").await; // no change: none
    w.round(next_round).await;
    w.nomination(1).await;
    w.nomination(2).await;
    w.node("peer-a", true).await;
    w.node("peer-b", true).await;
    let mut expected = vec![
        format!("validity \"{valid}\" {next_round}"),
        format!("round {next_round}"),
        "nomination 1".to_string(),
        "nomination 2".to_string(),
        "node \"peer-a\" true".to_string(),
        "node \"peer-b\" true".to_string(),
    ];
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(first.next().await);
    }
    let first_three: Vec<String> = seen.iter().map(identity).collect();
    // The client goes away; meanwhile more happens.
    let last = seen.last().unwrap().id.clone();
    drop(first);
    w.nomination(3).await;
    w.node("peer-a", false).await;
    w.round(next_round + 1).await;
    expected.extend(["nomination 3".to_string(), "node \"peer-a\" false".to_string(), format!("round {}", next_round + 1)]);

    // Back with the last id it got: the rest, then a sentinel, and nothing else.
    let mut again = Client::connect(&url, Some(&last)).await;
    w.nomination(99).await;
    // Topics interleave in any order: read until both the sentinel and as many events as expected came.
    let mut sentinel = false;
    while !(sentinel && seen.len() >= expected.len()) {
        let e = again.next().await;
        if identity(&e) == "nomination 99" {
            sentinel = true;
        } else {
            seen.push(e);
        }
    }
    let mut got: Vec<String> = seen.iter().map(identity).collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "every event once, across the reconnect");
    let change = seen.iter().find(|e| e.kind == "validity").unwrap();
    assert_eq!((change.data["from"].as_str(), change.data["to"].as_str()), (Some("valid"), Some("invalid")), "judged against the stored round before");
    // Ids are cursors: distinct, and a later event's never behind an earlier one's.
    let ids: BTreeMap<&str, usize> = seen.iter().enumerate().map(|(i, e)| (e.id.as_str(), i)).collect();
    assert_eq!(ids.len(), seen.len(), "one id per event");

    // Filters: only what was asked for, still resumable from the same id.
    let mut nominations = Client::connect(&format!("{base}?kind=nomination&network={net}"), Some(&last)).await;
    let want: Vec<String> = ["nomination 1", "nomination 2", "nomination 3", "nomination 99"]
        .into_iter()
        .map(str::to_string)
        .filter(|n| !first_three.contains(n))
        .collect();
    let mut got = Vec::new();
    for _ in 0..want.len() {
        let e = nominations.next().await;
        assert_eq!(e.kind, "nomination");
        got.push(identity(&e));
    }
    assert_eq!(got, want, "only nominations, in order, from where the client was");

    // Readiness comes first on a connection, without an id (a reconnect resumes from the last topic event's id).
    let mut all = Client::connect(&base, Some(&last)).await;
    let ready = all.next().await;
    assert_eq!((ready.kind.as_str(), ready.id.as_str(), ready.data["ready"].as_bool()), ("ready", "", Some(false)), "{ready:?}");
    assert_eq!(ready.data["chains"][0]["name"], net.as_str());
    drop(all);

    let bad = reqwest::Client::new().get(&base).header("last-event-id", "v1:12345").send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "bad_query");
    // Shutting down ends the open streams (a graceful shutdown waits for every connection).
    drop(nominations);
    token.cancel();
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while again.resp.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "an open stream did not end at shutdown");
    tokio::time::timeout(Duration::from_secs(30), server).await.expect("the server stops with a stream open").unwrap().unwrap();
}
