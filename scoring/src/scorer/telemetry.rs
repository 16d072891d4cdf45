//! The telemetry a round sees, decided from the topic alone so that a
//! rebuild sees exactly what the live scorer saw.
//!
//! A network's telemetry records share one partition, in the order they were
//! published. The round of network N at time T sees N's records before its
//! *cut*: the first of N's records that is [`beyond`] T (stamped after T, or a
//! cut record for T or later). When the topic holds none yet, the live scorer
//! appends a cut record stamped T and reads up to it, so the cut is on the
//! topic for every later reader; records that arrive behind it count for the
//! next round. Applying a network's records before the first one beyond its
//! current clock is always safe: that record is never after the next round's
//! cut. Pure: the attempt reads and publishes, this decides.

use std::collections::{BTreeMap, VecDeque};

use rules::uptime::UptimeState;
use schemas::TelemetryFeedEvent;

/// `kind` of a cut record (a [`TelemetryFeedEvent`], which uptime folds ignore).
pub use schemas::FEED_CUT as CUT;
/// `source` of the cut records the scorer writes.
pub const CUT_SOURCE: &str = "stakeflow-scorer";

/// One decoded telemetry record.
pub use schemas::TelemetryRecord as Telemetry;

/// Fold `record` into `uptime` (a cut changes nothing).
pub fn apply(record: &Telemetry, uptime: &mut UptimeState, window_ms: i64) {
    match record {
        Telemetry::Node(e) => uptime.apply_node(e, window_ms),
        Telemetry::Feed(e) => uptime.apply_feed(e, window_ms),
    }
}

/// Whether `record` ends what a round (or clock) at `t_ms` may see.
pub fn beyond(record: &Telemetry, t_ms: i64) -> bool {
    record.at_ms() > t_ms || (record.is_cut() && record.at_ms() >= t_ms)
}

/// The cut record for network `network`'s round at `t_ms`.
pub fn cut_record(network: &str, t_ms: i64, round: u64) -> TelemetryFeedEvent {
    TelemetryFeedEvent {
        network: network.to_string(),
        source: CUT_SOURCE.to_string(),
        kind: CUT.to_string(),
        at_ms: t_ms,
        reason: Some(format!("round {round}")),
    }
}

/// Key of a cut record: outside every `<network>/…` key, so readers that
/// look for a network's feed or node records never take it for one.
pub fn cut_key(network: &str) -> Vec<u8> {
    schemas::topics::sub_key(CUT_SOURCE, network)
}

/// A record read but not applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Partition it was read from.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// What it says.
    pub record: Telemetry,
}

/// Telemetry read but not applied, per network, in offset order.
#[derive(Debug, Default)]
pub struct HeldTelemetry {
    queues: BTreeMap<String, VecDeque<Pending>>,
}

impl HeldTelemetry {
    /// Keep `p` for its network, unless `applied` (the offset of the network's
    /// last applied record) says it was applied before a restart.
    pub fn push(&mut self, p: Pending, applied: Option<i64>) {
        if applied.is_some_and(|last| p.offset <= last) {
            return;
        }
        self.queues.entry(p.record.network().to_string()).or_default().push_back(p);
    }

    /// Whether `network` holds a record beyond `t_ms`.
    pub fn has_beyond(&self, network: &str, t_ms: i64) -> bool {
        self.queues.get(network).is_some_and(|q| q.iter().any(|p| beyond(&p.record, t_ms)))
    }

    /// Apply `network`'s records before its first beyond `t_ms` to `uptime`;
    /// `applied` moves to the last applied offset. Returns how many.
    pub fn apply_until(&mut self, network: &str, t_ms: i64, uptime: &mut UptimeState, applied: &mut Option<i64>, window_ms: i64) -> usize {
        let Some(queue) = self.queues.get_mut(network) else { return 0 };
        let mut n = 0;
        while let Some(p) = queue.front().filter(|p| !beyond(&p.record, t_ms)) {
            apply(&p.record, uptime, window_ms);
            *applied = Some(p.offset);
            queue.pop_front();
            n += 1;
        }
        n
    }

