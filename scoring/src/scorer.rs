//! The scorer: one consumer over every chain topic the programme needs, the
//! candidate lists, releases, and telemetry (folded into each network's uptime).
//!
//! Order without transactions: ingest writes all of a block's outputs before
//! the block's record, so once the blocks topic shows block N of a chain,
//! everything of that chain up to N is on the other topics. Each pass reads
//! every topic up to its high watermark, applies the records of blocks the
//! blocks topic has certified in (chain, block, seq) order, and keeps the
//! rest for the next pass. A session snapshot starts a round, evaluated at
//! its block's record (after all of the block's outputs). State, round rows
//! and every moved position are saved in one store write; rounds are
//! published before that write and deduplicated against the topics' tails.
//! Telemetry is not tied to blocks: a round sees what [`telemetry`] cuts for it.

mod attempt;
mod certify;
pub mod config;
mod network;
pub mod publish;
pub mod rounds;
mod state;
pub mod telemetry;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use bus::BusConfig;
use schemas::topics;
use store::{Namespaces, Store};
use tokio_util::sync::CancellationToken;

use crate::ScoringError;
use attempt::Attempt;
pub use config::{ProgrammeConfig, ScoringConfig};
pub use network::ScoredNetwork;
pub use rounds::{latest_round, latest_row, latest_stamp, round_numbers, round_row, round_writes, stamp, stored_round};
pub use state::{ListVersion, ScorerState};

/// Consumer name (store key and Kafka group).
pub const SCORER: &str = "stakeflow-scorer";
/// Key of the scorer's folded state.
pub const STATE_KEY: &str = "state";
/// The scorer's row of blocks applied per chain (a small JSON map), saved with
/// its state, for `/ready` to read without loading the state.
pub const PROGRESS_KEY: &str = "progress";

/// Blocks the scorer has applied per chain, as last saved.
pub async fn progress(store: &dyn store::Store) -> Result<std::collections::BTreeMap<String, u64>, store::StoreError> {
    Ok(store.load_state(SCORER, PROGRESS_KEY).await?.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default())
}

/// Topics whose records are applied in block order.
const CLOCKED: [&str; 6] = [
    topics::SESSION_SNAPSHOTS,
    topics::VALIDATORS,
    topics::NOMINATORS,
    topics::ERA_POINTS,
    topics::IDENTITIES,
    topics::SESSION_EVENTS,
];

/// Topics not tied to blocks: applied as read; rounds pick the version in force at their time.
pub(crate) const UNCLOCKED: [&str; 2] = [topics::CANDIDATES, topics::RELEASES];

/// Every topic the scorer reads, releases left out: it reads them only when
/// a programme has a releases source (every topic read costs a consumer
/// polling the broker, a third of a rebuild's time on the embedded broker
/// for an empty one).
pub fn input_topics() -> Vec<&'static str> {
    let mut t = vec![topics::BLOCKS, topics::CANDIDATES];
    t.extend(CLOCKED);
    t
}

/// Most block records certified per pass (bounds the size of one store write).
const MAX_BLOCKS_PER_PASS: usize = 2_000;

/// Record bytes a pass should hold at most: what bounds a rebuild's memory
/// is bytes, not blocks (an era snapshot of 20,000 nominators is 25 MB in
/// one block; a 2,000-block pass of a replay held every era at once).
const HELD_BUDGET: usize = 64 << 20;

/// Blocks the next pass reads, from the record bytes `current` blocks held:
/// as many as fit [`HELD_BUDGET`] at that size, at
/// most four times as many as before (a run of small blocks cannot hide a
/// large one for long), at least one.
fn next_pass_blocks(current: usize, held_bytes: usize) -> usize {
    let fit = if held_bytes == 0 { usize::MAX } else { (HELD_BUDGET as u128 * current as u128 / held_bytes as u128) as usize };
    fit.min(current.saturating_mul(4)).clamp(1, MAX_BLOCKS_PER_PASS)
}

/// How the scorer's output is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The live scorer: publishes rounds, follows the live namespace.
    Live,
    /// A rebuild into a namespace: no publishing, stops when caught up.
    Rebuild,
}

/// The scorer.
pub struct Scorer {
    bus: BusConfig,
    namespaces: Arc<Namespaces>,
    networks: Vec<ScoredNetwork>,
    /// Every chain the networks read (relay, staking, identity).
    chains: BTreeSet<String>,
    /// Per staking chain, the programme nominators of the networks staking there.
    own_nominators: BTreeMap<String, BTreeSet<String>>,
    uptime_window_ms: i64,
    idle: Duration,
    /// This instance's id in the scorer's lease, and how long it lasts unrenewed.
    holder: String,
    lease_ttl: Duration,
    /// The topics read: [`input_topics`], releases when a programme has a
    /// source, telemetry when a network collects it.
    topics: Vec<&'static str>,
}

