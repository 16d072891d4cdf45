//! The scorer: one consumer over every chain topic the programme needs, the
//! candidate lists, and (read from the store) uptime.
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

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bus::consumer::PartitionReader;
use bus::{BusConfig, Publisher, Record, dead_letter};
use schemas::position::{self, OutputPos};
use schemas::{EraPoints, FinalizedBlock, Identity, NominatorEra, SessionSnapshot, TypedEvent, ValidatorEra, topics};
use serde::{Deserialize, Serialize};
use store::{CheckpointDelta, Namespaces, StateWrite, Store};
use tokio_util::sync::CancellationToken;

use super::chain_facts::ChainFacts;
use super::config::ProgrammeConfig;
use super::publish;
use super::round::{RoundInput, RoundSnapshot, Standings, evaluate_round};
use crate::ScoringError;
use crate::candidates::{Candidate, ss58_decode};
use crate::uptime::UptimeState;
use crate::validity::ValidityConfig;

/// Consumer name (store key and Kafka group).
pub const SCORER: &str = "stakeflow-scorer";
/// Key of the scorer's folded state.
pub const STATE_KEY: &str = "state";

/// Key of a stored round.
pub fn round_row(network: &str, round: u64) -> String {
    format!("round/{network}/{round:012}")
}

/// Key of a network's latest round.
pub fn latest_row(network: &str) -> String {
    format!("latest/{network}")
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

/// Every topic the scorer reads.
pub fn input_topics() -> Vec<&'static str> {
    let mut t = vec![topics::BLOCKS, topics::CANDIDATES];
    t.extend(CLOCKED);
    t
}

/// A scored network as the scorer needs it.
#[derive(Debug, Clone)]
pub struct ScoredNetwork {
    /// Network name.
    pub name: String,
    /// Relay chain (sessions, faults).
    pub relay: String,
    /// Staking chain (validators, nominators, points).
    pub staking: String,
    /// Identity chain.
    pub identity: String,
    /// Token decimals.
    pub decimals: u8,
    /// SS58 prefix of the candidate list.
    pub ss58_prefix: u16,
    /// The programme settings.
    pub programme: ProgrammeConfig,
    /// Check settings resolved from the profile and overrides.
    pub validity: ValidityConfig,
    /// The programme's nominators, 0x hex.
    pub own_nominators: BTreeSet<String>,
}

impl ScoredNetwork {
    /// Resolve a network's programme; an error names what is wrong.
    pub fn new(
        name: &str,
        chains: (&str, &str, &str),
        decimals: u8,
        ss58_prefix: u16,
        programme: ProgrammeConfig,
    ) -> Result<Self, String> {
        let validity = programme.validity_for(name)?;
        let own_nominators = programme
            .nominators
            .iter()
            .map(|n| ss58_decode(n).map(|(_, k)| format!("0x{}", hex::encode(k))).ok_or_else(|| format!("nominator {n:?} is not SS58")))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            name: name.to_string(),
            relay: chains.0.to_string(),
            staking: chains.1.to_string(),
            identity: chains.2.to_string(),
            decimals,
            ss58_prefix,
            programme,
            validity,
            own_nominators,
        })
    }
}

/// One version of a network's candidate list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListVersion {
    /// When it was loaded.
    pub loaded_at_ms: i64,
    /// Hash of the source.
    pub digest: String,
    /// The candidates.
    pub candidates: Vec<Candidate>,
}

/// Most block records certified per pass (bounds memory and the size of one store write).
const MAX_BLOCKS_PER_PASS: usize = 2_000;

/// Versions of a list kept, for rounds evaluated behind the list's changes.
const LIST_VERSIONS: usize = 8;

/// Everything the scorer has folded.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScorerState {
    /// Facts per chain.
    pub chains: BTreeMap<String, ChainFacts>,
    /// Candidate lists per network, oldest first.
    pub lists: BTreeMap<String, Vec<ListVersion>>,
    /// Per chain, a session snapshot waiting for its block record: (session, block).
    pub pending: BTreeMap<String, (u64, u64)>,
    /// Per network, the last round evaluated.
    pub rounds: BTreeMap<String, u64>,
    /// Per network, the standings of its last round.
    pub standings: BTreeMap<String, Standings>,
}

impl ScorerState {
    /// The list in force at `at_ms`: the newest loaded by then, else the oldest.
    pub fn list_at(&self, network: &str, at_ms: i64) -> Option<&ListVersion> {
        let versions = self.lists.get(network)?;
        versions.iter().rev().find(|v| v.loaded_at_ms <= at_ms).or_else(|| versions.first())
    }

