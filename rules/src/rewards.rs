//! Staking rewards per validator and nominator, from the staking events
//! (1KV's `Reward` documents and their totals). A payout is a `PayoutStarted`
//! (era, validator) followed, in the same extrinsic, by one `Rewarded` per
//! account paid: the validator's own and its nominators'. A chain's events
//! are in order on their partition, so the open payout is carried from one
//! record to the next.
//!
//! Rows: per (chain, account, era) the rewards it received in that era, keyed
//! by the event's (block, index), so a replayed event changes nothing; and
//! per (chain, role, account) running totals, added to only when an event is
//! new to its era row.

use std::collections::BTreeMap;

use schemas::TypedEvent;
use serde::{Deserialize, Serialize};

/// The payout being paid on a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// Block and extrinsic of its `PayoutStarted`.
    pub block: i64,
    pub extrinsic: Option<i32>,
    /// The era paid.
    pub era: i64,
    /// The validator paid for (0x hex, lowercase).
    pub validator: String,
}

/// Per chain, the payout its last `PayoutStarted` opened.
pub type Payouts = BTreeMap<String, Payout>;

/// Whose reward: the validator's own, or a nominator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Validator,
    Nominator,
}

impl Role {
    /// As in keys and documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Validator => "validator",
            Role::Nominator => "nominator",
        }
    }
}

/// One reward paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reward {
    /// The validator whose payout paid it (0x hex).
    pub validator: String,
    pub role: Role,
    /// Planck, decimal.
    pub amount: String,
    /// Block and event index of the `Rewarded` event.
    pub block: i64,
    pub index: i32,
}

/// The rewards an account received in one era, keyed `<block>/<index>`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EraRewards {
    pub era: i64,
    pub rewards: BTreeMap<String, Reward>,
}

/// An account's running totals in one role.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Planck, decimal.
    pub total: String,
    /// Rewards counted.
    pub count: u64,
    /// Eras of the first and the newest reward.
    pub first_era: i64,
    pub last_era: i64,
}

impl Totals {
    /// The total, planck.
    pub fn planck(&self) -> u128 {
        self.total.parse().unwrap_or_default()
    }
}

/// A reward to book: whose, in which era.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub chain: String,
    /// The account paid (0x hex, lowercase).
    pub account: String,
    pub era: i64,
    pub reward: Reward,
}

impl Credit {
    /// Its era row's key.
    pub fn era_key(&self) -> String {
        format!("{}{:010}", era_prefix(&self.chain, &self.account), self.era)
    }
    /// Its totals row's key.
    pub fn totals_key(&self) -> String {
        format!("{}{}", totals_prefix(&self.chain, self.reward.role), self.account)
    }
}

/// Key prefix of an account's era rows (`reward/<chain>/<account>/`).
pub fn era_prefix(chain: &str, account: &str) -> String {
    format!("reward/{chain}/{}/", account.to_lowercase())
}

/// Key prefix of every account's totals in a role (`total/<chain>/<role>/`).
pub fn totals_prefix(chain: &str, role: Role) -> String {
    format!("total/{chain}/{}/", role.as_str())
}

fn field(ev: &TypedEvent, name: &str) -> Option<String> {
    let fields: serde_json::Value = serde_json::from_str(&ev.fields_json).ok()?;
    fields.get(name).and_then(|v| v.as_str()).map(str::to_lowercase)
}

/// Open a payout when `ev` is a `PayoutStarted`; true when it was one.
pub fn open(payouts: &mut Payouts, ev: &TypedEvent) -> bool {
    if ev.kind != "PayoutStarted" {
        return false;
    }
    let validator = ev.account.as_ref().map(|a| a.to_lowercase()).or_else(|| field(ev, "validator_stash"));
    match (ev.era, validator) {
        (Some(era), Some(validator)) => {
            payouts.insert(ev.chain.clone(), Payout { block: ev.block_number, extrinsic: ev.extrinsic_index, era, validator });
        }
        // Unreadable: close the open one rather than credit its era wrongly.
        _ => {
            payouts.remove(&ev.chain);
        }
    }
    true
}

/// The reward `ev` pays, when it is a `Rewarded` inside the chain's open payout.
pub fn credit(payouts: &Payouts, ev: &TypedEvent) -> Option<Credit> {
    if ev.kind != "Rewarded" {
        return None;
    }
    let p = payouts.get(&ev.chain)?;
    if (p.block, p.extrinsic) != (ev.block_number, ev.extrinsic_index) {
        return None;
    }
    let account = ev.account.as_ref()?.to_lowercase();
    let amount = ev.amount.clone()?;
    let role = if account == p.validator { Role::Validator } else { Role::Nominator };
    let reward = Reward { validator: p.validator.clone(), role, amount, block: ev.block_number, index: ev.index };
    Some(Credit { chain: ev.chain.clone(), account, era: p.era, reward })
}

