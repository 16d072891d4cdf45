//! The substrate-telemetry feed protocol (version 33), parsed without trust:
//! a frame is a JSON array of alternating action codes and payloads. Unknown
//! actions are skipped and counted; a payload that does not have its shape is
//! reported as malformed and skipped; nothing here panics on input.

use serde_json::Value;

/// The feed protocol version this parser was written against.
pub const FEED_VERSION: u64 = 33;

/// A node as the feed describes it (`NodeDetails`, parsed by position and
/// leniently: older servers send fewer fields).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeDetails {
    /// Node name (`--name`).
    pub name: String,
    /// Client implementation, e.g. "Parity Polkadot".
    pub implementation: String,
    /// Client version.
    pub version: String,
    /// GRANDPA authority id (SS58 of the session key) when the node is an authority.
    pub validator: Option<String>,
    /// libp2p peer id: the stable identity of the node.
    pub network_id: String,
    /// Operating system.
    pub target_os: Option<String>,
    /// CPU architecture.
    pub target_arch: Option<String>,
    /// CPU model (sysinfo).
    pub cpu: Option<String>,
    /// Memory in bytes (sysinfo).
    pub memory_bytes: Option<u64>,
    /// CPU cores (sysinfo).
    pub core_count: Option<u64>,
    /// Runs in a VM (sysinfo).
    pub is_virtual_machine: Option<bool>,
}

/// A block as the feed describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDetails {
    /// Height.
    pub height: u64,
    /// Hash.
    pub hash: String,
}

/// One message of a feed frame.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedMessage {
    /// 0: protocol version.
    Version(u64),
    /// 1: chain best block.
    BestBlock {
        /// Height.
        height: u64,
        /// Server time of the block, ms.
        timestamp_ms: u64,
    },
    /// 2: chain finalized block.
    BestFinalized {
        /// Height.
        height: u64,
        /// Hash.
        hash: String,
    },
    /// 3: a node appeared (or its details changed: an upsert).
    AddedNode {
        /// Feed-local node id (reused after removal).
        node_id: u64,
        /// Details.
        details: NodeDetails,
        /// Peer count, if sent.
        peers: Option<u64>,
        /// Best block, if sent.
        best: Option<BlockDetails>,
        /// Location, if known.
        location: Option<(f64, f64, String)>,
        /// Node start time, ms.
        startup_time_ms: Option<u64>,
    },
    /// 4: a node disconnected from telemetry.
    RemovedNode {
        /// Node id.
        node_id: u64,
    },
    /// 5: a node was located.
    LocatedNode {
        /// Node id.
        node_id: u64,
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
        /// City.
        city: String,
    },
    /// 6: a node imported a block.
    ImportedBlock {
        /// Node id.
        node_id: u64,
        /// Block.
        block: BlockDetails,
    },
    /// 7: a node finalized a block.
    FinalizedBlock {
        /// Node id.
        node_id: u64,
        /// Height.
        height: u64,
        /// Hash.
        hash: String,
    },
    /// 8: peer and transaction counts.
    NodeStatsUpdate {
        /// Node id.
        node_id: u64,
        /// Peers.
        peers: u64,
        /// Transactions in the pool.
        txcount: u64,
    },
    /// 9: bandwidth history; the latest means are kept.
    Hardware {
        /// Node id.
        node_id: u64,
        /// Latest upload mean, kB/s.
        upload: Option<f64>,
        /// Latest download mean, kB/s.
        download: Option<f64>,
    },
    /// 10: server clock, ms.
    TimeSync(u64),
    /// 11: a chain the server knows.
    AddedChain {
        /// Label.
        label: String,
        /// Genesis hash.
        genesis: String,
        /// Nodes.
        node_count: u64,
    },
    /// 12: a chain left.
    RemovedChain(String),
    /// 13: subscription confirmed.
    SubscribedTo(String),
    /// 14: subscription ended.
    UnsubscribedFrom(String),
    /// 15: answer to `ping:`.
    Pong(String),
    /// 20: a node's best block is stale.
    StaleNode {
        /// Node id.
        node_id: u64,
    },
    /// 21: state-cache history (not kept).
    NodeIoUpdate {
        /// Node id.
        node_id: u64,
    },
    /// 22: chain statistics (not kept).
    ChainStatsUpdate,
    /// 23: server build.
    TelemetryInfo,
    /// An action this parser does not know (skipped, counted).
    Unknown {
        /// The action code.
        action: u64,
    },
    /// A known action whose payload does not have its shape (skipped, counted).
    Malformed {
        /// The action code.
        action: u64,
        /// What was wrong.
        reason: String,
    },
}

