//! The nominator consumer: per network, under its lease, each pass
//! 1. settles what is in flight from the chain (found in a finalized block:
//!    per-item outcome, confirmed by `Staking.Nominators`; past its mortality
//!    or its nonce used by something else: it cannot land);
//! 2. decides from the newest scored round who is due and what they nominate
//!    (the pure rules of `rules::nomination`);
//! 3. signs one `utility.batch_all` per signer and saves intent and signed
//!    bytes (the outbox) with the (stash, era) claims, in one guarded write;
//! 4. broadcasts what is saved (again after a crash, the same bytes);
//! 5. publishes the events the book holds, each once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use bus::{BusConfig, Outgoing, Publisher};
use chain::nominate::{Broadcast, NominateItem, StakingAt};
use chain::{ChainClient, NetworkConfig};
use rules::RoundSnapshot;
use rules::nomination::{self, AccountState, DueSettings, NotDue, Outcome, Planned, Policy};
use schemas::{NominatorEvent, topics};
use store::{Namespaces, StateWrite, Store};
use tokio_util::sync::CancellationToken;

use crate::book::{
    AccountStatus, Book, ItemRecord, NominationRecord, State, TargetRecord, TxRecord, book_key, claim_key, history_key,
};
use crate::config::{Account, Control, NetworkNominators, PolicyKind};
use crate::lease::{Lease, NOMINATOR};
use crate::outcome::{DispatchError, ItemOutcome, TxOutcome, outcome};
use crate::{NominatorError, metrics};

/// One network as the nominator runs it.
#[derive(Debug, Clone)]
pub struct NetworkSetup {
    /// Network name (as the scorer's rounds name it).
    pub name: String,
    /// The chain where staking lives (the relay chain, or Asset Hub).
    pub staking_chain: NetworkConfig,
    /// Token decimals.
    pub decimals: u8,
    /// SS58 prefix.
    pub ss58_prefix: u16,
    /// Settings.
    pub settings: NetworkNominators,
    /// Accounts with their signers, in config order.
    pub accounts: Vec<Account>,
}

/// Process-wide settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Record everything but never sign or send.
    pub dry_run: bool,
    /// Time between passes.
    pub poll: Duration,
    /// How long a lease lasts without renewal.
    pub lease_ttl: Duration,
    /// This process's id in the lease.
    pub holder: String,
}

/// The nominator service.
pub struct Nominator {
    bus: BusConfig,
    store: Arc<dyn Store>,
    namespaces: Arc<Namespaces>,
    networks: Vec<NetworkSetup>,
    settings: Settings,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn account_of_hex(h: &str) -> Option<[u8; 32]> {
    hex::decode(h.trim_start_matches("0x")).ok()?.try_into().ok()
}

/// Whether a claim is held back after a refusal or failure (`refused:` / `failed:`, with why),
/// rather than naming the transaction (or dry run) that nominates.
fn is_held(claim: &str) -> bool {
    claim.starts_with("refused:") || claim.starts_with("failed:")
}

fn tokens(planck: u128, decimals: u8) -> f64 {
    planck as f64 / 10f64.powi(i32::from(decimals))
}

impl Nominator {
    /// A nominator of `networks`; rows in `store`, rounds read from the live scoring namespace.
    pub fn new(bus: BusConfig, store: Arc<dyn Store>, namespaces: Arc<Namespaces>, networks: Vec<NetworkSetup>, settings: Settings) -> Self {
        Self { bus, store, namespaces, networks, settings }
    }

    /// Run every network until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), NominatorError> {
        let mut set = tokio::task::JoinSet::new();
        for net in self.networks {
            let n = NetworkNominator {
                bus: self.bus.clone(),
                store: self.store.clone(),
                namespaces: self.namespaces.clone(),
                net,
                settings: self.settings.clone(),
            };
            set.spawn(n.run(shutdown.child_token()));
        }
        while let Some(r) = set.join_next().await {
            r.map_err(|e| NominatorError::Config(format!("a network's nominator panicked: {e}")))??;
        }
        Ok(())
    }
}

struct NetworkNominator {
    bus: BusConfig,
    store: Arc<dyn Store>,
    namespaces: Arc<Namespaces>,
    net: NetworkSetup,
    settings: Settings,
}

/// What a pass changed, to be saved in one write.
#[derive(Default)]
struct Changes {
    history: Vec<(String, NominationRecord)>,
    /// Transactions signed in this pass (their first broadcast decides whether they can land).
    new_txs: Vec<String>,
}

