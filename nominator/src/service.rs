//! The nominator consumer: per network, under its lease, each pass
//! 1. picks up a changed configuration or secret file (a key rotation needs no restart);
//! 2. settles what is in flight from the chain (found in a finalized block:
//!    per-item outcome, confirmed by `Staking.Nominators` or
//!    `Proxy.Announcements`; past its mortality or its nonce used by
//!    something else: it cannot land);
//! 3. keeps time-delay announcements in step with the chain: reconciled
//!    with `Proxy.Announcements`, rechecked when mature, executed or removed
//!    (`delayed`);
//! 4. decides from the newest scored round who is due and what they nominate
//!    (the pure rules of `rules::nomination`; `decide`);
//! 5. signs one `utility.batch_all` per signer and saves intent and signed
//!    bytes (the outbox) with the (stash, era) claims, in one guarded write (`sign`);
//! 6. broadcasts what is saved (again after a crash, the same bytes);
//! 7. publishes the events the book holds, each once.

mod decide;
mod delayed;
mod sign;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bus::{BusConfig, Publisher};
use chain::nominate::{Broadcast, StakingAt};
use chain::{ChainClient, NetworkConfig};
use rules::RoundSnapshot;
use schemas::{NominatorEvent, topics};
use store::{Namespaces, StateWrite, Store};
use tokio_util::sync::CancellationToken;

use crate::book::{Book, ItemRecord, NominationRecord, Step, TxRecord, book_key, claim_key, history_key};
use crate::config::{Account, NetworkNominators};
use crate::lease::{Lease, NOMINATOR};
use crate::outcome::{DispatchError, ItemOutcome, TxOutcome, outcome};
use crate::reload::{LiveSettings, Refresh, SettingsSource};
use crate::{NominatorError, metrics};

use delayed::Clock;
use schemas::clock::now_ms;

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
    source: Option<Arc<dyn SettingsSource>>,
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

/// A failed item's claim on (stash, `era`): when its whole batch failed, whose
/// fault is unknown, so the claim is released and the account goes alone from
/// now on; otherwise the same call would fail again, so it is held until the
/// next era with why. Returns the reason to record.
fn failed_claim(book: &mut Book, era: u32, stash_hex: &str, name: String, batch_failed: bool) -> String {
    let claim = claim_key(stash_hex, era);
    if batch_failed {
        book.claims.remove(&claim);
        book.solo.entry(era).or_default().insert(stash_hex.to_string());
        format!("{name} (the whole batch failed; its accounts are sent one by one next)")
    } else {
        book.claims.insert(claim, format!("failed:{name}"));
        name
    }
}

fn tokens(planck: u128, decimals: u8) -> f64 {
    planck as f64 / 10f64.powi(i32::from(decimals))
}

impl Nominator {
    /// A nominator of `networks`; rows in `store`, rounds read from the live scoring namespace.
    pub fn new(bus: BusConfig, store: Arc<dyn Store>, namespaces: Arc<Namespaces>, networks: Vec<NetworkSetup>, settings: Settings) -> Self {
        Self { bus, store, namespaces, networks, settings, source: None }
    }

    /// Read each network's settings again from `source` on every pass (a changed
    /// configuration applies without a restart). Secret files are re-read either way.
    pub fn with_settings_source(mut self, source: Arc<dyn SettingsSource>) -> Self {
        self.source = Some(source);
        self
    }

