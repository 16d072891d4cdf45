//! What the nominator keeps per network, in the store: the transactions it
//! signed and not yet settled (the outbox: intent and signed bytes, saved
//! before they are broadcast), the (stash, era) claims that make a second
//! nomination for one era impossible, the events not yet on the topic, each
//! account's status, and (in rows of their own) the history of nominations.

use std::collections::{BTreeMap, BTreeSet};

use schemas::NominatorEvent;
use serde::{Deserialize, Serialize};

/// Key of a network's book.
pub fn book_key(network: &str) -> String {
    format!("book/{network}")
}

/// Prefix of a network's nomination history rows.
pub fn history_prefix(network: &str) -> String {
    format!("nomination/{network}/")
}

/// Key of one history row: by era, then stash, so a scan lists them in order.
pub fn history_key(network: &str, era: u32, stash_hex: &str) -> String {
    format!("nomination/{network}/{era:010}/{stash_hex}")
}

/// A target as decided, with its score at decision time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// 0x hex account.
    pub account: String,
    /// SS58 of the network.
    pub stash: String,
    /// Name in the candidate list.
    pub name: String,
    /// Score total in the round.
    pub score: f64,
}

/// What an item of a transaction does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// `staking.nominate`, directly or through an immediate proxy.
    #[default]
    Nominate,
    /// `proxy.announce` of the nominate call's hash (a time-delay proxy's first step).
    Announce,
    /// `proxy.proxy_announced`: the matured announcement executed.
    Execute,
    /// `proxy.remove_announcement`.
    Remove,
}

/// One account's nomination (or step of one) inside a transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    /// The nominator stash, 0x hex.
    pub stash_hex: String,
    /// Its SS58.
    pub stash: String,
    /// Sent through `proxy.proxy`.
    pub via_proxy: bool,
    /// Its targets, sorted by account.
    pub targets: Vec<TargetRecord>,
    /// What it does.
    #[serde(default)]
    pub step: Step,
    /// Announce, execute, remove: the nominate call's hash, 0x hex.
    #[serde(default)]
    pub call_hash: Option<String>,
    /// Execute, remove: the delegate that announced, 0x hex.
    #[serde(default)]
    pub delegate_hex: Option<String>,
    /// Remove: why.
    #[serde(default)]
    pub why: Option<String>,
}

impl ItemRecord {
    /// A `staking.nominate` item.
    pub fn nominate(stash_hex: &str, stash: &str, via_proxy: bool, targets: Vec<TargetRecord>) -> Self {
        Self { stash_hex: stash_hex.into(), stash: stash.into(), via_proxy, targets, step: Step::Nominate, call_hash: None, delegate_hex: None, why: None }
    }

    /// The announcement it concerns: (stash hex, call hash hex), for the delayed steps.
    pub fn announcement(&self) -> Option<(String, String)> {
        self.call_hash.clone().map(|h| (self.stash_hex.clone(), h))
    }
}

/// A pending announcement of a time-delay proxy, as the chain confirmed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnouncementRecord {
    /// Network.
    pub network: String,
    /// The stash (SS58 and 0x hex).
    pub stash: String,
    /// 0x hex.
    pub stash_hex: String,
    /// The delegate that announced (SS58 and 0x hex).
    pub delegate: String,
    /// 0x hex.
    pub delegate_hex: String,
    /// `blake2_256` of the `staking.nominate` call, 0x hex.
    pub call_hash: String,
    /// The targets of that call, sorted.
    pub targets: Vec<TargetRecord>,
    /// Era and round it was decided in.
    pub era: u32,
    /// Round.
    pub round: u64,
    /// The announcing transaction.
    pub tx_hash: String,
    /// The block (of the staking chain) it was included in.
    pub block: u64,
    /// The proxy pallet's block number at announcement (`Proxy.Announcements.height`).
    pub height: u64,
    /// The delay, in the pallet's blocks.
    pub delay: u64,
    /// Which blocks: own or relay.
    pub clock: chain::proxy::ProxyClock,
    /// The first block (of that clock) it may be executed in.
    pub executes_at: u64,
    /// Expected time of `executes_at`, Unix ms (from the clock's block time).
    pub expected_at_ms: i64,
    /// The clock's block at the last pass.
    pub clock_now: u64,
    /// Mature (its delay has passed).
    pub matured: bool,
    /// Waited longer than 1.2 delays.
    pub overdue: bool,
    /// What happens next, for people.
    pub next: String,
    /// Executions the chain refused as not yet mature (not counted as done).
    pub refused_executions: u32,
    /// Not tried again before this block of the clock (after a refusal).
    pub retry_at: u64,
    /// The key that announced is the account's previous key (a rotation in progress).
    pub by_previous_key: bool,
    /// When announced, Unix ms.
    pub announced_at_ms: i64,
}