impl NetworkNominator {
    async fn run(self, shutdown: CancellationToken) -> Result<(), NominatorError> {
        let network = self.net.name.clone();
        let mut backoff = Duration::from_millis(500);
        let mut waiting_logged = false;
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            let ttl = self.settings.lease_ttl.as_millis() as i64;
            let attempt = async {
                let mut lease = Lease::acquire(self.store.as_ref(), &network, &self.settings.holder, ttl, now_ms()).await?;
                tracing::info!(%network, holder = %self.settings.holder, token = lease.token(), "nominator lease taken");
                let chain = ChainClient::connect(&self.net.staking_chain).await?;
                let publisher = Publisher::new(&self.bus)?;
                loop {
                    self.pass(&mut lease, &chain, &publisher).await?;
                    tokio::select! {
                        _ = shutdown.cancelled() => {
                            let _ = lease.release(self.store.as_ref()).await;
                            return Ok::<(), NominatorError>(());
                        }
                        _ = tokio::time::sleep(self.settings.poll) => {}
                    }
                }
            };
            let result = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                r = attempt => r,
            };
            match result {
                Ok(()) => return Ok(()),
                Err(NominatorError::Store(store::StoreError::StaleCheckpoint { .. })) => {
                    tracing::warn!(%network, "nominator lease lost to another process; waiting to take it again");
                    waiting_logged = false;
                }
                Err(NominatorError::Config(e)) => return Err(NominatorError::Config(e)),
                Err(NominatorError::LeaseHeld { holder, .. }) => {
                    if !waiting_logged {
                        tracing::info!(%network, %holder, "another nominator holds the lease; standing by");
                        waiting_logged = true;
                    }
                }
                Err(e) => tracing::warn!(%network, error = %e, retry_in = ?backoff, "nominator pass interrupted; nothing is concluded from it"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.settings.lease_ttl.max(Duration::from_secs(1)));
        }
    }

    async fn load_book(&self) -> Result<Book, NominatorError> {
        match self.store.load_state(NOMINATOR, &book_key(&self.net.name)).await? {
            Some(b) => serde_json::from_slice(&b)
                .map_err(|e| NominatorError::Store(store::StoreError::Corrupt { what: "nominator book", reason: e.to_string() })),
            None => Ok(Book::default()),
        }
    }

    async fn save(&self, lease: &mut Lease, book: &Book, changes: &Changes) -> Result<(), NominatorError> {
        let mut writes = vec![StateWrite { key: book_key(&self.net.name), value: serde_json::to_vec(book).unwrap_or_default() }];
        for (key, rec) in &changes.history {
            writes.push(StateWrite { key: key.clone(), value: serde_json::to_vec(rec).unwrap_or_default() });
        }
        lease.commit(self.store.as_ref(), writes, now_ms()).await?;
        Ok(())
    }

    fn event(&self, kind: &str) -> NominatorEvent {
        NominatorEvent { network: self.net.name.clone(), kind: kind.to_string(), at_ms: now_ms(), detail_json: "{}".into(), ..Default::default() }
    }

    async fn pass(&self, lease: &mut Lease, chain: &ChainClient, publisher: &Publisher) -> Result<(), NominatorError> {
        let mut book = self.load_book().await?;
        let mut changes = Changes::default();
        let (fin, _) = chain.finalized_head().await?;
        let at = chain.staking_at(fin).await?;
        let era = at.current_era().await?.ok_or_else(|| NominatorError::Chainless {
            network: self.net.name.clone(),
            detail: "the staking chain has no Staking.CurrentEra".into(),
        })?;
        self.settle(chain, &at, &mut book, &mut changes).await?;
        self.decide(chain, &at, era, &mut book, &mut changes).await?;
        self.save(lease, &book, &changes).await?;
        // Only what is saved is broadcast: after a crash the same bytes go out again.
        let refused = self.broadcast(chain, &book, &changes).await?;
        if !refused.is_empty() {
            let mut changes = Changes::default();
            for (hash, why) in refused {
                self.cannot_land(&mut book, &mut changes, &hash, "refused", &format!("refused by the node: {why}"), true);
            }
            self.save(lease, &book, &changes).await?;
        }
        if self.publish(publisher, &mut book).await? {
            self.save(lease, &book, &Changes::default()).await?;
        }
        ::metrics::gauge!(metrics::IN_FLIGHT, "network" => self.net.name.clone()).set(book.txs.len() as f64);
        Ok(())
    }

    /// Settle every transaction in flight from what the finalized chain shows.
    async fn settle(&self, chain: &ChainClient, at: &StakingAt<'_>, book: &mut Book, changes: &mut Changes) -> Result<(), NominatorError> {
        let fin = at.block();
        let hashes: Vec<String> = book.txs.keys().cloned().collect();
        for hash in hashes {
            let Some(tx) = book.txs.get(&hash).cloned() else { continue };
            if tx.searched_to >= fin {
                continue;
            }
            if let Some((block, index)) = chain.find_extrinsic(tx.searched_to + 1, fin, &hash).await? {
                let data = chain.block(block).await?;
                let events: Vec<_> = data.events.into_iter().filter(|e| e.extrinsic_index == Some(index)).collect();
                let via: Vec<bool> = tx.items.iter().map(|i| i.via_proxy).collect();
                let result = outcome(&via, &events);
                let mut ev = self.event("in_block");
                ev.tx_hash = Some(hash.clone());
                ev.block_number = Some(block as i64);
                ev.era = Some(i64::from(tx.era));
                book.push(ev);
                let mut ev = self.event("finalized");
                ev.tx_hash = Some(hash.clone());
                ev.block_number = Some(block as i64);
                ev.detail_json = serde_json::to_string(&result).unwrap_or_default();
                book.push(ev);
                let batch_failed = matches!(result, TxOutcome::Failed(_)) && tx.items.len() > 1;
                let per_item: Vec<ItemOutcome> = match &result {
                    TxOutcome::Failed(e) => vec![ItemOutcome::Failed(e.clone()); tx.items.len()],
                    TxOutcome::Applied(items) => items.clone(),
                };
                for (item, out) in tx.items.iter().zip(per_item) {
                    self.settle_item(chain, at, &tx, item, out, block, batch_failed, book, changes).await?;
                }
                book.txs.remove(&hash);
            } else if fin > tx.mortal_until {
                self.cannot_land(book, changes, &hash, "expired", &format!("not included by block {} (its mortality)", tx.mortal_until), false);
            } else if at.account_info(account_of_hex(&tx.signer_hex).unwrap_or_default()).await?.nonce > tx.nonce {
                self.cannot_land(book, changes, &hash, "expired", &format!("nonce {} was used by another transaction", tx.nonce), false);
            } else if let Some(t) = book.txs.get_mut(&hash) {
                t.searched_to = fin;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn settle_item(
        &self,
        chain: &ChainClient,
        at: &StakingAt<'_>,
        tx: &TxRecord,
        item: &ItemRecord,
        out: ItemOutcome,
        block: u64,
        batch_failed: bool,
        book: &mut Book,
        changes: &mut Changes,
    ) -> Result<(), NominatorError> {
        let era = tx.era;
        let claim = claim_key(&item.stash_hex, era);
        let stash = account_of_hex(&item.stash_hex).unwrap_or_default();
        let planned: BTreeSet<String> = item.targets.iter().map(|t| t.account.clone()).collect();
        let (kind, reason) = match out {
            ItemOutcome::Done => {
                let found = at.nominations(stash).await?;
                match found {
                    Some(n) if n.submitted_in == era && n.targets.iter().map(|t| hex0x(t)).collect::<BTreeSet<_>>() == planned => {
                        ("confirmed", None)
                    }
                    other => {
                        // Applied, yet the chain disagrees: sending again would not help; held and shown.
                        let shows = other.map_or("no nomination".to_string(), |n| format!("{} targets from era {}", n.targets.len(), n.submitted_in));
                        let why = format!("applied, but the chain shows {shows}");
                        book.claims.insert(claim.clone(), format!("failed:{why}"));
                        ("failed", Some(why))
                    }
                }
            }
            ItemOutcome::Failed(e) => {
                let name = self.error_name(chain, &e).await;
                if batch_failed {
                    // Whose fault is unknown: every item goes alone from now on, and is planned again.
                    book.claims.remove(&claim);
                    book.solo.entry(era).or_default().insert(item.stash_hex.clone());
                    ("failed", Some(format!("{name} (the whole batch failed; its accounts are sent one by one next)")))
                } else if name.ends_with("BadTarget") {
                    // Planned again without the targets the chain refuses.
                    self.exclude_bad_targets(at, era, item, book).await?;
                    book.claims.remove(&claim);
                    ("failed", Some(name))
                } else {
                    // The same call would fail again: held until the next era, and shown.
                    book.claims.insert(claim.clone(), format!("failed:{name}"));
                    ("failed", Some(name))
                }
            }
            ItemOutcome::NotRun => {
                book.claims.remove(&claim);
                ("failed", Some("not run: the batch stopped before it".to_string()))
            }
        };
        if kind == "failed" && book.claims.get(&claim).is_some_and(|c| !is_held(c)) {
            book.claims.remove(&claim);
        }
        ::metrics::counter!(metrics::NOMINATIONS, "network" => self.net.name.clone(), "outcome" => kind).increment(1);
        let mut ev = self.event(kind);
        ev.stash = Some(item.stash.clone());
        ev.signer = Some(tx.signer.clone());
        ev.tx_hash = Some(tx.hash.clone());
        ev.block_number = Some(block as i64);
        ev.era = Some(i64::from(era));
        ev.round = Some(tx.round as i64);
        ev.targets = item.targets.iter().map(|t| t.stash.clone()).collect();
        ev.reason = reason.clone();
        book.push(ev);
        if let Some(r) = &reason {
            let next = if book.claims.contains_key(&claim) { "held until the next era" } else { "planned again" };
            tracing::warn!(network = %self.net.name, stash = %item.stash, tx = %tx.hash, reason = %r, next, "nomination failed");
        } else {
            tracing::info!(network = %self.net.name, stash = %item.stash, era, block, targets = item.targets.len(), "nomination confirmed");
        }
        changes.history.push((
            history_key(&self.net.name, era, &item.stash_hex),
            NominationRecord {
                network: self.net.name.clone(),
                era,
                round: tx.round,
                stash: item.stash.clone(),
                signer: tx.signer.clone(),
                targets: item.targets.clone(),
                tx_hash: tx.hash.clone(),
                block: Some(block),
                outcome: kind.to_string(),
                reason,
                at_ms: now_ms(),
            },
        ));
        Ok(())
    }

    /// A target of a `BadTarget` failure that is not a validator, or blocks nominations, is left out this era.
    async fn exclude_bad_targets(&self, at: &StakingAt<'_>, era: u32, item: &ItemRecord, book: &mut Book) -> Result<(), NominatorError> {
        for t in &item.targets {
            let Some(account) = account_of_hex(&t.account) else { continue };
            match at.validator_blocked(account).await? {
                Some(false) => {}
                _ => {
                    tracing::warn!(network = %self.net.name, target = %t.stash, era, "target refused by the chain (not a validator or blocked): left out this era");
                    book.excluded.entry(era).or_default().insert(t.account.clone());
                }
            }
        }
        Ok(())
    }

    async fn error_name(&self, chain: &ChainClient, e: &DispatchError) -> String {
        match e {
            DispatchError::Module { pallet, error } => chain.module_error_name(*pallet, *error).await,
            DispatchError::Other(s) => s.clone(),
        }
    }

    /// A transaction that can never land: its claims are released, so its accounts are planned again.
    fn cannot_land(&self, book: &mut Book, changes: &mut Changes, hash: &str, kind: &str, why: &str, hold_era: bool) {
        let Some(tx) = book.txs.remove(hash) else { return };
        for item in &tx.items {
            book.claims.remove(&claim_key(&item.stash_hex, tx.era));
            if hold_era {
                // Refused outright (bad key, fees): not retried every pass, reported until the next era.
                book.claims.insert(claim_key(&item.stash_hex, tx.era), format!("refused:{why}"));
            }
            let mut ev = self.event(kind);
            ev.stash = Some(item.stash.clone());
            ev.signer = Some(tx.signer.clone());
            ev.tx_hash = Some(tx.hash.clone());
            ev.era = Some(i64::from(tx.era));
            ev.reason = Some(why.to_string());
            book.push(ev);
            ::metrics::counter!(metrics::NOMINATIONS, "network" => self.net.name.clone(), "outcome" => kind.to_string()).increment(1);
            changes.history.push((
                history_key(&self.net.name, tx.era, &item.stash_hex),
                NominationRecord {
                    network: self.net.name.clone(),
                    era: tx.era,
                    round: tx.round,
                    stash: item.stash.clone(),
                    signer: tx.signer.clone(),
                    targets: item.targets.clone(),
                    tx_hash: tx.hash.clone(),
                    block: None,
                    outcome: kind.to_string(),
                    reason: Some(why.to_string()),
                    at_ms: now_ms(),
                },
            ));
        }
        tracing::warn!(network = %self.net.name, tx = %hash, %why, "transaction cannot land");
    }

    /// The newest round of the network, re-read at decision time.
    async fn latest_round(&self) -> Result<Option<RoundSnapshot>, NominatorError> {
        let (_, store) = self.namespaces.live().await?;
        Ok(scoring::scorer::latest_round(store.as_ref(), &self.net.name).await?)
    }

    /// Who is due, what they nominate, and the signed batches (saved, not yet sent).
    async fn decide(&self, chain: &ChainClient, at: &StakingAt<'_>, era: u32, book: &mut Book, changes: &mut Changes) -> Result<(), NominatorError> {
        let net = &self.net;
        let s = &net.settings;
        let round = self.latest_round().await?;
        let max = match (at.max_nominations(), s.max_nominations) {
            (Some(runtime), configured) => configured.map_or(runtime, |c| c.min(runtime)),
            (None, Some(configured)) => configured,
            (None, None) => {
                return Err(NominatorError::Config(format!(
                    "network {}: the runtime states no Staking.MaxNominations; set nominator.networks.{}.max_nominations",
                    net.name, net.name
                )));
            }
        };
        let active = at.active_era().await?.unwrap_or(era);
        let elected: Vec<f64> = at.elected_stakes(active).await?.into_iter().map(|p| tokens(p, net.decimals)).collect();
        let settings = DueSettings { era_buffer: s.era_buffer_for(&net.name), min_bond_tokens: s.min_bond };
        let stale_after = s.stale_after_for(&net.name);

        let mut planned = Vec::new();
        let mut statuses = Vec::new();
        for a in &net.accounts {
            let stash_hex = hex0x(&a.stash_account);
            let on_chain = at.nominations(a.stash_account).await?;
            let bond = at.active_bond(a.stash_account).await?;
            let stash_info = at.account_info(a.stash_account).await?;
            let signer_info = at.account_info(a.signer.public()).await?;
            // A dry run's claim does not hold back a live run on the same store.
            let claim = book.claims.get(&claim_key(&stash_hex, era)).cloned().filter(|c| self.settings.dry_run || c != "dry-run");
            let state = AccountState {
                bonded_tokens: bond.map_or(0.0, |b| tokens(b, net.decimals)),
                submitted_in: on_chain.as_ref().map(|n| n.submitted_in),
                on_chain_targets: on_chain.as_ref().map(|n| n.targets.iter().map(|t| hex0x(t)).collect()).unwrap_or_default(),
                in_flight: book.in_flight(&stash_hex) || claim.is_some(),
            };
            let policy = match s.policy {
                PolicyKind::Ranked => Policy::Ranked,
                PolicyKind::Pinned => {
                    let pinned: Vec<String> = a.pinned.iter().map(|p| hex0x(p)).collect();
                    // Judge drift against what would be sent: an invalid pinned target is never sent.
                    let excluded = book.excluded.get(&era);
                    let kept = round
                        .as_ref()
                        .map_or(pinned.clone(), |r| nomination::pinned_targets(r, &pinned).0.into_iter().map(|t| t.account).collect())
                        .into_iter()
                        .filter(|t| excluded.is_none_or(|x| !x.contains(t)))
                        .collect();
                    Policy::Pinned { targets: kept }
                }
            };
            let due = nomination::due(&state, &policy, era, &settings);
            let balance = tokens(stash_info.free.saturating_add(stash_info.reserved), net.decimals);
            let count = nomination::target_count(balance, &elected, max);
            let full_policy = match s.policy {
                PolicyKind::Ranked => Policy::Ranked,
                PolicyKind::Pinned => Policy::Pinned { targets: a.pinned.iter().map(|p| hex0x(p)).collect() },
            };
            planned.push(Planned { stash: stash_hex.clone(), policy: full_policy, due: due.clone(), target_count: count });
            ::metrics::gauge!(metrics::SIGNER_FREE, "network" => net.name.clone(), "signer" => a.signer.address(net.ss58_prefix))
                .set(tokens(signer_info.free, net.decimals));
            let eras_since = nomination::eras_since(state.submitted_in, era);
            if let Some(n) = eras_since {
                ::metrics::gauge!(metrics::ERAS_SINCE, "network" => net.name.clone(), "stash" => a.stash.clone()).set(f64::from(n));
            }
            statuses.push((a, state, due, claim, bond, signer_info, eras_since, on_chain));
        }

        let Some(round) = round else {
            for (a, state, _, _, bond, signer_info, eras_since, on_chain) in statuses {
                let why = "no round has been scored yet".to_string();
                let st = self.status(a, &state, era, stale_after, State::NotNominating, &why, bond, signer_info.free, eras_since, on_chain.as_ref().map(|n| n.targets.clone()));
                book.statuses.insert(st.stash_hex.clone(), st);
            }
            return Ok(());
        };
        let decision = nomination::select(&round, &planned);
        // Targets the chain refused this era are left out of what is sent.
        let excluded = book.excluded.get(&era).cloned().unwrap_or_default();
        let solo = book.solo.get(&era).cloned().unwrap_or_default();
        let nominates = decision.accounts.iter().any(|d| matches!(d.outcome, Outcome::Nominate { .. }));
        if nominates || book.last_decision != Some((round.round, era)) {
            let mut ev = self.event("decided");
            ev.round = Some(round.round as i64);
            ev.era = Some(i64::from(era));
            ev.reason = decision.reason.clone();
            ev.detail_json = serde_json::to_string(&decision).unwrap_or_default();
            book.push(ev);
            book.last_decision = Some((round.round, era));
            tracing::info!(network = %net.name, round = round.round, era, nominating = nominates, reason = ?decision.reason, "nomination decided");
        }

        // One batch per signer, in config order.
        let mut batches: BTreeMap<Vec<u8>, Vec<(&Account, Vec<TargetRecord>)>> = BTreeMap::new();
        let mut order: Vec<Vec<u8>> = Vec::new();
        for (a, d) in net.accounts.iter().zip(&decision.accounts) {
            let stash_hex = hex0x(&a.stash_account);
            match &d.outcome {
                Outcome::Nominate { targets } => {
                    let targets: Vec<TargetRecord> = targets
                        .iter()
                        .filter(|t| !excluded.contains(&t.account))
                        .map(|t| TargetRecord { account: t.account.clone(), stash: t.stash_ss58.clone(), name: t.name.clone(), score: t.score })
                        .collect();
                    if targets.is_empty() {
                        continue;
                    }
                    // Accounts of a batch that failed whole go alone (keyed by their stash too).
                    let mut key = a.signer.public().to_vec();
                    if solo.contains(&stash_hex) {
                        key.extend_from_slice(&a.stash_account);
                    }
                    if !order.contains(&key) {
                        order.push(key.clone());
                    }
                    batches.entry(key).or_default().push((a, targets));
                    book.last_skip.remove(&stash_hex);
                }
                Outcome::Skip { reason } => {
                    if book.last_skip.get(&stash_hex) != Some(reason) {
                        let mut ev = self.event("skipped");
                        ev.stash = Some(a.stash.clone());
                        ev.round = Some(round.round as i64);
                        ev.era = Some(i64::from(era));
                        ev.reason = Some(reason.clone());
                        book.push(ev);
                        book.last_skip.insert(stash_hex, reason.clone());
                    }
                }
            }
        }

        let mut sent: BTreeSet<String> = BTreeSet::new();
        for signer_key in order {
            let group = &batches[&signer_key];
            let signer = &group[0].0.signer;
            let items: Vec<NominateItem> = group
                .iter()
                .map(|(a, targets)| NominateItem {
                    stash: a.stash_account,
                    via_proxy: a.mode == Control::Proxy,
                    targets: targets.iter().filter_map(|t| account_of_hex(&t.account)).collect(),
                })
                .collect();
            let records: Vec<ItemRecord> = group
                .iter()
                .map(|(a, targets)| ItemRecord {
                    stash_hex: hex0x(&a.stash_account),
                    stash: a.stash.clone(),
                    via_proxy: a.mode == Control::Proxy,
                    targets: targets.clone(),
                })
                .collect();
            let signer_addr = signer.address(net.ss58_prefix);
            if self.settings.dry_run {
                let call = chain.call_bytes(&items).await?;
                for r in &records {
                    book.claims.insert(claim_key(&r.stash_hex, era), "dry-run".into());
                    let mut ev = self.event("dry_run");
                    ev.stash = Some(r.stash.clone());
                    ev.signer = Some(signer_addr.clone());
                    ev.round = Some(round.round as i64);
                    ev.era = Some(i64::from(era));
                    ev.targets = r.targets.iter().map(|t| t.stash.clone()).collect();
                    ev.detail_json = serde_json::json!({"call": hex0x(&call)}).to_string();
                    book.push(ev);
                    changes.history.push((
                        history_key(&net.name, era, &r.stash_hex),
                        NominationRecord {
                            network: net.name.clone(),
                            era,
                            round: round.round,
                            stash: r.stash.clone(),
                            signer: signer_addr.clone(),
                            targets: r.targets.clone(),
                            tx_hash: String::new(),
                            block: None,
                            outcome: "dry_run".into(),
                            reason: None,
                            at_ms: now_ms(),
                        },
                    ));
                    sent.insert(r.stash_hex.clone());
                }
                tracing::info!(network = %net.name, signer = %signer_addr, accounts = records.len(), "dry run: nomination recorded, nothing signed");
                continue;
            }
            let chain_nonce = at.account_info(signer.public()).await?;
            let nonce = book.next_nonce(&hex0x(&signer.public()), chain_nonce.nonce);
            let signed = chain.sign_batch(signer.keypair(), &items, nonce, s.mortality_blocks).await?;
            let fee = chain.fee_of(&signed.bytes).await?;
            let spendable = chain_nonce.free.saturating_sub(chain_nonce.frozen);
            if fee > spendable {
                let reason = format!(
                    "signer {signer_addr} has {} spendable, the batch costs {}: top it up",
                    tokens(spendable, net.decimals),
                    tokens(fee, net.decimals)
                );
                for (a, _) in group {
                    let stash_hex = hex0x(&a.stash_account);
                    if book.last_skip.get(&stash_hex) != Some(&reason) {
                        let mut ev = self.event("skipped");
                        ev.stash = Some(a.stash.clone());
                        ev.signer = Some(signer_addr.clone());
                        ev.reason = Some(reason.clone());
                        book.push(ev);
                        book.last_skip.insert(stash_hex, reason.clone());
                        tracing::warn!(network = %net.name, stash = %a.stash, %reason, "not nominating");
                    }
                }
                continue;
            }
            let tx = TxRecord {
                hash: signed.hash.clone(),
                signer_hex: hex0x(&signer.public()),
                signer: signer_addr.clone(),
                nonce: signed.nonce,
                birth: signed.birth,
                mortal_until: signed.mortal_until,
                bytes: hex0x(&signed.bytes),
                era,
                round: round.round,
                items: records.clone(),
                searched_to: signed.birth,
                signed_at_ms: now_ms(),
            };
            for r in &records {
                book.claims.insert(claim_key(&r.stash_hex, era), signed.hash.clone());
                let mut ev = self.event("signed");
                ev.stash = Some(r.stash.clone());
                ev.signer = Some(signer_addr.clone());
                ev.tx_hash = Some(signed.hash.clone());
                ev.nonce = Some(signed.nonce as i64);
                ev.mortal_until = Some(signed.mortal_until as i64);
                ev.round = Some(round.round as i64);
                ev.era = Some(i64::from(era));
                ev.targets = r.targets.iter().map(|t| t.stash.clone()).collect();
                book.push(ev);
                sent.insert(r.stash_hex.clone());
            }
            tracing::info!(network = %net.name, signer = %signer_addr, tx = %signed.hash, nonce, items = records.len(), era, "nomination signed");
            book.txs.insert(signed.hash.clone(), tx);
            changes.new_txs.push(signed.hash);
        }

        for ((a, state, due, claim, bond, signer_info, eras_since, on_chain), d) in statuses.into_iter().zip(&decision.accounts) {
            let stash_hex = hex0x(&a.stash_account);
            let settled_claim = claim.as_deref().filter(|c| !is_held(c) && !book.txs.contains_key(*c));
            let (st, why) = if sent.contains(&stash_hex) || book.in_flight(&stash_hex) {
                (State::Nominating, "a nomination is in flight".to_string())
            } else if settled_claim == Some("dry-run") {
                (State::Nominated, format!("dry run: the nomination for era {era} is recorded, not sent"))
            } else if let Some(tx) = settled_claim {
                (State::Nominated, format!("nominated for era {era} (transaction {tx})"))
            } else {
                match (&due, &d.outcome) {
                    (Ok(()), Outcome::Skip { reason }) => (State::NotNominating, reason.clone()),
                    (Ok(()), Outcome::Nominate { .. }) => (State::ReadyToNominate, "due".to_string()),
                    (Err(NotDue::NominatedRecently { .. }), _) => (State::Nominated, due.as_ref().err().map(ToString::to_string).unwrap_or_default()),
                    (Err(NotDue::NoDrift), _) => (State::Nominated, "the chain nominates the pinned targets".into()),
                    (Err(e), _) => (
                        State::NotNominating,
                        claim
                            .as_deref()
                            .and_then(|c| c.strip_prefix("refused:").or_else(|| c.strip_prefix("failed:")))
                            .map_or_else(|| e.to_string(), |why| format!("{why}; tried again next era")),
                    ),
                }
            };
            let status = self.status(a, &state, era, stale_after, st, &why, bond, signer_info.free, eras_since, on_chain.map(|n| n.targets));
            book.statuses.insert(stash_hex, status);
        }
        let stale = book.statuses.values().filter(|s| s.stale).count();
        ::metrics::gauge!(metrics::STALE, "network" => net.name.clone()).set(stale as f64);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn status(
        &self,
        a: &Account,
        state: &AccountState,
        era: u32,
        stale_after: u32,
        st: State,
        why: &str,
        bond: Option<u128>,
        signer_free: u128,
        eras_since: Option<u32>,
        targets: Option<Vec<[u8; 32]>>,
    ) -> AccountStatus {
        let net = &self.net;
        let stale = nomination::is_stale(state.submitted_in, era, stale_after) && st != State::Nominating;
        let (st, why) = if stale {
            let why = match eras_since {
                Some(n) => format!("no nomination for {n} eras (more than {stale_after}); {why}"),
                None => format!("never nominated; {why}"),
            };
            tracing::warn!(network = %net.name, stash = %a.stash, %why, "stale nominator account");
            (State::Stale, why)
        } else {
            (st, why.to_string())
        };
        AccountStatus {
            network: net.name.clone(),
            stash: a.stash.clone(),
            stash_hex: hex0x(&a.stash_account),
            signer: a.signer.address(net.ss58_prefix),
            mode: match a.mode {
                Control::Direct => "direct".into(),
                Control::Proxy => "proxy".into(),
            },
            bonded: bond.map(|b| b.to_string()),
            bonded_tokens: bond.map(|b| tokens(b, net.decimals)),
            targets: targets.unwrap_or_default().iter().map(|t| schemas::ss58::encode(net.ss58_prefix, t)).collect(),
            submitted_in: state.submitted_in,
            era: Some(era),
            eras_since,
            stale,
            state: st,
            why,
            signer_free: Some(signer_free.to_string()),
            dry_run: self.settings.dry_run,
            updated_at_ms: now_ms(),
        }
    }

    /// Broadcast every saved transaction; returns the new ones the node refused outright.
    async fn broadcast(&self, chain: &ChainClient, book: &Book, changes: &Changes) -> Result<Vec<(String, String)>, NominatorError> {
        let mut refused = Vec::new();
        for (hash, tx) in &book.txs {
            let Ok(bytes) = hex::decode(tx.bytes.trim_start_matches("0x")) else { continue };
            match chain.broadcast(&bytes).await? {
                Broadcast::Accepted => {}
                // A first broadcast refused as invalid (1010) can never land; a later one
                // may be refused because it already landed: the chain settles that.
                Broadcast::Refused(why) if changes.new_txs.contains(hash) && why.starts_with("1010") => refused.push((hash.clone(), why)),
                Broadcast::Refused(why) => tracing::debug!(network = %self.net.name, tx = %hash, %why, "broadcast refused; settled from the chain"),
            }
        }
        Ok(refused)
    }

    /// Publish the book's pending events after what the topic already holds; true when some were.
    async fn publish(&self, publisher: &Publisher, book: &mut Book) -> Result<bool, NominatorError> {
        if book.pending.is_empty() {
            return Ok(false);
        }
        let network = self.net.name.as_str();
        let prefix = format!("{network}/");
        let partition = publisher.partition_for(topics::NOMINATOR_EVENTS, network.as_bytes()).await?;
        let last = bus::consumer::last_matching(&self.bus, topics::NOMINATOR_EVENTS, partition, |k| k.starts_with(prefix.as_bytes())).await?;
        let on_topic = last.and_then(|r| r.payload).and_then(|p| NominatorEvent::decode(&p).ok()).map_or(0, |e| e.seq);
        book.published_up_to(on_topic);
        if book.pending.is_empty() {
            return Ok(true);
        }
        let encoded: Vec<(String, Vec<u8>)> =
            book.pending.iter().map(|e| Ok((format!("{network}/{:012}", e.seq), e.encode()?))).collect::<Result<_, schemas::SchemaError>>()?;
        let batch: Vec<Outgoing> = encoded
            .iter()
            .map(|(key, payload)| Outgoing { topic: topics::NOMINATOR_EVENTS, partition_key: network.as_bytes(), key: key.as_bytes(), payload, headers: None })
            .collect();
        publisher.publish_all(batch).await?;
        let last = book.pending.last().map_or(on_topic, |e| e.seq);
        book.published_up_to(last);
        Ok(true)
    }
}

