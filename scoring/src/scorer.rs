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
pub use attempt::REBUILD_STATE_EVERY;
mod certify;
pub mod chain_record;
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
pub use rounds::{latest_round, latest_stamp, round_numbers, round_row, round_writes, rounds_writes, stamped_round_bytes, stored_round};
pub use chain_record::ChainRecord;
pub use state::{ListVersion, ScorerState};

/// Consumer name (store key and Kafka group).
pub const SCORER: &str = "stakeflow-scorer";
/// Key of the folded state of a scorer serving every network (see [`Scope`]).
pub const STATE_KEY: &str = "state";

/// A network's row of blocks applied per chain (its relay, staking and
/// identity chains; a small JSON map), saved with the state of whichever
/// scorer serves it, for `/ready` to read without loading that state.
pub fn progress_row(network: &str) -> String {
    format!("progress/{network}")
}

/// Blocks applied per chain for `networks`, as last saved: a chain several of
/// them read counts its least. Empty while any of them has no row yet (a
/// scorer that has not saved: every chain is then judged as not scored).
pub async fn progress(store: &dyn store::Store, networks: &[String]) -> Result<BTreeMap<String, u64>, store::StoreError> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for network in networks {
        let Some(row) = store.load_state(SCORER, &progress_row(network)).await? else {
            return Ok(BTreeMap::new());
        };
        let row: BTreeMap<String, u64> = serde_json::from_slice(&row).unwrap_or_default();
        for (chain, block) in row {
            out.entry(chain).and_modify(|b| *b = (*b).min(block)).or_insert(block);
        }
    }
    Ok(out)
}

/// The subject of the lease of `network`'s scoring: one scorer scores a
/// network and publishes its rounds, whichever processes the networks are
/// spread over (a process serving several takes each one's lease).
pub fn lease_subject(network: &str) -> String {
    format!("scorer/{network}")
}

/// Which networks a scorer instance serves, and so where its own rows live.
///
/// Rounds and progress are per network and shared by every scope (the API
/// reads them wherever they were scored); a scope's folded state, its topic
/// positions and its Kafka group are its own, so scorers of different
/// networks never move each other's positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every configured network (the default).
    All,
    /// The named networks only (`--only-network`), held as their sorted names joined by `+`.
    Only(String),
}

