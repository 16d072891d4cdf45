use super::*;
use proptest::prelude::*;

const NOW: i64 = 1_800_000_000_000;
const DAY: i64 = 24 * 3600 * 1000;
const CTX: CheckContext = CheckContext { now_ms: NOW, decimals: 10 };

fn fact<T>(value: T) -> Option<Fact<T>> {
    Some(Fact::new(value, "test", "era 10"))
}

/// A candidate that passes every Polkadot check.
fn good() -> CandidateFacts {
    CandidateFacts {
        stash: "stash".into(),
        skip_self_stake: false,
        has_kusama_stash: false,
        telemetry_up: true,
        node: fact(NodeFacts {
            online: Some(true),
            online_since_ms: Some(NOW - DAY),
            discovered_at_ms: NOW - 30 * DAY,
            offline_ms: 60_000,
            window_ms: 7 * DAY,
            implementation: Some("Parity Polkadot".into()),
            version: Some("1.16.0-4b6a2e7f".into()),
            matched_by: "session_key".into(),
        }),
        location: fact(LocationFacts {
            city: Some("Zurich".into()),
            region: Some("Zurich".into()),
            country: Some("CH".into()),
            provider: Some("Init7".into()),
        }),
        intends_to_validate: fact(true),
        staking: fact(StakingFacts { commission_perbill: 50_000_000, blocked: false, self_bonded: 5_000 * 10u128.pow(10) }),
        identity: fact(IdentityFacts {
            root: "root".into(),
            display: Some("op".into()),
            has_identity: true,
            judgements: vec!["Reasonable".into()],
        }),
        nodes_of_identity: fact(1),
        beefy_key: fact("0x02aa".into()),
        unclaimed_eras: fact((vec![], 10)),
        kusama: None,
    }
}

fn all_on() -> ValidityConfig {
    let mut c = ValidityConfig::for_profile(Profile::Polkadot);
    c.provider.skip = false;
    c.sanctioned_geo.skip = false;
    c.unclaimed_rewards.skip = false;
    c
}

fn verdict_of(v: &Validity, k: CheckKind) -> Verdict {
    v.checks.iter().find(|c| c.check == k).map(|c| c.verdict).expect("check ran")
}

#[test]
fn a_good_candidate_passes_all_fifteen() {
    let v = evaluate(&good(), &all_on(), CTX);
    assert_eq!(v.checks.len(), 15);
    assert!(v.valid, "{:#?}", v.reasons().collect::<Vec<_>>());
}

#[test]
fn each_broken_rule_invalidates_with_its_evidence() {
    let cfg = all_on();
    let cases: Vec<(CheckKind, Box<dyn Fn(&mut CandidateFacts)>)> = vec![
        (CheckKind::Online, Box::new(|c| c.node.as_mut().unwrap().value.online = Some(false))),
        (CheckKind::ValidateIntention, Box::new(|c| c.intends_to_validate = fact(false))),
        (CheckKind::ClientVersion, Box::new(|c| c.node.as_mut().unwrap().value.version = Some("1.15.1".into()))),
        (CheckKind::ConnectionTime, Box::new(|c| c.node.as_mut().unwrap().value.discovered_at_ms = NOW - 6 * DAY)),
        (CheckKind::Identity, Box::new(|c| c.identity.as_mut().unwrap().value.judgements = vec!["FeePaid".into()])),
        // 0.02 of a week is 201.6 min.
        (CheckKind::OfflineTime, Box::new(|c| c.node.as_mut().unwrap().value.offline_ms = 202 * 60_000)),
        (CheckKind::Commission, Box::new(|c| c.staking.as_mut().unwrap().value.commission_perbill = 50_000_001)),
        (CheckKind::SelfStake, Box::new(|c| c.staking.as_mut().unwrap().value.self_bonded = 5_000 * 10u128.pow(10) - 1)),
        (CheckKind::UnclaimedRewards, Box::new(|c| c.unclaimed_eras = fact((vec![8], 10)))),
        (CheckKind::Blocked, Box::new(|c| c.staking.as_mut().unwrap().value.blocked = true)),
        (CheckKind::KusamaRank, Box::new(|c| {
            c.has_kusama_stash = true;
            c.kusama = fact(KusamaStanding { rank: 99, valid: true });
        })),
        (CheckKind::Provider, Box::new(|c| c.location.as_mut().unwrap().value.provider = Some(" contabo gmbh ".into()))),
        (CheckKind::BeefyKey, Box::new(|c| c.beefy_key = fact("0x62656566aa".into()))),
        (CheckKind::SanctionedGeo, Box::new(|c| c.location.as_mut().unwrap().value.region = Some("Crimea".into()))),
        (CheckKind::NodesPerIdentity, Box::new(|c| c.nodes_of_identity = fact(2))),
    ];
    assert_eq!(cases.len(), 15);
    for (kind, breaks) in cases {
        let mut c = good();
        breaks(&mut c);
        let v = evaluate(&c, &cfg, CTX);
        assert_eq!(v.verdict, Verdict::Invalid, "{kind:?}");
        let bad: Vec<CheckKind> = v.reasons().map(|r| r.check).collect();
        assert_eq!(bad, vec![kind], "only {kind:?} fails");
        let r = v.checks.iter().find(|r| r.check == kind).unwrap();
        assert!(r.evidence.value.is_some() && !r.evidence.source.is_empty(), "{kind:?} gives evidence: {r:?}");
    }
}

