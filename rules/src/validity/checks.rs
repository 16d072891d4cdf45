//! The fifteen checks, one pure function each: facts and settings in, a
//! verdict with its evidence out. A missing fact is "unknown", never "invalid".

use serde::{Deserialize, Serialize};
use smol_str::{SmolStr, ToSmolStr, format_smolstr};

use super::config::ValidityConfig;
use super::facts::{CandidateFacts, Fact};

/// The outcome of one check (and of a candidate as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The rule holds.
    Valid,
    /// The rule is broken.
    Invalid,
    /// The data needed is missing or stale.
    Unknown,
}

/// Which check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Node online in telemetry.
    Online,
    /// In Staking.Validators.
    ValidateIntention,
    /// Node version recent enough.
    ClientVersion,
    /// First seen long enough ago.
    ConnectionTime,
    /// Verified identity.
    Identity,
    /// Offline time in the window.
    OfflineTime,
    /// Commission.
    Commission,
    /// Self stake.
    SelfStake,
    /// Unclaimed rewards.
    UnclaimedRewards,
    /// Not blocking nominations.
    Blocked,
    /// Kusama rank.
    KusamaRank,
    /// Hosting provider.
    Provider,
    /// No dummy BEEFY key.
    BeefyKey,
    /// Sanctioned country or region.
    SanctionedGeo,
    /// Nodes per identity.
    NodesPerIdentity,
}

impl CheckKind {
    /// Every check, in 1KV's order with the new one last.
    pub const ALL: [CheckKind; 15] = [
        CheckKind::Online,
        CheckKind::ValidateIntention,
        CheckKind::ClientVersion,
        CheckKind::ConnectionTime,
        CheckKind::Identity,
        CheckKind::OfflineTime,
        CheckKind::Commission,
        CheckKind::SelfStake,
        CheckKind::UnclaimedRewards,
        CheckKind::Blocked,
        CheckKind::KusamaRank,
        CheckKind::Provider,
        CheckKind::BeefyKey,
        CheckKind::SanctionedGeo,
        CheckKind::NodesPerIdentity,
    ];

    /// The config key (and JSON name) of the check.
    pub fn key(self) -> &'static str {
        match self {
            CheckKind::Online => "online",
            CheckKind::ValidateIntention => "validate_intention",
            CheckKind::ClientVersion => "client_version",
            CheckKind::ConnectionTime => "connection_time",
            CheckKind::Identity => "identity",
            CheckKind::OfflineTime => "offline_time",
            CheckKind::Commission => "commission",
            CheckKind::SelfStake => "self_stake",
            CheckKind::UnclaimedRewards => "unclaimed_rewards",
            CheckKind::Blocked => "blocked",
            CheckKind::KusamaRank => "kusama_rank",
            CheckKind::Provider => "provider",
            CheckKind::BeefyKey => "beefy_key",
            CheckKind::SanctionedGeo => "sanctioned_geo",
            CheckKind::NodesPerIdentity => "nodes_per_identity",
        }
    }

    /// Whether the settings switch this check off.
    pub fn skipped(self, cfg: &ValidityConfig) -> bool {
        match self {
            CheckKind::Online => cfg.online.skip,
            CheckKind::ValidateIntention => cfg.validate_intention.skip,
            CheckKind::ClientVersion => cfg.client_version.skip,
            CheckKind::ConnectionTime => cfg.connection_time.skip,
            CheckKind::Identity => cfg.identity.skip,
            CheckKind::OfflineTime => cfg.offline_time.skip,
            CheckKind::Commission => cfg.commission.skip,
            CheckKind::SelfStake => cfg.self_stake.skip,
            CheckKind::UnclaimedRewards => cfg.unclaimed_rewards.skip,
            CheckKind::Blocked => cfg.blocked.skip,
            CheckKind::KusamaRank => cfg.kusama_rank.skip,
            CheckKind::Provider => cfg.provider.skip,
            CheckKind::BeefyKey => cfg.beefy_key.skip,
            CheckKind::SanctionedGeo => cfg.sanctioned_geo.skip,
            CheckKind::NodesPerIdentity => cfg.nodes_per_identity.skip,
        }
    }
}

/// What a verdict rests on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// The value seen (`None` when there was none).
    pub value: Option<SmolStr>,
    /// The bound it was held against.
    pub bound: Option<SmolStr>,
    /// Where the value came from.
    pub source: SmolStr,
    /// When it was true.
    pub at: Option<SmolStr>,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Which check.
    pub check: CheckKind,
    /// Its verdict.
    pub verdict: Verdict,
    /// One sentence for people.
    pub reason: SmolStr,
    /// The value, bound, source and time.
    pub evidence: Evidence,
}