    /// The first offset of `partition` not applied, if any is held.
    pub fn first_held(&self, partition: i32) -> Option<i64> {
        self.queues.values().flat_map(|q| q.iter().find(|p| p.partition == partition)).map(|p| p.offset).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rules::uptime::Presence;
    use schemas::TelemetryNodeEvent;

    const WEEK: i64 = 7 * 24 * 3_600_000;

    fn node(kind: &str, at_ms: i64) -> Telemetry {
        Telemetry::Node(Box::new(TelemetryNodeEvent {
            network: "n".into(),
            source: "feed".into(),
            peer_id: "12D3KooAlice".into(),
            kind: kind.into(),
            at_ms,
            name: "alice".into(),
            ..Default::default()
        }))
    }

    fn feed(kind: &str, at_ms: i64) -> Telemetry {
        Telemetry::Feed(TelemetryFeedEvent { network: "n".into(), source: "feed".into(), kind: kind.into(), at_ms, reason: None })
    }

    fn held(records: Vec<Telemetry>) -> HeldTelemetry {
        let mut h = HeldTelemetry::default();
        for (offset, record) in records.into_iter().enumerate() {
            h.push(Pending { partition: 0, offset: offset as i64, record }, None);
        }
        h
    }

    fn presence(u: &UptimeState) -> Option<Presence> {
        u.node("n", "12D3KooAlice").map(|n| n.presence)
    }

    /// What a round sees is fixed by the order on the topic: a record stamped
    /// before the round but behind its cut counts for the next round, for the
    /// live scorer and a rebuild alike, however they were split into passes.
    #[test]
    fn a_round_sees_the_records_before_its_cut_however_the_applying_is_split() {
        let records = vec![
            feed("up", 10),
            node("added", 20),
            node("removed", 90), // the round at 100 sees it
            Telemetry::Feed(cut_record("n", 100, 7)),
            node("added", 95), // late: behind the cut, for the next round
            node("removed", 150),
        ];
        // One go at the round's time.
        let (mut whole, mut applied) = (UptimeState::default(), None);
        let mut h = held(records.clone());
        assert!(h.has_beyond("n", 100));
        assert_eq!(h.apply_until("n", 100, &mut whole, &mut applied, WEEK), 3);
        assert_eq!((presence(&whole), applied), (Some(Presence::Offline), Some(2)));
        // Eagerly at every earlier clock first: the same state at the round.
        for clock in [0, 15, 20, 89, 99] {
            let (mut split, mut applied) = (UptimeState::default(), None);
            let mut h = held(records.clone());
            h.apply_until("n", clock, &mut split, &mut applied, WEEK);
            h.apply_until("n", 100, &mut split, &mut applied, WEEK);
            assert_eq!(split, whole, "applied at {clock}, then at the round");
        }
        // The next round passes the cut and takes the late record.
        h.apply_until("n", 120, &mut whole, &mut applied, WEEK);
        assert_eq!((presence(&whole), applied), (Some(Presence::Online), Some(4)));
        assert!(!h.has_beyond("n", 200), "no record beyond 200: the live scorer writes a cut");
    }

    #[test]
    fn a_cut_ends_its_own_round_and_no_later_one() {
        let cut = Telemetry::Feed(cut_record("n", 100, 7));
        assert!(beyond(&cut, 100) && beyond(&cut, 99) && !beyond(&cut, 101));
        assert!(!beyond(&node("added", 100), 100) && beyond(&node("added", 101), 100));
    }

    /// After a restart the records after the saved position are read again;
    /// those a network applied already are not applied twice.
    #[test]
    fn records_applied_before_a_restart_are_not_held_again() {
        let mut h = HeldTelemetry::default();
        for offset in 0..5 {
            h.push(Pending { partition: 3, offset, record: node("added", offset) }, Some(2));
        }
        let held: usize = h.queues.values().map(VecDeque::len).sum();
        assert_eq!((held, h.first_held(3), h.first_held(0)), (2, Some(3), None));
    }

    #[test]
    fn either_record_type_decodes_and_anything_else_is_refused() {
        for r in [node("added", 1), feed("up", 2), Telemetry::Feed(cut_record("n", 3, 1))] {
            let bytes = match &r {
                Telemetry::Node(e) => e.encode().unwrap(),
                Telemetry::Feed(e) => e.encode().unwrap(),
            };
            assert_eq!(Telemetry::decode(&bytes).unwrap(), r);
        }
        assert!(Telemetry::decode(b"\0\0\0\0\x01junk").is_err());
    }
}
