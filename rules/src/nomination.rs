//! Nomination, as pure rules: how many targets an account nominates (1KV's
//! `NumNominations.ts`), whether an account is due, and which candidates of
//! the newest scored round each account nominates. No chain, no clock: the
//! nominator reads the chain, calls these, and sends what [`select`] returns.
//!
//! Two policies: [`Policy::Ranked`] re-ranks every round and cuts the score
//! order into contiguous, non-overlapping slices in config order (1KV);
//! [`Policy::Pinned`] keeps a fixed cohort (the "Decentralized Nodes" terms)
//! and re-asserts it whenever the chain drifts from it. Either way targets
//! are re-checked against the round's validity at selection time (1KV issue
//! #553 nominated invalid candidates), and each account's targets come out
//! sorted and de-duplicated so one decision always gives the same call bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::round::{CandidateRound, RoundSnapshot};
use crate::validity::Verdict;

/// 1KV's `BALANCE_BUFFER_PERCENT`: the share of the balance kept back.
pub const BALANCE_BUFFER_SHARE: f64 = 0.002;
/// 1KV's `BALANCE_BUFFER_AMOUNT`: the least kept back, in tokens.
pub const BALANCE_BUFFER_TOKENS: f64 = 20.0;
/// The lowest elected stakes skipped before counting (1KV's `offset`, "so the tx doesn't fail").
pub const SKIPPED_LOWEST: usize = 5;

/// How many validators an account nominates (1KV `NumNominations.ts`, without its endless loop).
///
/// - `buffered = balance − max(0.002 · balance, 20)`;
/// - the elected validators' exposure totals that are finite and > 0, ascending, the 5 lowest skipped;
/// - `amount` = the largest k such that the sum of the next k totals is strictly below `buffered`.
///   1KV adds totals until the sum *reaches* `buffered` and then steps back by one, so a sum exactly
///   equal to `buffered` does not count. When every remaining total fits, `amount` is all of them
///   (1KV would run past the end of the list there);
/// - `n = ceil(amount · 1.05)` (computed exactly in integers; equal to JavaScript's float result for
///   every amount below two million), capped at `max_nominations`, and 1 when it comes out 0.
///
/// A NaN balance counts as 0 (so 1 target) and `+∞` as larger than every stake. `max_nominations == 0`
/// means the runtime allows no nominations at all: the answer is then 0, the one case below 1.
/// Never panics, never exceeds `max_nominations`, and always terminates (one pass over the list).
pub fn target_count(balance_tokens: f64, elected_stakes_tokens: &[f64], max_nominations: u32) -> u32 {
    if max_nominations == 0 {
        return 0;
    }
    let buffered = if balance_tokens.is_nan() {
        -BALANCE_BUFFER_TOKENS
    } else if balance_tokens == f64::INFINITY {
        // ∞ − max(0.002·∞, 20) is NaN in floats; the meaning is "more than everything".
        f64::INFINITY
    } else {
        balance_tokens - (BALANCE_BUFFER_SHARE * balance_tokens).max(BALANCE_BUFFER_TOKENS)
    };
    let mut stakes: Vec<f64> = elected_stakes_tokens.iter().copied().filter(|s| s.is_finite() && *s > 0.0).collect();
    stakes.sort_by(f64::total_cmp);
    // Prefix sums of positive values never decrease, so the first sum that reaches `buffered` ends the count.
    let mut sum = 0.0;
    let mut amount: u64 = 0;
    for stake in stakes.iter().skip(SKIPPED_LOWEST) {
        sum += stake;
        // Written as "not below" so that a NaN sum also stops the count.
        if !(sum < buffered) {
            break;
        }
        amount += 1;
    }
    let n = (amount.saturating_mul(105).saturating_add(99) / 100).min(u64::from(max_nominations));
    u32::try_from(n).unwrap_or(max_nominations).max(1)
}

/// How an account picks its targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum Policy {
    /// Re-rank every round and take the next slice of the score order (1KV).
    Ranked,
    /// A fixed cohort, re-asserted whenever the chain's targets differ from it.
    Pinned {
        /// The cohort, as 0x hex accounts.
        targets: Vec<String>,
    },
}

