//! Uptime accounting from telemetry, as a pure state machine over the
//! telemetry topic's records, so a replay gives the same figures.
//!
//! * A node is **online** while at least one feed shows it (from the `added`
//!   that first shows it), **offline** from the moment it is removed while a
//!   feed of its network is up, and **unknown** while no feed of its network
//!   is up: our own outage never charges an operator. The feed client
//!   declares a feed up only once its node snapshot has arrived, so a
//!   reconnect does not make every node briefly offline.
//! * When a feed goes down, what it showed is forgotten (it will send a fresh
//!   snapshot when it comes back up), so its nodes become unknown unless
//!   another feed still shows them.
//! * Offline time is summed over a sliding window ending at the time asked
//!   about, not reset by anything.

use std::collections::{BTreeMap, BTreeSet};

use schemas::{TelemetryFeedEvent, TelemetryNodeEvent};
use serde::{Deserialize, Serialize};

/// A node's status at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Presence {
    /// A feed shows it.
    Online,
    /// A feed of its network is up and none shows it.
    Offline,
    /// No feed of its network is up.
    Unknown,
}

/// Everything known about one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeUptime {
    /// Network name.
    pub network: String,
    /// libp2p peer id.
    pub peer_id: String,
    /// Node name as last reported.
    pub name: String,
    /// Client implementation.
    pub implementation: Option<String>,
    /// Client version.
    pub version: Option<String>,
    /// GRANDPA authority id the node reports (SS58), if any.
    pub validator: Option<String>,
    /// City, when a feed located it.
    pub city: Option<String>,
    /// Latitude and longitude telemetry reports (from the node's IP).
    #[serde(default)]
    pub coordinates: Option<(f64, f64)>,
    /// First sighting, Unix ms.
    pub discovered_at_ms: i64,
    /// Last event about it, Unix ms.
    pub last_seen_ms: i64,
    /// Feeds currently showing it.
    pub shown_by: BTreeSet<String>,
    /// Current status and since when.
    pub presence: Presence,
    /// Start of the current status, Unix ms.
    pub since_ms: i64,
    /// Closed offline intervals `[start, end)` still inside the window.
    pub offline: Vec<(i64, i64)>,
}

/// The uptime of every node seen, by `<network>/<peer_id>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UptimeState {
    /// Feeds currently up, as `(network, source)`.
    pub feeds_up: BTreeSet<(String, String)>,
    /// Nodes.
    pub nodes: BTreeMap<String, NodeUptime>,
}

fn node_key(network: &str, peer_id: &str) -> String {
    format!("{network}/{peer_id}")
}

impl UptimeState {
    fn feed_up_for(&self, network: &str) -> bool {
        self.feeds_up.iter().any(|(n, _)| n == network)
    }

    /// Move a node to the status the current facts give, at `t`.
    fn settle(&mut self, key: &str, t: i64, window_ms: i64) {
        let any_feed = self.nodes.get(key).map(|n| self.feed_up_for(&n.network)).unwrap_or(false);
        let Some(node) = self.nodes.get_mut(key) else { return };
        let now = if !node.shown_by.is_empty() {
            Presence::Online
        } else if any_feed {
            Presence::Offline
        } else {
            Presence::Unknown
        };
        if now != node.presence {
            if node.presence == Presence::Offline && t > node.since_ms {
                node.offline.push((node.since_ms, t));
            }
            node.presence = now;
            node.since_ms = t;
        }
        node.offline.retain(|(_, end)| *end > t - window_ms);
    }

