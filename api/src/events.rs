//! `GET /events`: the live stream (server-sent events) of a programme, read
//! from the topics themselves: finalized blocks, new rounds, candidates
//! whose verdict changed, the nominator's steps, nodes going online or
//! offline, telemetry feeds going up or down; and readiness as it changes.
//!
//! Every event read from a topic has the stream's cursor after it as its id:
//! the next offset of every partition of every topic the stream reads. A
//! client that reconnects with `Last-Event-ID` resumes exactly there, so it
//! misses nothing and sees nothing twice, whatever it filters (filtered-out
//! records only move the cursor). Readiness is a state, not history: a
//! `ready` event carries no id, comes first on every connection and then
//! whenever readiness changes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use bus::consumer::{PartitionReader, Position, Record};
use futures::Stream;
use schemas::{CandidateScore, FinalizedBlock, NominatorEvent, Round, TelemetryRecord, topics};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use utoipa::IntoParams;

use crate::openapi::ErrorBody;
use crate::read_model::ReadModel;
use crate::{ApiError, AppState};

/// The topics a stream reads, in cursor order.
const TOPICS: [&str; 5] = [topics::BLOCKS, topics::ROUNDS, topics::SCORES, topics::NOMINATOR_EVENTS, topics::TELEMETRY_NODES];
/// The kinds of event, as `?kind=` names them.
pub(crate) const KINDS: [&str; 7] = ["block", "round", "validity", "nomination", "node", "feed", "ready"];
/// How often readiness is judged for the `ready` events.
const READY_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
/// Records read ahead of a slow client, per stream.
const READ_AHEAD: usize = 256;

/// Cancelled when the server shuts down: every open stream ends then.
#[derive(Clone)]
pub(crate) struct StreamsEnd(pub tokio_util::sync::CancellationToken);

/// `?network=` and `?kind=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    /// Only this network (default: all).
    network: Option<String>,
    /// Comma-separated kinds: block, round, validity, nomination, node, feed, ready (default: all).
    kind: Option<String>,
}

/// Where a stream stands: per topic (in [`TOPICS`] order), the next offset of each partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor(Vec<Vec<i64>>);

impl Cursor {
    /// `v1:` then, per topic, its partitions' next offsets, `,`-separated; topics `;`-separated.
    pub(crate) fn encode(&self) -> String {
        let topics: Vec<String> = self.0.iter().map(|p| p.iter().map(i64::to_string).collect::<Vec<_>>().join(",")).collect();
        format!("v1:{}", topics.join(";"))
    }

    /// An id of [`Cursor::encode`], checked against the topics' partitions and ends.
    pub(crate) fn decode(id: &str, marks: &[Vec<(i64, i64)>]) -> Result<Self, String> {
        let body = id.strip_prefix("v1:").ok_or("not an id this API gave (no v1: prefix)")?;
        let topics: Vec<&str> = body.split(';').collect();
        if topics.len() != marks.len() {
            return Err(format!("the id has {} topics, the stream reads {}", topics.len(), marks.len()));
        }
        let mut out = Vec::new();
        for ((part, marks), topic) in topics.iter().zip(marks).zip(TOPICS) {
            let offsets: Vec<i64> = part.split(',').map(str::parse).collect::<Result<_, _>>().map_err(|_| format!("{topic}: not offsets"))?;
            if offsets.len() != marks.len() {
                return Err(format!("{topic} has {} partitions, the id {}: the topic was recreated", marks.len(), offsets.len()));
            }
            for (p, (&o, &(low, high))) in offsets.iter().zip(marks).enumerate() {
                if o > high || o < low {
                    return Err(format!("{topic}[{p}]: offset {o} is outside {low}..={high}: the id is from another broker, or the records were deleted"));
                }
            }
            out.push(offsets);
        }
        Ok(Cursor(out))
    }
}