/// What the chain and the nominator's own records say about an account.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AccountState {
    /// Bonded (ledger active), tokens.
    pub bonded_tokens: f64,
    /// `Staking.Nominators(stash).submitted_in`; `None` when the stash nominates nobody.
    pub submitted_in: Option<u32>,
    /// `Staking.Nominators(stash).targets`, as 0x hex accounts.
    pub on_chain_targets: Vec<String>,
    /// A nomination of this account was sent (or announced) and its outcome is not known yet.
    pub in_flight: bool,
}

/// Settings of [`due`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DueSettings {
    /// Eras between two ranked nominations (1KV: 1 on Polkadot, 4 elsewhere).
    pub era_buffer: u32,
    /// The least bonded amount worth nominating with, tokens (1KV: more than 50).
    pub min_bond_tokens: f64,
}

/// Why an account does not nominate now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NotDue {
    /// A previous nomination is still in flight; sending again could double it.
    #[error("a nomination of this account is still in flight")]
    InFlight,
    /// Too little bonded.
    #[error("bonded {bonded} tokens, below the minimum of {minimum}")]
    BondedBelowMinimum {
        /// Bonded, tokens.
        bonded: f64,
        /// The minimum, tokens.
        minimum: f64,
    },
    /// Ranked: the chain's nomination is more recent than the era buffer.
    #[error("nominated in era {submitted_in}, {} era(s) before era {current_era}; due after {era_buffer}", ago(.current_era, .submitted_in))]
    NominatedRecently {
        /// `submitted_in` of the chain's nomination.
        submitted_in: u32,
        /// The current era.
        current_era: u32,
        /// Eras required between nominations.
        era_buffer: u32,
    },
    /// Pinned: the chain already nominates exactly the pinned set.
    #[error("the chain already nominates exactly the pinned targets")]
    NoDrift,
    /// The configured key cannot act for the stash (not its proxy, another type, another delay).
    #[error("{reason}")]
    SignerUnusable {
        /// What the chain shows, and what to change.
        reason: String,
    },
    /// An announcement of this account was removed in `round`: it is planned anew from a later round.
    #[error("its announcement was removed in round {round} ({why}); planned anew from the next round")]
    Replanning {
        /// The round the removal was decided in.
        round: u64,
        /// Why it was removed.
        why: String,
    },
}

fn ago(current_era: &u32, submitted_in: &u32) -> u32 {
    current_era.saturating_sub(*submitted_in)
}

/// A 0x hex account as compared and sent: trimmed, lowercase.
pub(crate) fn normalized(account: &str) -> String {
    account.trim().to_ascii_lowercase()
}

fn account_set<'a>(accounts: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    accounts.into_iter().map(|a| normalized(a)).collect()
}

/// Whether `account` should nominate in `current_era` under `policy`.
///
/// In order: nothing in flight; at least `min_bond_tokens` bonded (a NaN on either side is not enough);
/// then, ranked: no nomination yet or `current_era − submitted_in ≥ era_buffer` (saturating, so a
/// `submitted_in` ahead of `current_era` counts as 0 eras); pinned: the chain's target set differs from
/// the pinned set (order, case and duplicates ignored), whatever the era.
///
/// A pinned target dropped as invalid by [`select`] makes the chain differ from the pinned set every
/// round; a caller that does not want to resend the same reduced set passes the set [`pinned_targets`]
/// would keep as the policy here.
pub fn due(account: &AccountState, policy: &Policy, current_era: u32, settings: &DueSettings) -> Result<(), NotDue> {
    if account.in_flight {
        return Err(NotDue::InFlight);
    }
    if !(account.bonded_tokens >= settings.min_bond_tokens) {
        return Err(NotDue::BondedBelowMinimum { bonded: account.bonded_tokens, minimum: settings.min_bond_tokens });
    }
    match policy {
        Policy::Ranked => match account.submitted_in {
            Some(submitted_in) if current_era.saturating_sub(submitted_in) < settings.era_buffer => {
                Err(NotDue::NominatedRecently { submitted_in, current_era, era_buffer: settings.era_buffer })
            }
            _ => Ok(()),
        },
        Policy::Pinned { targets } => {
            if account_set(targets) == account_set(&account.on_chain_targets) {
                Err(NotDue::NoDrift)
            } else {
                Ok(())
            }
        }
    }
}