/// Inputs a check needs besides the candidate's facts.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext {
    /// When the checks run (ms).
    pub now_ms: i64,
    /// Decimals of the network's token.
    pub decimals: u8,
}

/// Topics the checks' data comes from, named in evidence.
pub mod sources {
    use smol_str::SmolStr;

    /// Telemetry.
    pub const TELEMETRY: SmolStr = SmolStr::new_static("stakeflow.telemetry.nodes");
    /// Era snapshots of validators.
    pub const VALIDATORS: SmolStr = SmolStr::new_static("stakeflow.staking.validators");
    /// Identities.
    pub const IDENTITIES: SmolStr = SmolStr::new_static("stakeflow.identity.accounts");
    /// Session snapshots.
    pub const SESSIONS: SmolStr = SmolStr::new_static("stakeflow.session.snapshots");
    /// The candidates list.
    pub const CANDIDATES: SmolStr = SmolStr::new_static("stakeflow.programme.candidates");
    /// Location data.
    pub const LOCATION: SmolStr = SmolStr::new_static("location");
    /// Claimed rewards.
    pub const REWARDS: SmolStr = SmolStr::new_static("claimed rewards");
    /// The Kusama network of this deployment.
    pub const KUSAMA: SmolStr = SmolStr::new_static("kusama programme");
}

fn result(check: CheckKind, verdict: Verdict, reason: SmolStr, evidence: Evidence) -> CheckResult {
    CheckResult { check, verdict, reason, evidence }
}

fn unknown(check: CheckKind, source: SmolStr, what: &str) -> CheckResult {
    result(check, Verdict::Unknown, format_smolstr!("no {what} known yet"), Evidence { source, ..Evidence::default() })
}

fn evidence<T>(fact: &Fact<T>, value: impl Into<SmolStr>, bound: Option<SmolStr>) -> Evidence {
    Evidence { value: Some(value.into()), bound, source: fact.source.clone(), at: Some(fact.at.clone()) }
}

fn judge(ok: bool) -> Verdict {
    if ok { Verdict::Valid } else { Verdict::Invalid }
}

/// Run one check.
pub fn run(check: CheckKind, c: &CandidateFacts, cfg: &ValidityConfig, ctx: CheckContext) -> CheckResult {
    match check {
        CheckKind::Online => online(c),
        CheckKind::ValidateIntention => validate_intention(c),
        CheckKind::ClientVersion => client_version(c, cfg),
        CheckKind::ConnectionTime => connection_time(c, cfg, ctx),
        CheckKind::Identity => identity(c),
        CheckKind::OfflineTime => offline_time(c, cfg),
        CheckKind::Commission => commission(c, cfg),
        CheckKind::SelfStake => self_stake(c, cfg, ctx),
        CheckKind::UnclaimedRewards => unclaimed(c, cfg),
        CheckKind::Blocked => blocked(c),
        CheckKind::KusamaRank => kusama_rank(c, cfg),
        CheckKind::Provider => provider(c, cfg),
        CheckKind::BeefyKey => beefy_key(c),
        CheckKind::SanctionedGeo => sanctioned_geo(c, cfg),
        CheckKind::NodesPerIdentity => nodes_per_identity(c, cfg),
    }
}

fn online(c: &CandidateFacts) -> CheckResult {
    let k = CheckKind::Online;
    let Some(node) = &c.node else {
        // Absence only means something while we are listening.
        return if c.telemetry_up {
            result(
                k,
                Verdict::Invalid,
                SmolStr::new_static("not seen in telemetry (check the node's telemetry URL and name)"),
                Evidence { value: Some(SmolStr::new_static("not seen")), source: sources::TELEMETRY.into(), ..Evidence::default() },
            )
        } else {
            result(
                k,
                Verdict::Unknown,
                SmolStr::new_static("no telemetry feed of the network is up"),
                Evidence { source: sources::TELEMETRY.into(), ..Evidence::default() },
            )
        };
    };
    match node.value.online {
        None => result(
            k,
            Verdict::Unknown,
            SmolStr::new_static("no telemetry feed of the network is up"),
            evidence(node, "unknown", None),
        ),
        Some(true) => result(k, Verdict::Valid, SmolStr::new_static("online"), evidence(node, "online", None)),
        Some(false) => result(k, Verdict::Invalid, SmolStr::new_static("offline in telemetry"), evidence(node, "offline", None)),
    }
}

