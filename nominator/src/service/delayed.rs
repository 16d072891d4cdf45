//! Time-delay proxies: announce, wait for the delay the chain's proxy pallet
//! counts (its own blocks on a relay chain, relay-chain blocks on Asset
//! Hub), recheck, then execute or remove. Our records follow the chain:
//! every pass reads `Proxy.Announcements` of every key involved and
//! reconciles (`rules::announcement`), so a crash, a veto by the stash or a
//! stale announcement never wedges an account.

use std::collections::{BTreeMap, BTreeSet};

use chain::ChainClient;
use chain::nominate::{AccountId, BatchItem, StakingAt};
use chain::proxy::{ProxyClock, ProxyDef};
use rules::RoundSnapshot;
use rules::announcement::{self, Recheck, TargetNow};
use rules::nomination::NotDue;

use super::sign::ToSign;
use super::{Changes, NetworkNominator, account_of_hex, failed_claim, hex0x, now_ms};
use crate::NominatorError;
use crate::book::{AnnouncementRecord, Book, ItemRecord, Step, TxRecord, announcement_key, claim_key, history_key};
use crate::config::{Account, Control};
use crate::outcome::ItemOutcome;

/// The proxy pallet's clock at the pass's block.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    /// Which blocks it counts.
    pub kind: ProxyClock,
    /// Its block number now.
    pub now: u64,
    /// Milliseconds per block.
    pub block_ms: u64,
}

/// Blocks to wait after the chain refused an execution before trying again.
const RETRY_BLOCKS: u64 = 10;

fn clock_name(kind: ProxyClock) -> &'static str {
    match kind {
        ProxyClock::Own => "staking chain",
        ProxyClock::Relay => "relay chain",
    }
}

