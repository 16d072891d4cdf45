use std::collections::BTreeSet;

use proptest::prelude::*;
use schemas::CandidateEntry;

use super::*;
use crate::history::History;
use crate::score::{Components, RoundSeed, Score, ScoreStats, Weights};
use crate::validity::{CandidateFacts, CheckKind, CheckResult, Evidence, Validity, ValidityConfig};

const ROUND: u64 = 7;

pub(crate) fn key(n: u8) -> String {
    format!("0x{}", ::hex::encode([n; 32]))
}

fn check(check: CheckKind, verdict: Verdict, reason: &str) -> CheckResult {
    CheckResult { check, verdict, reason: reason.into(), evidence: Evidence::default() }
}

/// A round row with just what selection reads: the stash, the verdict (one failing check when not valid) and a total.
pub(crate) fn row(n: u8, name: &str, verdict: Verdict, total: Option<f64>) -> CandidateRound {
    let checks = match verdict {
        Verdict::Valid => vec![check(CheckKind::Online, Verdict::Valid, "online")],
        Verdict::Invalid => vec![
            check(CheckKind::Online, Verdict::Valid, "online"),
            check(CheckKind::Commission, Verdict::Invalid, "commission 10% above the 5% maximum"),
        ],
        Verdict::Unknown => vec![check(CheckKind::Online, Verdict::Unknown, "no telemetry feed is up")],
    };
    let account = key(n);
    CandidateRound {
        candidate: CandidateEntry {
            slot_id: i64::from(n),
            name: name.into(),
            stash: schemas::ss58::encode(42, &[n; 32]),
            ..Default::default()
        },
        account: account.clone(),
        facts: CandidateFacts::default(),
        validity: Validity { verdict, valid: verdict == Verdict::Valid, checks, skipped: vec![] },
        history: History::default(),
        inputs: None,
        score: total.map(|total| Score { stash: account, components: Components::default(), aggregate: total, randomness: 1.0, total }),
    }
}

pub(crate) fn round(candidates: Vec<CandidateRound>) -> RoundSnapshot {
    RoundSnapshot {
        network: "testnet".into(),
        round: ROUND,
        era: Some(12),
        chain: "testnet".into(),
        block: 100,
        at_ms: 0,
        seed: RoundSeed::derive("testnet", ROUND),
        weights: Weights::production(),
        validity: ValidityConfig::default(),
        stats: ScoreStats::default(),
        candidates,
    }
}

fn recently() -> NotDue {
    NotDue::NominatedRecently { submitted_in: 11, current_era: 12, era_buffer: 4 }
}

fn planned(stash: &str, policy: Policy, due: bool, target_count: u32) -> Planned {
    Planned { stash: stash.into(), policy, due: if due { Ok(()) } else { Err(recently()) }, target_count }
}

fn accounts_of(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Nominate { targets } => targets.iter().map(|t| t.account.clone()).collect(),
        Outcome::Skip { .. } => vec![],
    }
}

fn skip_reason(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Skip { reason } => reason,
        Outcome::Nominate { targets } => panic!("expected a skip, got {targets:?}"),
    }
}

/// Five 1-token stakes in front: the five lowest, which are always skipped.
fn with_skipped(rest: &[f64]) -> Vec<f64> {
    let mut v = vec![1.0; 5];
    v.extend_from_slice(rest);
    v
}

// ---- target_count ----

#[test]
fn target_count_counts_what_fits_and_steps_back_one() {
    // balance 1000: buffer max(0.002·1000 = 2, 20) = 20, buffered 980.
    // after the five 1s: 100 → 100, 200 → 300, 300 → 600, 400 → 1000 ≥ 980: reached at 4, step back: amount 3.
    // ceil(3 · 1.05 = 3.15) = 4.
    let stakes = with_skipped(&[100.0, 200.0, 300.0, 400.0, 500.0]);
    assert_eq!(target_count(1000.0, &stakes, 16), 4);
    // Input order does not matter: the totals are sorted ascending first.
    let mut shuffled = stakes.clone();
    shuffled.reverse();
    assert_eq!(target_count(1000.0, &shuffled, 16), 4);
}