/// The live stream: each event's `id` resumes the stream right after it (`Last-Event-ID`).
#[utoipa::path(get, path = "/events", tag = "events", params(EventsQuery,
    ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event (browsers send it when they reconnect)"),
), responses(
    (status = 200, description = "`text/event-stream`: events `block`, `round`, `validity`, `nomination`, `node`, `feed`, each with a JSON `data` and a resumable `id`, and `ready` (no id: first, then on every change)", body = String, content_type = "text/event-stream"),
    (status = 400, description = "A bad kind, or an id this broker cannot resume from", body = ErrorBody),
    (status = 503, description = "No broker to stream from", body = ErrorBody),
))]
pub(crate) async fn stream(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    Extension(StreamsEnd(end)): Extension<StreamsEnd>,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let kinds: Vec<String> = match &q.kind {
        None => KINDS.iter().map(|k| k.to_string()).collect(),
        Some(k) => {
            let asked: Vec<String> = k.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            if let Some(bad) = asked.iter().find(|a| !KINDS.contains(&a.as_str())) {
                return Err(ApiError::BadQuery(format!("no event kind {bad:?}; kinds are {}", KINDS.join(","))));
            }
            asked
        }
    };
    let Some(bus) = state.events.clone() else {
        return Err(ApiError::Unavailable("this process streams no events: it has no broker configured".into()));
    };
    let mut marks = Vec::new();
    for topic in TOPICS {
        let m = bus::admin::partition_watermarks(&bus, topic)
            .await
            .map_err(|e| ApiError::Unavailable(format!("the broker cannot be read ({e}); try again")))?;
        marks.push(m.into_iter().map(|(_, low, high)| (low, high)).collect::<Vec<_>>());
    }
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).filter(|s| !s.is_empty());
    let cursor = match last {
        Some(id) => Cursor::decode(id, &marks).map_err(|e| ApiError::BadQuery(format!("Last-Event-ID: {e}")))?,
        // From now on.
        None => Cursor(marks.iter().map(|m| m.iter().map(|(_, high)| *high).collect()).collect()),
    };
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let group = format!("stakeflow-api-events-{}", uuid::Uuid::new_v4());
    for (i, topic) in TOPICS.into_iter().enumerate() {
        let from: Vec<Position> = cursor.0[i].iter().enumerate().map(|(p, &o)| Position { partition: p as i32, next_offset: o }).collect();
        tokio::spawn(read_topic(bus.clone(), group.clone(), topic, i, from, tx.clone()));
    }
    let mut ticks = tokio::time::interval(READY_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let feed = Feed { rx, cursor, kinds, network: q.network, state, views, previous: HashMap::new(), ticks, readiness: None, end };
    Ok(Sse::new(futures::stream::unfold(feed, Feed::next)).keep_alive(KeepAlive::default()))
}

/// Forward `topic`'s records from `from` until the stream is dropped.
async fn read_topic(bus: bus::BusConfig, group: String, topic: &'static str, index: usize, from: Vec<Position>, tx: mpsc::Sender<Result<(usize, Record), String>>) {
    let reader = match PartitionReader::assign(&bus, &group, topic, &from).await {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(format!("{topic}: {e}"))).await;
            return;
        }
    };
    loop {
        tokio::select! {
            // The client went away: stop reading.
            () = tx.closed() => return,
            r = reader.next() => {
                let sent = match r {
                    Ok(rec) => tx.send(Ok((index, rec))).await,
                    Err(e) => tx.send(Err(format!("{topic}: {e}"))).await,
                };
                if sent.is_err() {
                    return;
                }
            }
        }
    }
}

