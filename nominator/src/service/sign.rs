//! Signing what a pass decided: one `utility.batch_all` per signer (an
//! account whose batch failed whole goes alone), saved with its claims
//! before anything is broadcast; a dry run records the call instead.

use std::collections::{BTreeMap, BTreeSet};

use chain::ChainClient;
use chain::nominate::{BatchItem, StakingAt};

use super::{Changes, NetworkNominator, hex0x, now_ms, tokens};
use crate::NominatorError;
use crate::book::{Book, ItemRecord, Step, TxRecord, claim_key, history_key};
use crate::secret::Signer;

/// One item to sign, with its signer.
pub(super) struct ToSign {
    /// Who signs (for a removal: the delegate that announced).
    pub signer: Signer,
    /// Sent in a batch of its own (its account's batch failed whole this era).
    pub solo: bool,
    /// What is recorded of it.
    pub record: ItemRecord,
    /// The call.
    pub call: BatchItem,
}

/// Whether an item claims its (stash, era): everything but a removal.
fn claims(step: Step) -> bool {
    step != Step::Remove
}

impl NetworkNominator {
    /// Sign `items` grouped by signer, in the order they came; returns the stashes signed (or dry-run) for.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn sign_all(
        &self,
        chain: &ChainClient,
        at: &StakingAt<'_>,
        era: u32,
        round: u64,
        items: Vec<ToSign>,
        book: &mut Book,
        changes: &mut Changes,
    ) -> Result<BTreeSet<String>, NominatorError> {
        let net = &self.net;
        let mut groups: BTreeMap<Vec<u8>, Vec<ToSign>> = BTreeMap::new();
        let mut order: Vec<Vec<u8>> = Vec::new();
        for item in items {
            let mut key = item.signer.public().to_vec();
            if item.solo {
                key.extend_from_slice(item.record.stash_hex.as_bytes());
            }
            if !order.contains(&key) {
                order.push(key.clone());
            }
            groups.entry(key).or_default().push(item);
        }
        let mut sent = BTreeSet::new();
        for key in order {
            let group = groups.remove(&key).unwrap_or_default();
            let signer = group[0].signer.clone();
            let calls: Vec<BatchItem> = group.iter().map(|i| i.call.clone()).collect();
            let records: Vec<ItemRecord> = group.into_iter().map(|i| i.record).collect();
            let signer_addr = signer.address(net.ss58_prefix);
            let history_tx = |hash: &str| TxRecord {
                hash: hash.to_string(),
                signer_hex: hex0x(&signer.public()),
                signer: signer_addr.clone(),
                nonce: 0,
                birth: 0,
                mortal_until: 0,
                bytes: String::new(),
                era,
                round,
                items: Vec::new(),
                searched_to: 0,
                signed_at_ms: now_ms(),
            };
            if self.settings.dry_run {
                let call = chain.call_bytes(&calls).await?;
                for r in &records {
                    let mut ev = self.event("dry_run");
                    ev.stash = Some(r.stash.clone());
                    ev.signer = Some(signer_addr.clone());
                    ev.round = Some(round as i64);
                    ev.era = Some(i64::from(era));
                    ev.targets = r.targets.iter().map(|t| t.stash.clone()).collect();
                    ev.detail_json = serde_json::json!({"call": hex0x(&call), "step": r.step, "call_hash": r.call_hash}).to_string();
                    book.push(ev);
                    if claims(r.step) {
                        book.claims.insert(claim_key(&r.stash_hex, era), "dry-run".into());
                        changes.history.push((history_key(&net.name, era, &r.stash_hex), self.history_row(&history_tx(""), r, None, "dry_run", None)));
                    }
                    sent.insert(r.stash_hex.clone());
                }
                tracing::info!(network = %net.name, signer = %signer_addr, items = records.len(), "dry run: recorded, nothing signed");
                continue;
            }
            let chain_nonce = at.account_info(signer.public()).await?;
            let nonce = book.next_nonce(&hex0x(&signer.public()), chain_nonce.nonce);
            let signed = chain.sign_batch(signer.keypair(), &calls, nonce, net.settings.mortality_blocks).await?;
            let fee = chain.fee_of(&signed.bytes).await?;
            let spendable = chain_nonce.free.saturating_sub(chain_nonce.frozen);
            if fee > spendable {
                let reason = format!(
                    "signer {signer_addr} has {} spendable, the batch costs {}: top it up",
                    tokens(spendable, net.decimals),
                    tokens(fee, net.decimals)
                );
                for r in &records {
                    if book.last_skip.get(&r.stash_hex) != Some(&reason) {
                        let mut ev = self.event("skipped");
                        ev.stash = Some(r.stash.clone());
                        ev.signer = Some(signer_addr.clone());
                        ev.reason = Some(reason.clone());
                        book.push(ev);
                        book.last_skip.insert(r.stash_hex.clone(), reason.clone());
                        tracing::warn!(network = %net.name, stash = %r.stash, %reason, "not nominating");
                    }
                }
                continue;
            }
            for r in &records {
                if claims(r.step) {
                    book.claims.insert(claim_key(&r.stash_hex, era), signed.hash.clone());
                }
                let mut ev = self.event("signed");
                ev.stash = Some(r.stash.clone());
                ev.signer = Some(signer_addr.clone());
                ev.tx_hash = Some(signed.hash.clone());
                ev.nonce = Some(signed.nonce as i64);
                ev.mortal_until = Some(signed.mortal_until as i64);
                ev.round = Some(round as i64);
                ev.era = Some(i64::from(era));
                ev.targets = r.targets.iter().map(|t| t.stash.clone()).collect();
                ev.reason = r.why.clone();
                ev.detail_json = serde_json::json!({"step": r.step, "call_hash": r.call_hash}).to_string();
                book.push(ev);
                sent.insert(r.stash_hex.clone());
            }
            let steps: Vec<Step> = records.iter().map(|r| r.step).collect();
            tracing::info!(network = %net.name, signer = %signer_addr, tx = %signed.hash, nonce, ?steps, era, "batch signed");
            book.txs.insert(
                signed.hash.clone(),
                TxRecord {
                    hash: signed.hash.clone(),
                    signer_hex: hex0x(&signer.public()),
                    signer: signer_addr.clone(),
                    nonce: signed.nonce,
                    birth: signed.birth,
                    mortal_until: signed.mortal_until,
                    bytes: hex0x(&signed.bytes),
                    era,
                    round,
                    items: records,
                    searched_to: signed.birth,
                    signed_at_ms: now_ms(),
                },
            );
            changes.new_txs.push(signed.hash);
        }
        Ok(sent)
    }
}