impl Scope {
    /// The scope of a process told to serve only `networks`.
    pub fn only<'a>(networks: impl IntoIterator<Item = &'a str>) -> Self {
        let names: BTreeSet<&str> = networks.into_iter().collect();
        Scope::Only(names.into_iter().collect::<Vec<_>>().join("+"))
    }

    /// Key of this scope's folded state.
    pub fn state_key(&self) -> String {
        match self {
            Scope::All => STATE_KEY.to_string(),
            Scope::Only(set) => format!("{STATE_KEY}@{set}"),
        }
    }

    /// Name under which this scope's position on `topic` is stored (`@` is
    /// never in a Kafka topic name, so scopes cannot collide with a topic).
    pub fn position_topic(&self, topic: &str) -> String {
        match self {
            Scope::All => topic.to_string(),
            Scope::Only(set) => format!("{topic}@{set}"),
        }
    }

    /// The Kafka group its readers commit advisory offsets under (lag monitoring).
    pub fn group(&self) -> String {
        match self {
            Scope::All => SCORER.to_string(),
            Scope::Only(set) => format!("{SCORER}@{set}"),
        }
    }
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
pub fn next_pass_blocks(current: usize, held_bytes: usize) -> usize {
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
    /// The networks this instance serves, and so where its state and positions live.
    scope: Scope,
    /// How often a rebuild with records left saves its state ([`REBUILD_STATE_EVERY`]).
    rebuild_state_every: Duration,
}

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
        Self { bus, namespaces, networks, chains, own_nominators, uptime_window_ms, idle: config::DEFAULT_IDLE, holder, lease_ttl: Duration::from_secs(30), topics, scope: Scope::All, rebuild_state_every: REBUILD_STATE_EVERY }
    }

    /// Serve only these networks beside other scorers (`--only-network`): the
    /// state and positions are this scope's own (see [`Scope`]).
    pub fn only_these(mut self) -> Self {
        self.scope = Scope::only(self.networks.iter().map(|n| n.name.as_str()));
        self
    }

    /// How long to wait after a pass that found nothing new (`[scoring] idle`).
    pub fn with_idle(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// How often a rebuild that still has records to apply saves its state
    /// and positions (its rounds are written every pass); [`REBUILD_STATE_EVERY`] unless set.
    pub fn with_rebuild_state_every(mut self, every: Duration) -> Self {
        self.rebuild_state_every = every;
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
            // One lease per network, taken in name order (two scorers of
            // overlapping sets cannot each hold half of the other's).
            let mut leases: Vec<store::lease::Lease> = Vec::new();
            let names: BTreeSet<&str> = self.networks.iter().map(|n| n.name.as_str()).collect();
            for network in names {
                let lease = match store::lease::Lease::acquire(store.as_ref(), SCORER, &lease_subject(network), &self.holder, ttl, crate::now_ms()).await {
                    Ok(lease) => lease,
                    Err(e) => {
                        // All or none: leases held while standing by would keep
                        // their networks' own scorer from coming back.
                        for lease in leases {
                            let _ = lease.release(store.as_ref()).await;
                        }
                        return Err(e.into());
                    }
                };
                tracing::info!(consumer = SCORER, network, holder = %self.holder, token = lease.token(), "scorer lease taken");
                leases.push(lease);
            }
            let mut attempt = Attempt::open(&self, store, Mode::Live).await?.with_leases(leases);
            loop {
                let pass = attempt.pass().await?;
                if self.namespaces.live_name().await? != name {
                    return Err(ScoringError::NamespaceSwapped);
                }
                if pass.applied == 0 {
                    attempt.await_block(self.idle).await?;
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

    /// Scorers of different networks keep apart what they fold and where they
    /// are; the default keeps the rows it always had.
    #[test]
    fn a_scope_names_its_state_positions_and_group_after_its_sorted_networks() {
        let scope = Scope::only(["polkadot", "kusama", "polkadot"]);
        assert_eq!(scope, Scope::Only("kusama+polkadot".into()));
        assert_eq!(scope.state_key(), "state@kusama+polkadot");
        assert_eq!(scope.position_topic(topics::BLOCKS), format!("{}@kusama+polkadot", topics::BLOCKS));
        assert_ne!(scope.group(), Scope::only(["westend"]).group());
        assert_eq!((Scope::All.state_key(), Scope::All.position_topic(topics::BLOCKS), Scope::All.group()), (STATE_KEY.to_string(), topics::BLOCKS.to_string(), SCORER.to_string()));
    }

    /// `/ready` judges a chain by the least any of its networks' scorers
    /// applied, and every chain while one of them has not saved yet.
    #[tokio::test]
    async fn progress_counts_a_shared_chain_at_its_slowest_network_and_none_until_each_saved() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap();
        let nets = ["a".to_string(), "b".to_string()];
        let row = |m: serde_json::Value| serde_json::to_vec(&m).unwrap();
        store.put_state(SCORER, &progress_row("a"), &row(serde_json::json!({"relay": 10, "hub": 7}))).await.unwrap();
        assert!(progress(&store, &nets).await.unwrap().is_empty(), "b has not saved");
        store.put_state(SCORER, &progress_row("b"), &row(serde_json::json!({"relay": 4}))).await.unwrap();
        let p = progress(&store, &nets).await.unwrap();
        assert_eq!(p, BTreeMap::from([("relay".to_string(), 4), ("hub".to_string(), 7)]));
        assert_eq!(progress(&store, &nets[..1]).await.unwrap()["relay"], 10, "a alone");
    }

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