/// One client's stream.
struct Feed {
    rx: mpsc::Receiver<Result<(usize, Record), String>>,
    cursor: Cursor,
    kinds: Vec<String>,
    network: Option<String>,
    state: AppState,
    views: Arc<ReadModel>,
    /// Per (network, round): each stash's verdict in the stored round before it.
    previous: HashMap<(String, i64), Arc<HashMap<String, String>>>,
    /// When readiness is judged again.
    ticks: tokio::time::Interval,
    /// Readiness as last sent: ready, and why not per chain and consumer.
    readiness: Option<Value>,
    /// The server is shutting down.
    end: tokio_util::sync::CancellationToken,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            let received = tokio::select! {
                // The client reconnects to the next server with its last id.
                () = self.end.cancelled() => return None,
                r = self.rx.recv() => r?,
                _ = self.ticks.tick() => {
                    match self.readiness_changed().await {
                        Some(data) => return Some((Ok(Event::default().event("ready").data(data.to_string())), self)),
                        None => continue,
                    }
                }
            };
            let (topic, rec) = match received {
                Ok(r) => r,
                Err(e) => {
                    // The client reconnects with the last id it got and resumes there.
                    tracing::warn!(error = %e, "an event stream lost the broker; ending it");
                    return None;
                }
            };
            if let Some(p) = self.cursor.0[topic].get_mut(rec.partition as usize) {
                *p = rec.offset + 1;
            }
            let Some((kind, network, data)) = self.event(topic, &rec).await else { continue };
            if !self.kinds.iter().any(|k| k == kind) || self.network.as_deref().is_some_and(|n| n != network) {
                continue;
            }
            let event = Event::default().id(self.cursor.encode()).event(kind).data(data.to_string());
            return Some((Ok(event), self));
        }
    }

    /// The event a record makes, if any: (kind, network, data).
    async fn event(&mut self, topic: usize, rec: &Record) -> Option<(&'static str, String, Value)> {
        let payload = rec.payload.as_deref()?;
        match TOPICS[topic] {
            topics::BLOCKS => {
                let b = FinalizedBlock::decode(payload).ok()?;
                let data = json!({"network": b.chain, "number": b.number, "hash": b.hash, "timestamp_ms": b.timestamp_ms});
                Some(("block", b.chain, data))
            }
            topics::ROUNDS => {
                let r = Round::decode(payload).ok()?;
                let data = json!({"network": r.network, "round": r.round, "era": r.era, "block": r.block_number, "at_ms": r.at_ms,
                    "candidates": r.candidates, "valid": r.valid, "invalid": r.invalid, "unknown": r.unknown});
                Some(("round", r.network, data))
            }
            topics::SCORES => {
                let s = CandidateScore::decode(payload).ok()?;
                let before = self.previous_verdicts(&s.network, s.round).await;
                let was = before.get(&s.stash)?;
                if *was == s.verdict {
                    return None;
                }
                let reasons: Vec<&str> = s.checks.iter().filter(|c| c.verdict != "valid").map(|c| c.reason.as_str()).collect();
                let data = json!({"network": s.network, "round": s.round, "stash": s.stash, "name": s.name,
                    "from": was, "to": s.verdict, "reasons": reasons});
                Some(("validity", s.network, data))
            }
            topics::NOMINATOR_EVENTS => {
                let n = NominatorEvent::decode(payload).ok()?;
                let data = json!({"network": n.network, "seq": n.seq, "step": n.kind, "at_ms": n.at_ms, "round": n.round, "era": n.era,
                    "stash": n.stash, "tx_hash": n.tx_hash, "block": n.block_number, "targets": n.targets, "reason": n.reason});
                Some(("nomination", n.network, data))
            }
            _ => {
                match TelemetryRecord::decode(payload).ok()? {
                    TelemetryRecord::Node(n) => {
                        let online = match n.kind.as_str() {
                            "added" => true,
                            "removed" => false,
                            _ => return None,
                        };
                        let data = json!({"network": n.network, "peer_id": n.peer_id, "name": n.name, "online": online, "at_ms": n.at_ms,
                            "version": n.version, "implementation": n.implementation});
                        Some(("node", n.network, data))
                    }
                    TelemetryRecord::Feed(f) => {
                        let up = match f.kind.as_str() {
                            "up" => true,
                            "down" => false,
                            _ => return None, // the scorer's round cuts
                        };
                        let data = json!({"network": f.network, "up": up, "at_ms": f.at_ms, "reason": f.reason});
                        Some(("feed", f.network, data))
                    }
                }
            }
        }
    }

    /// Readiness, when it differs from what was last sent (and asked for).
    async fn readiness_changed(&mut self) -> Option<Value> {
        if !self.kinds.iter().any(|k| k == "ready") {
            return None;
        }
        let (_, axum::Json(r)) = crate::routes::readiness_now(&self.state).await.ok()?;
        let whys = |items: Vec<(String, bool, Option<String>)>| items.into_iter().map(|(n, ready, why)| json!({"name": n, "ready": ready, "why": why})).collect::<Vec<_>>();
        let chains = whys(r.chains.iter().map(|c| (c.chain.clone(), c.ready, c.why.clone())).collect());
        let consumers = whys(r.consumers.iter().map(|c| (c.consumer.clone(), c.ready, c.why.clone())).collect());
        let now = json!({"ready": r.ready, "chains": chains, "consumers": consumers});
        if self.readiness.as_ref() == Some(&now) {
            return None;
        }
        self.readiness = Some(now.clone());
        Some(now)
    }

    /// Each stash's verdict in the latest stored round before `round` (empty if none).
    async fn previous_verdicts(&mut self, network: &str, round: i64) -> Arc<HashMap<String, String>> {
        let key = (network.to_string(), round);
        if let Some(v) = self.previous.get(&key) {
            return v.clone();
        }
        let verdicts = self.load_previous(network, round).await.unwrap_or_default();
        let v = Arc::new(verdicts);
        // Only the rounds being streamed now are needed.
        self.previous.retain(|(n, r), _| n != network || *r >= round);
        self.previous.insert(key, v.clone());
        v
    }

    async fn load_previous(&self, network: &str, round: i64) -> Option<HashMap<String, String>> {
        let store = self.state.scoring_store().await.ok()?;
        let numbers = scoring::scorer::round_numbers(store.as_ref(), network).await.ok()?;
        let before = numbers.into_iter().filter(|n| (*n as i64) < round).max()?;
        let view = self.views.round(&self.state, network, Some(before)).await.ok()?;
        let verdict = |v: rules::validity::Verdict| serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        Some(view.round.candidates.iter().map(|c| (c.candidate.stash.clone(), verdict(c.validity.verdict))).collect())
    }
}