#[test]
fn target_count_a_sum_equal_to_the_buffered_balance_does_not_fit() {
    // balance 20000: buffer max(40, 20) = 40, buffered 19960.
    // 4990 → 4990, 9980, 14970, 19960 = buffered: reached (not below) at 4, step back: amount 3; ceil(3.15) = 4.
    let stakes = with_skipped(&[4990.0, 4990.0, 4990.0, 4990.0, 5000.0]);
    assert_eq!(target_count(20_000.0, &stakes, 16), 4);
    // One planck-ish more and the fourth fits: amount 4, ceil(4.2) = 5.
    assert_eq!(target_count(20_000.01, &stakes, 16), 5);
}

#[test]
fn target_count_rounds_up_by_five_percent_and_caps() {
    // balance 1100: buffer max(2.2, 20) = 20, buffered 1080.
    // fifteen 100s: the sum is 1000 after 10 (< 1080), 1100 after 11 ≥ 1080: amount 10.
    // ceil(10 · 1.05 = 10.5) = 11, below the cap of 16.
    let stakes = with_skipped(&[100.0; 15]);
    assert_eq!(target_count(1100.0, &stakes, 16), 11);
    // The same with a cap of 8: min(11, 8) = 8.
    assert_eq!(target_count(1100.0, &stakes, 8), 8);
    // amount 20 (balance 2100: buffered 2080, sum 2000 after 20, 2100 after 21): ceil(21.0) = 21, exactly.
    let stakes = with_skipped(&[100.0; 30]);
    assert_eq!(target_count(2100.0, &stakes, 24), 21);
}

#[test]
fn target_count_uses_the_percentage_buffer_on_large_balances() {
    // balance 100000: buffer max(0.002·100000 = 200, 20) = 200, buffered 99800.
    // 49900 → 49900 < 99800, + 49950 → 99850 ≥ 99800: amount 1; ceil(1.05) = 2.
    // (With the 20-token buffer it would be 99980 and amount 2, n 3.)
    let stakes = with_skipped(&[49_900.0, 49_950.0, 60_000.0]);
    assert_eq!(target_count(100_000.0, &stakes, 16), 2);
}

#[test]
fn target_count_is_at_least_one_and_zero_only_when_nothing_is_allowed() {
    // balance 10: buffered 10 − 20 = −10 < any sum: amount 0, ceil(0) = 0, so 1.
    let stakes = with_skipped(&[100.0, 200.0]);
    assert_eq!(target_count(10.0, &stakes, 16), 1);
    // balance 150: buffered 130 < 200 (the first total after the skip): amount 0, so 1.
    assert_eq!(target_count(150.0, &with_skipped(&[200.0]), 16), 1);
    assert_eq!(target_count(-5.0, &stakes, 16), 1, "negative balance");
    assert_eq!(target_count(f64::NEG_INFINITY, &stakes, 16), 1);
    assert_eq!(target_count(f64::NAN, &stakes, 16), 1, "NaN balance counts as 0");
    assert_eq!(target_count(1e9, &[], 16), 1, "no elected stakes");
    assert_eq!(target_count(1e9, &[5.0, 5.0, 5.0, 5.0, 5.0], 16), 1, "only the five skipped");
    // The runtime allows none: 0, whatever the balance.
    assert_eq!(target_count(1e9, &with_skipped(&[100.0; 10]), 0), 0);
}

#[test]
fn target_count_with_a_balance_above_every_stake_takes_all_of_them() {
    // ten 100s after the skip, all fit below 1e12: amount 10, ceil(10.5) = 11.
    let stakes = with_skipped(&[100.0; 10]);
    assert_eq!(target_count(1e12, &stakes, 16), 11);
    assert_eq!(target_count(f64::INFINITY, &stakes, 16), 11);
    assert_eq!(target_count(f64::MAX, &stakes, 16), 11);
    assert_eq!(target_count(f64::INFINITY, &with_skipped(&[100.0; 100]), 24), 24, "capped");
}

#[test]
fn target_count_ignores_stakes_that_are_not_positive_and_finite() {
    // Without the junk: five 1s skipped, then 100, 200: balance 1000 (buffered 980) fits both: amount 2, ceil(2.1) = 3.
    let mut stakes = with_skipped(&[100.0, 200.0]);
    stakes.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -50.0, 0.0, -0.0]);
    assert_eq!(target_count(1000.0, &stakes, 16), 3);
    // Were the junk counted (e.g. -50 and 0 among the lowest), 100 or 200 would be skipped instead.
}

