//! The `/submit` endpoint: nodes started with `--telemetry-url
//! 'ws://<stakeflow>/submit 0'` report to stakeflow directly, so an operator
//! needs no third-party telemetry server. What they send (substrate's
//! telemetry messages, V1 or V2 envelope) becomes the same node events as a
//! feed's, with source `submit`; a node closing its connection is removed.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bus::{BusConfig, Outgoing, Publisher};
use futures::StreamExt;
use schemas::{TelemetryFeedEvent, TelemetryNodeEvent, topics};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use super::TelemetryConfig;
use super::access::Access;
use crate::IngestError;
use schemas::clock::now_ms;

/// The `source` of events from the submit endpoint.
pub const SOURCE: &str = "submit";

/// A node reporting on one connection.
#[derive(Debug, Clone, Default, PartialEq)]
struct Reporter {
    network: String,
    peer_id: String,
    name: String,
    implementation: String,
    version: String,
    validator: Option<String>,
}

/// The nodes of one connection, by the message `id` (one connection may carry several).
#[derive(Debug)]
pub struct Connection {
    nodes: HashMap<u64, Reporter>,
    /// Most nodes it may report.
    max_nodes: usize,
    /// Messages that were not understood or not allowed (skipped).
    pub skipped: u64,
}

impl Default for Connection {
    fn default() -> Self {
        Self::with_max_nodes(8)
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Connection {
    /// A connection that may report at most `max_nodes` nodes.
    pub fn with_max_nodes(max_nodes: usize) -> Self {
        Self { nodes: HashMap::new(), max_nodes, skipped: 0 }
    }

    /// The events one submitted message means. `networks` maps genesis hash
    /// (lowercase 0x hex) to network name; nodes of other chains are ignored.
    pub fn apply(&mut self, frame: &[u8], networks: &BTreeMap<String, String>, at_ms: i64) -> Vec<TelemetryNodeEvent> {
        let Ok(v) = serde_json::from_slice::<Value>(frame) else {
            self.skipped += 1;
            return Vec::new();
        };
        // V2: {"id", "ts", "payload": {...}}; V1: the payload itself.
        let (id, payload) = match v.get("payload") {
            Some(p) => (v.get("id").and_then(Value::as_u64).unwrap_or(0), p),
            None => (0, &v),
        };
        let Some(msg) = payload.get("msg").and_then(Value::as_str) else {
            self.skipped += 1;
            return Vec::new();
        };
        let event = |r: &Reporter, kind: &str| TelemetryNodeEvent {
            network: r.network.clone(),
            source: SOURCE.to_string(),
            peer_id: r.peer_id.clone(),
            kind: kind.to_string(),
            at_ms,
            name: r.name.clone(),
            implementation: Some(r.implementation.clone()),
            version: Some(r.version.clone()),
            validator: r.validator.clone(),
            ..Default::default()
        };
        match msg {
            "system.connected" => {
                let genesis = text(payload.get("genesis_hash")).map(|g| g.to_lowercase()).unwrap_or_default();
                let (Some(network), Some(peer_id)) = (networks.get(&genesis), text(payload.get("network_id"))) else {
                    self.skipped += 1;
                    return Vec::new();
                };
                let r = Reporter {
                    network: network.clone(),
                    peer_id,
                    name: text(payload.get("name")).unwrap_or_default(),
                    implementation: text(payload.get("implementation")).unwrap_or_default(),
                    version: text(payload.get("version")).unwrap_or_default(),
                    validator: text(payload.get("validator")).filter(|v| !v.is_empty()),
                };
                if !self.nodes.contains_key(&id) && self.nodes.len() >= self.max_nodes {
                    self.skipped += 1;
                    return Vec::new();
                }
                let mut out = Vec::new();
                // An id reused for another node: the one it named is gone, not left online.
                if let Some(old) = self.nodes.get(&id).filter(|old| old.peer_id != r.peer_id || old.network != r.network) {
                    out.push(event(old, "removed"));
                }
                let mut e = event(&r, "added");
                e.startup_time_ms = int(payload.get("startup_time"));
                self.nodes.insert(id, r);
                out.push(e);
                out
            }
            _ => {
                let Some(r) = self.nodes.get_mut(&id) else {
                    self.skipped += 1;
                    return Vec::new();
                };
                match msg {
                    "afg.authority_set" => {
                        let validator = text(payload.get("authority_id")).filter(|v| !v.is_empty());
                        if validator == r.validator {
                            return Vec::new();
                        }
                        r.validator = validator;
                        // As a feed does: the node is re-announced with its new address.
                        vec![event(r, "added")]
                    }
                    "block.import" => {
                        let mut e = event(r, "imported");
                        (e.height, e.hash) = (int(payload.get("height")), text(payload.get("best")));
                        vec![e]
                    }
                    "notify.finalized" => {
                        let mut e = event(r, "finalized");
                        (e.height, e.hash) = (int(payload.get("height")), text(payload.get("best")));
                        vec![e]
                    }
                    "system.interval" if payload.get("peers").is_some() => {
                        let mut e = event(r, "stats");
                        e.peers = int(payload.get("peers"));
                        vec![e]
                    }
                    _ => Vec::new(),
                }
            }
        }
    }

    /// The connection closed: every node on it is removed.
    pub fn close(&mut self, at_ms: i64) -> Vec<TelemetryNodeEvent> {
        self.nodes
            .drain()
            .map(|(_, r)| TelemetryNodeEvent {
                network: r.network,
                source: SOURCE.to_string(),
                peer_id: r.peer_id,
                kind: "removed".into(),
                at_ms,
                name: r.name,
                implementation: Some(r.implementation),
                version: Some(r.version),
                validator: r.validator,
                ..Default::default()
            })
            .collect()
    }
}

/// Which connection last reported each node, so a node that reconnected is
/// not removed when its old connection closes.
type Owners = Arc<Mutex<HashMap<(String, String), u64>>>;

/// What every connection is held to.
#[derive(Debug, Clone)]
struct Limits {
    access: Arc<Access>,
    max_frame_bytes: usize,
    max_nodes: usize,
    idle: Duration,
}

/// The `/submit` websocket server.
pub struct SubmitServer {
    listener: TcpListener,
    networks: BTreeMap<String, String>,
    bus: BusConfig,
    limits: Limits,
    max_connections: usize,
}

impl SubmitServer {
    /// Bind `addr`; `networks` maps genesis hash to network name; access and
    /// limits from `cfg` (its tokens file is read now).
    pub async fn bind(addr: SocketAddr, networks: BTreeMap<String, String>, bus: BusConfig, cfg: &TelemetryConfig) -> std::io::Result<Self> {
        let tokens = match &cfg.submit_tokens_file {
            Some(path) => Access::tokens_from(&std::fs::read_to_string(path).map_err(|e| {
                std::io::Error::new(e.kind(), format!("telemetry.submit_tokens_file {}: {e}", path.display()))
            })?),
            None => Default::default(),
        };
        let access = Access { tokens, allow: cfg.submit_allow.iter().copied().collect() };
        let listener = TcpListener::bind(addr).await?;
        let networks = networks.into_iter().map(|(g, n)| (g.to_lowercase(), n)).collect();
        let limits = Limits {
            access: Arc::new(access),
            max_frame_bytes: cfg.submit_max_frame_bytes.max(1024),
            max_nodes: cfg.submit_max_nodes_per_connection.max(1),
            idle: cfg.submit_idle,
        };
        Ok(Self { listener, networks, bus, limits, max_connections: cfg.submit_max_connections.max(1) })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until `shutdown`. The `submit` source is declared down then up
    /// for every network at start (what it showed before a restart is gone)
    /// and down at shutdown.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), IngestError> {
        let publisher = std::sync::Arc::new(Publisher::new(&self.bus)?);
        for kind in ["down", "up"] {
            self.publish_source(&publisher, kind).await?;
        }
        tracing::info!(addr = ?self.listener.local_addr().ok(), "telemetry /submit listening");
        let slots = Arc::new(Semaphore::new(self.max_connections));
        let owners: Owners = Arc::default();
        let ids = AtomicU64::new(0);
        loop {
            let (tcp, peer) = tokio::select! {
                _ = shutdown.cancelled() => break,
                a = self.listener.accept() => match a {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "submit accept failed");
                        continue;
                    }
                },
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                // Full: closed at once, before any handshake or buffer.
                metrics::counter!(crate::metrics::SUBMIT_REFUSED, "why" => "connections").increment(1);
                drop(tcp);
                continue;
            };
            let (networks, publisher, limits, owners) = (self.networks.clone(), publisher.clone(), self.limits.clone(), owners.clone());
            let id = ids.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                if let Err(e) = serve_connection(tcp, peer, networks, &publisher, &limits, &owners, id).await {
                    tracing::debug!(%peer, error = %e, "submit connection ended");
                }
                drop(slot);
            });
        }
        self.publish_source(&publisher, "down").await
    }

    async fn publish_source(&self, publisher: &Publisher, kind: &str) -> Result<(), IngestError> {
        for network in self.networks.values() {
            let ev = TelemetryFeedEvent { network: network.clone(), source: SOURCE.into(), kind: kind.into(), at_ms: now_ms(), reason: None };
            let key = topics::sub_key(network, SOURCE);
            publisher.publish_keyed(topics::TELEMETRY_NODES, &topics::chain_key(network), &key, &ev.encode()?, None).await?;
        }
        Ok(())
    }
}