/// Eras since the chain's nomination was submitted (saturating); `None` when there is none.
pub fn eras_since(submitted_in: Option<u32>, current_era: u32) -> Option<u32> {
    submitted_in.map(|s| current_era.saturating_sub(s))
}

/// No nomination for MORE than `stale_after_eras` eras (1KV alerts after 8 on Kusama, 2 elsewhere).
/// An account that nominates nobody is stale: it is not earning, which is what the alert is for.
pub fn is_stale(submitted_in: Option<u32>, current_era: u32, stale_after_eras: u32) -> bool {
    eras_since(submitted_in, current_era).is_none_or(|e| e > stale_after_eras)
}

/// One account to select for, as the nominator planned it.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Stash, 0x hex.
    pub stash: String,
    /// Its policy.
    pub policy: Policy,
    /// [`due`]'s answer for it.
    pub due: Result<(), NotDue>,
    /// [`target_count`]'s answer for it (ranked accounts; pinned ones take their cohort).
    pub target_count: u32,
}

/// One nominated validator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// 0x hex account.
    pub account: String,
    /// Stash as listed (SS58).
    pub stash_ss58: String,
    /// Candidate name.
    pub name: String,
    /// Score total in the round.
    pub score: f64,
}

/// A pinned target left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// 0x hex account.
    pub account: String,
    /// Its verdict and failing checks, or why it is not in the round.
    pub reason: String,
}

/// What one account does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Nominate these, sorted by account, no duplicates.
    Nominate {
        /// The targets.
        targets: Vec<Target>,
    },
    /// Send nothing.
    Skip {
        /// Why, for people.
        reason: String,
    },
}

/// One account's part of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountDecision {
    /// Stash, 0x hex, as planned.
    pub stash: String,
    /// Nominate or skip.
    pub outcome: Outcome,
    /// Pinned targets left out as not valid in the round (empty for ranked accounts).
    #[serde(default)]
    pub dropped: Vec<Dropped>,
}

/// What every account nominates after one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Network of the round.
    pub network: String,
    /// Round (session index) the selection was made from.
    pub round: u64,
    /// Its active era.
    pub era: Option<u32>,
    /// One per planned account, in config order.
    pub accounts: Vec<AccountDecision>,
    /// Why nothing is nominated at all, when that is the case for the whole round.
    pub reason: Option<String>,
}

/// Valid in the round and scored: what may be nominated.
fn nominable(c: &CandidateRound) -> bool {
    c.validity.valid && c.score.is_some() && !c.account.is_empty()
}

fn score_of(c: &CandidateRound) -> f64 {
    // A NaN total (impossible from `score`) ranks last instead of first.
    c.score.as_ref().map(|s| s.total).filter(|t| !t.is_nan()).unwrap_or(f64::NEG_INFINITY)
}

fn target(c: &CandidateRound) -> Target {
    Target {
        account: normalized(&c.account),
        stash_ss58: c.candidate.stash.clone(),
        name: c.candidate.name.clone(),
        score: c.score.as_ref().map_or(0.0, |s| s.total),
    }
}

/// The round's nominable candidates by score total, descending; ties by account, ascending; one per account.
pub fn ranked(round: &RoundSnapshot) -> Vec<&CandidateRound> {
    let mut valid: Vec<&CandidateRound> = round.candidates.iter().filter(|c| nominable(c)).collect();
    valid.sort_by(|a, b| score_of(b).total_cmp(&score_of(a)).then_with(|| normalized(&a.account).cmp(&normalized(&b.account))));
    let mut seen = BTreeSet::new();
    valid.retain(|c| seen.insert(normalized(&c.account)));
    valid
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Unknown => "unknown",
    }
}

