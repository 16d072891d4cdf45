//! The finalized-block follower.

use std::sync::Arc;
use std::time::Duration;

use bus::dead_letter::headers;
use bus::{BusConfig, Outgoing, Publisher};
use chain::{ChainClient, FollowedChain, NetworkConfig, StartBlock};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use store::{ObservedHead, Store};
use tokio_util::sync::CancellationToken;

use crate::IngestError;
use crate::outputs::{BlockExtras, Output, block_outputs};
use crate::position::{self, OutputPos, Resume};
use crate::tails::{self, Marks};
use crate::progress::{BackfillProgress, Progress};
use schemas::clock::now_ms;

/// Ingest's own rows in the store (where each chain's first window began, each chain's lease).
pub const INGEST: &str = "stakeflow-ingest";

/// The `[ingest]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Longest pause between reconnect attempts (default 30s; doubles from 500ms).
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
    /// How often backfill progress is logged (default 5s).
    #[serde(with = "humantime_serde")]
    pub progress_every: Duration,
    /// Most blocks published together while catching up (default 32). Each
    /// window's block records go out once all its other records are acknowledged.
    pub window_blocks: u64,
    /// Blocks fetched from the node at once while catching up (default 8).
    pub fetch_concurrency: usize,
    /// One ingest per chain holds its lease; a standby takes over once it has
    /// gone unrenewed this long (default 30s).
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
    /// Largest record value sent (default 900000 bytes, under the broker's
    /// usual 1 MB limit); a larger one goes as a placeholder (see `oversized`).
    pub max_record_bytes: usize,
    /// A head subscription silent this long is checked (default 60s, ten
    /// 6-second blocks): the node is asked for its finalized head, and if it
    /// has moved on, or does not answer within `stall_probe`, the connection
    /// is treated as dead (reconnect, next endpoint). A quiet chain (a devnet
    /// building blocks on demand) that answers with the same head is left be.
    #[serde(with = "humantime_serde")]
    pub stall_after: Duration,
    /// How long that check may take (default 10s).
    #[serde(with = "humantime_serde")]
    pub stall_probe: Duration,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_backoff: Duration::from_secs(30),
            progress_every: Duration::from_secs(5),
            window_blocks: 32,
            fetch_concurrency: 8,
            lease_ttl: Duration::from_secs(30),
            max_record_bytes: crate::oversized::DEFAULT_MAX_RECORD_BYTES,
            stall_after: Duration::from_secs(60),
            stall_probe: Duration::from_secs(10),
        }
    }
}

/// The wait before the next attempt: `current`, unless the attempt that
/// failed had run for at least `max` (it was working: a new fault starts
/// the backoff again from its first step, not where old faults left it).
fn retry_delay(current: Duration, ran_for: Duration, max: Duration) -> Duration {
    if ran_for >= max { INITIAL_BACKOFF } else { current }
}

const INITIAL_BACKOFF: Duration = Duration::from_millis(500);