/// Bytes read from a connection at a time (nodes send messages of about a kilobyte).
const READ_BUFFER: usize = 8 << 10;

async fn serve_connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    networks: BTreeMap<String, String>,
    publisher: &Publisher,
    limits: &Limits,
    owners: &Owners,
    id: u64,
) -> Result<(), String> {
    let access = limits.access.clone();
    let admit = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        match access.admit(req.uri().path(), peer.ip()) {
            Ok(()) => Ok(resp),
            Err(why) => {
                metrics::counter!(crate::metrics::SUBMIT_REFUSED, "why" => "access").increment(1);
                tracing::warn!(%peer, %why, "telemetry /submit refused");
                let mut refusal = ErrorResponse::new(Some(why.to_string()));
                *refusal.status_mut() = forbidden();
                Err(refusal)
            }
        }
    };
    // A small read buffer: tungstenite's 128 KiB default, filled by a flooding
    // client, would cost 128 MB at 1,000 connections before any limit applies.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(limits.max_frame_bytes))
        .max_frame_size(Some(limits.max_frame_bytes));
    let handshake = tokio_tungstenite::accept_hdr_async_with_config(tcp, admit, Some(config));
    let mut ws = tokio::time::timeout(limits.idle, handshake).await.map_err(|_| "no handshake in time".to_string())?.map_err(|e| e.to_string())?;
    let mut conn = Connection::with_max_nodes(limits.max_nodes);
    let mut result = Ok(());
    loop {
        let Ok(frame) = tokio::time::timeout(limits.idle, ws.next()).await else {
            result = Err(format!("silent for {:?}: closed", limits.idle));
            break;
        };
        let Some(frame) = frame else { break };
        let bytes = match frame {
            Ok(Message::Text(t)) => t.as_bytes().to_vec(),
            Ok(Message::Binary(b)) => b.to_vec(),
            Ok(Message::Close(_)) => break,
            Ok(_) => continue,
            Err(e) => {
                result = Err(e.to_string());
                break;
            }
        };
        let events = conn.apply(&bytes, &networks, now_ms());
        if let Ok(mut o) = owners.lock() {
            for e in &events {
                let key = (e.network.clone(), e.peer_id.clone());
                match e.kind.as_str() {
                    "added" => {
                        o.insert(key, id);
                    }
                    "removed" if o.get(&key) == Some(&id) => {
                        o.remove(&key);
                    }
                    _ => {}
                }
            }
        }
        if let Err(e) = publish(publisher, &events).await {
            // Still record the close below: the nodes must not stay online.
            result = Err(e.to_string());
            break;
        }
    }
    // Only nodes whose latest connection this is are gone: one that reconnected stays.
    let closed: Vec<TelemetryNodeEvent> = match owners.lock() {
        Ok(mut o) => conn
            .close(now_ms())
            .into_iter()
            .filter(|e| {
                let key = (e.network.clone(), e.peer_id.clone());
                let ours = o.get(&key) == Some(&id);
                if ours {
                    o.remove(&key);
                }
                ours
            })
            .collect(),
        Err(_) => conn.close(now_ms()),
    };
    publish(publisher, &closed).await.map_err(|e| e.to_string())?;
    result
}

