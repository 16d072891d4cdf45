//! One attempt of the scorer: readers at the stored positions, what is
//! read but not yet certified, and the passes that apply, evaluate, publish
//! and save. What may be applied when is decided by [`certify`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use bus::consumer::PartitionReader;
use bus::{DeadLetter, Publisher, Record};
use rules::RoundSnapshot;
use schemas::{FinalizedBlock, topics};
use store::{CheckpointDelta, StateWrite, Store};

use super::certify::{self, Clock, Held};
use super::chain_record::ChunkDecoder;
use super::telemetry::{self, HeldTelemetry, Pending, Telemetry};
use super::{Mode, SCORER, ScorerState, Scorer, next_pass_blocks, publish, rounds};
use crate::{ScoringError, metrics};

/// How often a rebuild that still has records to apply saves its state and
/// positions (its rounds are written every pass). A Kusama year's state is
/// 7 MB of JSON; saved every pass (two eras) it was a sixth of the rebuild.
pub const REBUILD_STATE_EVERY: Duration = Duration::from_secs(5);

/// How long one read may wait before the pass goes on without it.
const READ_WAIT: Duration = Duration::from_secs(5);

/// Topics a live scorer never pauses, those every session change writes to
/// (see [`Attempt::fetch_only_behind`]).
const LIVE_FETCHED: [&str; 3] = [topics::BLOCKS, topics::SESSION_SNAPSHOTS, topics::SESSION_EVENTS];

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

/// One attempt: readers at the stored positions and what is held back.
pub(super) struct Attempt<'a> {
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
    held: Held,
    /// Telemetry read but not applied, per network.
    telemetry: HeldTelemetry,
    /// Per telemetry partition, the time of the last record read.
    telemetry_read_ms: BTreeMap<i32, i64>,
    /// The newest block time read (of any chain): telemetry is read up to it.
    horizon_ms: i64,
    /// Block records the next pass reads (see [`next_pass_blocks`]).
    pass_blocks: usize,
    publisher: Arc<Publisher>,
    /// Where the topics end, asked every pass through one client.
    ends: bus::admin::EndOffsets,
    /// The live scorer's leases, one per network: renewed with every save,
    /// checked before rounds are published.
    leases: Vec<store::lease::Lease>,
    /// When the state was last saved.
    state_saved: std::time::Instant,
}

impl<'a> Attempt<'a> {
    pub(super) async fn open(scorer: &'a Scorer, store: Arc<dyn Store>, mode: Mode) -> Result<Self, ScoringError> {
        let state = match store.load_state(SCORER, &scorer.scope.state_key()).await? {
            Some(b) => serde_json::from_slice(&b).map_err(|e| ScoringError::State(e.to_string()))?,
            None => ScorerState::default(),
        };
        let mut readers = BTreeMap::new();
        let (mut next, mut stored) = (BTreeMap::new(), BTreeMap::new());
        for &topic in &scorer.topics {
            let positions = store.positions(SCORER, &scorer.scope.position_topic(topic)).await?;
            let from: Vec<bus::Position> =
                positions.iter().map(|c| bus::Position { partition: c.partition, next_offset: c.next_offset }).collect();
            for c in &positions {
                next.insert((topic, c.partition), c.next_offset);
                stored.insert((topic, c.partition), c.next_offset);
            }
            readers.insert(topic, PartitionReader::assign(&scorer.bus, &scorer.scope.group(), topic, &from).await?);
        }
        let publisher = Arc::new(Publisher::new(&scorer.bus)?);
        let ends = bus::admin::EndOffsets::new(&scorer.bus)?;

        let horizon_ms = state.chains.values().filter_map(|f| f.clock.map(|(_, t)| t)).max().unwrap_or(i64::MIN);
        Ok(Self {
            scorer,
            store,
            mode,
            state,
            readers,
            next,
            stored,
            held: Held::new(),
            telemetry: HeldTelemetry::default(),
            telemetry_read_ms: BTreeMap::new(),
            horizon_ms,
            pass_blocks: 1,
            publisher,
            ends,
            leases: Vec::new(),
            state_saved: std::time::Instant::now(),
        })
    }

    /// Write and publish only under `leases`.
    pub(super) fn with_leases(mut self, leases: Vec<store::lease::Lease>) -> Self {
        self.leases = leases;
        self
    }