fn validate_intention(c: &CandidateFacts) -> CheckResult {
    let k = CheckKind::ValidateIntention;
    let Some(f) = &c.intends_to_validate else { return unknown(k, sources::VALIDATORS, "era snapshot of validators") };
    if f.value {
        result(k, Verdict::Valid, SmolStr::new_static("intends to validate"), evidence(f, "in Staking.Validators", None))
    } else {
        result(k, Verdict::Invalid, SmolStr::new_static("does not intend to validate (not in Staking.Validators)"), evidence(f, "absent", None))
    }
}

/// `major.minor.patch` from the first digits of `v` (like semver's coerce).
pub fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let start = v.find(|ch: char| ch.is_ascii_digit())?;
    let mut nums = [0u64; 3];
    let mut parts = v[start..].split('.');
    for slot in nums.iter_mut() {
        let Some(part) = parts.next() else { break };
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        *slot = digits.parse().ok()?;
        if digits.len() != part.len() {
            break; // "2-4b6a2e7f": the version ends here
        }
    }
    Some((nums[0], nums[1], nums[2]))
}

fn client_version(c: &CandidateFacts, cfg: &ValidityConfig) -> CheckResult {
    let k = CheckKind::ClientVersion;
    let Some(node) = &c.node else { return unknown(k, sources::TELEMETRY, "node version") };
    let bound = SmolStr::new(cfg.client_version.min_version.as_deref().unwrap_or_default());
    if let Some(imp) = &node.value.implementation
        && cfg.client_version.exempt_implementations.iter().any(|e| e == imp)
    {
        return result(k, Verdict::Valid, format_smolstr!("{imp} is exempt"), evidence(node, imp.as_str(), Some(bound)));
    }
    let Some(version) = &node.value.version else { return unknown(k, sources::TELEMETRY, "node version") };
    let (Some(have), Some(need)) = (parse_version(version), parse_version(&bound)) else {
        return result(
            k,
            Verdict::Invalid,
            format_smolstr!("version {version:?} cannot be read as a version"),
            evidence(node, version.as_str(), Some(bound)),
        );
    };
    let ok = have >= need;
    let reason = if ok { format_smolstr!("version {version} >= {bound}") } else { format_smolstr!("version {version} is older than {bound}") };
    result(k, judge(ok), reason, evidence(node, version.as_str(), Some(bound)))
}

fn connection_time(c: &CandidateFacts, cfg: &ValidityConfig, ctx: CheckContext) -> CheckResult {
    let k = CheckKind::ConnectionTime;
    let Some(node) = &c.node else { return unknown(k, sources::TELEMETRY, "first telemetry sighting") };
    let min_ms = cfg.connection_time.min.as_millis() as i64;
    let age = ctx.now_ms.saturating_sub(node.value.discovered_at_ms);
    let ok = age >= min_ms;
    let reason = if ok {
        SmolStr::new_static("connected long enough")
    } else {
        format_smolstr!("first seen {} ago, needs {}", human_ms(age), human_ms(min_ms))
    };
    result(k, judge(ok), reason, evidence(node, format_smolstr!("first seen at {} ms", node.value.discovered_at_ms), Some(human_ms(min_ms))))
}

fn identity(c: &CandidateFacts) -> CheckResult {
    let k = CheckKind::Identity;
    let Some(id) = &c.identity else { return unknown(k, sources::IDENTITIES, "identity") };
    let v = &id.value;
    if !v.has_identity {
        return result(k, Verdict::Invalid, SmolStr::new_static("no identity set"), evidence(id, "none", Some(SmolStr::new_static("Reasonable or KnownGood"))));
    }
    let seen = if v.judgements.is_empty() { SmolStr::new_static("no judgement") } else { v.judgements.join(", ").into() };
    let ok = v.verified();
    let reason = if ok { SmolStr::new_static("identity verified") } else { format_smolstr!("identity has {seen}; needs Reasonable or KnownGood") };
    result(k, judge(ok), reason, evidence(id, seen, Some(SmolStr::new_static("Reasonable or KnownGood"))))
}

fn offline_time(c: &CandidateFacts, cfg: &ValidityConfig) -> CheckResult {
    let k = CheckKind::OfflineTime;
    let Some(node) = &c.node else { return unknown(k, sources::TELEMETRY, "offline time") };
    let n = &node.value;
    let max_ms = (n.window_ms as f64 * cfg.offline_time.max_ratio) as i64;
    let ok = n.offline_ms <= max_ms;
    let reason = if ok {
        format_smolstr!("offline {} in the window", human_ms(n.offline_ms))
    } else {
        format_smolstr!("offline {} in the window, more than {}", human_ms(n.offline_ms), human_ms(max_ms))
    };
    result(k, judge(ok), reason, evidence(node, human_ms(n.offline_ms), Some(human_ms(max_ms))))
}