fn forbidden() -> tokio_tungstenite::tungstenite::http::StatusCode {
    tokio_tungstenite::tungstenite::http::StatusCode::FORBIDDEN
}

async fn publish(publisher: &Publisher, events: &[TelemetryNodeEvent]) -> Result<(), IngestError> {
    let encoded: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = events
        .iter()
        .map(|e| Ok((topics::chain_key(&e.network), topics::sub_key(&e.network, &e.peer_id), e.encode()?)))
        .collect::<Result<_, IngestError>>()?;
    let batch = encoded
        .iter()
        .map(|(pk, key, payload)| Outgoing { topic: topics::TELEMETRY_NODES, partition_key: pk, key, payload, headers: None })
        .collect();
    publisher.publish_all(batch).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "0x91b171bb158e2d3848fa23a9f1c25182fb8e20313b2c1eb49219da7a70ce90c3";

    fn nets() -> BTreeMap<String, String> {
        BTreeMap::from([(G.to_string(), "polkadot".to_string())])
    }

    #[test]
    fn a_node_session_becomes_events() {
        let mut c = Connection::default();
        let connected = format!(r#"{{"id":1,"ts":"2025-11-24T09:00:00Z","payload":{{"msg":"system.connected","chain":"Polkadot","genesis_hash":"{G}","name":"n1","implementation":"Parity Polkadot","version":"1.20.2","network_id":"12D3KooN1","startup_time":"1762300000000"}}}}"#);
        let e = c.apply(connected.as_bytes(), &nets(), 1);
        assert_eq!((e[0].kind.as_str(), e[0].peer_id.as_str(), e[0].startup_time_ms), ("added", "12D3KooN1", Some(1762300000000)));
        let e = c.apply(br#"{"id":1,"payload":{"msg":"afg.authority_set","authority_id":"5FA9"}}"#, &nets(), 2);
        assert_eq!((e[0].kind.as_str(), e[0].validator.as_deref()), ("added", Some("5FA9")));
        assert!(c.apply(br#"{"id":1,"payload":{"msg":"afg.authority_set","authority_id":"5FA9"}}"#, &nets(), 3).is_empty(), "no change, no event");
        let e = c.apply(br#"{"id":1,"payload":{"msg":"notify.finalized","best":"0xab","height":"77"}}"#, &nets(), 4);
        assert_eq!((e[0].kind.as_str(), e[0].height), ("finalized", Some(77)));
        let e = c.apply(br#"{"id":1,"payload":{"msg":"system.interval","peers":40,"bandwidth_upload":1.0}}"#, &nets(), 5);
        assert_eq!((e[0].kind.as_str(), e[0].peers), ("stats", Some(40)));
        assert!(c.apply(br#"{"id":1,"payload":{"msg":"system.interval","height":5}}"#, &nets(), 6).is_empty());
        let e = c.close(7);
        assert_eq!((e.len(), e[0].kind.as_str()), (1, "removed"));
    }

    #[test]
    fn a_connection_reports_at_most_its_nodes_and_a_reused_id_removes_the_old_node() {
        let connected = |id: u64, peer: &str| {
            format!(r#"{{"id":{id},"payload":{{"msg":"system.connected","genesis_hash":"{G}","name":"n","network_id":"{peer}"}}}}"#)
        };
        let mut c = Connection::with_max_nodes(2);
        assert_eq!(c.apply(connected(1, "A").as_bytes(), &nets(), 1).len(), 1);
        assert_eq!(c.apply(connected(2, "B").as_bytes(), &nets(), 1).len(), 1);
        assert!(c.apply(connected(3, "C").as_bytes(), &nets(), 1).is_empty(), "a third node is refused");
        assert_eq!(c.skipped, 1);
        let e = c.apply(connected(1, "D").as_bytes(), &nets(), 2);
        assert_eq!(e.iter().map(|e| (e.peer_id.as_str(), e.kind.as_str())).collect::<Vec<_>>(), vec![("A", "removed"), ("D", "added")]);
        assert_eq!(c.apply(connected(1, "D").as_bytes(), &nets(), 3).len(), 1, "the same node again: re-announced, nothing removed");
    }

    #[test]
    fn foreign_chains_garbage_and_orphans_are_skipped() {
        let mut c = Connection::default();
        let other = r#"{"msg":"system.connected","genesis_hash":"0x00","network_id":"x","name":"n"}"#;
        assert!(c.apply(other.as_bytes(), &nets(), 1).is_empty());
        assert!(c.apply(b"not json", &nets(), 1).is_empty());
        assert!(c.apply(br#"{"id":9,"payload":{"msg":"block.import","best":"0x","height":1}}"#, &nets(), 1).is_empty());
        assert!(c.apply(br#"{"payload":{}}"#, &nets(), 1).is_empty());
        assert_eq!(c.skipped, 4);
        assert!(c.close(2).is_empty());
    }
}