    fn apply_list(&mut self, list: &schemas::CandidateList) {
        let versions = self.lists.entry(list.network.clone()).or_default();
        if versions.last().is_some_and(|v| v.digest == list.digest) {
            return;
        }
        let candidates = list.candidates.iter().map(Candidate::from).collect();
        versions.push(ListVersion { loaded_at_ms: list.loaded_at_ms, digest: list.digest.clone(), candidates });
        if versions.len() > LIST_VERSIONS {
            versions.remove(0);
        }
    }
}

/// Where a record sits in its chain's output order.
fn place(record: &Record) -> (Option<String>, u64, u32) {
    let chain = record
        .key
        .as_deref()
        .and_then(|k| std::str::from_utf8(k).ok())
        .map(|k| k.split('/').next().unwrap_or(k).to_string());
    // No position (not written by ingest): applied as soon as it is read.
    let pos = record.header(position::HEADER).and_then(OutputPos::parse).unwrap_or(OutputPos { block: 0, seq: 0 });
    (chain, pos.block, pos.seq)
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Records applied.
    pub applied: usize,
    /// Rounds evaluated.
    pub rounds: usize,
    /// Records read but held back (their blocks are not certified yet).
    pub held: usize,
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
}

impl Scorer {
    /// A scorer of `networks`.
    pub fn new(bus: BusConfig, namespaces: Arc<Namespaces>, networks: Vec<ScoredNetwork>, uptime_window_ms: i64) -> Self {
        let chains = networks.iter().flat_map(|n| [n.relay.clone(), n.staking.clone(), n.identity.clone()]).collect();
        let mut own_nominators: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for n in &networks {
            own_nominators.entry(n.staking.clone()).or_default().extend(n.own_nominators.iter().cloned());
        }
        Self { bus, namespaces, networks, chains, own_nominators, uptime_window_ms, idle: Duration::from_millis(500) }
    }