/// Book a credit into its era row and, when new there, its totals.
pub fn book(era_row: &mut EraRewards, totals: &mut Totals, c: &Credit) {
    let id = format!("{}/{}", c.reward.block, c.reward.index);
    if era_row.rewards.contains_key(&id) {
        return;
    }
    era_row.era = c.era;
    era_row.rewards.insert(id, c.reward.clone());
    let amount: u128 = c.reward.amount.parse().unwrap_or_default();
    totals.total = totals.planck().saturating_add(amount).to_string();
    if totals.count == 0 {
        (totals.first_era, totals.last_era) = (c.era, c.era);
    }
    totals.count += 1;
    totals.first_era = totals.first_era.min(c.era);
    totals.last_era = totals.last_era.max(c.era);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, block: i64, index: i32, extrinsic: i32, account: Option<&str>, amount: Option<&str>, era: Option<i64>, fields: &str) -> TypedEvent {
        TypedEvent {
            chain: "c".into(),
            block_number: block,
            block_hash: "0x00".into(),
            index,
            extrinsic_index: Some(extrinsic),
            pallet: "Staking".into(),
            kind: kind.into(),
            account: account.map(Into::into),
            counterpart: None,
            amount: amount.map(Into::into),
            era,
            session_index: None,
            commission_perbill: None,
            blocked: None,
            registrar_index: None,
            accounts: vec![],
            outcome: None,
            fields_json: fields.into(),
        }
    }

    fn started(block: i64, extrinsic: i32, era: i64, validator: &str) -> TypedEvent {
        ev("PayoutStarted", block, 1, extrinsic, None, None, Some(era), &format!(r#"{{"era_index":{era},"validator_stash":"{validator}"}}"#))
    }

    fn rewarded(block: i64, index: i32, extrinsic: i32, who: &str, amount: u128) -> TypedEvent {
        ev("Rewarded", block, index, extrinsic, Some(who), Some(&amount.to_string()), None, "{}")
    }

    #[test]
    fn rewards_inside_a_payout_are_credited_to_its_era_and_validator() {
        let mut payouts = Payouts::new();
        assert!(open(&mut payouts, &started(10, 2, 7, "0xVAL")));
        let own = credit(&payouts, &rewarded(10, 2, 2, "0xval", 30)).unwrap();
        assert_eq!((own.era, own.reward.role, own.reward.validator.as_str()), (7, Role::Validator, "0xval"));
        let nom = credit(&payouts, &rewarded(10, 3, 2, "0xN", 70)).unwrap();
        assert_eq!((nom.account.as_str(), nom.reward.role), ("0xn", Role::Nominator));
        assert_eq!(nom.totals_key(), "total/c/nominator/0xn");
        assert_eq!(nom.era_key(), "reward/c/0xn/0000000007");
        assert_eq!(credit(&payouts, &rewarded(10, 9, 3, "0xn", 1)), None, "another extrinsic is not this payout");
        assert_eq!(credit(&payouts, &rewarded(11, 3, 2, "0xn", 1)), None, "another block either");
        assert!(!open(&mut payouts, &rewarded(10, 3, 2, "0xn", 1)));
    }

    #[test]
    fn an_unreadable_payout_closes_the_open_one() {
        let mut payouts = Payouts::new();
        open(&mut payouts, &started(10, 2, 7, "0xval"));
        open(&mut payouts, &ev("PayoutStarted", 10, 5, 2, None, None, None, "{}"));
        assert_eq!(credit(&payouts, &rewarded(10, 6, 2, "0xn", 1)), None);
    }

    #[test]
    fn booking_twice_counts_once_and_totals_span_eras() {
        let mut payouts = Payouts::new();
        let (mut row5, mut row6, mut totals) = (EraRewards::default(), EraRewards::default(), Totals::default());
        open(&mut payouts, &started(10, 2, 6, "0xv"));
        let c6 = credit(&payouts, &rewarded(10, 3, 2, "0xn", u128::from(u64::MAX))).unwrap();
        book(&mut row6, &mut totals, &c6);
        book(&mut row6, &mut totals, &c6);
        open(&mut payouts, &started(12, 1, 5, "0xv"));
        let c5 = credit(&payouts, &rewarded(12, 2, 1, "0xn", u128::from(u64::MAX))).unwrap();
        book(&mut row5, &mut totals, &c5);
        assert_eq!((row6.era, row6.rewards.len(), row5.era), (6, 1, 5));
        assert_eq!(totals.planck(), 2 * u128::from(u64::MAX), "summed in u128, beyond u64");
        assert_eq!((totals.count, totals.first_era, totals.last_era), (2, 5, 6));
    }
}