/// Key of an announcement in the book.
pub fn announcement_key(stash_hex: &str, call_hash: &str) -> String {
    format!("{stash_hex}/{call_hash}")
}

/// A signed transaction not yet settled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxRecord {
    /// 0x hex extrinsic hash.
    pub hash: String,
    /// The signer, 0x hex and SS58.
    pub signer_hex: String,
    /// The signer's address.
    pub signer: String,
    /// Its nonce.
    pub nonce: u64,
    /// Mortality: from this block...
    pub birth: u64,
    /// ...to this one.
    pub mortal_until: u64,
    /// The signed bytes, 0x hex: broadcast again, never re-signed, until they cannot land.
    pub bytes: String,
    /// The era it nominates for.
    pub era: u32,
    /// The round it was decided from.
    pub round: u64,
    /// Its items, in batch order.
    pub items: Vec<ItemRecord>,
    /// Blocks up to here were searched for it.
    pub searched_to: u64,
    /// When signed, Unix ms.
    pub signed_at_ms: i64,
}

/// An account's state, as 1KV named them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    /// The on-chain nomination is current.
    #[serde(rename = "Nominated")]
    Nominated,
    /// Due: a nomination will be decided at the next round.
    #[serde(rename = "Ready to Nominate")]
    ReadyToNominate,
    /// A transaction is in flight.
    #[serde(rename = "Nominating")]
    Nominating,
    /// Not nominated, and not going to be until what `why` says changes.
    #[serde(rename = "Not Nominating")]
    NotNominating,
    /// No nomination for more eras than allowed.
    #[serde(rename = "Stale")]
    Stale,
    /// A time-delay announcement waits for its delay (or its execution).
    #[serde(rename = "Awaiting Proxy Execution")]
    AwaitingProxyExecution,
}

/// What `/nominators` shows of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountStatus {
    /// Network.
    pub network: String,
    /// The stash (SS58).
    pub stash: String,
    /// The stash, 0x hex.
    pub stash_hex: String,
    /// The signer's public address.
    pub signer: String,
    /// direct or proxy.
    pub mode: String,
    /// Active bond, planck (as a string: it can exceed 2^53).
    pub bonded: Option<String>,
    /// Active bond in tokens.
    pub bonded_tokens: Option<f64>,
    /// On-chain targets (SS58).
    pub targets: Vec<String>,
    /// `submitted_in` of the on-chain nomination.
    pub submitted_in: Option<u32>,
    /// The current era.
    pub era: Option<u32>,
    /// Eras since the on-chain nomination.
    pub eras_since: Option<u32>,
    /// No nomination for more eras than allowed.
    pub stale: bool,
    /// The state.
    pub state: State,
    /// Why.
    pub why: String,
    /// The signer's free balance, planck.
    pub signer_free: Option<String>,
    /// Dry run: nothing is signed.
    pub dry_run: bool,
    /// The proxy's announcement delay (0: immediate or direct).
    #[serde(default)]
    pub proxy_delay_blocks: u64,
    /// The pending announcement, if any.
    #[serde(default)]
    pub announcement: Option<AnnouncementRecord>,
    /// During a key rotation, the previous key's address.
    #[serde(default)]
    pub previous_signer: Option<String>,
    /// Announcements and transactions of the previous key still pending.
    #[serde(default)]
    pub previous_signer_pending: usize,
    /// Nothing of the previous key is pending: it can be removed from the
    /// configuration and from the stash's proxies.
    #[serde(default)]
    pub previous_signer_removable: bool,
    /// When this was read, Unix ms.
    pub updated_at_ms: i64,
}

/// One nomination's history row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NominationRecord {
    /// Network.
    pub network: String,
    /// Era nominated for.
    pub era: u32,
    /// Round decided from.
    pub round: u64,
    /// The stash (SS58).
    pub stash: String,
    /// The signer.
    pub signer: String,
    /// Targets with their scores at decision time.
    pub targets: Vec<TargetRecord>,
    /// 0x hex extrinsic hash (empty in a dry run).
    pub tx_hash: String,
    /// Block of inclusion.
    pub block: Option<u64>,
    /// confirmed, failed, expired or dry_run.
    pub outcome: String,
    /// The module error or why it did not land.
    pub reason: Option<String>,
    /// When settled, Unix ms.
    pub at_ms: i64,
}