// ---- due ----

fn settings() -> DueSettings {
    DueSettings { era_buffer: 4, min_bond_tokens: 50.0 }
}

fn state(bonded: f64, submitted_in: Option<u32>, targets: &[u8]) -> AccountState {
    AccountState { bonded_tokens: bonded, submitted_in, on_chain_targets: targets.iter().map(|n| key(*n)).collect(), in_flight: false }
}

#[test]
fn ranked_is_due_once_the_era_buffer_has_passed() {
    let s = settings();
    assert_eq!(due(&state(100.0, None, &[]), &Policy::Ranked, 12, &s), Ok(()), "never nominated");
    assert_eq!(due(&state(100.0, Some(8), &[1]), &Policy::Ranked, 12, &s), Ok(()), "12 − 8 = 4 ≥ 4");
    assert_eq!(
        due(&state(100.0, Some(9), &[1]), &Policy::Ranked, 12, &s),
        Err(NotDue::NominatedRecently { submitted_in: 9, current_era: 12, era_buffer: 4 }),
        "12 − 9 = 3 < 4"
    );
    // submitted_in ahead of our era: 0 eras, not a wrapped-around huge number.
    assert!(matches!(due(&state(100.0, Some(20), &[1]), &Policy::Ranked, 12, &s), Err(NotDue::NominatedRecently { .. })));
    let every_era = DueSettings { era_buffer: 0, ..s };
    assert_eq!(due(&state(100.0, Some(12), &[1]), &Policy::Ranked, 12, &every_era), Ok(()));
}

#[test]
fn in_flight_and_low_bond_block_both_policies() {
    let s = settings();
    let pinned = Policy::Pinned { targets: vec![key(1)] };
    let mut busy = state(1.0, None, &[]);
    busy.in_flight = true;
    assert_eq!(due(&busy, &Policy::Ranked, 12, &s), Err(NotDue::InFlight), "in flight is checked first");
    assert_eq!(due(&busy, &pinned, 12, &s), Err(NotDue::InFlight));
    assert_eq!(due(&state(49.9, None, &[]), &pinned, 12, &s), Err(NotDue::BondedBelowMinimum { bonded: 49.9, minimum: 50.0 }));
    assert_eq!(due(&state(50.0, None, &[]), &Policy::Ranked, 12, &s), Ok(()), "the minimum itself is enough");
    assert!(matches!(due(&state(f64::NAN, None, &[]), &Policy::Ranked, 12, &s), Err(NotDue::BondedBelowMinimum { .. })));
}

#[test]
fn pinned_is_due_only_when_the_chain_drifts() {
    let s = settings();
    let pinned = Policy::Pinned { targets: vec![key(1), key(2), key(3)] };
    // Same set in another order, with a duplicate and other case: no drift, whatever the era.
    let mut same = state(100.0, Some(0), &[3, 1, 2, 1]);
    same.on_chain_targets[0] = same.on_chain_targets[0].to_uppercase().replace("0X", "0x");
    assert_eq!(due(&same, &pinned, 12, &s), Err(NotDue::NoDrift));
    // Drift: one missing, one extra, or nothing nominated; re-asserted even in the era of the last nomination.
    assert_eq!(due(&state(100.0, Some(12), &[1, 2]), &pinned, 12, &s), Ok(()));
    assert_eq!(due(&state(100.0, Some(12), &[1, 2, 3, 4]), &pinned, 12, &s), Ok(()));
    assert_eq!(due(&state(100.0, None, &[]), &pinned, 12, &s), Ok(()));
}

#[test]
fn not_due_reasons_read_well() {
    assert_eq!(recently().to_string(), "nominated in era 11, 1 era(s) before era 12; due after 4");
    assert_eq!(NotDue::BondedBelowMinimum { bonded: 10.5, minimum: 50.0 }.to_string(), "bonded 10.5 tokens, below the minimum of 50");
}

#[test]
fn staleness_is_more_than_n_eras_and_never_nominated_is_stale() {
    assert_eq!(eras_since(Some(10), 12), Some(2));
    assert_eq!(eras_since(Some(15), 12), Some(0));
    assert_eq!(eras_since(None, 12), None);
    assert!(!is_stale(Some(10), 12, 2), "2 eras is not more than 2");
    assert!(is_stale(Some(9), 12, 2), "3 > 2");
    assert!(!is_stale(Some(4), 12, 8));
    assert!(is_stale(Some(3), 12, 8));
    assert!(is_stale(None, 12, 8));
    assert!(!is_stale(Some(20), 12, 0), "a nomination from a later era is fresh");
}