/// Why a candidate of the round may not be nominated.
fn why_not(c: &CandidateRound) -> String {
    if c.validity.valid {
        return "valid but not scored in this round".to_string();
    }
    let checks: Vec<String> = c.validity.reasons().map(|r| format!("{}: {}", r.check.key(), r.reason)).collect();
    if checks.is_empty() {
        verdict_name(c.validity.verdict).to_string()
    } else {
        format!("{} ({})", verdict_name(c.validity.verdict), checks.join("; "))
    }
}

/// A pinned cohort checked against the round: the targets still nominable (sorted, de-duplicated)
/// and the ones left out with their reasons (sorted by account).
pub fn pinned_targets(round: &RoundSnapshot, pinned: &[String]) -> (Vec<Target>, Vec<Dropped>) {
    let mut by_account: BTreeMap<String, &CandidateRound> = BTreeMap::new();
    for c in &round.candidates {
        // A nominable row wins over another row of the same account.
        let key = normalized(&c.account);
        if !c.account.is_empty() && by_account.get(&key).is_none_or(|old| !nominable(old) && nominable(c)) {
            by_account.insert(key, c);
        }
    }
    let (mut keep, mut dropped) = (Vec::new(), Vec::new());
    for account in account_set(pinned) {
        match by_account.get(&account) {
            Some(c) if nominable(c) => keep.push(target(c)),
            Some(c) => dropped.push(Dropped { account, reason: why_not(c) }),
            None => dropped.push(Dropped { account, reason: format!("not a candidate in round {}", round.round) }),
        }
    }
    (keep, dropped)
}

fn sorted(mut targets: Vec<Target>) -> Vec<Target> {
    targets.sort_by(|a, b| a.account.cmp(&b.account));
    targets.dedup_by(|a, b| a.account == b.account);
    targets
}

/// Each account's targets from the newest scored round, accounts in config order.
///
/// Ranked accounts that are due take contiguous slices of [`ranked`] in config order, `target_count`
/// each, never overlapping; accounts not due take nothing. The last slices may come out shorter; an
/// account whose slice is empty is skipped. Pinned accounts take their cohort minus what is not valid in
/// this round ([`pinned_targets`]) and take no ranked slice. A round with nothing nominable skips every
/// account and says so in [`Decision::reason`].
pub fn select(round: &RoundSnapshot, accounts: &[Planned]) -> Decision {
    let list = ranked(round);
    let reason = list.is_empty().then(|| format!("round {} has no valid scored candidates: nothing is nominated", round.round));
    let skip = |reason: String| Outcome::Skip { reason };
    let mut next = 0usize;
    let decisions = accounts
        .iter()
        .map(|planned| {
            let mut dropped = Vec::new();
            let outcome = if let Err(not_due) = &planned.due {
                skip(format!("not due: {not_due}"))
            } else if let Some(reason) = &reason {
                skip(reason.clone())
            } else {
                match &planned.policy {
                    Policy::Ranked => {
                        let end = next.saturating_add(planned.target_count as usize).min(list.len());
                        let slice = list.get(next..end).unwrap_or_default();
                        next = end;
                        if planned.target_count == 0 {
                            skip("target count is 0: the runtime allows no nominations".to_string())
                        } else if slice.is_empty() {
                            skip(format!("not enough valid candidates: all {} were taken by the accounts before it", list.len()))
                        } else {
                            Outcome::Nominate { targets: sorted(slice.iter().map(|c| target(c)).collect()) }
                        }
                    }
                    Policy::Pinned { targets } => {
                        let (keep, gone) = pinned_targets(round, targets);
                        dropped = gone;
                        if keep.is_empty() {
                            skip(format!("none of the {} pinned targets is valid in round {}", account_set(targets).len(), round.round))
                        } else {
                            Outcome::Nominate { targets: sorted(keep) }
                        }
                    }
                }
            };
            AccountDecision { stash: planned.stash.clone(), outcome, dropped }
        })
        .collect();
    Decision { network: round.network.clone(), round: round.round, era: round.era, accounts: decisions, reason }
}

#[cfg(test)]
pub(crate) mod tests;