/// Why a whole frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not UTF-8 JSON.
    #[error("frame is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an array.
    #[error("frame is not a JSON array")]
    NotArray,
    /// An odd number of elements: actions and payloads must alternate.
    #[error("frame has {0} elements; actions and payloads must alternate")]
    OddLength(usize),
}

/// Parse one binary feed frame into its messages.
pub fn parse_frame(bytes: &[u8]) -> Result<Vec<FeedMessage>, FrameError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| FrameError::NotJson(e.to_string()))?;
    let Value::Array(items) = value else { return Err(FrameError::NotArray) };
    if items.len() % 2 != 0 {
        return Err(FrameError::OddLength(items.len()));
    }
    Ok(items.chunks_exact(2).map(|pair| parse_message(&pair[0], &pair[1])).collect())
}

fn u(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64))
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn opt_s(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn block(v: &Value) -> Option<BlockDetails> {
    Some(BlockDetails { height: u(v.get(0)?)?, hash: s(v.get(1)?)? })
}

fn details(v: &Value) -> Option<NodeDetails> {
    let a = v.as_array()?;
    let sysinfo = a.get(9).filter(|s| s.is_object());
    Some(NodeDetails {
        name: s(a.first()?)?,
        implementation: s(a.get(1)?)?,
        version: s(a.get(2)?)?,
        validator: opt_s(a.get(3)),
        network_id: s(a.get(4)?)?,
        target_os: opt_s(a.get(5)),
        target_arch: opt_s(a.get(6)),
        cpu: opt_s(sysinfo.and_then(|s| s.get("cpu"))),
        memory_bytes: sysinfo.and_then(|s| s.get("memory")).and_then(u),
        core_count: sysinfo.and_then(|s| s.get("core_count")).and_then(u),
        is_virtual_machine: sysinfo.and_then(|s| s.get("is_virtual_machine")).and_then(Value::as_bool),
    })
}

/// The last element of the `i`th array of a hardware payload.
fn latest(p: &Value, i: usize) -> Option<f64> {
    p.get(i)?.as_array()?.last()?.as_f64()
}

fn parse_message(action: &Value, p: &Value) -> FeedMessage {
    let Some(code) = u(action) else {
        return FeedMessage::Malformed { action: u64::MAX, reason: format!("action code {action} is not a number") };
    };
    let parsed = match code {
        0 => u(p).map(FeedMessage::Version),
        1 => (|| Some(FeedMessage::BestBlock { height: u(p.get(0)?)?, timestamp_ms: u(p.get(1)?)? }))(),
        2 => (|| Some(FeedMessage::BestFinalized { height: u(p.get(0)?)?, hash: s(p.get(1)?)? }))(),
        3 => (|| {
            Some(FeedMessage::AddedNode {
                node_id: u(p.get(0)?)?,
                details: details(p.get(1)?)?,
                peers: p.get(2).and_then(|st| st.get(0)).and_then(u),
                best: p.get(5).and_then(block),
                location: p.get(6).and_then(|l| Some((l.get(0)?.as_f64()?, l.get(1)?.as_f64()?, s(l.get(2)?)?))),
                startup_time_ms: p.get(7).and_then(u),
            })
        })(),
        4 => u(p).map(|node_id| FeedMessage::RemovedNode { node_id }),
        5 => (|| {
            Some(FeedMessage::LocatedNode {
                node_id: u(p.get(0)?)?,
                lat: p.get(1)?.as_f64()?,
                lon: p.get(2)?.as_f64()?,
                city: s(p.get(3)?)?,
            })
        })(),
        6 => (|| Some(FeedMessage::ImportedBlock { node_id: u(p.get(0)?)?, block: block(p.get(1)?)? }))(),
        7 => (|| Some(FeedMessage::FinalizedBlock { node_id: u(p.get(0)?)?, height: u(p.get(1)?)?, hash: s(p.get(2)?)? }))(),
        8 => (|| {
            let stats = p.get(1)?;
            Some(FeedMessage::NodeStatsUpdate { node_id: u(p.get(0)?)?, peers: u(stats.get(0)?)?, txcount: u(stats.get(1)?)? })
        })(),
        9 => (|| {
            let hw = p.get(1)?;
            Some(FeedMessage::Hardware { node_id: u(p.get(0)?)?, upload: latest(hw, 0), download: latest(hw, 1) })
        })(),
        10 => u(p).map(FeedMessage::TimeSync),
        11 => (|| Some(FeedMessage::AddedChain { label: s(p.get(0)?)?, genesis: s(p.get(1)?)?, node_count: u(p.get(2)?)? }))(),
        12 => s(p).map(FeedMessage::RemovedChain),
        13 => s(p).map(FeedMessage::SubscribedTo),
        14 => s(p).map(FeedMessage::UnsubscribedFrom),
        15 => s(p).map(FeedMessage::Pong),
        20 => u(p).map(|node_id| FeedMessage::StaleNode { node_id }),
        21 => p.get(0).and_then(u).map(|node_id| FeedMessage::NodeIoUpdate { node_id }),
        22 => p.is_object().then_some(FeedMessage::ChainStatsUpdate),
        23 => p.is_object().then_some(FeedMessage::TelemetryInfo),
        _ => return FeedMessage::Unknown { action: code },
    };
    parsed.unwrap_or_else(|| FeedMessage::Malformed { action: code, reason: format!("unexpected payload {}", truncate(p)) })
}

fn truncate(v: &Value) -> String {
    let mut t = v.to_string();
    if t.len() > 120 {
        t.truncate(120);
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLKADOT: &str = "0x91b171bb158e2d3848fa23a9f1c25182fb8e20313b2c1eb49219da7a70ce90c3";

    #[test]
    fn connect_frame_gives_version_info_and_chains() {
        let frame = format!(r#"[0,33,23,{{"git_hash":"71744ade"}},11,["Polkadot","{POLKADOT}",1187]]"#);
        let m = parse_frame(frame.as_bytes()).unwrap();
        assert_eq!(m[0], FeedMessage::Version(FEED_VERSION));
        assert_eq!(m[1], FeedMessage::TelemetryInfo);
        assert_eq!(m[2], FeedMessage::AddedChain { label: "Polkadot".into(), genesis: POLKADOT.into(), node_count: 1187 });
    }

    #[test]
    fn added_node_with_eleven_and_with_six_detail_fields() {
        let full = r#"[3,[17,["HELIKON-01","Parity Polkadot","1.20.2","5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu","12D3KooWDq5Z","linux","x86_64","gnu",null,{"cpu":"AMD"},null],[38,0],[[512.5]],[[1.0],[2.0],[3.0]],[28401234,"0x7a1c",6012,1763999999400,312],[41.0,28.9,"Istanbul"],1762300000000]]"#;
        let m = parse_frame(full.as_bytes()).unwrap();
        let FeedMessage::AddedNode { node_id, details, peers, best, location, startup_time_ms } = &m[0] else { panic!("{m:?}") };
        assert_eq!((*node_id, details.name.as_str(), details.network_id.as_str()), (17, "HELIKON-01", "12D3KooWDq5Z"));
        assert_eq!(details.validator.as_deref(), Some("5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"));
        assert_eq!((*peers, best.as_ref().map(|b| b.height)), (Some(38), Some(28401234)));
        assert_eq!(location.as_ref().map(|l| l.2.as_str()), Some("Istanbul"));
        assert_eq!(*startup_time_ms, Some(1762300000000));
        assert_eq!((details.cpu.as_deref(), details.memory_bytes), (Some("AMD"), None));

        let old = r#"[3,[18,["sub-node-7","Parity Polkadot","0.9.1",null,"12D3KooWSGtb","linux"],[12,3],[[0.0]],[[],[],[]],[28400990,"0x55aa",6000,1763999853000,null],null,null]]"#;
        let m = parse_frame(old.as_bytes()).unwrap();
        let FeedMessage::AddedNode { details, location, startup_time_ms, .. } = &m[0] else { panic!("{m:?}") };
        assert_eq!((details.validator.clone(), details.target_arch.clone()), (None, None));
        assert_eq!((location.clone(), *startup_time_ms), (None, None));
    }

    #[test]
    fn unknown_actions_are_skipped_and_odd_frames_refused() {
        let m = parse_frame(br#"[99,{"x":1},4,18,20,18]"#).unwrap();
        assert_eq!(m, vec![FeedMessage::Unknown { action: 99 }, FeedMessage::RemovedNode { node_id: 18 }, FeedMessage::StaleNode { node_id: 18 }]);
        assert_eq!(parse_frame(b"[4,18,20]"), Err(FrameError::OddLength(3)));
        assert_eq!(parse_frame(br#"{"a":1}"#), Err(FrameError::NotArray));
        assert!(matches!(parse_frame(b"\xff\xfe"), Err(FrameError::NotJson(_))));
    }

    #[test]
    fn malformed_payloads_are_reported_not_fatal() {
        let m = parse_frame(br#"[3,[17,"not details"],7,[17,28401233,"0x9f8e"],6,["x"]]"#).unwrap();
        assert!(matches!(m[0], FeedMessage::Malformed { action: 3, .. }));
        assert_eq!(m[1], FeedMessage::FinalizedBlock { node_id: 17, height: 28401233, hash: "0x9f8e".into() });
        assert!(matches!(m[2], FeedMessage::Malformed { action: 6, .. }));
        assert!(matches!(parse_frame(br#"["x",1]"#).unwrap()[0], FeedMessage::Malformed { .. }));
    }

    #[test]
    fn best_block_with_null_average_and_live_updates() {
        let m = parse_frame(br#"[1,[28401235,1764000005408,null],8,[17,[40,1]],5,[18,52.52,13.405,"Berlin"],15,"hb-42",10,1764000000000]"#).unwrap();
        assert_eq!(m[0], FeedMessage::BestBlock { height: 28401235, timestamp_ms: 1764000005408 });
        assert_eq!(m[1], FeedMessage::NodeStatsUpdate { node_id: 17, peers: 40, txcount: 1 });
        assert_eq!(m[2], FeedMessage::LocatedNode { node_id: 18, lat: 52.52, lon: 13.405, city: "Berlin".into() });
        assert_eq!(m[3], FeedMessage::Pong("hb-42".into()));
        assert_eq!(m[4], FeedMessage::TimeSync(1764000000000));
        let hw = parse_frame(br#"[9,[17,[[120.4,131.0,118.7],[240.9,260.3,255.1],[1.0,2.0,3.0]]],9,[18,[[],[],[]]]]"#).unwrap();
        assert_eq!(hw[0], FeedMessage::Hardware { node_id: 17, upload: Some(118.7), download: Some(255.1) });
        assert_eq!(hw[1], FeedMessage::Hardware { node_id: 18, upload: None, download: None });
    }

    proptest::proptest! {
        /// No byte string makes the parser panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_frame(&bytes);
        }

        /// Frames of real shape with arbitrary payloads never panic, and keep
        /// one message per action.
        #[test]
        fn arbitrary_payloads_never_panic(actions in proptest::collection::vec(0u64..30, 0..12), seed in proptest::num::u64::ANY) {
            let payloads = [
                "null", "1", "-1", "1.5", "\"s\"", "[]", "[1]", "[1,[]]", "[1,\"x\",2]", "{}", "[[1,2]]",
                "[1,[\"a\",\"b\",\"c\",null,\"p\"],[1],[],[],[1,\"h\"],[1.0,2.0,\"c\"],5]",
            ];
            let mut parts = Vec::new();
            for (i, a) in actions.iter().enumerate() {
                parts.push(a.to_string());
                parts.push(payloads[((seed as usize).wrapping_add(i * 7)) % payloads.len()].to_string());
            }
            let frame = format!("[{}]", parts.join(","));
            let parsed = parse_frame(frame.as_bytes()).unwrap();
            proptest::prop_assert_eq!(parsed.len(), actions.len());
        }
    }
}