// ---- select ----

/// Seven candidates, five valid: by score 5 (90), 2 (80), 7 (60), 4 (50), 1 (40); 3 invalid, 6 unknown.
fn seven() -> RoundSnapshot {
    round(vec![
        row(5, "alpha", Verdict::Valid, Some(90.0)),
        row(2, "bravo", Verdict::Valid, Some(80.0)),
        row(3, "charlie", Verdict::Invalid, None),
        row(7, "delta", Verdict::Valid, Some(60.0)),
        row(4, "echo", Verdict::Valid, Some(50.0)),
        row(1, "foxtrot", Verdict::Valid, Some(40.0)),
        row(6, "golf", Verdict::Unknown, None),
    ])
}

#[test]
fn select_cuts_slices_in_config_order_and_checks_pinned_targets() {
    let r = seven();
    let pinned = Policy::Pinned { targets: vec![key(3), key(5).to_uppercase().replace("0X", "0x"), key(5), key(0x99)] };
    let accounts = vec![
        planned("0xa1", Policy::Ranked, true, 2),
        planned("0xa2", Policy::Ranked, false, 3),
        planned("0xa3", Policy::Ranked, true, 4),
        planned("0xp1", pinned, true, 16),
        planned("0xa4", Policy::Ranked, true, 1),
    ];
    let d = select(&r, &accounts);
    assert_eq!((d.network.as_str(), d.round, d.era, d.reason.clone()), ("testnet", ROUND, Some(12), None));
    let stashes: Vec<&str> = d.accounts.iter().map(|a| a.stash.as_str()).collect();
    assert_eq!(stashes, ["0xa1", "0xa2", "0xa3", "0xp1", "0xa4"], "config order");

    // a1 takes the top two (5: 90, 2: 80), returned sorted by account.
    assert_eq!(accounts_of(&d.accounts[0].outcome), [key(2), key(5)]);
    let Outcome::Nominate { targets } = &d.accounts[0].outcome else { panic!() };
    assert_eq!((targets[1].name.as_str(), targets[1].score), ("alpha", 90.0));
    assert_eq!(targets[1].stash_ss58, schemas::ss58::encode(42, &[5; 32]));
    // a2 is not due and takes nothing.
    assert_eq!(skip_reason(&d.accounts[1].outcome), "not due: nominated in era 11, 1 era(s) before era 12; due after 4");
    // a3 wants 4 but only 7, 4, 1 are left: a shorter slice.
    assert_eq!(accounts_of(&d.accounts[2].outcome), [key(1), key(4), key(7)]);
    // The pinned account keeps 5 (also in a1's slice: pinned accounts do not consume slices), drops 3 and 0x99.
    assert_eq!(accounts_of(&d.accounts[3].outcome), [key(5)]);
    assert_eq!(
        d.accounts[3].dropped,
        vec![
            Dropped { account: key(3), reason: "invalid (commission: commission 10% above the 5% maximum)".into() },
            Dropped { account: key(0x99), reason: "not a candidate in round 7".into() },
        ]
    );
    // a4: the list ran out.
    assert_eq!(skip_reason(&d.accounts[4].outcome), "not enough valid candidates: all 5 were taken by the accounts before it");
    assert!(d.accounts.iter().filter(|a| a.stash != "0xp1").all(|a| a.dropped.is_empty()));

    // Stored and read back, the decision is the same.
    let stored: Decision = serde_json::from_slice(&serde_json::to_vec(&d).unwrap()).unwrap();
    assert_eq!(stored, d);
}

#[test]
fn select_skips_pinned_accounts_with_nothing_valid_and_zero_counts() {
    let r = seven();
    let accounts = vec![
        planned("0xp1", Policy::Pinned { targets: vec![key(6)] }, true, 16),
        planned("0xa1", Policy::Ranked, true, 0),
        planned("0xa2", Policy::Ranked, true, 1),
    ];
    let d = select(&r, &accounts);
    assert_eq!(skip_reason(&d.accounts[0].outcome), "none of the 1 pinned targets is valid in round 7");
    assert_eq!(d.accounts[0].dropped, vec![Dropped { account: key(6), reason: "unknown (online: no telemetry feed is up)".into() }]);
    assert_eq!(skip_reason(&d.accounts[1].outcome), "target count is 0: the runtime allows no nominations");
    // The zero-count account took nothing: the next one still gets the best candidate.
    assert_eq!(accounts_of(&d.accounts[2].outcome), [key(5)]);
}