fn when(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Why `signer` cannot nominate for `stash` through `Proxy.Proxies` as it stands
/// (`delay` as configured); `None` when it can. Only a `Staking` proxy is used
/// (`force_proxy_type = Staking`), and the pallet takes the first such entry's delay.
pub(super) fn proxy_problem(defs: &[ProxyDef], signer: AccountId, signer_addr: &str, stash: &str, delay: u64) -> Option<String> {
    let mine: Vec<&ProxyDef> = defs.iter().filter(|d| d.delegate == signer).collect();
    if mine.is_empty() {
        return Some(format!(
            "{signer_addr} is not a proxy of {stash} on chain: the stash adds it with proxy.add_proxy({signer_addr}, Staking, {delay}), or configure the key of its proxy"
        ));
    }
    let Some(staking) = mine.iter().find(|d| d.proxy_type == "Staking") else {
        let types: Vec<&str> = mine.iter().map(|d| d.proxy_type.as_str()).collect();
        return Some(format!("{signer_addr} is a proxy of {stash} of type {}, not Staking", types.join(", ")));
    };
    (staking.delay != delay).then(|| {
        format!(
            "{signer_addr} is a Staking proxy of {stash} with a delay of {} blocks on chain, but proxy_delay_blocks = {delay} is configured",
            staking.delay
        )
    })
}

impl NetworkNominator {
    /// The clock, when anything of this network counts delays.
    pub(super) async fn clock(&self, at: &StakingAt<'_>, book: &Book) -> Result<Option<Clock>, NominatorError> {
        let delayed = self.net.accounts.iter().any(|a| a.mode == Control::Proxy);
        if !delayed && book.announcements.is_empty() {
            return Ok(None);
        }
        let kind = self.net.settings.proxy_clock.unwrap_or_else(|| at.proxy_clock());
        Ok(Some(Clock { kind, now: at.clock_block(kind).await?, block_ms: at.block_ms(kind) }))
    }

    /// Whether the account's key can act for its stash as configured (a proxied
    /// account: `Proxy.Proxies(stash)` holds it as a Staking proxy with the configured delay).
    pub(super) async fn usable(&self, at: &StakingAt<'_>, a: &Account) -> Result<Result<(), NotDue>, NominatorError> {
        if a.mode != Control::Proxy {
            return Ok(Ok(()));
        }
        let defs = at.proxies(a.stash_account).await?;
        let problem = proxy_problem(&defs, a.signer.public(), &a.signer.address(self.net.ss58_prefix), &a.stash, a.delay);
        self.report(&format!("signer of {}", a.stash), problem.as_deref(), true);
        Ok(match problem {
            Some(reason) => Err(NotDue::SignerUnusable { reason }),
            None => Ok(()),
        })
    }

    /// Reconcile the chain's announcements with the book, and decide for each
    /// mature one: executed (its targets still acceptable) or removed.
    pub(super) async fn upkeep(&self, at: &StakingAt<'_>, round: Option<&RoundSnapshot>, era: u32, clock: &Clock, book: &mut Book) -> Result<Vec<ToSign>, NominatorError> {
        let net = &self.net;
        let ours: BTreeMap<String, &Account> = net.accounts.iter().filter(|a| a.mode == Control::Proxy).map(|a| (hex0x(&a.stash_account), a)).collect();
        let mut delegates: BTreeSet<AccountId> = ours.values().flat_map(|a| std::iter::once(a.signer.public()).chain(a.previous.as_ref().map(|p| p.public()))).collect();
        delegates.extend(book.announcements.values().filter_map(|r| account_of_hex(&r.delegate_hex)));
        let mut on_chain = BTreeMap::new();
        let mut delegate_of = BTreeMap::new();
        for d in delegates {
            for ann in at.announcements(d).await? {
                let key = (hex0x(&ann.real), hex0x(&ann.call_hash));
                if book.announcements.contains_key(&announcement_key(&key.0, &key.1)) || ours.contains_key(&key.0) {
                    on_chain.insert(key.clone(), ann.height);
                    delegate_of.insert(key, d);
                }
            }
        }
        let records: BTreeSet<(String, String)> = book.announcements.values().map(|r| (r.stash_hex.clone(), r.call_hash.clone())).collect();
        let in_flight = book.announcements_in_flight();
        let blacklist: BTreeSet<String> = net.settings.announcement_blacklist.iter().map(|h| h.to_lowercase()).collect();
        let delays: BTreeMap<String, u64> = book.announcements.values().map(|r| (r.stash_hex.clone(), r.delay)).collect();
        let delay_of = |stash: &str| delays.get(stash).copied().or_else(|| ours.get(stash).map(|a| a.delay)).unwrap_or_default();
        let plan = announcement::reconcile(&on_chain, &records, &in_flight, &blacklist, delay_of, clock.now);

        for key in plan.forget {
            self.forget(at, &key, book).await?;
        }
        let mut items = Vec::new();
        for (key, why) in plan.remove {
            let delegate = delegate_of[&key];
            let stash = ours.get(&key.0).map_or_else(|| key.0.clone(), |a| a.stash.clone());
            let signer = ours.get(&key.0).and_then(|a| a.key_of(delegate));
            let subject = format!("announcement {} of {stash}", key.1);
            match signer {
                Some(signer) if !self.settings.dry_run => {
                    self.report(&subject, Some(&format!("an announcement the chain holds is removed: {why}")), true);
                    items.push(self.removal(signer, &key, &stash, delegate, &why));
                }
                Some(_) => self.report(&subject, Some(&format!("dry run: would remove an announcement ({why})")), true),
                None => self.report(
                    &subject,
                    Some(&format!(
                        "cannot remove an announcement ({why}): the key of its delegate {} is not configured; name it as the account's previous_secret_file",
                        schemas::ss58::encode(net.ss58_prefix, &delegate)
                    )),
                    true,
                ),
            }
        }
        for key in &plan.overdue {
            if let Some(rec) = book.announcements.get_mut(&announcement_key(&key.0, &key.1))
                && !rec.overdue
            {
                rec.overdue = true;
                tracing::warn!(network = %net.name, stash = %rec.stash, call_hash = %rec.call_hash, "announcement overdue: waited more than 1.2 delays");
                let mut ev = self.event("overdue");
                ev.stash = Some(rec.stash.clone());
                ev.detail_json = serde_json::json!({"call_hash": rec.call_hash, "height": rec.height, "delay": rec.delay}).to_string();
                book.push(ev);
            }
        }

        let keys: Vec<String> = book.announcements.keys().cloned().collect();
        for k in keys {
            let Some(rec) = book.announcements.get(&k).cloned() else { continue };
            let key = (rec.stash_hex.clone(), rec.call_hash.clone());
            if in_flight.contains(&key) || !on_chain.contains_key(&key) {
                continue;
            }
            let mut rec = rec;
            rec.clock_now = clock.now;
            rec.expected_at_ms = now_ms() + announcement::eta_ms(rec.executes_at, clock.now, clock.block_ms) as i64;
            let action = if !announcement::is_mature(rec.height, rec.delay, clock.now) {
                rec.next = format!(
                    "announced at block {} of the {}; executes at block {} (about {}), {} blocks from now",
                    rec.height,
                    clock_name(rec.clock),
                    rec.executes_at,
                    when(rec.expected_at_ms),
                    rec.executes_at.saturating_sub(clock.now)
                );
                None
            } else if clock.now < rec.retry_at {
                rec.next = format!("the chain refused its execution; tried again at block {}", rec.retry_at);
                None
            } else {
                if !rec.matured {
                    rec.matured = true;
                    let mut ev = self.event("matured");
                    ev.stash = Some(rec.stash.clone());
                    ev.block_number = Some(at.block() as i64);
                    ev.detail_json = serde_json::json!({"call_hash": rec.call_hash, "executes_at": rec.executes_at, "clock_now": clock.now}).to_string();
                    book.push(ev);
                }
                Some(self.recheck(at, round, &rec).await?)
            };
            let account = ours.get(&rec.stash_hex).copied();
            let delegate = account_of_hex(&rec.delegate_hex).unwrap_or_default();
            match action {
                None => {}
                Some(Recheck::Acceptable) => match account {
                    Some(a) if !self.settings.dry_run => {
                        rec.next = "mature and still acceptable: executing".into();
                        // Any signed origin may execute: the account's current key pays.
                        let record = ItemRecord {
                            step: Step::Execute,
                            via_proxy: true,
                            call_hash: Some(rec.call_hash.clone()),
                            delegate_hex: Some(rec.delegate_hex.clone()),
                            ..ItemRecord::nominate(&rec.stash_hex, &rec.stash, true, rec.targets.clone())
                        };
                        let targets = rec.targets.iter().filter_map(|t| account_of_hex(&t.account)).collect();
                        let solo = book.solo.get(&era).is_some_and(|s| s.contains(&rec.stash_hex));
                        items.push(ToSign { signer: a.signer.clone(), solo, record, call: BatchItem::Execute { delegate, stash: a.stash_account, targets } });
                    }
                    Some(_) => rec.next = "dry run: mature, would be executed".into(),
                    None => rec.next = "mature, but its stash is no longer configured: not executed".into(),
                },
                Some(Recheck::Unacceptable { targets, why }) => {
                    book.excluded.entry(era).or_default().extend(targets);
                    match account.and_then(|a| a.key_of(delegate)) {
                        Some(signer) if !self.settings.dry_run => {
                            rec.next = format!("removing: {why}");
                            tracing::warn!(network = %net.name, stash = %rec.stash, %why, "announced targets no longer acceptable: removing the announcement");
                            items.push(self.removal(signer, &key, &rec.stash, delegate, &why));
                        }
                        Some(_) => rec.next = format!("dry run: would be removed ({why})"),
                        None => rec.next = format!("{why}; cannot remove it: the key of its delegate is not configured"),
                    }
                }
                Some(Recheck::Unknown { why }) => rec.next = format!("mature; neither executed nor removed while {why}"),
            }
            book.announcements.insert(k, rec);
        }
        Ok(items)
    }

    fn removal(&self, signer: &crate::secret::Signer, key: &(String, String), stash: &str, delegate: AccountId, why: &str) -> ToSign {
        let record = ItemRecord {
            step: Step::Remove,
            call_hash: Some(key.1.clone()),
            delegate_hex: Some(hex0x(&delegate)),
            why: Some(why.to_string()),
            ..ItemRecord::nominate(&key.0, stash, false, Vec::new())
        };
        let stash_account = account_of_hex(&key.0).unwrap_or_default();
        let call_hash = account_of_hex(&key.1).unwrap_or_default();
        ToSign { signer: signer.clone(), solo: false, record, call: BatchItem::Remove { stash: stash_account, call_hash } }
    }

    /// Recheck a mature announcement's targets: the newest round's validity, and the chain's preferences now.
    async fn recheck(&self, at: &StakingAt<'_>, round: Option<&RoundSnapshot>, rec: &AnnouncementRecord) -> Result<Recheck, NominatorError> {
        // Its delegate must still be a Staking proxy of the stash with that delay, or it can never execute.
        let stash = account_of_hex(&rec.stash_hex).unwrap_or_default();
        let delegate = account_of_hex(&rec.delegate_hex).unwrap_or_default();
        if let Some(why) = proxy_problem(&at.proxies(stash).await?, delegate, &rec.delegate, &rec.stash, rec.delay) {
            return Ok(Recheck::Unacceptable { targets: Vec::new(), why });
        }
        let Some(round) = round else { return Ok(Recheck::Unknown { why: "no round has been scored yet".into() }) };
        let mut now = BTreeMap::new();
        for t in &rec.targets {
            let Some(account) = account_of_hex(&t.account) else { continue };
            let prefs = at.validator_prefs(account).await?;
            now.insert(t.account.to_lowercase(), prefs.map(|p| TargetNow { commission_perbill: p.commission_perbill, blocked: p.blocked }));
        }
        let targets: Vec<String> = rec.targets.iter().map(|t| t.account.clone()).collect();
        Ok(announcement::recheck(&targets, round, &now))
    }

    /// A recorded announcement the chain no longer holds, with nothing of ours in flight for it.
    async fn forget(&self, at: &StakingAt<'_>, key: &(String, String), book: &mut Book) -> Result<(), NominatorError> {
        let Some(rec) = book.announcements.remove(&announcement_key(&key.0, &key.1)) else { return Ok(()) };
        let stash = account_of_hex(&rec.stash_hex).unwrap_or_default();
        let planned: BTreeSet<String> = rec.targets.iter().map(|t| t.account.to_lowercase()).collect();
        let nominated = at.nominations(stash).await?.is_some_and(|n| n.targets.iter().map(|t| hex0x(t)).collect::<BTreeSet<_>>() == planned);
        let why = if nominated {
            "no longer on chain, and the chain nominates its targets: executed by another party".to_string()
        } else {
            "no longer on chain: rejected by the stash or removed by another party".to_string()
        };
        tracing::warn!(network = %self.net.name, stash = %rec.stash, call_hash = %rec.call_hash, %why, "announcement forgotten");
        let claim = claim_key(&rec.stash_hex, rec.era);
        if book.claims.get(&claim) == Some(&rec.tx_hash) && !nominated {
            book.claims.remove(&claim);
        }
        let mut ev = self.event(if nominated { "executed" } else { "cancelled" });
        ev.stash = Some(rec.stash.clone());
        ev.reason = Some(why);
        ev.detail_json = serde_json::json!({"call_hash": rec.call_hash}).to_string();
        book.push(ev);
        Ok(())
    }

    /// An announce item settled.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn settle_announce(
        &self,
        chain: &ChainClient,
        at: &StakingAt<'_>,
        clock: Option<&Clock>,
        tx: &TxRecord,
        item: &ItemRecord,
        out: ItemOutcome,
        block: u64,
        batch_failed: bool,
        book: &mut Book,
        changes: &mut Changes,
    ) -> Result<(), NominatorError> {
        let claim = claim_key(&item.stash_hex, tx.era);
        let call_hash = item.call_hash.clone().unwrap_or_default();
        let delegate = account_of_hex(&tx.signer_hex).unwrap_or_default();
        let stash = account_of_hex(&item.stash_hex).unwrap_or_default();
        let (kind, reason) = match out {
            ItemOutcome::Done => {
                let found = at.announcements(delegate).await?.into_iter().find(|a| a.real == stash && hex0x(&a.call_hash) == call_hash);
                match (found, clock) {
                    (Some(ann), Some(clock)) => {
                        let delay = self.net.accounts.iter().find(|a| a.stash_account == stash).map_or(0, |a| a.delay);
                        let executes_at = announcement::matures_at(ann.height, delay);
                        let expected_at_ms = now_ms() + announcement::eta_ms(executes_at, clock.now, clock.block_ms) as i64;
                        let by_previous_key = self.net.accounts.iter().any(|a| a.previous.as_ref().is_some_and(|p| p.public() == delegate));
                        let rec = AnnouncementRecord {
                            network: self.net.name.clone(),
                            stash: item.stash.clone(),
                            stash_hex: item.stash_hex.clone(),
                            delegate: tx.signer.clone(),
                            delegate_hex: tx.signer_hex.clone(),
                            call_hash: call_hash.clone(),
                            targets: item.targets.clone(),
                            era: tx.era,
                            round: tx.round,
                            tx_hash: tx.hash.clone(),
                            block,
                            height: ann.height,
                            delay,
                            clock: clock.kind,
                            executes_at,
                            expected_at_ms,
                            clock_now: clock.now,
                            matured: false,
                            overdue: false,
                            next: format!("executes at block {executes_at} of the {} (about {})", clock_name(clock.kind), when(expected_at_ms)),
                            refused_executions: 0,
                            retry_at: 0,
                            by_previous_key,
                            announced_at_ms: now_ms(),
                        };
                        tracing::info!(network = %self.net.name, stash = %item.stash, %call_hash, height = ann.height, executes_at, clock = clock_name(clock.kind), "announced");
                        let mut ev = self.event("announced");
                        ev.stash = Some(item.stash.clone());
                        ev.signer = Some(tx.signer.clone());
                        ev.tx_hash = Some(tx.hash.clone());
                        ev.block_number = Some(block as i64);
                        ev.era = Some(i64::from(tx.era));
                        ev.round = Some(tx.round as i64);
                        ev.targets = item.targets.iter().map(|t| t.stash.clone()).collect();
                        ev.detail_json = serde_json::json!({
                            "call_hash": call_hash, "height": ann.height, "delay": delay, "clock": clock.kind,
                            "executes_at": executes_at, "expected_at": when(expected_at_ms),
                        })
                        .to_string();
                        book.push(ev);
                        book.announcements.insert(announcement_key(&item.stash_hex, &call_hash), rec);
                        ("announced", None)
                    }
                    _ => {
                        book.claims.remove(&claim);
                        ("failed", Some("applied, but Proxy.Announcements shows no such announcement".to_string()))
                    }
                }
            }
            ItemOutcome::Failed(e) => {
                let name = self.error_name(chain, &e).await;
                ("failed", Some(failed_claim(book, tx.era, &item.stash_hex, name, batch_failed)))
            }
            ItemOutcome::NotRun => {
                book.claims.remove(&claim);
                ("failed", Some("not run: the batch stopped before it".to_string()))
            }
        };
        if let Some(r) = &reason {
            tracing::warn!(network = %self.net.name, stash = %item.stash, tx = %tx.hash, reason = %r, "announcement failed");
            let mut ev = self.event("failed");
            ev.stash = Some(item.stash.clone());
            ev.tx_hash = Some(tx.hash.clone());
            ev.reason = reason.clone();
            book.push(ev);
        }
        changes.history.push((history_key(&self.net.name, tx.era, &item.stash_hex), self.history_row(tx, item, Some(block), kind, reason)));
        Ok(())
    }

    /// The whole transaction of an execution failed (`Proxy.Unannounced` before the delay,
    /// `NotProxy`): the announcement is not consumed and not counted as done.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn execute_refused(
        &self,
        chain: &ChainClient,
        clock: Option<&Clock>,
        tx: &TxRecord,
        item: &ItemRecord,
        out: &ItemOutcome,
        batch_failed: bool,
        book: &mut Book,
    ) {
        let name = match out {
            ItemOutcome::Failed(e) => self.error_name(chain, e).await,
            _ => "failed".into(),
        };
        let claim = claim_key(&item.stash_hex, tx.era);
        if book.claims.get(&claim) == Some(&tx.hash) {
            book.claims.remove(&claim);
        }
        if batch_failed {
            book.solo.entry(tx.era).or_default().insert(item.stash_hex.clone());
        }
        let now = clock.map_or(0, |c| c.now);
        let mut why = format!("{name}: the chain did not execute the announcement; it is not counted as done");
        if let Some((stash, hash)) = item.announcement()
            && let Some(rec) = book.announcements.get_mut(&announcement_key(&stash, &hash))
        {
            rec.refused_executions += 1;
            rec.retry_at = now + RETRY_BLOCKS.min(rec.delay.max(1));
            why = format!("{why}, and tried again from block {}", rec.retry_at);
            rec.next = why.clone();
        }
        tracing::warn!(network = %self.net.name, stash = %item.stash, tx = %tx.hash, %why, "execution refused");
        let mut ev = self.event("failed");
        ev.stash = Some(item.stash.clone());
        ev.tx_hash = Some(tx.hash.clone());
        ev.era = Some(i64::from(tx.era));
        ev.reason = Some(why);
        ev.detail_json = serde_json::json!({"step": Step::Execute, "call_hash": item.call_hash}).to_string();
        book.push(ev);
    }

    /// An execution was applied (its inner nominate settled by `settle_item`): the chain consumed the announcement.
    pub(super) fn executed(&self, tx: &TxRecord, item: &ItemRecord, block: u64, book: &mut Book) {
        let Some((stash, hash)) = item.announcement() else { return };
        book.announcements.remove(&announcement_key(&stash, &hash));
        tracing::info!(network = %self.net.name, stash = %item.stash, call_hash = %hash, block, "announcement executed");
        let mut ev = self.event("executed");
        ev.stash = Some(item.stash.clone());
        ev.signer = Some(tx.signer.clone());
        ev.tx_hash = Some(tx.hash.clone());
        ev.block_number = Some(block as i64);
        ev.era = Some(i64::from(tx.era));
        ev.targets = item.targets.iter().map(|t| t.stash.clone()).collect();
        ev.detail_json = serde_json::json!({"call_hash": hash, "delegate": item.delegate_hex}).to_string();
        book.push(ev);
    }

    /// A removal settled.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn settle_remove(&self, chain: &ChainClient, tx: &TxRecord, item: &ItemRecord, out: ItemOutcome, block: u64, book: &mut Book, changes: &mut Changes) {
        let Some((stash, hash)) = item.announcement() else { return };
        let why = item.why.clone().unwrap_or_default();
        match out {
            ItemOutcome::Done => {
                let mut ev = self.event("cancelled");
                ev.stash = Some(item.stash.clone());
                ev.signer = Some(tx.signer.clone());
                ev.tx_hash = Some(tx.hash.clone());
                ev.block_number = Some(block as i64);
                ev.reason = Some(why.clone());
                ev.detail_json = serde_json::json!({"call_hash": hash}).to_string();
                book.push(ev);
                if let Some(rec) = book.announcements.remove(&announcement_key(&stash, &hash)) {
                    let claim = claim_key(&stash, rec.era);
                    if book.claims.get(&claim) == Some(&rec.tx_hash) {
                        book.claims.remove(&claim);
                    }
                    book.replan_after.insert(stash.clone(), (tx.round, why.clone()));
                    let row = NominationRow { era: rec.era, round: rec.round, tx_hash: rec.tx_hash.clone() };
                    changes.history.push((history_key(&self.net.name, rec.era, &stash), self.history_row(&row.tx(tx), &ItemRecord { targets: rec.targets, ..item.clone() }, Some(block), "cancelled", Some(why.clone()))));
                }
                tracing::info!(network = %self.net.name, stash = %item.stash, call_hash = %hash, %why, "announcement removed");
            }
            ItemOutcome::Failed(e) => {
                let name = self.error_name(chain, &e).await;
                tracing::warn!(network = %self.net.name, stash = %item.stash, call_hash = %hash, error = %name, "removing the announcement failed; reconciled again next pass");
                let mut ev = self.event("failed");
                ev.stash = Some(item.stash.clone());
                ev.tx_hash = Some(tx.hash.clone());
                ev.reason = Some(format!("removing the announcement failed: {name}"));
                book.push(ev);
            }
            ItemOutcome::NotRun => {}
        }
    }
}