/// The subject of the scorer's lease: one scorer writes the scoring state and publishes rounds.
pub const LEASE: &str = "scorer";

impl Scorer {
    /// A scorer of `networks`.
    pub fn new(bus: BusConfig, namespaces: Arc<Namespaces>, networks: Vec<ScoredNetwork>, uptime_window_ms: i64) -> Self {
        let chains = networks.iter().flat_map(|n| [n.relay.clone(), n.staking.clone(), n.identity.clone()]).collect();
        let mut own_nominators: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for n in &networks {
            own_nominators.entry(n.staking.clone()).or_default().extend(n.own_nominators.iter().cloned());
        }
        let holder = format!("{}/scorer", store::lease::this_process());
        let mut topics = input_topics();
        if networks.iter().any(|n| n.programme.releases.is_some()) {
            topics.push(topics::RELEASES);
        }
        if networks.iter().any(|n| n.telemetry) {
            topics.push(topics::TELEMETRY_NODES);
        }
        Self { bus, namespaces, networks, chains, own_nominators, uptime_window_ms, idle: config::DEFAULT_IDLE, holder, lease_ttl: Duration::from_secs(30), topics }
    }

    /// How long to wait after a pass that found nothing new (`[scoring] idle`).
    pub fn with_idle(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// Name this instance in the lease, and set how long the lease lasts unrenewed (`[scoring] lease_ttl`).
    pub fn with_lease(mut self, holder: impl Into<String>, ttl: Duration) -> Self {
        self.holder = holder.into();
        self.lease_ttl = ttl;
        self
    }

    /// Run until `shutdown`, following the live namespace (a swap reloads).
    /// Only the lease holder applies, saves and publishes rounds; another
    /// instance stands by and takes over when the lease lapses.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ScoringError> {
        crate::shell::run_with_retries(SCORER, shutdown.clone(), || async {
            let (name, store) = self.namespaces.live().await?;
            let ttl = self.lease_ttl.as_millis() as i64;
            let lease = store::lease::Lease::acquire(store.as_ref(), SCORER, LEASE, &self.holder, ttl, crate::now_ms()).await?;
            tracing::info!(consumer = SCORER, holder = %self.holder, token = lease.token(), "scorer lease taken");
            let mut attempt = Attempt::open(&self, store, Mode::Live).await?.with_lease(lease);
            loop {
                let pass = attempt.pass().await?;
                if self.namespaces.live_name().await? != name {
                    return Err(ScoringError::NamespaceSwapped);
                }
                if pass.applied == 0 {
                    tokio::time::sleep(self.idle).await;
                }
            }
        })
        .await
    }

    /// Rebuild into `store` from the topics up to where they end now; returns
    /// the number of rounds evaluated. `progress` hears (records applied, rounds) after every pass.
    pub async fn rebuild(&self, store: Arc<dyn Store>, mut progress: impl FnMut(usize, usize)) -> Result<usize, ScoringError> {
        let ends = bus::admin::high_watermarks(&self.bus, &self.topics).await?;
        let mut attempt = Attempt::open(self, store, Mode::Rebuild).await?;
        let (mut applied, mut rounds) = (0, 0);
        loop {
            let pass = attempt.pass().await?;
            applied += pass.applied;
            rounds += pass.rounds;
            progress(applied, rounds);
            // Done once everything that was there is read and nothing more applies
            // (what stays held belongs to blocks not certified yet).
            if pass.applied == 0 && attempt.has_read(&ends) {
                return Ok(rounds);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_grow_while_within_the_byte_budget_and_shrink_past_it() {
        let mut blocks = 1;
        for _ in 0..20 {
            blocks = next_pass_blocks(blocks, 1 << 20);
        }
        assert_eq!(blocks, MAX_BLOCKS_PER_PASS, "small blocks: as many as a store write takes");
        // Era blocks of 25 MB each: at once as many as fit the budget, and there it stays.
        blocks = next_pass_blocks(blocks, blocks * (25 << 20));
        assert_eq!(blocks, 2);
        assert_eq!(next_pass_blocks(blocks, blocks * (25 << 20)), 2);
        assert_eq!(next_pass_blocks(1, usize::MAX), 1, "one block is always read, however large");
    }
}