#[test]
fn equal_scores_are_ranked_by_account() {
    let r = round(vec![
        row(9, "nine", Verdict::Valid, Some(10.0)),
        row(3, "three", Verdict::Valid, Some(10.0)),
        row(6, "six", Verdict::Valid, Some(10.0)),
    ]);
    let d = select(&r, &[planned("0xa1", Policy::Ranked, true, 1), planned("0xa2", Policy::Ranked, true, 1)]);
    assert_eq!(accounts_of(&d.accounts[0].outcome), [key(3)]);
    assert_eq!(accounts_of(&d.accounts[1].outcome), [key(6)]);
}

#[test]
fn a_round_without_valid_candidates_nominates_nothing_and_says_why() {
    let r = round(vec![row(1, "one", Verdict::Invalid, None), row(2, "two", Verdict::Unknown, None)]);
    let accounts = vec![
        planned("0xa1", Policy::Ranked, true, 4),
        planned("0xa2", Policy::Ranked, false, 4),
        planned("0xp1", Policy::Pinned { targets: vec![key(1)] }, true, 16),
    ];
    let d = select(&r, &accounts);
    let why = "round 7 has no valid scored candidates: nothing is nominated";
    assert_eq!(d.reason.as_deref(), Some(why));
    assert_eq!(skip_reason(&d.accounts[0].outcome), why);
    assert!(skip_reason(&d.accounts[1].outcome).starts_with("not due: "));
    assert_eq!(skip_reason(&d.accounts[2].outcome), why);
}

// ---- properties ----

fn any_balance() -> impl Strategy<Value = f64> {
    prop_oneof![proptest::num::f64::ANY, 0.0..1e7f64, Just(f64::INFINITY), Just(f64::NAN)]
}

fn any_stake() -> impl Strategy<Value = f64> {
    prop_oneof![proptest::num::f64::ANY, 0.0..1e6f64]
}

/// Candidates `1..=n` (valid flag, small total so ties happen) and accounts (pinned?, due?, count, pinned picks).
type World = (Vec<(bool, u8)>, Vec<(bool, bool, u32, Vec<u8>)>);

fn world() -> impl Strategy<Value = World> {
    (
        proptest::collection::vec((any::<bool>(), 0u8..6), 0..10),
        proptest::collection::vec((any::<bool>(), any::<bool>(), 0u32..5, proptest::collection::vec(1u8..13, 0..4)), 0..6),
    )
}

fn build((candidates, accounts): &World) -> (RoundSnapshot, Vec<Planned>) {
    let rows = candidates
        .iter()
        .zip(1u8..)
        .map(|((valid, total), n)| {
            let verdict = if *valid { Verdict::Valid } else { Verdict::Invalid };
            row(n, &format!("c{n}"), verdict, valid.then_some(f64::from(*total)))
        })
        .collect();
    let planned = accounts
        .iter()
        .enumerate()
        .map(|(i, (is_pinned, is_due, count, picks))| {
            let policy = if *is_pinned { Policy::Pinned { targets: picks.iter().map(|n| key(*n)).collect() } } else { Policy::Ranked };
            planned(&format!("0xacc{i}"), policy, *is_due, *count)
        })
        .collect();
    (round(rows), planned)
}

fn ranked_union(d: &Decision, accounts: &[Planned]) -> BTreeSet<String> {
    d.accounts.iter().zip(accounts).filter(|(_, p)| p.policy == Policy::Ranked).flat_map(|(a, _)| accounts_of(&a.outcome)).collect()
}