    /// Apply a node event.
    pub fn apply_node(&mut self, ev: &TelemetryNodeEvent, window_ms: i64) {
        let key = node_key(&ev.network, &ev.peer_id);
        let t = ev.at_ms;
        let node = self.nodes.entry(key.clone()).or_insert_with(|| NodeUptime {
            network: ev.network.clone(),
            peer_id: ev.peer_id.clone(),
            name: ev.name.clone(),
            implementation: None,
            version: None,
            validator: None,
            city: None,
            coordinates: None,
            discovered_at_ms: t,
            last_seen_ms: t,
            shown_by: BTreeSet::new(),
            presence: Presence::Unknown,
            since_ms: t,
            offline: Vec::new(),
        });
        node.last_seen_ms = node.last_seen_ms.max(t);
        node.name.clone_from(&ev.name);
        if ev.implementation.is_some() {
            node.implementation.clone_from(&ev.implementation);
            node.version.clone_from(&ev.version);
        }
        if ev.validator.is_some() || ev.kind == "added" {
            node.validator.clone_from(&ev.validator);
        }
        if ev.city.is_some() {
            node.city.clone_from(&ev.city);
        }
        if let (Some(lat), Some(lon)) = (ev.latitude, ev.longitude) {
            node.coordinates = Some((lat, lon));
        }
        match ev.kind.as_str() {
            "added" => {
                node.shown_by.insert(ev.source.clone());
            }
            "removed" => {
                node.shown_by.remove(&ev.source);
            }
            _ => {}
        }
        self.settle(&key, t, window_ms);
    }

    /// Apply our own feed connection going up or down.
    pub fn apply_feed(&mut self, ev: &TelemetryFeedEvent, window_ms: i64) {
        let feed = (ev.network.clone(), ev.source.clone());
        match ev.kind.as_str() {
            "up" => {
                self.feeds_up.insert(feed);
            }
            "down" => {
                self.feeds_up.remove(&feed);
                for node in self.nodes.values_mut().filter(|n| n.network == ev.network) {
                    node.shown_by.remove(&ev.source);
                }
            }
            _ => return,
        }
        let keys: Vec<String> = self.nodes.iter().filter(|(_, n)| n.network == ev.network).map(|(k, _)| k.clone()).collect();
        for key in keys {
            self.settle(&key, ev.at_ms, window_ms);
        }
    }

    /// Offline time of a node in the window ending at `now_ms`, in ms.
    pub fn offline_in_window(&self, network: &str, peer_id: &str, now_ms: i64, window_ms: i64) -> i64 {
        let Some(n) = self.nodes.get(&node_key(network, peer_id)) else { return 0 };
        let from = now_ms - window_ms;
        let clip = |(s, e): (i64, i64)| (e.min(now_ms) - s.max(from)).max(0);
        let closed: i64 = n.offline.iter().copied().map(clip).sum();
        let open = if n.presence == Presence::Offline { clip((n.since_ms, now_ms)) } else { 0 };
        closed + open
    }