/// Publish a window of consecutive blocks' outputs: every record but the
/// block records at once, then the block records once all of those are
/// acknowledged, so each block record certifies its whole block. Records
/// `resume` says are already on their topics are skipped; a value over
/// `max_record_bytes` goes as a placeholder at its position. Returns the
/// topic and offset of every record sent.
pub async fn publish_window(
    publisher: &Publisher,
    blocks: &[(u64, Vec<Output>)],
    resume: &Resume,
    max_record_bytes: usize,
) -> Result<Vec<(String, i64)>, IngestError> {
    let placeholders: Vec<Vec<Option<Output>>> = blocks
        .iter()
        .map(|(number, outs)| outs.iter().enumerate().map(|(seq, o)| crate::oversized::fit(o, *number, seq, max_record_bytes)).collect())
        .collect();
    for (o, (number, _)) in placeholders.iter().zip(blocks).flat_map(|(p, b)| p.iter().flatten().map(move |o| (o, b))) {
        tracing::error!(topic = %o.topic, block = number, error_code = "oversized_record", "a record too large for the broker goes as a placeholder");
        metrics::counter!(crate::metrics::OVERSIZED, "topic" => o.topic.clone()).increment(1);
    }
    let positions: Vec<Vec<String>> = blocks
        .iter()
        .map(|(number, outs)| (0..outs.len()).map(|seq| OutputPos { block: *number, seq: seq as u32 }.header_value()).collect())
        .collect();
    let mut records = Vec::new();
    let mut block_records = Vec::new();
    for (((number, outs), pos), fitted) in blocks.iter().zip(&positions).zip(&placeholders) {
        for (seq, o) in outs.iter().enumerate() {
            if resume.published(&o.topic, OutputPos { block: *number, seq: seq as u32 }) {
                continue;
            }
            let o = fitted[seq].as_ref().unwrap_or(o);
            let target = if seq + 1 == outs.len() { &mut block_records } else { &mut records };
            target.push(outgoing(o, &pos[seq]));
        }
    }
    let topics_of = |rs: &[Outgoing<'_>]| rs.iter().map(|r| r.topic.to_string()).collect::<Vec<_>>();
    let (record_topics, block_topics) = (topics_of(&records), topics_of(&block_records));
    let sent = publisher.publish_all(records).await?;
    let certified = publisher.publish_all(block_records).await?;
    Ok(record_topics.into_iter().chain(block_topics).zip(sent.into_iter().chain(certified).map(|d| d.offset)).collect())
}

/// An output as a record to send, with its position header.
pub fn outgoing<'a>(o: &'a Output, pos: &str) -> Outgoing<'a> {
    let mut pairs: Vec<(&str, &str)> = vec![(position::HEADER, pos)];
    pairs.extend(o.headers.iter().map(|(k, v)| (*k, v.as_str())));
    Outgoing { topic: &o.topic, partition_key: &o.partition_key, key: &o.key, payload: &o.payload, headers: Some(headers(&pairs)) }
}

/// Where a chain's first window began, in the store.
fn start_key(network: &str) -> String {
    format!("start/{network}")
}

/// A 0x-hex 32-byte account id.
fn parse_account(hex0x: &str) -> Option<[u8; 32]> {
    hex::decode(hex0x.strip_prefix("0x")?).ok()?.try_into().ok()
}

/// Follows one chain's finalized blocks onto the topics.
pub struct BlockIngest {
    net: NetworkConfig,
    chain: FollowedChain,
    /// Where identities live, when not on this chain.
    identity_source: Option<NetworkConfig>,
    bus: BusConfig,
    cfg: IngestConfig,
    store: Arc<dyn Store>,
    /// This instance's id in the chain's lease.
    holder: String,
}

impl BlockIngest {
    /// Ingest for the relay chain of `net` (with every role the network does
    /// not give to another chain). No connection is made until [`BlockIngest::run`].
    pub fn new(net: NetworkConfig, bus: BusConfig, cfg: IngestConfig, store: Arc<dyn Store>) -> Self {
        Self::for_network(&net, bus, cfg, store).swap_remove(0)
    }

    /// One ingest per chain the network needs followed: the relay chain and,
    /// where configured apart, its staking and identity chains.
    pub fn for_network(net: &NetworkConfig, bus: BusConfig, cfg: IngestConfig, store: Arc<dyn Store>) -> Vec<Self> {
        net.followed_chains()
            .into_iter()
            .map(|chain| {
                let identity_source = (!chain.roles.identity).then(|| net.identity_chain());
                let net = chain.config.clone();
                let holder = format!("{}/ingest", store::lease::this_process());
                Self { net, chain, identity_source, bus: bus.clone(), cfg: cfg.clone(), store: store.clone(), holder }
            })
            .collect()
    }

    /// The name of the chain this ingest follows.
    pub fn chain_name(&self) -> &str {
        &self.net.name
    }