/// The announcement's own era, round and transaction, for its history row.
struct NominationRow {
    era: u32,
    round: u64,
    tx_hash: String,
}

impl NominationRow {
    fn tx(&self, removal: &TxRecord) -> TxRecord {
        TxRecord { era: self.era, round: self.round, hash: self.tx_hash.clone(), ..removal.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(delegate: u8, proxy_type: &str, delay: u64) -> ProxyDef {
        ProxyDef { delegate: [delegate; 32], proxy_type: proxy_type.into(), delay }
    }

    #[test]
    fn a_key_is_usable_only_as_a_staking_proxy_with_the_configured_delay() {
        let check = |defs: &[ProxyDef], delay| proxy_problem(defs, [1; 32], "K", "S", delay);
        assert_eq!(check(&[def(1, "Staking", 5)], 5), None);
        assert!(check(&[def(2, "Staking", 5)], 5).unwrap().contains("not a proxy of S"));
        assert!(check(&[def(1, "Governance", 5), def(1, "Any", 5)], 5).unwrap().contains("of type Governance, Any, not Staking"));
        let wrong = check(&[def(1, "Staking", 8)], 5).unwrap();
        assert!(wrong.contains("delay of 8 blocks on chain") && wrong.contains("proxy_delay_blocks = 5"), "{wrong}");
        assert!(check(&[def(1, "Staking", 8)], 0).is_some(), "an immediate proxy needs delay 0 on chain");
        assert_eq!(check(&[def(1, "Any", 0), def(1, "Staking", 0)], 0), None);
    }
}