    /// Run until `shutdown`, following the live namespace (a swap reloads).
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ScoringError> {
        crate::shell::run_with_retries(SCORER, shutdown.clone(), || async {
            let (name, store) = self.namespaces.live().await?;
            let mut session = Session::open(&self, store, Mode::Live).await?;
            loop {
                let pass = session.pass().await?;
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
        let ends = bus::admin::high_watermarks(&self.bus, &input_topics()).await?;
        let mut session = Session::open(self, store, Mode::Rebuild).await?;
        let (mut applied, mut rounds) = (0, 0);
        loop {
            let pass = session.pass().await?;
            applied += pass.applied;
            rounds += pass.rounds;
            progress(applied, rounds);
            // Done once everything that was there is read and nothing more applies
            // (what stays held belongs to blocks not certified yet).
            let read_all = ends.iter().all(|(t, p, h)| {
                input_topics().into_iter().find(|x| x == t).is_some_and(|t| session.next.get(&(t, *p)).copied().unwrap_or(0) >= *h)
            });
            if pass.applied == 0 && read_all {
                return Ok(rounds);
            }
        }
    }
}

/// One attempt: readers at the stored positions and what is held back.
struct Session<'a> {
    scorer: &'a Scorer,
    store: Arc<dyn Store>,
    mode: Mode,
    state: ScorerState,
    readers: BTreeMap<&'static str, PartitionReader>,
    /// Next offset to read, per (topic, partition).
    next: BTreeMap<(&'static str, i32), i64>,
    /// Stored position, per (topic, partition).
    stored: BTreeMap<(&'static str, i32), i64>,
    /// Read but not applied.
    held: BTreeMap<(&'static str, i32), VecDeque<Record>>,
    publisher: Arc<Publisher>,
}

impl<'a> Session<'a> {
    async fn open(scorer: &'a Scorer, store: Arc<dyn Store>, mode: Mode) -> Result<Self, ScoringError> {
        let state = match store.load_state(SCORER, STATE_KEY).await? {
            Some(b) => serde_json::from_slice(&b).map_err(|e| ScoringError::State(e.to_string()))?,
            None => ScorerState::default(),
        };
        let mut readers = BTreeMap::new();
        let (mut next, mut stored) = (BTreeMap::new(), BTreeMap::new());
        for topic in input_topics() {
            let positions = store.positions(SCORER, topic).await?;
            let from: Vec<bus::Position> =
                positions.iter().map(|c| bus::Position { partition: c.partition, next_offset: c.next_offset }).collect();
            for c in &positions {
                next.insert((topic, c.partition), c.next_offset);
                stored.insert((topic, c.partition), c.next_offset);
            }
            readers.insert(topic, PartitionReader::assign(&scorer.bus, SCORER, topic, &from).await?);
        }
        let publisher = Arc::new(Publisher::new(&scorer.bus)?);
        Ok(Self { scorer, store, mode, state, readers, next, stored, held: BTreeMap::new(), publisher })
    }

    /// Read into `held`: up to [`MAX_BLOCKS_PER_PASS`] block records, then
    /// every other topic until each partition is at its high watermark (as
    /// of now) or holds a record beyond its chain's clock. A pass is thus
    /// bounded by the blocks it certifies, however long the backlog.
    async fn read_to_ends(&mut self) -> Result<bool, ScoringError> {
        let chains_of_interest = &self.scorer.chains;
        let topics = input_topics();
        let highs = bus::admin::high_watermarks(&self.scorer.bus, &topics).await?;
        // Blocks first: they set the clock.
        let mut blocks = 0;
        let reader = &self.readers[topics::BLOCKS];
        let pending = |next: &BTreeMap<(&'static str, i32), i64>, topic: &'static str| {
            highs.iter().any(|(t, p, h)| t == topic && next.get(&(topic, *p)).copied().unwrap_or(0) < *h)
        };
        let held_blocks: usize = self.held.iter().filter(|((t, _), _)| *t == topics::BLOCKS).map(|(_, q)| q.len()).sum();
        while held_blocks + blocks < MAX_BLOCKS_PER_PASS && pending(&self.next, topics::BLOCKS) {
            let Some(record) = reader.next_within(Duration::from_secs(5)).await? else { break };
            self.next.insert((topics::BLOCKS, record.partition), record.offset + 1);
            self.held.entry((topics::BLOCKS, record.partition)).or_default().push_back(record);
            blocks += 1;
        }
        let clock = self.clock();
        let mut complete = true;
        for topic in topics.into_iter().filter(|t| *t != topics::BLOCKS) {
            let reader = &self.readers[topic];
            loop {
                // A partition is done at its watermark, or once it holds a record the clock has not reached.
                let open = highs.iter().any(|(t, p, h)| {
                    t == topic && self.next.get(&(topic, *p)).copied().unwrap_or(0) < *h && {
                        let beyond = self.held.get(&(topic, *p)).and_then(|q| q.back()).is_some_and(|r| {
                            let (chain, block, _) = place(r);
                            let chain = chain.unwrap_or_default();
                            chains_of_interest.contains(&chain) && clock.get(&chain).is_none_or(|c| block > *c)
                        });
                        !beyond
                    }
                });
                if !open {
                    break;
                }
                let Some(record) = reader.next_within(Duration::from_secs(5)).await? else {
                    // A slow broker: certify nothing new this pass, read on in the next.
                    complete = false;
                    break;
                };
                let p = record.partition;
                self.next.insert((topic, p), record.offset + 1);
                self.held.entry((topic, p)).or_default().push_back(record);
            }
        }
        Ok(complete)
    }

    /// The blocks applied so far per chain.
    fn applied_clock(&self) -> BTreeMap<String, u64> {
        self.state.chains.iter().filter_map(|(c, f)| f.clock.map(|(b, _)| (c.clone(), b))).collect()
    }

    /// The newest certified block per chain: applied, or held on the blocks topic.
    fn clock(&self) -> BTreeMap<String, u64> {
        let mut clock = self.applied_clock();
        for ((topic, _), queue) in &self.held {
            if *topic == topics::BLOCKS {
                for record in queue {
                    if let (Some(chain), block, _) = place(record) {
                        let e = clock.entry(chain).or_default();
                        *e = (*e).max(block);
                    }
                }
            }
        }
        clock
    }

    /// One pass: read, apply what is certified, evaluate rounds, publish, save.
    async fn pass(&mut self) -> Result<Pass, ScoringError> {
        let complete = self.read_to_ends().await?;
        let chains_of_interest = &self.scorer.chains;
        let dlq = self.publisher.clone();
        let dlq = &dlq;
        let mut applied = 0;

        // Candidate lists are not tied to blocks: apply as they come.
        for ((topic, _), queue) in self.held.iter_mut().filter(|((t, _), _)| *t == topics::CANDIDATES) {
            while let Some(record) = queue.pop_front() {
                applied += 1;
                match schemas::CandidateList::decode(record.payload.as_deref().unwrap_or_default()) {
                    Ok(list) => self.state.apply_list(&list),
                    Err(e) => {
                        tracing::error!(topic, offset = record.offset, error = %e, error_code = "undecodable_record", "candidate list sent to the dead-letter topic");
                        dead_letter::send(dlq, &record, &e.to_string()).await?;
                    }
                }
            }
        }

        // Blocks are certified only once every other topic has been read up to them.
        let clock = if complete { self.clock() } else { self.applied_clock() };

        // Take every record whose block is certified, per partition in order.
        let mut items: Vec<(String, u64, u32, usize, &'static str, Record)> = Vec::new();
        let mut held_back = 0;
        for ((topic, _), queue) in self.held.iter_mut() {
            if *topic == topics::CANDIDATES {
                continue;
            }
            let order = input_topics().iter().position(|t| t == topic).unwrap_or(usize::MAX);
            while let Some(record) = queue.front() {
                let (chain, block, seq) = place(record);
                let chain = chain.unwrap_or_default();
                let certified = !chains_of_interest.contains(&chain) || clock.get(&chain).is_some_and(|c| block <= *c);
                if !certified {
                    held_back += queue.len();
                    break;
                }
                if let Some(record) = queue.pop_front() {
                    // A chain's block record sorts after its outputs (it is the block's last).
                    let order = if *topic == topics::BLOCKS { usize::MAX } else { order };
                    items.push((chain, block, seq, order, topic, record));
                }
            }
        }
        items.sort_by(|a, b| (&a.0, a.1, a.3 == usize::MAX, a.2, a.3).cmp(&(&b.0, b.1, b.3 == usize::MAX, b.2, b.3)));

        let mut rounds: Vec<RoundSnapshot> = Vec::new();
        let mut uptime: Option<UptimeState> = None;
        for (chain, _, _, _, topic, record) in &items {
            applied += 1;
            if !chains_of_interest.contains(chain) {
                continue;
            }
            if let Err(reason) = self.apply(topic, chain, record) {
                tracing::error!(topic, offset = record.offset, %reason, error_code = "undecodable_record", "record sent to the dead-letter topic");
                dead_letter::send(dlq, record, &reason).await?;
                continue;
            }
            if *topic == topics::BLOCKS {
                let facts = self.state.chains.get(chain.as_str());
                let due = self.state.pending.get(chain.as_str()).copied().filter(|(_, b)| facts.and_then(|f| f.clock).is_some_and(|(n, _)| n >= *b));
                if let Some((session, _)) = due {
                    self.state.pending.remove(chain.as_str());
                    if uptime.is_none() {
                        uptime = Some(crate::fold::load_uptime(self.store.as_ref()).await?);
                    }
                    let up = uptime.as_ref().map_or_else(UptimeState::default, Clone::clone);
                    rounds.extend(self.evaluate(chain, session, &up));
                }
            }
        }

        if self.mode == Mode::Live {
            for r in &rounds {
                publish::publish_round(&self.scorer.bus, &self.publisher, r).await?;
            }
        }
        self.save(&rounds).await?;
        for r in &rounds {
            let (valid, invalid, unknown) = r.counts();
            tracing::info!(network = %r.network, round = r.round, era = ?r.era, valid, invalid, unknown, "round scored");
            metrics::counter!("stakeflow_rounds_total", "network" => r.network.clone()).increment(1);
            metrics::gauge!("stakeflow_round_valid_candidates", "network" => r.network.clone()).set(valid as f64);
        }
        Ok(Pass { applied, rounds: rounds.len(), held: held_back })
    }

    fn apply(&mut self, topic: &str, chain: &str, record: &Record) -> Result<(), String> {
        let payload = record.payload.as_deref().unwrap_or_default();
        let facts = self.state.chains.entry(chain.to_string()).or_default();
        let e = |e: schemas::SchemaError| e.to_string();
        match topic {
            t if t == topics::BLOCKS => {
                let b = FinalizedBlock::decode(payload).map_err(e)?;
                facts.apply_block(b.number.max(0) as u64, b.timestamp_ms);
            }
            t if t == topics::SESSION_SNAPSHOTS => {
                let s = SessionSnapshot::decode(payload).map_err(e)?;
                facts.apply_session(&s);
                self.state.pending.insert(chain.to_string(), (s.session_index.max(0) as u64, s.block_number.max(0) as u64));
            }
            t if t == topics::VALIDATORS => facts.apply_validator(&ValidatorEra::decode(payload).map_err(e)?),
            t if t == topics::NOMINATORS => {
                let none = BTreeSet::new();
                let ours = self.scorer.own_nominators.get(chain).unwrap_or(&none);
                facts.apply_nominator(&NominatorEra::decode(payload).map_err(e)?, ours);
            }
            t if t == topics::ERA_POINTS => facts.apply_points(&EraPoints::decode(payload).map_err(e)?),
            t if t == topics::IDENTITIES => facts.apply_identity(&Identity::decode(payload).map_err(e)?),
            t if t == topics::SESSION_EVENTS => facts.apply_session_event(&TypedEvent::decode(payload).map_err(e)?),
            _ => {}
        }
        Ok(())
    }

    /// Rounds of every network whose relay chain is `chain`.
    fn evaluate(&mut self, chain: &str, session: u64, uptime: &UptimeState) -> Vec<RoundSnapshot> {
        let mut out = Vec::new();
        for net in self.scorer.networks.iter().filter(|n| n.relay == chain) {
            if self.state.rounds.get(&net.name).is_some_and(|r| *r >= session) {
                continue; // already evaluated (a re-read snapshot)
            }
            let empty = ChainFacts::default();
            let relay = self.state.chains.get(&net.relay).unwrap_or(&empty);
            let (block, at_ms) = relay.clock.unwrap_or_default();
            let candidates = self.state.list_at(&net.name, at_ms).map(|l| l.candidates.clone()).unwrap_or_default();
            let kusama_net = &net.validity.kusama_rank.network;
            let input = RoundInput {
                network: &net.name,
                round: session,
                chain,
                block,
                at_ms,
                decimals: net.decimals,
                candidates: &candidates,
                relay,
                staking: self.state.chains.get(&net.staking).unwrap_or(&empty),
                identity: self.state.chains.get(&net.identity).unwrap_or(&empty),
                identity_chain: &net.identity,
                uptime,
                uptime_window_ms: self.scorer.uptime_window_ms,
                kusama: self.state.standings.get(kusama_net),
                validity: &net.validity,
                weights: &net.programme.weights,
            };
            let snapshot = evaluate_round(&input);
            self.state.rounds.insert(net.name.clone(), session);
            self.state.standings.insert(net.name.clone(), snapshot.standings());
            out.push(snapshot);
        }
        out
    }

    /// State, rounds and every moved position in one write.
    async fn save(&mut self, rounds: &[RoundSnapshot]) -> Result<(), ScoringError> {
        let mut deltas = Vec::new();
        let mut moved = Vec::new();
        for (key, next) in &self.next {
            // The position is the first record not applied.
            let position = self.held.get(key).and_then(|q| q.front()).map_or(*next, |r| r.offset);
            let from = self.stored.get(key).copied();
            if from != Some(position) {
                deltas.push(CheckpointDelta { topic: key.0.to_string(), partition: key.1, from, to: position });
                moved.push((*key, position));
            }
        }
        if deltas.is_empty() {
            return Ok(());
        }
        let mut writes = vec![StateWrite {
            key: STATE_KEY.to_string(),
            value: serde_json::to_vec(&self.state).map_err(|e| ScoringError::State(e.to_string()))?,
        }];
        for r in rounds {
            let bytes = serde_json::to_vec(r).map_err(|e| ScoringError::State(e.to_string()))?;
            writes.push(StateWrite { key: round_row(&r.network, r.round), value: bytes.clone() });
            writes.push(StateWrite { key: latest_row(&r.network), value: bytes });
        }
        self.store.commit_states(SCORER, &writes, &deltas).await?;
        for (key, position) in moved {
            self.stored.insert(key, position);
            self.readers[key.0].commit_advisory(key.0, key.1, position);
        }
        Ok(())
    }
}

/// The latest round of a network, as stored.
pub async fn latest_round(store: &dyn Store, network: &str) -> Result<Option<RoundSnapshot>, ScoringError> {
    match store.load_state(SCORER, &latest_row(network)).await? {
        Some(b) => serde_json::from_slice(&b).map(Some).map_err(|e| ScoringError::State(e.to_string())),
        None => Ok(None),
    }
}

/// One stored round.
pub async fn stored_round(store: &dyn Store, network: &str, round: u64) -> Result<Option<RoundSnapshot>, ScoringError> {
    match store.load_state(SCORER, &round_row(network, round)).await? {
        Some(b) => serde_json::from_slice(&b).map(Some).map_err(|e| ScoringError::State(e.to_string())),
        None => Ok(None),
    }
}

/// The rounds stored for a network, as (round, key) in order.
pub async fn round_numbers(store: &dyn Store, network: &str) -> Result<Vec<u64>, ScoringError> {
    let prefix = format!("round/{network}/");
    Ok(store
        .scan_states(SCORER, &prefix)
        .await?
        .into_iter()
        .filter_map(|(k, _)| k.strip_prefix(&prefix).and_then(|n| n.parse().ok()))
        .collect())
}