    /// A node's record.
    pub fn node(&self, network: &str, peer_id: &str) -> Option<&NodeUptime> {
        self.nodes.get(&node_key(network, peer_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const WEEK: i64 = 7 * 24 * H;

    fn node(kind: &str, source: &str, at_ms: i64) -> TelemetryNodeEvent {
        TelemetryNodeEvent {
            network: "polkadot".into(),
            source: source.into(),
            peer_id: "12D3KooAlice".into(),
            kind: kind.into(),
            at_ms,
            name: "alice".into(),
            implementation: Some("Parity Polkadot".into()),
            version: Some("1.20.2".into()),
            ..Default::default()
        }
    }

    fn feed(kind: &str, source: &str, at_ms: i64) -> TelemetryFeedEvent {
        TelemetryFeedEvent { network: "polkadot".into(), source: source.into(), kind: kind.into(), at_ms, reason: None }
    }

    fn offline(s: &UptimeState, now: i64) -> i64 {
        s.offline_in_window("polkadot", "12D3KooAlice", now, WEEK)
    }

    #[test]
    fn offline_runs_from_removal_to_re_addition() {
        let mut s = UptimeState::default();
        s.apply_feed(&feed("up", "A", 0), WEEK);
        s.apply_node(&node("added", "A", H), WEEK);
        assert_eq!(s.node("polkadot", "12D3KooAlice").unwrap().presence, Presence::Online);
        s.apply_node(&node("removed", "A", 2 * H), WEEK);
        assert_eq!(offline(&s, 3 * H), H, "charged from the removal, not from detection");
        s.apply_node(&node("added", "A", 5 * H), WEEK);
        assert_eq!(offline(&s, 10 * H), 3 * H);
        let n = s.node("polkadot", "12D3KooAlice").unwrap();
        assert_eq!((n.discovered_at_ms, n.last_seen_ms, n.presence), (H, 5 * H, Presence::Online));
    }

    #[test]
    fn our_feed_outage_charges_nothing() {
        let mut s = UptimeState::default();
        s.apply_feed(&feed("up", "A", 0), WEEK);
        s.apply_node(&node("added", "A", 0), WEEK);
        // Our connection drops for an hour; the node never left.
        s.apply_feed(&feed("down", "A", H), WEEK);
        assert_eq!(s.node("polkadot", "12D3KooAlice").unwrap().presence, Presence::Unknown);
        // Reconnected: the snapshot arrives, then the client declares the feed up.
        s.apply_node(&node("added", "A", 2 * H), WEEK);
        s.apply_feed(&feed("up", "A", 2 * H + 5000), WEEK);
        assert_eq!(offline(&s, 3 * H), 0);
        // A node removed and then our outage: offline stops at the outage.
        s.apply_node(&node("removed", "A", 4 * H), WEEK);
        s.apply_feed(&feed("down", "A", 5 * H), WEEK);
        assert_eq!(offline(&s, 9 * H), H);
    }

    #[test]
    fn a_node_shown_by_any_feed_is_online() {
        let mut s = UptimeState::default();
        s.apply_feed(&feed("up", "A", 0), WEEK);
        s.apply_feed(&feed("up", "B", 0), WEEK);
        s.apply_node(&node("added", "A", 0), WEEK);
        s.apply_node(&node("added", "B", 0), WEEK);
        s.apply_node(&node("removed", "A", H), WEEK);
        assert_eq!(s.node("polkadot", "12D3KooAlice").unwrap().presence, Presence::Online);
        s.apply_feed(&feed("down", "B", 2 * H), WEEK);
        assert_eq!(s.node("polkadot", "12D3KooAlice").unwrap().presence, Presence::Offline, "A is up and no longer shows it");
        assert_eq!(offline(&s, 3 * H), H);
    }

    #[test]
    fn flapping_sums_and_the_window_slides() {
        let mut s = UptimeState::default();
        s.apply_feed(&feed("up", "A", 0), WEEK);
        let mut t = 0;
        for _ in 0..10 {
            s.apply_node(&node("added", "A", t), WEEK);
            s.apply_node(&node("removed", "A", t + 50 * 60_000), WEEK);
            t += H;
        }
        s.apply_node(&node("added", "A", t), WEEK);
        assert_eq!(offline(&s, t), 10 * 10 * 60_000);
        // A week later only what is inside the window counts.
        assert_eq!(offline(&s, t + WEEK - 5 * H), 5 * 10 * 60_000);
        assert_eq!(offline(&s, t + 2 * WEEK), 0);
    }

    /// A consumer saves the state as JSON and resumes from it: a run cut at
    /// any record and resumed from the saved JSON ends where an uncut run does.
    #[test]
    fn resuming_from_a_saved_state_at_any_record_ends_the_same() {
        let events: Vec<Result<TelemetryNodeEvent, TelemetryFeedEvent>> = vec![
            Err(feed("up", "A", 0)),
            Ok(node("added", "A", 10)),
            Ok(node("removed", "A", 20)),
            Err(feed("down", "A", 30)),
            Ok(node("added", "A", 35)),
            Err(feed("up", "A", 40)),
            Ok(node("removed", "A", 50)),
        ];
        let apply = |s: &mut UptimeState, e: &Result<TelemetryNodeEvent, TelemetryFeedEvent>| match e {
            Ok(n) => s.apply_node(n, WEEK),
            Err(f) => s.apply_feed(f, WEEK),
        };
        let mut whole = UptimeState::default();
        events.iter().for_each(|e| apply(&mut whole, e));
        // Offline 20..30 (then our feed was down: unknown, not charged) and from 50.
        assert_eq!(offline(&whole, 100), 10 + 50);
        assert_eq!(whole.node("polkadot", "12D3KooAlice").map(|n| n.presence), Some(Presence::Offline));
        for cut in 0..=events.len() {
            let mut first = UptimeState::default();
            events[..cut].iter().for_each(|e| apply(&mut first, e));
            let saved = serde_json::to_vec(&first).unwrap();
            let mut resumed: UptimeState = serde_json::from_slice(&saved).unwrap();
            events[cut..].iter().for_each(|e| apply(&mut resumed, e));
            assert_eq!(resumed, whole, "cut after {cut} records");
        }
    }
}