proptest! {
    #[test]
    fn target_count_never_exceeds_the_maximum(balance in any_balance(), stakes in proptest::collection::vec(any_stake(), 0..80), max in 0u32..40) {
        let n = target_count(balance, &stakes, max);
        prop_assert!(n <= max);
        prop_assert_eq!(n == 0, max == 0);
    }

    #[test]
    fn target_count_counts_the_prefixes_below_the_buffered_balance(balance in 0.0..2e4f64, stakes in proptest::collection::vec(1.0..3e3f64, 0..30), max in 1u32..40) {
        // The same rule said another way: count every k whose first k totals (after the skip) sum below buffered.
        let mut sorted = stakes.clone();
        sorted.sort_by(f64::total_cmp);
        let rest = sorted.get(5..).unwrap_or_default();
        let buffered = balance - (balance * 0.002).max(20.0);
        let amount = (1..=rest.len()).filter(|k| rest[..*k].iter().sum::<f64>() < buffered).count() as f64;
        let expected = ((amount * 1.05).ceil() as u32).clamp(1, max);
        prop_assert_eq!(target_count(balance, &stakes, max), expected);
    }

    #[test]
    fn select_gives_disjoint_bounded_valid_and_deterministic_slices(w in world()) {
        let (r, accounts) = build(&w);
        let d = select(&r, &accounts);
        prop_assert_eq!(&d, &select(&r, &accounts), "same input, same decision");
        let valid: BTreeSet<String> = r.candidates.iter().filter(|c| c.validity.valid).map(|c| c.account.clone()).collect();
        let mut taken = BTreeSet::new();
        let mut wanted = 0usize;
        for (a, p) in d.accounts.iter().zip(&accounts) {
            let got = accounts_of(&a.outcome);
            prop_assert!(got.windows(2).all(|w| w[0] < w[1]), "sorted and unique: {:?}", got);
            prop_assert!(got.iter().all(|t| valid.contains(t)), "only valid candidates: {:?}", got);
            if p.due.is_err() {
                prop_assert!(got.is_empty());
            }
            match &p.policy {
                Policy::Ranked => {
                    prop_assert!(got.len() <= p.target_count as usize);
                    for t in &got {
                        prop_assert!(taken.insert(t.clone()), "{} in two ranked slices", t);
                    }
                    if p.due.is_ok() {
                        wanted += p.target_count as usize;
                    }
                }
                Policy::Pinned { targets } => {
                    let pinned: BTreeSet<String> = targets.iter().cloned().collect();
                    prop_assert!(got.iter().all(|t| pinned.contains(t)));
                    if p.due.is_ok() && !valid.is_empty() {
                        prop_assert_eq!(got.len() + a.dropped.len(), pinned.len(), "every pinned target kept or dropped");
                    }
                }
            }
        }
        // Together the ranked accounts take the top of the list, as many as they asked for.
        let top: BTreeSet<String> = ranked(&r).iter().take(wanted).map(|c| c.account.clone()).collect();
        prop_assert_eq!(&taken, &top);

        // Another config order changes who gets which slice, not what is taken nor what pinned accounts get.
        let reversed: Vec<Planned> = accounts.iter().rev().cloned().collect();
        let e = select(&r, &reversed);
        prop_assert_eq!(ranked_union(&e, &reversed), taken);
        for (a, p) in d.accounts.iter().zip(&accounts).filter(|(_, p)| p.policy != Policy::Ranked) {
            let same = e.accounts.iter().find(|b| b.stash == p.stash);
            prop_assert_eq!(Some(a), same);
        }
    }

    #[test]
    fn pinned_reasserts_only_on_drift(pinned in proptest::collection::vec(1u8..8, 0..6), chain in proptest::collection::vec(1u8..8, 0..6), seed in any::<u64>()) {
        let s = settings();
        let policy = Policy::Pinned { targets: pinned.iter().map(|n| key(*n)).collect() };
        // The pinned set in any order, with duplicates: never due.
        let mut shuffled = pinned.clone();
        shuffled.extend(pinned.iter().take((seed % 3) as usize));
        let turn = (seed as usize).checked_rem(shuffled.len()).unwrap_or(0);
        shuffled.rotate_left(turn);
        shuffled.reverse();
        prop_assert_eq!(due(&state(100.0, Some(12), &shuffled), &policy, 12, &s), Err(NotDue::NoDrift));
        // Any other chain state: due exactly when the sets differ.
        let differs = pinned.iter().collect::<BTreeSet<_>>() != chain.iter().collect::<BTreeSet<_>>();
        prop_assert_eq!(due(&state(100.0, Some(12), &chain), &policy, 12, &s).is_ok(), differs);
    }
}