/// A network's book.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Book {
    /// The next event's sequence number (from 1).
    pub next_seq: i64,
    /// Events not yet on the topic, in order.
    pub pending: Vec<NominatorEvent>,
    /// Transactions signed and not settled, by hash.
    pub txs: BTreeMap<String, TxRecord>,
    /// `<stash hex>/<era>` -> the transaction (or `dry-run`) that nominates it.
    pub claims: BTreeMap<String, String>,
    /// Per era, targets the chain refused (not a validator, or blocked): left out of later plans.
    pub excluded: BTreeMap<u32, BTreeSet<String>>,
    /// Per era, accounts whose batch failed whole: sent in a batch of their own from then on,
    /// so one account's fault (a removed proxy) cannot stop the others.
    pub solo: BTreeMap<u32, BTreeSet<String>>,
    /// Per account, the last skip reason recorded (one event per change, not per pass).
    pub last_skip: BTreeMap<String, String>,
    /// The last (round, era) a decision was recorded for.
    pub last_decision: Option<(u64, u32)>,
    /// Per account (stash hex), its status.
    pub statuses: BTreeMap<String, AccountStatus>,
    /// Pending announcements of time-delay proxies, by [`announcement_key`].
    #[serde(default)]
    pub announcements: BTreeMap<String, AnnouncementRecord>,
    /// Per account whose announcement was removed: the round that decided it, and why
    /// (planned anew only from a later round).
    #[serde(default)]
    pub replan_after: BTreeMap<String, (u64, String)>,
    /// When the last pass completed its decisions (ms): `/ready` finds a stalled nominator by it.
    #[serde(default)]
    pub passed_at_ms: Option<i64>,
}

/// Key of a claim.
pub fn claim_key(stash_hex: &str, era: u32) -> String {
    format!("{stash_hex}/{era}")
}

impl Book {
    /// Add an event, numbering it.
    pub fn push(&mut self, mut event: NominatorEvent) {
        if self.next_seq < 1 {
            self.next_seq = 1;
        }
        event.seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push(event);
    }

    /// Whether `stash_hex` has a transaction in flight.
    pub fn in_flight(&self, stash_hex: &str) -> bool {
        self.tx_of(stash_hex).is_some()
    }

    /// The transaction in flight for `stash_hex`, if any.
    pub fn tx_of(&self, stash_hex: &str) -> Option<&TxRecord> {
        self.txs.values().find(|t| t.items.iter().any(|i| i.stash_hex == stash_hex))
    }

    /// The pending announcement of `stash_hex`, if any.
    pub fn announcement_of(&self, stash_hex: &str) -> Option<&AnnouncementRecord> {
        self.announcements.values().find(|a| a.stash_hex == stash_hex)
    }

    /// Announcements (stash hex, call hash) a transaction in flight announces, executes or removes.
    pub fn announcements_in_flight(&self) -> BTreeSet<(String, String)> {
        self.txs.values().flat_map(|t| t.items.iter().filter_map(ItemRecord::announcement)).collect()
    }

    /// The next nonce for `signer_hex`: above every nonce of its transactions in flight, and at least the chain's.
    pub fn next_nonce(&self, signer_hex: &str, chain_nonce: u64) -> u64 {
        self.txs.values().filter(|t| t.signer_hex == signer_hex).map(|t| t.nonce + 1).fold(chain_nonce, u64::max)
    }

    /// Forget what the topic already holds (its last sequence number is `on_topic`).
    pub fn published_up_to(&mut self, on_topic: i64) {
        self.pending.retain(|e| e.seq > on_topic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(signer: &str, nonce: u64, stash: &str) -> TxRecord {
        TxRecord {
            hash: format!("0x{nonce}"),
            signer_hex: signer.into(),
            signer: signer.into(),
            nonce,
            birth: 1,
            mortal_until: 65,
            bytes: "0x".into(),
            era: 3,
            round: 10,
            items: vec![ItemRecord::nominate(stash, stash, false, vec![])],
            searched_to: 1,
            signed_at_ms: 0,
        }
    }

    #[test]
    fn events_are_numbered_from_one_without_gaps() {
        let mut b = Book::default();
        for _ in 0..3 {
            b.push(NominatorEvent::default());
        }
        assert_eq!(b.pending.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        b.published_up_to(2);
        assert_eq!(b.pending.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);
        b.push(NominatorEvent::default());
        assert_eq!(b.pending.last().map(|e| e.seq), Some(4));
    }

    #[test]
    fn nonces_count_what_is_in_flight() {
        let mut b = Book::default();
        assert_eq!(b.next_nonce("s", 5), 5);
        b.txs.insert("a".into(), tx("s", 5, "x"));
        b.txs.insert("b".into(), tx("s", 6, "y"));
        b.txs.insert("c".into(), tx("other", 40, "z"));
        assert_eq!(b.next_nonce("s", 5), 7);
        assert_eq!(b.next_nonce("s", 9), 9, "the chain moved on (another tool used the key)");
        assert!(b.in_flight("y") && !b.in_flight("w"));
    }

    #[test]
    fn states_serialise_as_1kv_named_them() {
        assert_eq!(serde_json::to_value(State::ReadyToNominate).unwrap(), "Ready to Nominate");
        assert_eq!(serde_json::to_value(State::NotNominating).unwrap(), "Not Nominating");
    }
}
