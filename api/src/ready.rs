//! Readiness: how far applied state is behind the chain, and whether ingest
//! still hears from it. Pure, so the rule is tested apart from HTTP.

use std::collections::BTreeMap;

use serde::Serialize;
use store::{ChainHead, ObservedHead};
pub(crate) use schemas::clock::now_ms;

/// One chain's position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChainReadiness {
    /// Network name.
    pub chain: String,
    /// Last finalized block seen on chain by ingest.
    pub seen_on_chain: Option<u64>,
    /// Seconds since ingest last heard from the chain (a head, or a check that it is quiet).
    pub silent_for_s: Option<u64>,
    /// Last block applied to state.
    pub applied: Option<u64>,
    /// `seen_on_chain - applied`, when both are known.
    pub lag: Option<u64>,
    /// Last block the scorer applied, where it follows this chain.
    pub scored: Option<u64>,
    /// `seen_on_chain - scored`.
    pub scorer_lag: Option<u64>,
    /// Seconds since the nominator of this network last completed a pass, where one runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nominator_silent_for_s: Option<u64>,
    /// Whether this chain is within the bounds.
    pub ready: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// A consumer that folds a topic (uptime, session keys), by its last report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConsumerReadiness {
    /// Consumer name.
    pub consumer: String,
    /// Seconds since it last reported (it does every 30 s, even on a quiet topic).
    pub silent_for_s: u64,
    /// Records on its topic it had not applied when it reported.
    pub behind: u64,
    /// Whether it reports within the silence bound and is not too far behind.
    pub ready: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// The `/ready` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// True when every configured chain and every reporting consumer is ready.
    pub ready: bool,
    /// The lag bound in blocks.
    pub max_lag: u64,
    /// The silence bound in seconds.
    pub max_silence_s: u64,
    /// Per chain, in configured order.
    pub chains: Vec<ChainReadiness>,
    /// The folding consumers that have reported.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<ConsumerReadiness>,
    /// Whether this process reaches the broker, where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<BrokerReadiness>,
}

/// `/ready` of a process that runs no API: whether it reaches the broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProcessReadiness {
    /// False while the broker is unreachable.
    pub ready: bool,
    /// The broker, where this process has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<BrokerReadiness>,
}

impl ProcessReadiness {
    /// From the probe's last finding (`None`: no broker here), at `now_ms`.
    pub fn judge(broker: Option<&bus::health::BrokerState>, now_ms: i64) -> Self {
        let broker = broker.map(|s| BrokerReadiness::judge(s, now_ms));
        Self { ready: broker.as_ref().is_none_or(|b| b.reachable), broker }
    }
}

/// This process's view of the broker, from its probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BrokerReadiness {
    /// Whether the broker answered the last probe.
    pub reachable: bool,
    /// Seconds since the first unanswered probe of an ongoing outage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_for_s: Option<u64>,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl BrokerReadiness {
    /// From the probe's last finding, at `now_ms`.
    pub fn judge(state: &bus::health::BrokerState, now_ms: i64) -> Self {
        use bus::health::BrokerState;
        match state {
            BrokerState::Up => Self { reachable: true, unreachable_for_s: None, why: None },
            BrokerState::Unknown => Self { reachable: false, unreachable_for_s: None, why: Some("the broker has not been probed yet".into()) },
            BrokerState::Down { since_ms, error } => {
                let s = (now_ms.saturating_sub(*since_ms).max(0) / 1000) as u64;
                let why = format!("the Kafka broker has not answered for {s} s ({error}); services retry and resume when it is back");
                Self { reachable: false, unreachable_for_s: Some(s), why: Some(why) }
            }
        }
    }
}

impl Readiness {
    /// Judge the folding consumers by their last reports too: one silent
    /// beyond the silence bound is stalled (a quiet topic still reports), one
    /// with more records left than the bound is behind.
    pub fn with_consumers(mut self, reports: &[(&str, scoring::folds::FoldProgress)], bounds: Bounds) -> Self {
        self.consumers = reports
            .iter()
            .map(|(name, p)| {
                let silent_ms = bounds.now_ms.saturating_sub(p.at_ms).max(0);
                let why = if silent_ms > bounds.max_silence_ms {
                    Some(format!("{name} has not reported for {} s (stalled or down)", silent_ms / 1000))
                } else if p.behind > bounds.max_behind {
                    Some(format!("{name} had {} records not applied yet when it last reported (more than {})", p.behind, bounds.max_behind))
                } else {
                    None
                };
                ConsumerReadiness { consumer: name.to_string(), silent_for_s: (silent_ms / 1000) as u64, behind: p.behind, ready: why.is_none(), why }
            })
            .collect();
        self.ready = self.ready && self.consumers.iter().all(|c| c.ready);
        self
    }

