use serde::{Deserialize, Serialize};

use crate::registry::{TELEMETRY_FEED_ID, TELEMETRY_FEED_SUBJECT, TELEMETRY_NODE_ID, TELEMETRY_NODE_SUBJECT};

/// A node event from a telemetry feed (schema `telemetry_node.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TelemetryNodeEvent {
    /// Network name.
    pub network: String,
    /// Feed URL.
    pub source: String,
    /// libp2p peer id.
    pub peer_id: String,
    /// Event kind.
    pub kind: String,
    /// Receive time, Unix ms.
    pub at_ms: i64,
    /// Node name.
    pub name: String,
    /// Implementation.
    pub implementation: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// GRANDPA authority id.
    pub validator: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// City.
    pub city: Option<String>,
    /// Peers.
    pub peers: Option<i64>,
    /// Block height.
    pub height: Option<i64>,
    /// Block hash.
    pub hash: Option<String>,
    /// Node start, Unix ms.
    pub startup_time_ms: Option<i64>,
    /// CPU model.
    pub cpu: Option<String>,
    /// Memory, bytes.
    pub memory_bytes: Option<i64>,
    /// CPU cores.
    pub core_count: Option<i64>,
    /// Runs in a VM.
    pub is_virtual_machine: Option<bool>,
    /// Upload bandwidth, kB/s.
    pub upload_kbps: Option<f64>,
    /// Download bandwidth, kB/s.
    pub download_kbps: Option<f64>,
}

codec!(TelemetryNodeEvent, TELEMETRY_NODE_ID, TELEMETRY_NODE_SUBJECT);

/// Our feed connection went up or down (schema `telemetry_feed.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TelemetryFeedEvent {
    /// Network name.
    pub network: String,
    /// Feed URL.
    pub source: String,
    /// `up` or `down`.
    pub kind: String,
    /// When, Unix ms.
    pub at_ms: i64,
    /// Why it went down.
    pub reason: Option<String>,
}

codec!(TelemetryFeedEvent, TELEMETRY_FEED_ID, TELEMETRY_FEED_SUBJECT);

/// `kind` of the record the scorer writes to close what a round sees of a
/// network's telemetry (uptime folds and `/events` pass it over).
pub const FEED_CUT: &str = "cut";

/// A record of the telemetry topic, which carries two record types.
#[derive(Debug, Clone, PartialEq)]
pub enum TelemetryRecord {
    /// A node seen or gone (boxed: five times a feed event's size).
    Node(Box<TelemetryNodeEvent>),
    /// A feed of ours up or down, or a cut.
    Feed(TelemetryFeedEvent),
}

impl TelemetryRecord {
    /// Either record type (the schema id says which).
    pub fn decode(payload: &[u8]) -> Result<Self, String> {
        if let Ok(ev) = TelemetryNodeEvent::decode(payload) {
            Ok(Self::Node(Box::new(ev)))
        } else if let Ok(ev) = TelemetryFeedEvent::decode(payload) {
            Ok(Self::Feed(ev))
        } else {
            Err("neither a TelemetryNodeEvent nor a TelemetryFeedEvent".into())
        }
    }

    /// The network it is about.
    pub fn network(&self) -> &str {
        match self {
            Self::Node(e) => &e.network,
            Self::Feed(e) => &e.network,
        }
    }

    /// When it happened (a cut: the round time it closes).
    pub fn at_ms(&self) -> i64 {
        match self {
            Self::Node(e) => e.at_ms,
            Self::Feed(e) => e.at_ms,
        }
    }

    /// Whether it is a scorer's cut.
    pub fn is_cut(&self) -> bool {
        matches!(self, Self::Feed(e) if e.kind == FEED_CUT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let n = TelemetryNodeEvent {
            network: "polkadot".into(),
            source: "wss://feed".into(),
            peer_id: "12D3Koo".into(),
            kind: "added".into(),
            at_ms: 1,
            name: "node".into(),
            latitude: Some(1.5),
            peers: Some(3),
            ..Default::default()
        };
        assert_eq!(TelemetryNodeEvent::decode(&n.encode().unwrap()).unwrap(), n);
        let f = TelemetryFeedEvent { network: "p".into(), source: "s".into(), kind: "down".into(), at_ms: 2, reason: Some("eof".into()) };
        assert_eq!(TelemetryFeedEvent::decode(&f.encode().unwrap()).unwrap(), f);
    }
}
