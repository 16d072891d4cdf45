//! The finalized-block follower.

use std::sync::Arc;
use std::time::Duration;

use bus::consumer::{last_matching, last_with_key};
use bus::dead_letter::headers;
use bus::{BusConfig, Publisher};
use chain::{ChainClient, FollowedChain, NetworkConfig, StartBlock};
use futures::StreamExt;
use schemas::{FinalizedBlock, topics};
use serde::{Deserialize, Serialize};
use store::{ObservedHead, Store};
use tokio_util::sync::CancellationToken;

use crate::IngestError;
use crate::outputs::{BlockExtras, Output, block_outputs};
use crate::position::{self, OutputPos, Resume};
use crate::progress::Progress;

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
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self { max_backoff: Duration::from_secs(30), progress_every: Duration::from_secs(5) }
    }
}

/// Every topic ingest writes, dead letters included: the tails of all of
/// them together say where to resume.
fn written_topics() -> Vec<String> {
    let mut t: Vec<String> = topics::ALL.iter().map(|t| t.to_string()).collect();
    t.push(topics::dead_letter(topics::EVENTS));
    t.push(topics::STORAGE_DEAD_LETTERS.to_string());
    t
}

/// The last block record of `network` on the blocks topic.
pub async fn last_block(
    bus: &BusConfig,
    publisher: &Publisher,
    network: &str,
) -> Result<Option<FinalizedBlock>, IngestError> {
    let key = topics::chain_key(network);
    let partition = publisher.partition_for(topics::BLOCKS, &key).await?;
    let Some(record) = last_with_key(bus, topics::BLOCKS, partition, &key).await? else {
        return Ok(None);
    };
    let payload = record.payload.unwrap_or_default();
    let block = FinalizedBlock::decode(&payload).map_err(|e| IngestError::Inconsistent {
        network: network.to_string(),
        detail: format!("last record at {}/{}@{} is not a block we wrote: {e}", record.topic, record.partition, record.offset),
    })?;
    Ok(Some(block))
}

/// The largest output position of `network` at the tails of every topic ingest writes.
pub async fn last_position(
    bus: &BusConfig,
    publisher: &Publisher,
    network: &str,
) -> Result<Option<OutputPos>, IngestError> {
    let chain_key = topics::chain_key(network);
    let reads = written_topics().into_iter().map(|topic| {
        let chain_key = chain_key.clone();
        async move {
            let partition = publisher.partition_for(&topic, &chain_key).await?;
            let record = last_matching(bus, &topic, partition, |k| topics::key_of_chain(k, network)).await?;
            Ok::<_, IngestError>(record.and_then(|r| r.header(position::HEADER).and_then(OutputPos::parse)))
        }
    });
    let found = futures::future::try_join_all(reads).await?;
    Ok(found.into_iter().flatten().max())
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
                Self { net, chain, identity_source, bus: bus.clone(), cfg: cfg.clone(), store: store.clone() }
            })
            .collect()
    }

    /// The name of the chain this ingest follows.
    pub fn chain_name(&self) -> &str {
        &self.net.name
    }

    /// Run until `shutdown`; transient failures reconnect with capped backoff,
    /// a permanent one (wrong chain, foreign records) ends with an error.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), IngestError> {
        let mut backoff = Duration::from_millis(500);
        loop {
            let result = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                r = self.follow() => r,
            };
            match result {
                Ok(()) => backoff = Duration::from_millis(500),
                Err(e) if e.is_transient() => {
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

    /// One connection's worth of work: find the resume point, backfill, follow.
    async fn follow(&self) -> Result<(), IngestError> {
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
        let last = last_block(&self.bus, &publisher, network).await?;
        let finalized = client.finalized_number().await?;
        if let Some(b) = last.as_ref().filter(|b| b.number as u64 > finalized) {
            // Transient: a syncing node catches up. A devnet restarted from
            // genesis never does, and the hash check below will say so then.
            return Err(IngestError::Chain(chain::ChainError::Rpc {
                network: network.to_string(),
                endpoint: client.endpoint().to_string(),
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
            let facts = client.block_facts(b.number as u64).await?;
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
        let start = match self.net.start_block {
            StartBlock::Number(n) => n,
            StartBlock::Latest(_) => finalized,
        };
        let last_pos = last_position(&self.bus, &publisher, network).await?;
        let Resume { block: mut next, mut skip } = position::resume(last.as_ref().map(|b| b.number as u64), last_pos, start);
        let mut previous_hash = last.map(|b| b.hash);
        let mut heads = client.finalized_heads().await?;
        let mut target = finalized;
        tracing::info!(%network, next, skip, finalized = target, "ingest resuming");
        let mut progress = Progress::new(self.cfg.progress_every);
        loop {
            self.observe(network, target).await?;
            while next <= target {
                let hash = self.publish(&client, identity_client.as_ref(), &publisher, next, previous_hash.as_deref(), skip).await?;
                if let Some((rate, eta)) = progress.tick(target - next) {
                    tracing::info!(%network, block = next, finalized = target, blocks_per_s = format!("{rate:.1}"), eta_s = eta.as_secs(), "backfilling");
                }
                previous_hash = Some(hash);
                skip = 0;
                next += 1;
            }
            match heads.next().await {
                Some(n) => target = target.max(n?),
                None => {
                    return Err(IngestError::Chain(chain::ChainError::Rpc {
                        network: network.to_string(),
                        endpoint: client.endpoint().to_string(),
                        op: "finalized head subscription".into(),
                        reason: "ended".into(),
                    }));
                }
            }
        }
    }

    async fn observe(&self, network: &str, number: u64) -> Result<(), IngestError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        self.store.record_observed(&ObservedHead { chain: network.to_string(), number, observed_at_ms: now }).await?;
        Ok(())
    }

    /// Publish block `number`'s outputs from `skip` on, one acknowledged
    /// before the next; returns the block hash.
    async fn publish(
        &self,
        client: &ChainClient,
        identity_client: Option<&ChainClient>,
        publisher: &Publisher,
        number: u64,
        previous_hash: Option<&str>,
        skip: u32,
    ) -> Result<String, IngestError> {
        let network = self.net.name.as_str();
        let data = client.block(number).await?;
        if let Some(prev) = previous_hash
            && prev != data.facts.parent_hash
        {
            return Err(IngestError::Inconsistent {
                network: network.to_string(),
                detail: format!("block {number} has parent {}, but the block before it on the topic is {prev}", data.facts.parent_hash),
            });
        }
        for bad in &data.undecoded {
            tracing::error!(%network, block = number, index = bad.from_index, what = ?bad.what, error = %bad.error, error_code = "undecodable_event", "event goes to the dead-letter topic");
        }
        let extras = self.extras(client, identity_client, &data).await?;
        let outputs = block_outputs(network, &data, &extras)?;
        for (seq, out) in outputs.iter().enumerate().skip(skip as usize) {
            self.send(publisher, out, OutputPos { block: number, seq: seq as u32 }).await?;
        }
        Ok(data.facts.hash)
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

    async fn send(&self, publisher: &Publisher, out: &Output, pos: OutputPos) -> Result<(), IngestError> {
        let pos = pos.header_value();
        let mut pairs: Vec<(&str, &str)> = vec![(position::HEADER, pos.as_str())];
        pairs.extend(out.headers.iter().map(|(k, v)| (*k, v.as_str())));
        publisher.publish_keyed(&out.topic, &out.partition_key, &out.key, &out.payload, Some(headers(&pairs))).await?;
        Ok(())
    }
}