    /// Read into `held`: up to `pass_blocks` block records, then
    /// every other topic until each partition is at its high watermark (as
    /// of now) or holds a record beyond its chain's clock. A pass is thus
    /// bounded by the blocks it certifies, however long the backlog.
    async fn read_to_ends(&mut self) -> Result<bool, ScoringError> {
        let chains = &self.scorer.chains;
        let topics = self.scorer.topics.clone();
        // Blocks first: they set the clock.
        let block_highs = self.ends.of(&[topics::BLOCKS]).await?;
        self.fetch_only_behind(topics::BLOCKS, &block_highs)?;
        let mut blocks = 0;
        let behind = |next: &BTreeMap<(&'static str, i32), i64>| block_highs.iter().any(|(_, p, h)| next.get(&(topics::BLOCKS, *p)).copied().unwrap_or(0) < *h);
        let held_blocks: usize = self.held.iter().filter(|((t, _), _)| *t == topics::BLOCKS).map(|(_, q)| q.len()).sum();
        // A partition still behind keeps fetching, so a block record sent after
        // these ends can be read too (its clock then counts here).
        while held_blocks + blocks < self.pass_blocks && behind(&self.next) {
            let Some(record) = self.readers[topics::BLOCKS].next_within(READ_WAIT).await? else {
                ReadStalled { topic: topics::BLOCKS }.emit();
                break;
            };
            self.hold_block(record);
            blocks += 1;
        }
        let clock = certify::clock(&self.applied_clock(), &self.held);
        // The other topics' ends are taken only now: ingest sends a block's
        // record after every output of that block is acknowledged, so ends taken
        // after reading a block record cover its outputs. Ends taken before it
        // (once, for every topic) missed the outputs of a block that arrived
        // meanwhile: that block was certified without its session snapshot, and
        // the snapshot, applied a pass later, left its round waiting for a block
        // that never came (a network's round lost, found by e2e scale_out under load).
        let others: Vec<&'static str> = topics.iter().copied().filter(|t| *t != topics::BLOCKS).collect();
        let highs = self.ends.of(&others).await?;
        // Fetch only what this pass may read (telemetry is read for rounds' cuts too: always).
        for &topic in others.iter().filter(|t| **t != topics::TELEMETRY_NODES) {
            self.fetch_only_behind(topic, &highs)?;
        }
        let mut complete = true;
        for topic in others {
            loop {
                // A partition is done at its watermark, or once it holds a record the clock
                // has not reached (telemetry: stamped after the newest block read).
                let open = highs.iter().any(|(t, p, h)| {
                    t == topic && self.next.get(&(topic, *p)).copied().unwrap_or(0) < *h && {
                        if topic == topics::TELEMETRY_NODES {
                            !self.telemetry_ahead(*p)
                        } else {
                            let newest = self.held.get(&(topic, *p)).and_then(|q| q.back());
                            !newest.is_some_and(|r| certify::beyond_clock(r, chains, &clock))
                        }
                    }
                });
                if !open {
                    break;
                }
                let Some(record) = self.readers[topic].next_within(READ_WAIT).await? else {
                    // A slow broker: certify nothing new this pass, read on in the next.
                    ReadStalled { topic }.emit();
                    complete = false;
                    break;
                };
                if topic == topics::TELEMETRY_NODES {
                    self.take_telemetry(record, None).await?;
                    continue;
                }
                let p = record.partition;
                self.next.insert((topic, p), record.offset + 1);
                self.held.entry((topic, p)).or_default().push_back(record);
            }
        }
        let held_bytes = self.held.values().flatten().map(|r| r.payload.as_ref().map_or(0, Vec::len)).sum();
        self.pass_blocks = next_pass_blocks(self.pass_blocks, held_bytes);
        Ok(complete)
    }

    fn hold_block(&mut self, record: Record) {
        self.next.insert((topics::BLOCKS, record.partition), record.offset + 1);
        let at = record.payload.as_deref().and_then(|p| FinalizedBlock::decode(p).ok()).and_then(|b| b.timestamp_ms);
        self.horizon_ms = self.horizon_ms.max(at.unwrap_or(i64::MIN));
        self.held.entry((topics::BLOCKS, record.partition)).or_default().push_back(record);
    }

    /// Live and idle: wait up to `idle` for the next block record, so a pass
    /// starts as soon as one comes instead of after a fixed sleep.
    pub(super) async fn await_block(&mut self, idle: Duration) -> Result<(), ScoringError> {
        if let Some(record) = self.readers[topics::BLOCKS].next_within(idle).await? {
            self.hold_block(record);
        }
        Ok(())
    }

    /// Fetch only the partitions of `topic` this scorer has not read up to `highs`.
    /// Live, the topics of every session change are always fetched: librdkafka
    /// starts fetching a resumed partition only at its next fetch decision,
    /// a quarter to half a second later, and a round waited for each of them
    /// in turn (`stakeflow-bench latency`: 2.2 s to 0.5 s at the median). An
    /// idle reader costs the broker a fetch per `fetch.wait.max.ms`; the
    /// other topics stay paused.
    fn fetch_only_behind(&self, topic: &'static str, highs: &[(String, i32, i64)]) -> Result<(), ScoringError> {
        if self.mode == Mode::Live && LIVE_FETCHED.contains(&topic) {
            return Ok(());
        }
        let open = highs.iter().filter(|(t, ..)| t == topic).map(|(_, p, h)| (*p, self.next.get(&(topic, *p)).copied().unwrap_or(0) < *h));
        Ok(self.readers[topic].fetch_only(topic, open)?)
    }

    /// Hold a telemetry record for its network (records of networks without
    /// telemetry here are passed over). Returns whether it is `watch`'s
    /// network's and beyond its time.
    async fn take_telemetry(&mut self, record: Record, watch: Option<(&str, i64)>) -> Result<bool, ScoringError> {
        let p = record.partition;
        self.next.insert((topics::TELEMETRY_NODES, p), record.offset + 1);
        let decoded = match Telemetry::decode(record.payload.as_deref().unwrap_or_default()) {
            Ok(t) => t,
            Err(reason) => {
                DeadLetter { consumer: SCORER, record: &record, reason: &reason }.emit(&self.publisher).await?;
                return Ok(false);
            }
        };
        self.telemetry_read_ms.insert(p, decoded.at_ms());
        let network = decoded.network().to_string();
        if !self.scorer.networks.iter().any(|n| n.telemetry && n.name == network) {
            return Ok(false);
        }
        let hit = watch.is_some_and(|(n, t)| n == network && telemetry::beyond(&decoded, t));
        let applied = self.state.telemetry_applied.get(&network).copied();
        self.telemetry.push(Pending { partition: p, offset: record.offset, record: decoded }, applied);
        Ok(hit)
    }

    /// Apply to `network`'s uptime what its round at `t_ms` sees: read its
    /// partition until a record beyond `t_ms`; the live scorer writes the
    /// cut when the topic has none (a rebuild reads to the end instead).
    async fn cut_telemetry(&mut self, network: &str, round: u64, t_ms: i64) -> Result<usize, ScoringError> {
        let topic = topics::TELEMETRY_NODES;
        let partition = self.publisher.partition_for(topic, &topics::chain_key(network)).await?;
        let mut found = self.telemetry.has_beyond(network, t_ms);
        let mut written = false;
        while !found {
            let high = self.publisher.ends_of(&[(topic.to_string(), partition)]).await?[0];
            let read = |s: &Self| s.next.get(&(topic, partition)).copied().unwrap_or(0);
            if read(self) < high {
                while !found && read(self) < high {
                    let record = self.readers[topic].next_within(READ_WAIT).await?.ok_or(ScoringError::Stalled { topic, wait: READ_WAIT })?;
                    found = self.take_telemetry(record, Some((network, t_ms))).await?;
                }
                continue;
            }
            if self.mode == Mode::Rebuild || written {
                // A rebuild past the last cut the live scorer wrote: what the topic has now.
                break;
            }
            let cut = telemetry::cut_record(network, t_ms, round);
            let payload = cut.encode().map_err(ScoringError::Schema)?;
            self.publisher.publish_keyed(topic, &topics::chain_key(network), &telemetry::cut_key(network), &payload, None).await?;
            written = true;
        }
        Ok(self.fold_telemetry(network, t_ms))
    }

    /// Apply `network`'s held telemetry up to its first record beyond `t_ms`.
    fn fold_telemetry(&mut self, network: &str, t_ms: i64) -> usize {
        let uptime = self.state.uptime.entry(network.to_string()).or_default();
        let mut applied = self.state.telemetry_applied.get(network).copied();
        let n = self.telemetry.apply_until(network, t_ms, uptime, &mut applied, self.scorer.uptime_window_ms);
        if let Some(a) = applied {
            self.state.telemetry_applied.insert(network.to_string(), a);
        }
        n
    }

    /// Whether telemetry partition `p` has been read to a record stamped after
    /// the newest block read: reading it further can give no round anything yet.
    fn telemetry_ahead(&self, p: i32) -> bool {
        self.telemetry_read_ms.get(&p).is_some_and(|at| *at > self.horizon_ms)
    }

    /// The blocks applied so far per chain.
    fn applied_clock(&self) -> Clock {
        self.state.chains.iter().filter_map(|(c, f)| f.clock.map(|(b, _)| (c.clone(), b))).collect()
    }

    /// Whether every partition has been read up to `ends` (topic, partition, offset).
    /// Telemetry stamped after the newest block counts as read: no round can see it yet.
    pub(super) fn has_read(&self, ends: &[(String, i32, i64)]) -> bool {
        ends.iter().all(|(t, p, h)| {
            self.scorer.topics.iter().copied().find(|x| x == t).is_some_and(|t| {
                self.next.get(&(t, *p)).copied().unwrap_or(0) >= *h
                    || (t == topics::TELEMETRY_NODES && self.telemetry_ahead(*p))
            })
        })
    }

    /// One pass: read, apply what is certified, evaluate rounds, publish, save.
    pub(super) async fn pass(&mut self) -> Result<Pass, ScoringError> {
        let complete = self.read_to_ends().await?;
        let dlq = self.publisher.clone();
        let mut applied = 0;

        // Candidate lists and releases are not tied to blocks: apply as they come.
        for ((topic, _), queue) in self.held.iter_mut().filter(|((t, _), _)| super::UNCLOCKED.contains(t)) {
            while let Some(record) = queue.pop_front() {
                applied += 1;
                let payload = record.payload.as_deref().unwrap_or_default();
                let outcome = if *topic == topics::CANDIDATES {
                    schemas::CandidateList::decode(payload).map(|list| self.state.apply_list(&list))
                } else {
                    schemas::Release::decode(payload).map(|r| self.state.apply_release(&r))
                };
                if let Err(e) = outcome {
                    DeadLetter { consumer: SCORER, record: &record, reason: &e.to_string() }.emit(&dlq).await?;
                }
            }
        }

        // Blocks are certified only once every other topic has been read up to them.
        let clock = if complete { certify::clock(&self.applied_clock(), &self.held) } else { self.applied_clock() };
        let (items, held_back) = certify::take_certified(&mut self.held, &self.scorer.chains, &clock, &self.scorer.topics);

        let mut rounds: Vec<RoundSnapshot> = Vec::new();
        let none = BTreeSet::new();
        let mut chunks = ChunkDecoder::new(items, |i| (i.topic, i.record.payload.as_deref().unwrap_or_default()));
        while let Some((range, decoded)) = chunks.next().await {
            for (item, decoded) in chunks.items()[range].iter().zip(decoded) {
                applied += 1;
                let (chain, topic, record) = (item.place.chain.as_str(), item.topic, &item.record);
                if !self.scorer.chains.contains(chain) {
                    continue;
                }
                if !certify::first_time(&mut self.state.applied, topic, &item.place) {
                    tracing::warn!(consumer = SCORER, topic, offset = record.offset, block = item.place.block, seq = item.place.seq, "record already applied (a duplicate on the topic): dropped");
                    ::metrics::counter!(metrics::DUPLICATES, "topic" => topic).increment(1);
                    continue;
                }
                let decoded = match decoded {
                    Ok(d) => d,
                    Err(reason) => {
                        DeadLetter { consumer: SCORER, record, reason: &reason }.emit(&dlq).await?;
                        continue;
                    }
                };
                self.state.apply(chain, decoded, self.scorer.own_nominators.get(chain).unwrap_or(&none));
                if topic == topics::BLOCKS {
                    if let Some((session, at_ms)) = self.state.take_due(chain) {
                        for net in self.scorer.networks.iter().filter(|n| n.relay == chain && n.telemetry) {
                            if self.state.rounds.get(&net.name).is_none_or(|r| *r < session) {
                                applied += self.cut_telemetry(&net.name, session, at_ms).await?;
                            }
                        }
                        rounds.extend(self.state.evaluate(&self.scorer.networks, chain, session, self.scorer.uptime_window_ms));
                    }
                }
            }
        }
        // Telemetry up to each network's clock (never past a coming round's cut).
        for net in self.scorer.networks.iter().filter(|n| n.telemetry) {
            let at_ms = self.state.chains.get(&net.relay).and_then(|f| f.clock).map(|(_, t)| t);
            if let Some(t) = at_ms {
                applied += self.fold_telemetry(&net.name, t);
            }
        }

        if self.mode == Mode::Live {
            // Still ours, and for long enough to publish: a scorer that lost it publishes nothing.
            if !rounds.is_empty() {
                store::lease::Lease::renew_all(self.store.as_ref(), &mut self.leases, crate::now_ms()).await?;
            }
            for r in &rounds {
                publish::publish_round(&self.scorer.bus, &self.publisher, r).await?;
            }
        }
        self.save(&rounds, applied > 0).await?;
        for r in &rounds {
            let (valid, invalid, unknown) = r.counts();
            tracing::info!(network = %r.network, round = r.round, era = ?r.era, valid, invalid, unknown, "round scored");
            ::metrics::counter!(metrics::ROUNDS, "network" => r.network.clone()).increment(1);
            ::metrics::gauge!(metrics::VALID_CANDIDATES, "network" => r.network.clone()).set(valid as f64);
        }
        Ok(Pass { applied, rounds: rounds.len(), held: held_back })
    }

    /// State, rounds and every moved position in one write. A rebuild that
    /// `applied` records this pass writes its rounds alone until
    /// [`REBUILD_STATE_EVERY`] (or the scorer's own setting) has passed since its state was saved.
    async fn save(&mut self, rounds: &[RoundSnapshot], applied: bool) -> Result<(), ScoringError> {
        if self.mode == Mode::Rebuild && applied && self.state_saved.elapsed() < self.scorer.rebuild_state_every {
            // A long history's state is megabytes, saved whole; a rebuild
            // stopped before its next save reads on from the last one and
            // scores these rounds again, to the same bytes.
            if !rounds.is_empty() {
                self.store.commit_redoable(SCORER, rounds::rounds_writes(rounds)?).await?;
            }
            return Ok(());
        }
        let mut deltas = Vec::new();
        let mut moved = Vec::new();
        for (key, next) in &self.next {
            // The position is the first record not applied.
            let held = if key.0 == topics::TELEMETRY_NODES { self.telemetry.first_held(key.1) } else { self.held.get(key).and_then(|q| q.front()).map(|r| r.offset) };
            let position = held.unwrap_or(*next);
            let from = self.stored.get(key).copied();
            if from != Some(position) {
                deltas.push(CheckpointDelta { topic: self.scorer.scope.position_topic(key.0), partition: key.1, from, to: position });
                moved.push((*key, position));
            }
        }
        let now = crate::now_ms();
        if deltas.is_empty() {
            if self.leases.iter().any(|l| l.wants_renewal(now)) {
                store::lease::Lease::renew_all(self.store.as_ref(), &mut self.leases, now).await?;
            }
            return Ok(());
        }
        let mut writes = vec![StateWrite {
            key: self.scorer.scope.state_key(),
            value: serde_json::to_vec(&self.state).map_err(|e| ScoringError::State(e.to_string()))?,
        }];
        let clock = self.applied_clock();
        for net in &self.scorer.networks {
            let own: BTreeMap<&String, &u64> =
                clock.iter().filter(|(c, _)| [&net.relay, &net.staking, &net.identity].contains(c)).collect();
            let value = serde_json::to_vec(&own).map_err(|e| ScoringError::State(e.to_string()))?;
            writes.push(StateWrite { key: super::progress_row(&net.name), value });
        }
        writes.extend(rounds::rounds_writes(rounds)?);
        // The renewal rides in the same write: a fenced-off scorer's state is never saved.
        for lease in &self.leases {
            let (row, delta) = lease.guard(now);
            writes.push(row);
            deltas.push(delta);
        }
        self.store.commit_states(SCORER, &writes, &deltas).await?;
        self.state_saved = std::time::Instant::now();
        for lease in &mut self.leases {
            lease.renewed(now);
        }
        for (key, position) in moved {
            self.stored.insert(key, position);
            self.readers[key.0].commit_advisory(key.0, key.1, position);
        }
        Ok(())
    }
}


/// A pass could not read a topic to its end within [`READ_WAIT`]: it goes
/// on with what it has and certifies nothing new (a slow or absent broker).
struct ReadStalled {
    topic: &'static str,
}

impl ReadStalled {
    fn emit(self) {
        tracing::warn!(consumer = SCORER, topic = self.topic, wait = ?READ_WAIT, "topic not read to its end in time; certifying nothing new this pass");
        ::metrics::counter!(metrics::READ_STALLS, "topic" => self.topic).increment(1);
    }
}
