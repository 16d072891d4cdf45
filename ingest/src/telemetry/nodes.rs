//! One feed connection's view of its nodes.

use std::collections::HashMap;

use schemas::TelemetryNodeEvent;

use super::protocol::{FeedMessage, NodeDetails};

/// Counters of what a connection skipped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// Messages with an unknown action code.
    pub unknown: u64,
    /// Messages whose payload did not have its shape.
    pub malformed: u64,
    /// Messages about a node id the feed never announced.
    pub orphan: u64,
}

/// Nodes announced on one connection, by the feed's numeric id.
#[derive(Debug, Default)]
pub struct NodeTable {
    nodes: HashMap<u64, NodeDetails>,
    /// What was skipped so far.
    pub skipped: Skipped,
}

impl NodeTable {
    /// Nodes currently known.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node is known.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Forget every node: the connection is gone, and the next one starts
    /// from a fresh snapshot. Emits nothing: losing our feed says nothing
    /// about the nodes.
    pub fn reset(&mut self) {
        self.nodes.clear();
    }

    /// The event a message means, if any (chain-level messages mean none).
    pub fn apply(&mut self, network: &str, source: &str, at_ms: i64, msg: &FeedMessage) -> Option<TelemetryNodeEvent> {
        let event = |d: &NodeDetails, kind: &str| TelemetryNodeEvent {
            network: network.to_string(),
            source: source.to_string(),
            peer_id: d.network_id.clone(),
            kind: kind.to_string(),
            at_ms,
            name: d.name.clone(),
            implementation: Some(d.implementation.clone()),
            version: Some(d.version.clone()),
            validator: d.validator.clone(),
            ..Default::default()
        };
        let known = |table: &mut Self, id: &u64| {
            let found = table.nodes.get(id).cloned();
            if found.is_none() {
                table.skipped.orphan += 1;
            }
            found
        };
        match msg {
            FeedMessage::AddedNode { node_id, details, peers, best, location, startup_time_ms } => {
                // An AddedNode for a live id is an upsert (new validator address, hwbench).
                self.nodes.insert(*node_id, details.clone());
                let mut e = event(details, "added");
                e.peers = peers.map(|p| p as i64);
                e.height = best.as_ref().map(|b| b.height as i64);
                e.hash = best.as_ref().map(|b| b.hash.clone());
                if let Some((lat, lon, city)) = location {
                    (e.latitude, e.longitude, e.city) = (Some(*lat), Some(*lon), Some(city.clone()));
                }
                e.startup_time_ms = startup_time_ms.map(|t| t as i64);
                e.cpu.clone_from(&details.cpu);
                e.memory_bytes = details.memory_bytes.map(|m| m as i64);
                e.core_count = details.core_count.map(|c| c as i64);
                e.is_virtual_machine = details.is_virtual_machine;
                Some(e)
            }
            FeedMessage::RemovedNode { node_id } => {
                let d = self.nodes.remove(node_id);
                if d.is_none() {
                    self.skipped.orphan += 1;
                }
                d.map(|d| event(&d, "removed"))
            }
            FeedMessage::LocatedNode { node_id, lat, lon, city } => known(self, node_id).map(|d| {
                let mut e = event(&d, "located");
                (e.latitude, e.longitude, e.city) = (Some(*lat), Some(*lon), Some(city.clone()));
                e
            }),
            FeedMessage::ImportedBlock { node_id, block } => known(self, node_id).map(|d| {
                let mut e = event(&d, "imported");
                (e.height, e.hash) = (Some(block.height as i64), Some(block.hash.clone()));
                e
            }),
            FeedMessage::FinalizedBlock { node_id, height, hash } => known(self, node_id).map(|d| {
                let mut e = event(&d, "finalized");
                (e.height, e.hash) = (Some(*height as i64), Some(hash.clone()));
                e
            }),
            FeedMessage::NodeStatsUpdate { node_id, peers, .. } => known(self, node_id).map(|d| {
                let mut e = event(&d, "stats");
                e.peers = Some(*peers as i64);
                e
            }),
            FeedMessage::StaleNode { node_id } => known(self, node_id).map(|d| event(&d, "stale")),
            FeedMessage::Hardware { node_id, upload, download } => known(self, node_id).map(|d| {
                let mut e = event(&d, "hardware");
                (e.upload_kbps, e.download_kbps) = (*upload, *download);
                e
            }),
            FeedMessage::Unknown { .. } => {
                self.skipped.unknown += 1;
                None
            }
            FeedMessage::Malformed { .. } => {
                self.skipped.malformed += 1;
                None
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::protocol::parse_frame;

    fn apply_all(t: &mut NodeTable, frame: &str) -> Vec<TelemetryNodeEvent> {
        parse_frame(frame.as_bytes()).unwrap().iter().filter_map(|m| t.apply("net", "src", 5, m)).collect()
    }

    const ALICE: &str = r#"[3,[1,["alice","Parity Polkadot","1.20.2",null,"12D3KooAlice"],[5,0],[[]],[[],[],[]],[10,"0x0a",6000,1,null],null,null]]"#;
    const BOB_THEN_STATS: &str = r#"[3,[1,["bob","Parity Polkadot","1.20.2","5Grandpa","12D3KooBob"],[5,0],[[]],[[],[],[]],[10,"0x0a",6000,1,null],null,null],8,[1,[40,1]]]"#;

    #[test]
    fn a_reused_node_id_keeps_peer_ids_apart() {
        let mut t = NodeTable::default();
        let e = apply_all(&mut t, ALICE);
        assert_eq!((e[0].peer_id.as_str(), e[0].kind.as_str()), ("12D3KooAlice", "added"));
        let e = apply_all(&mut t, r#"[7,[1,11,"0x0b"],4,1]"#);
        assert_eq!(e.iter().map(|e| (e.peer_id.as_str(), e.kind.as_str())).collect::<Vec<_>>(), vec![("12D3KooAlice", "finalized"), ("12D3KooAlice", "removed")]);
        // Id 1 now names Bob: his events must not be Alice's.
        let e = apply_all(&mut t, BOB_THEN_STATS);
        assert_eq!(e.iter().map(|e| e.peer_id.as_str()).collect::<Vec<_>>(), vec!["12D3KooBob", "12D3KooBob"]);
        assert_eq!(e[0].validator.as_deref(), Some("5Grandpa"));
        assert_eq!(e[1].peers, Some(40));
    }

    #[test]
    fn orphans_unknowns_and_malformed_are_counted_not_emitted() {
        let mut t = NodeTable::default();
        let e = apply_all(&mut t, r#"[4,9,7,[9,1,"0x"],99,null,3,"bad"]"#);
        assert!(e.is_empty());
        assert_eq!(t.skipped, Skipped { unknown: 1, malformed: 1, orphan: 2 });
    }

    #[test]
    fn reset_forgets_without_removing() {
        let mut t = NodeTable::default();
        apply_all(&mut t, ALICE);
        t.reset();
        assert!(t.is_empty());
        // After a reconnect the snapshot re-adds it.
        assert_eq!(apply_all(&mut t, ALICE)[0].kind, "added");
    }
}