#[test]
fn bounds_are_inclusive_as_in_1kv() {
    let cfg = all_on();
    let mut c = good();
    c.staking.as_mut().unwrap().value.commission_perbill = 50_000_000; // exactly 5 %
    c.node.as_mut().unwrap().value.offline_ms = 201 * 60_000 + 36_000; // exactly 0.02 of a week
    c.node.as_mut().unwrap().value.discovered_at_ms = NOW - 7 * DAY; // exactly a week
    c.node.as_mut().unwrap().value.version = Some("1.15.2".into());
    c.unclaimed_eras = fact((vec![9], 10)); // 10 - 1 - 1 = 8 is the last overdue era
    assert!(evaluate(&c, &cfg, CTX).valid, "{:#?}", evaluate(&c, &cfg, CTX).reasons().collect::<Vec<_>>());
}

#[test]
fn missing_data_is_unknown_never_invalid() {
    let cfg = all_on();
    let mut c = good();
    c.staking = None;
    c.identity = None;
    c.intends_to_validate = None;
    c.location = None;
    let v = evaluate(&c, &cfg, CTX);
    assert_eq!(v.verdict, Verdict::Unknown);
    assert!(!v.valid);
    for k in [CheckKind::Commission, CheckKind::SelfStake, CheckKind::Blocked, CheckKind::Identity, CheckKind::ValidateIntention, CheckKind::Provider, CheckKind::SanctionedGeo] {
        assert_eq!(verdict_of(&v, k), Verdict::Unknown, "{k:?}");
    }
    // Our telemetry being down is not the node being down.
    let mut c = good();
    c.telemetry_up = false;
    c.node.as_mut().unwrap().value.online = None;
    assert_eq!(verdict_of(&evaluate(&c, &cfg, CTX), CheckKind::Online), Verdict::Unknown);
    c.node = None;
    assert_eq!(verdict_of(&evaluate(&c, &cfg, CTX), CheckKind::Online), Verdict::Unknown);
    // While we listen, a node nobody reports is not online.
    c.telemetry_up = true;
    assert_eq!(verdict_of(&evaluate(&c, &cfg, CTX), CheckKind::Online), Verdict::Invalid);
}

#[test]
fn invalid_wins_over_unknown_and_skipped_checks_do_not_count() {
    let mut cfg = all_on();
    let mut c = good();
    c.identity = None;
    c.staking.as_mut().unwrap().value.blocked = true;
    assert_eq!(evaluate(&c, &cfg, CTX).verdict, Verdict::Invalid);
    cfg.blocked.skip = true;
    cfg.identity.skip = true;
    let v = evaluate(&c, &cfg, CTX);
    assert!(v.valid);
    assert_eq!(v.skipped, vec![CheckKind::Identity, CheckKind::Blocked]);
    assert_eq!(v.checks.len(), 13);
}

#[test]
fn exemptions() {
    let cfg = all_on();
    let mut c = good();
    c.skip_self_stake = true;
    c.staking.as_mut().unwrap().value.self_bonded = 0;
    c.node.as_mut().unwrap().value.implementation = Some("Kagome Node".into());
    c.node.as_mut().unwrap().value.version = Some("0.9.0".into());
    c.beefy_key = None; // not in the active set
    assert!(evaluate(&c, &cfg, CTX).valid);
}

#[test]
fn versions_coerce_like_semver() {
    assert_eq!(parse_version("1.15.2-4b6a2e7f"), Some((1, 15, 2)));
    assert_eq!(parse_version("v1.16"), Some((1, 16, 0)));
    assert_eq!(parse_version("polkadot-stable2409-2"), Some((2409, 0, 0)));
    assert_eq!(parse_version("unknown"), None);
}

fn any_verdict() -> impl Strategy<Value = Verdict> {
    prop_oneof![Just(Verdict::Valid), Just(Verdict::Invalid), Just(Verdict::Unknown)]
}

proptest! {
    #[test]
    fn verdict_agrees_with_checks(vs in proptest::collection::vec(any_verdict(), 0..16)) {
        let v = combine(vs.iter().copied());
        prop_assert_eq!(v == Verdict::Valid, vs.iter().all(|x| *x == Verdict::Valid));
        prop_assert_eq!(v == Verdict::Invalid, vs.contains(&Verdict::Invalid));
        let mut rev = vs.clone();
        rev.reverse();
        prop_assert_eq!(combine(rev), v, "order-independent");
    }

    #[test]
    fn commission_is_monotonic(a in 0u32..1_000_000_000, b in 0u32..1_000_000_000) {
        let cfg = all_on();
        let (lo, hi) = (a.min(b), a.max(b));
        let mut c = good();
        c.staking.as_mut().unwrap().value.commission_perbill = hi;
        let hi_ok = evaluate(&c, &cfg, CTX).valid;
        c.staking.as_mut().unwrap().value.commission_perbill = lo;
        let lo_ok = evaluate(&c, &cfg, CTX).valid;
        prop_assert!(!hi_ok || lo_ok, "a lower commission never turns valid into invalid");
    }

    #[test]
    fn self_stake_is_monotonic(a in 0u128..10u128.pow(15), b in 0u128..10u128.pow(15)) {
        let cfg = all_on();
        let (lo, hi) = (a.min(b), a.max(b));
        let mut c = good();
        c.staking.as_mut().unwrap().value.self_bonded = lo;
        let lo_ok = evaluate(&c, &cfg, CTX).valid;
        c.staking.as_mut().unwrap().value.self_bonded = hi;
        let hi_ok = evaluate(&c, &cfg, CTX).valid;
        prop_assert!(!lo_ok || hi_ok, "more self stake never turns valid into invalid");
    }
}
