//! Readiness: how far applied state is behind the chain. Pure, so the rule is
//! tested apart from HTTP.

use serde::Serialize;
use store::{ChainHead, ObservedHead};

/// One chain's position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReadiness {
    /// Network name.
    pub chain: String,
    /// Last finalized block seen on chain by ingest.
    pub seen_on_chain: Option<u64>,
    /// Last block applied to state.
    pub applied: Option<u64>,
    /// `seen_on_chain - applied`, when both are known.
    pub lag: Option<u64>,
    /// Whether this chain is within the bound.
    pub ready: bool,
}

/// The `/ready` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// True when every configured chain is ready.
    pub ready: bool,
    /// The lag bound in blocks.
    pub max_lag: u64,
    /// Per chain, in configured order.
    pub chains: Vec<ChainReadiness>,
}

/// Readiness of the configured `networks` given what was seen and applied.
/// A chain with nothing seen or nothing applied is not ready: no data is not
/// the same as no lag.
pub fn readiness(networks: &[String], seen: &[ObservedHead], applied: &[ChainHead], max_lag: u64) -> Readiness {
    let chains: Vec<ChainReadiness> = networks
        .iter()
        .map(|chain| {
            let seen_on_chain = seen.iter().find(|h| &h.chain == chain).map(|h| h.number);
            let applied = applied.iter().find(|h| &h.chain == chain).map(|h| h.number);
            let lag = seen_on_chain.zip(applied).map(|(s, a)| s.saturating_sub(a));
            ChainReadiness { chain: chain.clone(), seen_on_chain, applied, lag, ready: lag.is_some_and(|l| l <= max_lag) }
        })
        .collect();
    Readiness { ready: !chains.is_empty() && chains.iter().all(|c| c.ready), max_lag, chains }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(chain: &str, number: u64) -> ObservedHead {
        ObservedHead { chain: chain.into(), number, observed_at_ms: 0 }
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
        let r = readiness(&["paseo".into()], &[seen("paseo", 110)], &[applied("paseo", 100)], 10);
        assert!(r.ready);
        assert_eq!(r.chains[0].lag, Some(10));
    }

    #[test]
    fn beyond_bound_is_not_ready() {
        let r = readiness(&["paseo".into()], &[seen("paseo", 111)], &[applied("paseo", 100)], 10);
        assert!(!r.ready);
        assert_eq!(r.chains[0].lag, Some(11));
    }

    #[test]
    fn missing_data_is_not_ready() {
        let nets = vec!["paseo".to_string(), "kusama".to_string()];
        let r = readiness(&nets, &[seen("paseo", 5), seen("kusama", 5)], &[applied("paseo", 5)], 10);
        assert!(!r.ready);
        assert!(r.chains[0].ready);
        assert_eq!((r.chains[1].applied, r.chains[1].lag, r.chains[1].ready), (None, None, false));
        assert!(!readiness(&[], &[], &[], 10).ready);
    }

    #[test]
    fn applied_ahead_of_a_stale_observation_is_zero_lag() {
        let r = readiness(&["paseo".into()], &[seen("paseo", 5)], &[applied("paseo", 7)], 0);
        assert_eq!(r.chains[0].lag, Some(0));
        assert!(r.ready);
    }
}