fn commission(c: &CandidateFacts, cfg: &ValidityConfig) -> CheckResult {
    let k = CheckKind::Commission;
    let Some(s) = &c.staking else { return unknown(k, sources::VALIDATORS, "commission at the latest era") };
    let max = (cfg.commission.max_percent * 10_000_000.0).round() as u64;
    let have = u64::from(s.value.commission_perbill);
    let ok = have <= max;
    let (pct, bound) = (percent(have), percent(max));
    let reason = if ok { format_smolstr!("commission {pct}") } else { format_smolstr!("commission {pct} is above {bound}") };
    result(k, judge(ok), reason, evidence(s, pct, Some(bound)))
}

fn self_stake(c: &CandidateFacts, cfg: &ValidityConfig, ctx: CheckContext) -> CheckResult {
    let k = CheckKind::SelfStake;
    let bound = format_smolstr!("{} tokens", cfg.self_stake.min_tokens);
    if c.skip_self_stake {
        return result(
            k,
            Verdict::Valid,
            SmolStr::new_static("exempt (skipSelfStake in the candidates file)"),
            Evidence { value: Some(SmolStr::new_static("skipSelfStake")), bound: Some(bound), source: sources::CANDIDATES.into(), at: None },
        );
    }
    let Some(s) = &c.staking else { return unknown(k, sources::VALIDATORS, "self stake at the latest era") };
    let min = tokens_to_planck(cfg.self_stake.min_tokens, ctx.decimals);
    let have = s.value.self_bonded;
    let ok = have >= min;
    let shown = format_smolstr!("{} tokens", planck_to_tokens(have, ctx.decimals));
    let reason = if ok { format_smolstr!("self stake {shown}") } else { format_smolstr!("self stake {shown} is below {bound}") };
    result(k, judge(ok), reason, evidence(s, shown, Some(bound)))
}

fn unclaimed(c: &CandidateFacts, cfg: &ValidityConfig) -> CheckResult {
    let k = CheckKind::UnclaimedRewards;
    let Some(f) = &c.unclaimed_eras else { return unknown(k, sources::REWARDS, "reward claims") };
    let (eras, active) = &f.value;
    let threshold = cfg.unclaimed_rewards.threshold_eras;
    // 1KV: every unclaimed era must be newer than activeEra - threshold - 1.
    let oldest_allowed = i64::from(*active) - i64::from(threshold) - 1;
    let late: Vec<u32> = eras.iter().copied().filter(|e| i64::from(*e) <= oldest_allowed).collect();
    let ok = late.is_empty();
    let reason = if ok { SmolStr::new_static("no overdue rewards") } else { format_smolstr!("rewards of eras {late:?} unclaimed") };
    result(k, judge(ok), reason, evidence(f, format_smolstr!("{eras:?}"), Some(format_smolstr!("{threshold} eras"))))
}

fn blocked(c: &CandidateFacts) -> CheckResult {
    let k = CheckKind::Blocked;
    let Some(s) = &c.staking else { return unknown(k, sources::VALIDATORS, "validator prefs at the latest era") };
    let ok = !s.value.blocked;
    let reason = if ok { SmolStr::new_static("accepts nominations") } else { SmolStr::new_static("blocks external nominations") };
    result(k, judge(ok), reason, evidence(s, s.value.blocked.to_string(), Some(SmolStr::new_static("false"))))
}

fn kusama_rank(c: &CandidateFacts, cfg: &ValidityConfig) -> CheckResult {
    let k = CheckKind::KusamaRank;
    if !c.has_kusama_stash {
        return result(
            k,
            Verdict::Valid,
            SmolStr::new_static("no Kusama stash listed"),
            Evidence { source: sources::CANDIDATES.into(), ..Evidence::default() },
        );
    }
    let Some(f) = &c.kusama else { return unknown(k, sources::KUSAMA, "Kusama standing") };
    let min = cfg.kusama_rank.min_rank;
    let ok = f.value.valid && f.value.rank >= min;
    let reason = match (f.value.valid, ok) {
        (false, _) => SmolStr::new_static("invalid in the Kusama programme"),
        (true, false) => format_smolstr!("Kusama rank {} is below {min}", f.value.rank),
        (true, true) => format_smolstr!("Kusama rank {}", f.value.rank),
    };
    result(k, judge(ok), reason, evidence(f, f.value.rank.to_smolstr(), Some(min.to_smolstr())))
}

/// Names compare trimmed and case-insensitively; char by char, so judging a
/// candidate against a list allocates nothing (it runs for every candidate).
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.trim().chars().flat_map(char::to_lowercase).eq(b.trim().chars().flat_map(char::to_lowercase))
}