    /// Judge the broker too, where this process has one: unreachable is not ready.
    pub fn with_broker(mut self, broker: Option<BrokerReadiness>) -> Self {
        self.ready = self.ready && broker.as_ref().is_none_or(|b| b.reachable);
        self.broker = broker;
        self
    }
}

/// What `/ready` judges against.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Most blocks any consumer may be behind the chain.
    pub max_lag: u64,
    /// Longest time since ingest last heard from a chain, ms.
    pub max_silence_ms: i64,
    /// Most records a folding consumer may have left unapplied at its last report.
    pub max_behind: u64,
    /// Now, ms since the epoch.
    pub now_ms: i64,
}

/// The scorer's progress: `None` where no programme is scored here; blocks
/// applied per chain (empty before its first save) where one is.
pub type ScorerProgress<'a> = Option<&'a BTreeMap<String, u64>>;

/// Readiness of the configured `networks` given what was seen and applied.
/// A chain with nothing seen or nothing applied is not ready: no data is not
/// the same as no lag.
///
/// `nominator_passes` holds, per network whose nominator has run, when it
/// last completed a pass (ms): one silent beyond the silence bound is stalled.
pub fn readiness(
    networks: &[String],
    seen: &[ObservedHead],
    applied: &[ChainHead],
    scorer: ScorerProgress<'_>,
    nominator_passes: &BTreeMap<String, i64>,
    bounds: Bounds,
) -> Readiness {
    let chains: Vec<ChainReadiness> = networks
        .iter()
        .map(|chain| {
            let observed = seen.iter().find(|h| &h.chain == chain);
            let seen_on_chain = observed.map(|h| h.number);
            let silent_ms = observed.map(|h| bounds.now_ms.saturating_sub(h.observed_at_ms).max(0));
            let applied = applied.iter().find(|h| &h.chain == chain).map(|h| h.number);
            let lag = seen_on_chain.zip(applied).map(|(s, a)| s.saturating_sub(a));
            // Chains the scorer follows are those in its progress; before its first save, all.
            let scored = scorer.and_then(|p| p.get(chain).copied());
            let scorer_follows = scorer.is_some_and(|p| p.is_empty() || p.contains_key(chain));
            let scorer_lag = seen_on_chain.zip(scored).map(|(s, a)| s.saturating_sub(a));
            let nominator_ms = nominator_passes.get(chain).map(|at| bounds.now_ms.saturating_sub(*at).max(0));
            let why = if seen_on_chain.is_none() {
                Some("ingest has seen no block of this chain yet".to_string())
            } else if let Some(ms) = silent_ms.filter(|ms| *ms > bounds.max_silence_ms) {
                Some(format!("ingest has not heard from the chain for {} s (stalled or down)", ms / 1000))
            } else if applied.is_none() {
                Some("no block applied yet".to_string())
            } else if let Some(l) = lag.filter(|l| *l > bounds.max_lag) {
                Some(format!("state is {l} blocks behind the chain"))
            } else if scorer_follows && scored.is_none() {
                Some("the scorer has applied no block of this chain yet".to_string())
            } else if let Some(l) = scorer_lag.filter(|l| scorer_follows && *l > bounds.max_lag) {
                Some(format!("the scorer is {l} blocks behind the chain"))
            } else if let Some(ms) = nominator_ms.filter(|ms| *ms > bounds.max_silence_ms) {
                Some(format!("the nominator has completed no pass for {} s (stalled or down)", ms / 1000))
            } else {
                None
            };
            ChainReadiness {
                chain: chain.clone(),
                seen_on_chain,
                silent_for_s: silent_ms.map(|ms| (ms / 1000) as u64),
                applied,
                lag,
                scored,
                scorer_lag,
                nominator_silent_for_s: nominator_ms.map(|ms| (ms / 1000) as u64),
                ready: why.is_none(),
                why,
            }
        })
        .collect();
    Readiness {
        ready: !chains.is_empty() && chains.iter().all(|c| c.ready),
        max_lag: bounds.max_lag,
        max_silence_s: (bounds.max_silence_ms / 1000).max(0) as u64,
        chains,
        consumers: Vec::new(),
        broker: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folding_consumer_that_stopped_reporting_is_stalled_and_a_quiet_one_is_not() {
        use scoring::folds::FoldProgress;
        let reports = [
            ("stakeflow-uptime", FoldProgress { at_ms: NOW - 200_000, behind: 7 }),
            ("stakeflow-session-keys", FoldProgress { at_ms: NOW - 20_000, behind: 0 }),
        ];
        let nets = vec!["paseo".to_string()];
        let r = readiness(&nets, &[seen("paseo", 5)], &[applied("paseo", 5)], None, &BTreeMap::new(), bounds(10));
        assert!(r.ready);
        let r = r.with_consumers(&reports, bounds(10));
        assert!(!r.ready, "a stalled consumer makes the whole answer 503");
        let c = &r.consumers;
        assert!(!c[0].ready);
        assert_eq!((c[0].silent_for_s, c[0].behind), (200, 7));
        assert!(c[0].why.as_deref().unwrap().contains("stakeflow-uptime has not reported for 200 s"));
        assert!(c[1].ready && c[1].why.is_none(), "{:?}", c[1]);
    }

    #[test]
    fn a_folding_consumer_too_far_behind_is_not_ready_and_at_the_bound_it_is() {
        use scoring::folds::FoldProgress;
        let nets = vec!["paseo".to_string()];
        let judged = |behind| {
            readiness(&nets, &[seen("paseo", 5)], &[applied("paseo", 5)], None, &BTreeMap::new(), bounds(10))
                .with_consumers(&[("stakeflow-era-points", FoldProgress { at_ms: NOW - 1_000, behind })], bounds(10))
        };
        let r = judged(101);
        assert!(!r.ready && !r.consumers[0].ready);
        assert!(r.consumers[0].why.as_deref().unwrap().contains("101 records not applied yet"), "{:?}", r.consumers[0]);
        assert!(judged(100).ready);
    }

    #[test]
    fn a_nominator_that_stopped_passing_makes_its_chain_unready() {
        let nets = vec!["paseo".to_string(), "kusama".to_string()];
        let (s, a) = ([seen("paseo", 5), seen("kusama", 5)], [applied("paseo", 5), applied("kusama", 5)]);
        let passes: BTreeMap<String, i64> = [("paseo".to_string(), NOW - 200_000), ("kusama".to_string(), NOW - 5_000)].into();
        let r = readiness(&nets, &s, &a, None, &passes, bounds(10));
        assert!(!r.ready);
        assert_eq!(r.chains[0].nominator_silent_for_s, Some(200));
        assert!(r.chains[0].why.as_deref().unwrap().contains("nominator has completed no pass for 200 s"), "{:?}", r.chains[0]);
        assert!(r.chains[1].ready, "a nominator that passes is fine: {:?}", r.chains[1]);
        // Where no nominator runs, none is waited for.
        assert!(readiness(&nets, &s, &a, None, &BTreeMap::new(), bounds(10)).ready);
    }

    const NOW: i64 = 1_800_000_000_000;

    fn bounds(max_lag: u64) -> Bounds {
        Bounds { max_lag, max_silence_ms: 180_000, max_behind: 100, now_ms: NOW }
    }

    fn seen(chain: &str, number: u64) -> ObservedHead {
        ObservedHead { chain: chain.into(), number, observed_at_ms: NOW - 1_000 }
    }

    fn applied(chain: &str, number: u64) -> ChainHead {
        ChainHead {
            chain: chain.into(),
            number,
            hash: String::new(),
            parent_hash: String::new(),
            timestamp_ms: None,
            spec_version: 0,
            applied_blocks: number + 1,
        }
    }

    #[test]
    fn within_bound_is_ready() {
        let r = readiness(&["paseo".into()], &[seen("paseo", 110)], &[applied("paseo", 100)], None, &BTreeMap::new(), bounds(10));
        assert!(r.ready);
        assert_eq!(r.chains[0].lag, Some(10));
    }

    #[test]
    fn beyond_bound_is_not_ready() {
        let r = readiness(&["paseo".into()], &[seen("paseo", 111)], &[applied("paseo", 100)], None, &BTreeMap::new(), bounds(10));
        assert!(!r.ready);
        assert_eq!(r.chains[0].lag, Some(11));
    }

    #[test]
    fn missing_data_is_not_ready() {
        let nets = vec!["paseo".to_string(), "kusama".to_string()];
        let r = readiness(&nets, &[seen("paseo", 5), seen("kusama", 5)], &[applied("paseo", 5)], None, &BTreeMap::new(), bounds(10));
        assert!(!r.ready);
        assert!(r.chains[0].ready);
        assert_eq!((r.chains[1].applied, r.chains[1].lag, r.chains[1].ready), (None, None, false));
        assert!(!readiness(&[], &[], &[], None, &BTreeMap::new(), bounds(10)).ready);
    }

    #[test]
    fn applied_ahead_of_a_stale_observation_is_zero_lag() {
        let r = readiness(&["paseo".into()], &[seen("paseo", 5)], &[applied("paseo", 7)], None, &BTreeMap::new(), bounds(0));
        assert_eq!(r.chains[0].lag, Some(0));
        assert!(r.ready);
    }

    #[test]
    fn a_chain_not_heard_from_for_too_long_is_not_ready() {
        let stale = ObservedHead { chain: "paseo".into(), number: 100, observed_at_ms: NOW - 181_000 };
        let r = readiness(&["paseo".into()], &[stale], &[applied("paseo", 100)], None, &BTreeMap::new(), bounds(10));
        assert!(!r.ready);
        assert_eq!(r.chains[0].silent_for_s, Some(181));
        assert!(r.chains[0].why.as_deref().unwrap().contains("not heard from the chain for 181 s"), "{r:?}");
    }

    #[test]
    fn a_scorer_behind_or_not_started_is_not_ready() {
        let nets = vec!["paseo".to_string()];
        let (s, a) = ([seen("paseo", 100)], [applied("paseo", 100)]);
        let none = BTreeMap::new();
        let r = readiness(&nets, &s, &a, Some(&none), &BTreeMap::new(), bounds(10));
        assert!(!r.ready && r.chains[0].why.as_deref().unwrap().contains("scorer has applied no block"), "{r:?}");
        let behind = BTreeMap::from([("paseo".to_string(), 80)]);
        let r = readiness(&nets, &s, &a, Some(&behind), &BTreeMap::new(), bounds(10));
        assert_eq!((r.ready, r.chains[0].scorer_lag), (false, Some(20)));
        assert!(r.chains[0].why.as_deref().unwrap().contains("scorer is 20 blocks behind"), "{r:?}");
        let close = BTreeMap::from([("paseo".to_string(), 95)]);
        assert!(readiness(&nets, &s, &a, Some(&close), &BTreeMap::new(), bounds(10)).ready);
        let elsewhere = BTreeMap::from([("kusama".to_string(), 1)]);
        assert!(readiness(&nets, &s, &a, Some(&elsewhere), &BTreeMap::new(), bounds(10)).ready, "a chain the scorer does not follow is not judged by it");
    }

    #[test]
    fn an_unreachable_broker_makes_the_answer_503_with_how_long_and_why_and_a_reachable_one_does_not() {
        use bus::health::BrokerState;
        let nets = vec!["paseo".to_string()];
        let fine = || readiness(&nets, &[seen("paseo", 5)], &[applied("paseo", 5)], None, &BTreeMap::new(), bounds(10));
        let down = BrokerState::Down { since_ms: NOW - 61_500, error: "Local: Broker transport failure".into() };
        let r = fine().with_broker(Some(BrokerReadiness::judge(&down, NOW)));
        let b = r.broker.as_ref().unwrap();
        assert!(!r.ready && !b.reachable, "{r:?}");
        assert_eq!(b.unreachable_for_s, Some(61));
        assert!(b.why.as_deref().unwrap().contains("has not answered for 61 s (Local: Broker transport failure)"), "{b:?}");
        assert!(fine().with_broker(Some(BrokerReadiness::judge(&BrokerState::Up, NOW))).ready);
        assert!(!fine().with_broker(Some(BrokerReadiness::judge(&BrokerState::Unknown, NOW))).ready, "not probed yet is not known to be reachable");
        assert!(fine().with_broker(None).ready, "a process without a broker is not judged by one");
        // A reachable broker does not make a lagging chain ready.
        let lagging = readiness(&nets, &[seen("paseo", 50)], &[applied("paseo", 5)], None, &BTreeMap::new(), bounds(10));
        assert!(!lagging.with_broker(Some(BrokerReadiness::judge(&BrokerState::Up, NOW))).ready);
    }

    #[test]
    fn a_process_without_the_api_is_ready_while_it_reaches_the_broker() {
        use bus::health::BrokerState;
        assert!(ProcessReadiness::judge(Some(&BrokerState::Up), NOW).ready);
        let r = ProcessReadiness::judge(Some(&BrokerState::Down { since_ms: NOW - 3_000, error: "timed out".into() }), NOW);
        assert!(!r.ready && r.broker.unwrap().why.unwrap().contains("3 s (timed out)"));
        assert!(ProcessReadiness::judge(None, NOW).ready);
    }
}