    /// Run every network until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), NominatorError> {
        let mut set = tokio::task::JoinSet::new();
        for net in self.networks {
            let n = NetworkNominator {
                bus: self.bus.clone(),
                store: self.store.clone(),
                namespaces: self.namespaces.clone(),
                live: LiveSettings::new(&net.settings),
                net,
                settings: self.settings.clone(),
                source: self.source.clone(),
                reported: Mutex::new(BTreeMap::new()),
                broadcast_at: Mutex::new(BTreeMap::new()),
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
    source: Option<Arc<dyn SettingsSource>>,
    live: LiveSettings,
    /// What was last reported per subject (a misconfigured key, a removable old key):
    /// logged when it changes and once after every start, shown in the status every pass.
    reported: Mutex<BTreeMap<String, String>>,
    /// Per transaction in flight, the finalized block and the moment this process last broadcast it.
    broadcast_at: Mutex<BTreeMap<String, (u64, std::time::Instant)>>,
}

/// Blocks a broadcast transaction may go unseen before it is broadcast again
/// (a node that restarted or was failed over from has lost it). Sending it
/// every pass would only churn the pool: a copy validated while the first is
/// still being built into a block gets a block of its own, where it fails.
const REBROADCAST_AFTER_BLOCKS: u64 = 4;

/// ...or this long, whichever comes first: a chain that builds blocks only for
/// transactions (a quiet dev chain, a stalled one) would otherwise never see a
/// dropped transaction again.
const REBROADCAST_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// What a pass changed, to be saved in one write.
#[derive(Default)]
struct Changes {
    history: Vec<(String, NominationRecord)>,
    /// Transactions signed in this pass (their first broadcast decides whether they can land).
    new_txs: Vec<String>,
}

impl NetworkNominator {
    async fn run(mut self, shutdown: CancellationToken) -> Result<(), NominatorError> {
        let network = self.net.name.clone();
        let mut backoff = Duration::from_millis(500);
        let mut waiting_logged = false;
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            let result = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                r = self.serve(&shutdown) => r,
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

    /// Take the lease and pass until shutdown (or an error, which `run` retries).
    async fn serve(&mut self, shutdown: &CancellationToken) -> Result<(), NominatorError> {
        let network = self.net.name.clone();
        let ttl = self.settings.lease_ttl.as_millis() as i64;
        let mut lease = crate::lease::acquire(self.store.as_ref(), &network, &self.settings.holder, ttl, now_ms()).await?;
        tracing::info!(%network, holder = %self.settings.holder, token = lease.token(), "nominator lease taken");
        let chain = ChainClient::connect(&self.net.staking_chain).await?;
        let publisher = Publisher::new(&self.bus)?;
        loop {
            self.refresh();
            self.pass(&mut lease, &chain, &publisher).await?;
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = lease.release(self.store.as_ref()).await;
                    return Ok(());
                }
                _ = tokio::time::sleep(self.settings.poll) => {}
            }
        }
    }

    /// Pick up changed settings or secrets; a change that does not load keeps what is in force.
    fn refresh(&mut self) {
        let net = &self.net.name;
        match self.live.refresh(net, self.net.ss58_prefix, &self.net.settings, self.source.as_deref()) {
            Refresh::Same => {}
            Refresh::Changed(settings, accounts) => {
                let keys: Vec<String> = accounts
                    .iter()
                    .map(|a| match &a.previous {
                        Some(p) => format!("{}: {} (previous {})", a.stash, a.signer.address(self.net.ss58_prefix), p.address(self.net.ss58_prefix)),
                        None => format!("{}: {}", a.stash, a.signer.address(self.net.ss58_prefix)),
                    })
                    .collect();
                tracing::info!(network = %net, accounts = ?keys, "nominator settings or signing keys changed: in force from this pass");
                self.net.settings = settings;
                self.net.accounts = accounts;
            }
            Refresh::Broken(why) => {
                tracing::error!(network = %net, %why, "the changed nominator settings do not load; the accounts in force are kept")
            }
        }
    }

    /// Log `message` about `subject` when it differs from what was last reported.
    fn report(&self, subject: &str, message: Option<&str>, warn: bool) {
        let mut reported = self.reported.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let network = &self.net.name;
        match message {
            Some(m) if reported.get(subject).map(String::as_str) != Some(m) => {
                if warn {
                    tracing::warn!(%network, %subject, "{m}");
                } else {
                    tracing::info!(%network, %subject, "{m}");
                }
                reported.insert(subject.to_string(), m.to_string());
            }
            None if reported.remove(subject).is_some() => tracing::info!(%network, %subject, "resolved"),
            _ => {}
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
        let clock = self.clock(&at, &book).await?;
        self.settle(chain, &at, clock.as_ref(), &mut book, &mut changes).await?;
        let round = self.latest_round().await?;
        let mut items = match &clock {
            Some(clock) => self.upkeep(&at, round.as_ref(), era, clock, &mut book).await?,
            None => Vec::new(),
        };
        let accounts = self.decide(chain, &at, era, round.as_ref(), &mut book, &mut items).await?;
        let sent = self.sign_all(chain, &at, era, round.as_ref().map_or(0, |r| r.round), items, &mut book, &mut changes).await?;
        self.statuses(accounts, era, round.is_some(), &sent, &mut book);
        book.passed_at_ms = Some(now_ms());
        self.save(lease, &book, &changes).await?;
        // Only what is saved is broadcast: after a crash the same bytes go out again.
        let refused = self.broadcast(chain, &book, &changes, fin).await?;
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
        ::metrics::gauge!(metrics::ANNOUNCEMENTS, "network" => self.net.name.clone()).set(book.announcements.len() as f64);
        Ok(())
    }

    /// Settle every transaction in flight from what the finalized chain shows.
    async fn settle(&self, chain: &ChainClient, at: &StakingAt<'_>, clock: Option<&Clock>, book: &mut Book, changes: &mut Changes) -> Result<(), NominatorError> {
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
                let via: Vec<bool> = tx.items.iter().map(|i| i.via_proxy || i.step == Step::Execute).collect();
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
                let whole_failed = matches!(result, TxOutcome::Failed(_));
                let batch_failed = whole_failed && tx.items.len() > 1;
                let per_item: Vec<ItemOutcome> = match &result {
                    TxOutcome::Failed(e) => vec![ItemOutcome::Failed(e.clone()); tx.items.len()],
                    TxOutcome::Applied(items) => items.clone(),
                };
                for (item, out) in tx.items.iter().zip(per_item) {
                    match item.step {
                        Step::Nominate => self.settle_item(chain, at, &tx, item, out, block, batch_failed, book, changes).await?,
                        Step::Announce => self.settle_announce(chain, at, clock, &tx, item, out, block, batch_failed, book, changes).await?,
                        Step::Execute if whole_failed => self.execute_refused(chain, clock, &tx, item, &out, batch_failed, book).await,
                        Step::Execute => {
                            self.settle_item(chain, at, &tx, item, out, block, batch_failed, book, changes).await?;
                            self.executed(&tx, item, block, book);
                        }
                        Step::Remove => self.settle_remove(chain, &tx, item, out, block, book, changes).await,
                    }
                }
                book.txs.remove(&hash);
                self.report(&format!("transaction {hash}"), None, false);
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
                if !batch_failed && name.ends_with("BadTarget") {
                    // Planned again without the targets the chain refuses.
                    self.exclude_bad_targets(at, era, item, book).await?;
                    book.claims.remove(&claim);
                    ("failed", Some(name))
                } else {
                    ("failed", Some(failed_claim(book, era, &item.stash_hex, name, batch_failed)))
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
        changes.history.push((history_key(&self.net.name, era, &item.stash_hex), self.history_row(tx, item, Some(block), kind, reason)));
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
        self.report(&format!("transaction {hash}"), None, false);
        for item in &tx.items {
            let claim = claim_key(&item.stash_hex, tx.era);
            if book.claims.get(&claim).map(String::as_str) == Some(hash) {
                book.claims.remove(&claim);
                if hold_era && item.step != Step::Remove {
                    // Refused outright (bad key, fees): not retried every pass, reported until the next era.
                    book.claims.insert(claim, format!("refused:{why}"));
                }
            }
            let mut ev = self.event(kind);
            ev.stash = Some(item.stash.clone());
            ev.signer = Some(tx.signer.clone());
            ev.tx_hash = Some(tx.hash.clone());
            ev.era = Some(i64::from(tx.era));
            ev.reason = Some(why.to_string());
            book.push(ev);
            if matches!(item.step, Step::Nominate | Step::Announce) {
                ::metrics::counter!(metrics::NOMINATIONS, "network" => self.net.name.clone(), "outcome" => kind.to_string()).increment(1);
                changes.history.push((history_key(&self.net.name, tx.era, &item.stash_hex), self.history_row(&tx, item, None, kind, Some(why.to_string()))));
            }
        }
        tracing::warn!(network = %self.net.name, tx = %hash, %why, "transaction cannot land");
    }

    /// One history row of `item` of `tx`.
    fn history_row(&self, tx: &TxRecord, item: &ItemRecord, block: Option<u64>, outcome: &str, reason: Option<String>) -> NominationRecord {
        NominationRecord {
            network: self.net.name.clone(),
            era: tx.era,
            round: tx.round,
            stash: item.stash.clone(),
            signer: tx.signer.clone(),
            targets: item.targets.clone(),
            tx_hash: tx.hash.clone(),
            block,
            outcome: outcome.to_string(),
            reason,
            at_ms: now_ms(),
        }
    }

    /// The newest round of the network, re-read at decision time.
    async fn latest_round(&self) -> Result<Option<RoundSnapshot>, NominatorError> {
        let (_, store) = self.namespaces.live().await?;
        Ok(scoring::scorer::latest_round(store.as_ref(), &self.net.name).await?)
    }

    /// Broadcast every saved transaction; returns the new ones the node refused outright.
    async fn broadcast(&self, chain: &ChainClient, book: &Book, changes: &Changes, fin: u64) -> Result<Vec<(String, String)>, NominatorError> {
        let mut refused = Vec::new();
        for (hash, tx) in &book.txs {
            // New ones now; after a restart (nothing remembered) once; then only when long unseen.
            let due = {
                let mut at = self.broadcast_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                at.retain(|h, _| book.txs.contains_key(h));
                let due = at.get(hash).is_none_or(|(block, when)| fin >= block + REBROADCAST_AFTER_BLOCKS || when.elapsed() >= REBROADCAST_AFTER);
                if due {
                    at.insert(hash.clone(), (fin, std::time::Instant::now()));
                }
                due
            };
            if !due {
                continue;
            }
            let Ok(bytes) = hex::decode(tx.bytes.trim_start_matches("0x")) else { continue };
            match chain.broadcast(&bytes).await? {
                // A first broadcast refused as invalid (1010) can never land; a later one
                // may be refused because it already landed: the chain settles that.
                Broadcast::Refused(why) if changes.new_txs.contains(hash) && why.starts_with("1010") => refused.push((hash.clone(), why)),
                // Reported (once per reason): a transaction the node keeps refusing waits for its mortality.
                Broadcast::Refused(why) => self.report(
                    &format!("transaction {hash}"),
                    Some(&format!(
                        "the node refused transaction {hash} (nonce {}) again: {why}; what landed is read from the chain, and it cannot land after block {}",
                        tx.nonce, tx.mortal_until
                    )),
                    true,
                ),
                Broadcast::Accepted => self.report(&format!("transaction {hash}"), None, false),
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
        let encoded: Vec<(i64, String, Vec<u8>)> =
            book.pending.iter().map(|e| Ok((e.seq, format!("{network}/{:012}", e.seq), e.encode()?))).collect::<Result<_, schemas::SchemaError>>()?;
        // One at a time, each acknowledged before the next: a failed one can
        // never leave a hole behind a later one (the next pass starts after
        // the last on the topic). A pass has a handful of events.
        for (seq, key, payload) in &encoded {
            publisher.publish_keyed(topics::NOMINATOR_EVENTS, network.as_bytes(), key.as_bytes(), payload, None).await?;
            book.published_up_to(*seq);
        }
        Ok(true)
    }
}