fn provider(c: &CandidateFacts, cfg: &ValidityConfig) -> CheckResult {
    let k = CheckKind::Provider;
    let Some(loc) = &c.location else { return unknown(k, sources::LOCATION, "hosting provider") };
    let Some(p) = &loc.value.provider else { return unknown(k, sources::LOCATION, "hosting provider") };
    let banned = cfg.provider.banned.iter().any(|b| same_name(b, p));
    let reason = if banned { format_smolstr!("provider {p} is not accepted") } else { format_smolstr!("provider {p}") };
    result(k, judge(!banned), reason, evidence(loc, p.clone(), Some(format_smolstr!("not one of {:?}", cfg.provider.banned))))
}

/// The ASCII "beef" prefix of the dummy BEEFY key.
const DUMMY_BEEFY_PREFIX: &str = "0x62656566";

/// Whether a BEEFY session key (0x hex) is the dummy "beef" key.
pub fn is_dummy_beefy(key: &str) -> bool {
    key.to_lowercase().starts_with(DUMMY_BEEFY_PREFIX)
}

fn beefy_key(c: &CandidateFacts) -> CheckResult {
    let k = CheckKind::BeefyKey;
    // Keys are known for the active set only; no keys is not a dummy key.
    let Some(f) = &c.beefy_key else {
        return result(
            k,
            Verdict::Valid,
            SmolStr::new_static("no session keys known (not in the active set); only a dummy key fails"),
            Evidence { source: sources::SESSIONS.into(), ..Evidence::default() },
        );
    };
    let dummy = is_dummy_beefy(&f.value);
    let reason = if dummy { SmolStr::new_static("BEEFY key is the dummy \"beef\" key") } else { SmolStr::new_static("BEEFY key set") };
    result(k, judge(!dummy), reason, evidence(f, f.value.clone(), Some(format_smolstr!("not {DUMMY_BEEFY_PREFIX}…"))))
}

fn sanctioned_geo(c: &CandidateFacts, cfg: &ValidityConfig) -> CheckResult {
    let k = CheckKind::SanctionedGeo;
    let g = &cfg.sanctioned_geo;
    let Some(loc) = &c.location else { return unknown(k, sources::LOCATION, "country or region") };
    let (country, region) = (&loc.value.country, &loc.value.region);
    if country.is_none() && region.is_none() {
        return unknown(k, sources::LOCATION, "country or region");
    }
    let hit = |v: &Option<String>, list: &[String]| v.as_ref().is_some_and(|v| list.iter().any(|x| same_name(x, v)));
    let sanctioned = hit(country, &g.countries) || hit(region, &g.regions);
    let seen = format_smolstr!("{} / {}", country.as_deref().unwrap_or("?"), region.as_deref().unwrap_or("?"));
    let reason = if sanctioned { format_smolstr!("located in a sanctioned area ({seen})") } else { format_smolstr!("located in {seen}") };
    result(k, judge(!sanctioned), reason, evidence(loc, seen, Some(SmolStr::new_static("not a sanctioned country or region"))))
}

fn nodes_per_identity(c: &CandidateFacts, cfg: &ValidityConfig) -> CheckResult {
    let k = CheckKind::NodesPerIdentity;
    let Some(f) = &c.nodes_of_identity else { return unknown(k, sources::IDENTITIES, "identity") };
    let max = cfg.nodes_per_identity.max;
    let ok = f.value <= max;
    let reason = if ok {
        format_smolstr!("{} candidate(s) under this identity", f.value)
    } else {
        format_smolstr!("{} candidates under this identity (sub-identities included), at most {max}", f.value)
    };
    result(k, judge(ok), reason, evidence(f, f.value.to_smolstr(), Some(max.to_smolstr())))
}

/// Perbill as a percentage string.
fn percent(perbill: u64) -> SmolStr {
    format_smolstr!("{}%", perbill as f64 / 10_000_000.0)
}

/// Whole tokens to planck.
pub fn tokens_to_planck(tokens: f64, decimals: u8) -> u128 {
    if !tokens.is_finite() || tokens <= 0.0 {
        return 0;
    }
    (tokens * 10f64.powi(i32::from(decimals))).round() as u128
}

/// Planck to tokens (display and scoring, not accounting).
pub fn planck_to_tokens(planck: u128, decimals: u8) -> f64 {
    planck as f64 / 10f64.powi(i32::from(decimals))
}

fn human_ms(ms: i64) -> SmolStr {
    humantime::format_duration(std::time::Duration::from_millis(ms.max(0) as u64 / 1000 * 1000)).to_smolstr()
}