    /// Name this instance in the chain's lease (default: this process).
    pub fn with_holder(mut self, holder: impl Into<String>) -> Self {
        self.holder = holder.into();
        self
    }

    /// Run until `shutdown`; transient failures reconnect with capped backoff,
    /// a permanent one (wrong chain, foreign records) ends with an error. Only
    /// the holder of the chain's lease publishes; another instance stands by
    /// and takes over when the lease lapses.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), IngestError> {
        let mut backoff = INITIAL_BACKOFF;
        let mut standing_by = false;
        loop {
            let ttl = self.cfg.lease_ttl.as_millis() as i64;
            let taken = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                l = store::lease::Lease::acquire(self.store.as_ref(), INGEST, &self.net.name, &self.holder, ttl, now_ms()) => l,
            };
            let began = tokio::time::Instant::now();
            let result = match taken {
                Ok(mut lease) => {
                    tracing::info!(network = %self.net.name, holder = %self.holder, token = lease.token(), "ingest lease taken");
                    standing_by = false;
                    let result = tokio::select! {
                        _ = shutdown.cancelled() => None,
                        r = self.follow(&mut lease) => Some(r),
                    };
                    let Some(result) = result else {
                        // A standby need not wait for the lease to lapse.
                        let _ = lease.release(self.store.as_ref()).await;
                        return Ok(());
                    };
                    result
                }
                Err(store::lease::LeaseError::Held { holder, expires_at_ms, .. }) => {
                    if !standing_by {
                        tracing::info!(network = %self.net.name, %holder, "another ingest holds this chain's lease; standing by");
                        standing_by = true;
                    }
                    // Try again when it would lapse unrenewed.
                    let wait = Duration::from_millis((expires_at_ms - now_ms()).clamp(100, ttl.max(100)) as u64);
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    continue;
                }
                Err(store::lease::LeaseError::Store(e)) => Err(IngestError::Store(e)),
            };
            match result {
                Ok(()) => backoff = INITIAL_BACKOFF,
                Err(IngestError::Store(e)) if e.is_stale() => {
                    tracing::warn!(network = %self.net.name, "ingest lease lost to another instance: publishing stopped; standing by");
                    continue;
                }
                Err(e) if e.is_transient() => {
                    backoff = retry_delay(backoff, began.elapsed(), self.cfg.max_backoff);
                    metrics::counter!(crate::metrics::RESTARTS, "chain" => self.net.name.clone()).increment(1);
                    tracing::warn!(network = %self.net.name, error = %e, retry_in = ?backoff, "ingest interrupted; resuming from the topic tails");
                }
                Err(e) => return Err(e),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.cfg.max_backoff);
        }
    }

    /// Renew the lease when less than half of it is left: nothing is published
    /// on a lease that could lapse during the publish.
    async fn keep(&self, lease: &mut store::lease::Lease) -> Result<(), IngestError> {
        let now = now_ms();
        if lease.wants_renewal(now) {
            lease.renew(self.store.as_ref(), now).await?;
        }
        Ok(())
    }

    /// One connection's worth of work: find the resume point, backfill, follow.
    async fn follow(&self, lease: &mut store::lease::Lease) -> Result<(), IngestError> {
        let network = self.net.name.as_str();
        let client = ChainClient::connect(&self.net).await?;
        // Era snapshots of a staking chain name validators whose identities
        // live on another chain: read there, at its finalized head.
        let identity_client = match &self.identity_source {
            Some(cfg) if self.chain.roles.staking => Some(ChainClient::connect(cfg).await?),
            _ => None,
        };
        // A fresh producer per attempt: nothing a failed attempt left queued
        // can land after we have read the tails.
        let publisher = Publisher::new(&self.bus)?;
        // Subscribe before reading the finalized head: a block finalized
        // while the tails below are read would otherwise be seen by neither
        // (on a chain that builds blocks on demand, never).
        let mut heads = client.finalized_heads().await?;
        let started = self.started_at(network).await?;
        let mut marks = match started {
            Some(_) => Marks::load(self.store.as_ref(), network).await?,
            // Nothing of this chain was published yet: nothing below the ends to read back, ever.
            None => {
                let marks = Marks::at_ends(&publisher, network).await?;
                marks.save(self.store.as_ref(), network).await?;
                marks
            }
        };
        let last = tails::last_block(&self.bus, &publisher, network, &mut marks).await?;
        let finalized = client.finalized_number().await?;
        if let Some(b) = last.as_ref().filter(|b| b.number > finalized) {
            // Transient: a syncing node catches up. A devnet restarted from
            // genesis never does, and the hash check below will say so then.
            return Err(IngestError::Chain(chain::ChainError::Rpc {
                network: network.to_string(),
                endpoint: client.endpoint(),
                op: "compare heads".into(),
                reason: format!(
                    "the topic already holds block {} but the chain is finalized at {finalized}: \
                     the node is still syncing, or it is another chain (a restarted devnet is a new chain: use a fresh --data-dir)",
                    b.number
                ),
            }));
        }
        if let Some(b) = &last {
            // Finalized blocks never change: if the chain disagrees with the
            // topic, this endpoint serves another chain than the one we wrote.
            let facts = client.block_facts(b.number).await?;
            if facts.hash != b.hash {
                return Err(IngestError::Inconsistent {
                    network: network.to_string(),
                    detail: format!(
                        "topic has block {} = {}, chain at {} says {}; the endpoint serves another chain \
                         (a restarted devnet is a new chain: use a fresh --data-dir)",
                        b.number,
                        b.hash,
                        client.endpoint(),
                        facts.hash
                    ),
                });
            }
        }
        let configured = match self.net.start_block {
            StartBlock::Number(n) => n,
            StartBlock::Latest(_) => finalized,
        };
        // Where the first window began, kept across restarts: before any
        // block record is on the topic, ingest resumes there (`latest`
        // would otherwise move on with every restart).
        let start = match (&last, started) {
            (Some(_), _) => configured,
            (None, Some(s)) => s,
            (None, None) => {
                self.store.put_state(INGEST, &start_key(network), configured.to_string().as_bytes()).await?;
                configured
            }
        };
        let from = last.as_ref().map_or(start, |b| b.number + 1);
        let present = tails::present_positions(&self.bus, &publisher, network, from, &mut marks).await?;
        marks.save(self.store.as_ref(), network).await?;
        let mut resume = position::resume(last.as_ref().map(|b| b.number), present, start);
        let mut next = resume.block;
        let mut previous_hash = last.map(|b| b.hash);
        let mut target = finalized;
        tracing::info!(%network, next, already_published = resume.present_count(), finalized = target, "ingest resuming");
        let mut progress = Progress::new(self.cfg.progress_every);
        loop {
            self.observe(network, target).await?;
            while next <= target {
                let end = target.min(next + self.cfg.window_blocks.max(1) - 1);
                let fetch = futures::stream::iter(next..=end)
                    .map(|n| self.fetch(&client, identity_client.as_ref(), n))
                    .buffered(self.cfg.fetch_concurrency.max(1))
                    .try_collect::<Vec<(chain::BlockData, BlockExtras)>>();
                tokio::pin!(fetch);
                // A slow node must not let the lease lapse while the window is fetched.
                let renew_every = (self.cfg.lease_ttl / 3).max(Duration::from_millis(100));
                let fetched = loop {
                    tokio::select! {
                        r = &mut fetch => break r?,
                        _ = tokio::time::sleep(renew_every) => self.keep(lease).await?,
                    }
                };
                let mut window = Vec::with_capacity(fetched.len());
                for (data, extras) in &fetched {
                    let number = data.facts.number;
                    if let Some(prev) = previous_hash.as_deref()
                        && prev != data.facts.parent_hash
                    {
                        return Err(IngestError::Inconsistent {
                            network: network.to_string(),
                            detail: format!("block {number} has parent {}, but the block before it is {prev}", data.facts.parent_hash),
                        });
                    }
                    for bad in &data.undecoded {
                        tracing::error!(%network, block = number, index = bad.from_index, what = ?bad.what, error = %bad.error, error_code = "undecodable_event", "event goes to the dead-letter topic");
                    }
                    window.push((number, block_outputs(network, data, extras)?));
                    previous_hash = Some(data.facts.hash.clone());
                }
                self.keep(lease).await?;
                marks.window_starts(&publisher, network).await?;
                marks.save(self.store.as_ref(), network).await?;
                let delivered = publish_window(&publisher, &window, &resume, self.cfg.max_record_bytes).await?;
                // Kept with the next window's marks: a crash before then finds this
                // window's block records above the floors saved for it.
                marks.certified(&delivered, end, previous_hash.as_deref().unwrap_or_default());
                count_records(network, &window);
                let log = progress.advance(window.len() as u64, target - end);
                BackfillProgress { chain: network, published: end, finalized: target, rate: progress.rate(), log }.emit();
                next = end + 1;
                resume.certified_before(next);
            }
            let tick = (self.cfg.lease_ttl / 3).min(self.cfg.stall_after).max(Duration::from_millis(100));
            let mut silent_since = tokio::time::Instant::now();
            let head = loop {
                tokio::select! {
                    h = heads.next() => break h,
                    _ = tokio::time::sleep(tick) => {
                        self.keep(lease).await?;
                        if silent_since.elapsed() >= self.cfg.stall_after {
                            self.check_stall(&client, target, silent_since.elapsed()).await?;
                            // Quiet, not stalled: say so, for `/ready`.
                            self.observe(network, target).await?;
                            silent_since = tokio::time::Instant::now();
                        }
                    }
                }
            };
            match head {
                Some(n) => target = target.max(n?),
                None => {
                    return Err(IngestError::Chain(chain::ChainError::Rpc {
                        network: network.to_string(),
                        endpoint: client.endpoint(),
                        op: "finalized head subscription".into(),
                        reason: "ended".into(),
                    }));
                }
            }
        }
    }

    /// The head subscription has been silent for `silent`: fine if the node
    /// answers and is still at `target` (a quiet chain), dead otherwise.
    async fn check_stall(&self, client: &ChainClient, target: u64, silent: Duration) -> Result<(), IngestError> {
        let network = self.net.name.as_str();
        let stalled = |reason: String| {
            metrics::counter!(crate::metrics::STALLS, "chain" => network.to_string()).increment(1);
            tracing::warn!(%network, endpoint = %client.endpoint(), %reason, "chain connection stalled: reconnecting");
            IngestError::Chain(chain::ChainError::Rpc {
                network: network.to_string(),
                endpoint: client.endpoint(),
                op: "finalized head subscription".into(),
                reason,
            })
        };
        match tokio::time::timeout(self.cfg.stall_probe, client.finalized_number()).await {
            Ok(Ok(n)) if n <= target => Ok(()),
            Ok(Ok(n)) => Err(stalled(format!("silent for {} s while the node finalized block {n} (we have {target})", silent.as_secs()))),
            Ok(Err(e)) => Err(stalled(format!("silent for {} s and the node fails: {e}", silent.as_secs()))),
            Err(_) => Err(stalled(format!("silent for {} s and the node does not answer within {:?}", silent.as_secs(), self.cfg.stall_probe))),
        }
    }

    /// The block ingest of `network` first started at, once recorded (before
    /// anything of the chain is published).
    async fn started_at(&self, network: &str) -> Result<Option<u64>, IngestError> {
        let bytes = self.store.load_state(INGEST, &start_key(network)).await?;
        Ok(bytes.and_then(|b| std::str::from_utf8(&b).ok().and_then(|s| s.parse().ok())))
    }

    async fn observe(&self, network: &str, number: u64) -> Result<(), IngestError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        self.store.record_observed(&ObservedHead { chain: network.to_string(), number, observed_at_ms: now }).await?;
        Ok(())
    }

    /// A block and the state reads its events call for.
    async fn fetch(
        &self,
        client: &ChainClient,
        identity_client: Option<&ChainClient>,
        number: u64,
    ) -> Result<(chain::BlockData, BlockExtras), IngestError> {
        let data = client.block(number).await?;
        let extras = self.extras(client, identity_client, &data).await?;
        Ok((data, extras))
    }

    /// The state reads a block's events call for: on the relay chain a session
    /// snapshot when it starts a session; on the staking chain an era snapshot
    /// when the active era changes; on the identity chain the identities its
    /// identity events touch; and every validator's identity at an era.
    async fn extras(
        &self,
        client: &ChainClient,
        identity_client: Option<&ChainClient>,
        data: &chain::BlockData,
    ) -> Result<BlockExtras, IngestError> {
        let roles = self.chain.roles;
        let number = data.facts.number;
        let has = |pallet: &str, variant: &str| data.events.iter().any(|e| e.pallet == pallet && e.variant == variant);
        let mut extras = BlockExtras::default();
        let new_session = has("Session", "NewSession");
        if roles.relay && new_session {
            extras.session = Some(client.session_snapshot(number).await?);
        }
        if roles.staking && (new_session || has("Staking", "EraPaid")) {
            let now = match &extras.session {
                Some(s) => s.active_era,
                None => client.active_era(number).await?,
            };
            let before = match number.checked_sub(1) {
                Some(parent) => client.active_era(parent).await?,
                None => None,
            };
            if let Some(era) = now.filter(|e| Some(*e) != before) {
                tracing::info!(chain = %self.net.name, era, block = number, "era began; reading its snapshot");
                extras.era = Some(client.era_snapshot(number, era).await?);
            }
        }
        let mut accounts = std::collections::BTreeSet::new();
        if roles.identity {
            for ev in data.events.iter().filter(|e| e.pallet == "Identity") {
                if let Some((_, t)) = crate::typed::typed(&self.net.name, number, &data.facts.hash, ev) {
                    accounts.extend([t.account, t.counterpart].into_iter().flatten().filter_map(|a| parse_account(&a)));
                }
            }
        }
        let era_accounts: Vec<[u8; 32]> = extras.era.iter().flat_map(|e| e.validators.iter().map(|v| v.stash)).collect();
        match identity_client {
            // Identities live elsewhere: this chain's identity events do not
            // exist, and validators' identities are read there, at its head.
            Some(other) if !era_accounts.is_empty() => {
                let head = other.finalized_number().await?;
                for account in era_accounts.into_iter().collect::<std::collections::BTreeSet<_>>() {
                    extras.identities.push((account, other.identity(head, account).await?));
                }
            }
            _ => {
                accounts.extend(era_accounts);
                for account in accounts {
                    extras.identities.push((account, client.identity(number, account).await?));
                }
            }
        }
        Ok(extras)
    }

}

/// Count a window's records per topic.
fn count_records(chain: &str, window: &[(u64, Vec<Output>)]) {
    let mut per_topic: std::collections::BTreeMap<&str, u64> = Default::default();
    for o in window.iter().flat_map(|(_, outs)| outs) {
        *per_topic.entry(o.topic.as_str()).or_default() += 1;
    }
    for (topic, n) in per_topic {
        metrics::counter!(crate::metrics::RECORDS, "chain" => chain.to_string(), "topic" => topic.to_string()).increment(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_after_a_working_stretch_is_retried_at_once_not_after_old_faults_backoff() {
        let max = Duration::from_secs(30);
        // Failing again and again: the delay the doubling reached stands.
        assert_eq!(retry_delay(Duration::from_secs(16), Duration::from_secs(2), max), Duration::from_secs(16));
        // An attempt that ran for a while was working: start over.
        assert_eq!(retry_delay(max, Duration::from_secs(600), max), INITIAL_BACKOFF);
    }
}
