//! Per-check settings, with per-network defaults from 1KV's production
//! values (`apps/1kv-backend/templates/{kusama,polkadot}-otv-backend.yaml`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which defaults a network starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// 1KV's Polkadot values.
    Polkadot,
    /// 1KV's Kusama values.
    Kusama,
    /// Kusama's thresholds, without the checks that need data a test network lacks.
    Testnet,
}

impl Profile {
    /// The profile a network name implies.
    pub fn for_network(name: &str) -> Self {
        match name {
            "polkadot" => Profile::Polkadot,
            "kusama" => Profile::Kusama,
            _ => Profile::Testnet,
        }
    }
}

/// A check with only an on/off switch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Switch {
    /// Leave the check out.
    pub skip: bool,
}

/// Check 1: online, and how telemetry nodes are tied to candidates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnlineConfig {
    /// Leave the check out.
    pub skip: bool,
    /// Also tie a node to the candidate whose registered name it reports,
    /// where it reports no session key of one (1KV's only way; anyone can
    /// name a node anything, so off by default: session keys only).
    pub match_by_name: bool,
}

/// Check 3: client version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientVersionConfig {
    /// Leave the check out.
    pub skip: bool,
    /// The lowest acceptable version (1KV's `forcedVersion`).
    pub min_version: Option<String>,
    /// Implementations exempt from the version rule (1KV exempts Kagome).
    pub exempt_implementations: Vec<String>,
    /// How long after a client release nodes may still run an older version
    /// (1KV: 48 h); afterwards the release's version is the bound, when it is
    /// above `min_version`.
    #[serde(with = "humantime_serde")]
    pub grace: std::time::Duration,
}
impl Default for ClientVersionConfig {
    fn default() -> Self {
        Self {
            skip: false,
            min_version: Some("1.15.2".into()),
            exempt_implementations: vec!["Kagome Node".into()],
            grace: std::time::Duration::from_secs(48 * 3600),
        }
    }
}

/// The latest client release of a network's programme, as the releases topic tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The release's tag, e.g. `polkadot-v1.16.0`.
    pub tag: String,
    /// The node version it ships, e.g. `1.16.0`.
    pub version: String,
    /// When it was published, Unix ms.
    pub published_at_ms: i64,
}

impl ClientVersionConfig {
    /// The settings in force at `at_ms`: the minimum raised to `release`'s
    /// version once its grace period is over (1KV's release monitor with its
    /// 48 hours). A release whose version does not read as one changes nothing.
    pub fn with_release(&self, release: Option<&Release>, at_ms: i64) -> Self {
        let mut out = self.clone();
        let Some(r) = release else { return out };
        let due = r.published_at_ms.saturating_add(self.grace.as_millis() as i64) <= at_ms;
        // Strictly `major.minor.patch`: a tag format that captured something
        // else ("stable2409") must not become a bound no node can meet.
        let strict = |v: &str| {
            let parts: Vec<&str> = v.trim_start_matches('v').split('.').collect();
            let numeric = parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            numeric.then(|| super::checks::parse_version(v)).flatten()
        };
        let newer = match (strict(&r.version), self.min_version.as_deref().and_then(super::checks::parse_version)) {
            (Some(release), Some(min)) => release > min,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if due && newer {
            out.min_version = Some(r.version.clone());
        }
        out
    }
}

/// Check 4: time since the node was first seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionTimeConfig {
    /// Leave the check out.
    pub skip: bool,
    /// Least time since first seen in telemetry (1KV: a week).
    #[serde(with = "humantime_serde")]
    pub min: Duration,
}
impl Default for ConnectionTimeConfig {
    fn default() -> Self {
        Self { skip: false, min: Duration::from_secs(7 * 24 * 3600) }
    }
}

/// Check 6: offline time in the uptime window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfflineTimeConfig {
    /// Leave the check out.
    pub skip: bool,
    /// Most offline share of the window (1KV: 0.02 of a week, about 3.4 h).
    pub max_ratio: f64,
}
impl Default for OfflineTimeConfig {
    fn default() -> Self {
        Self { skip: false, max_ratio: 0.02 }
    }
}

/// Check 7: commission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommissionConfig {
    /// Leave the check out.
    pub skip: bool,
    /// Highest commission, percent (Polkadot 5, Kusama 15).
    pub max_percent: f64,
}
impl Default for CommissionConfig {
    fn default() -> Self {
        Self { skip: false, max_percent: 15.0 }
    }
}

/// Check 8: self stake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelfStakeConfig {
    /// Leave the check out.
    pub skip: bool,
    /// Least self stake, tokens (Polkadot 5,000 DOT, Kusama 10 KSM).
    pub min_tokens: f64,
}
impl Default for SelfStakeConfig {
    fn default() -> Self {
        Self { skip: false, min_tokens: 10.0 }
    }
}

/// Check 9: unclaimed rewards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnclaimedConfig {
    /// Leave the check out (1KV production skips it).
    pub skip: bool,
    /// Rewards may stay unclaimed this many eras (Polkadot 1, Kusama 4).
    pub threshold_eras: u32,
}
impl Default for UnclaimedConfig {
    fn default() -> Self {
        Self { skip: true, threshold_eras: 4 }
    }
}

/// Check 11: Kusama rank of Polkadot candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KusamaRankConfig {
    /// Leave the check out.
    pub skip: bool,
    /// The Kusama network of this deployment the standing is read from.
    pub network: String,
    /// Least Kusama rank (1KV's code: 100).
    pub min_rank: u32,
}
impl Default for KusamaRankConfig {
    fn default() -> Self {
        Self { skip: true, network: "kusama".into(), min_rank: 100 }
    }
}

/// Check 12: hosting provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderConfig {
    /// Leave the check out.
    pub skip: bool,
    /// Providers whose nodes are invalid.
    pub banned: Vec<String>,
}
impl Default for ProviderConfig {
    fn default() -> Self {
        Self { skip: true, banned: vec!["Hetzner Online GmbH".into(), "Contabo Inc.".into(), "Contabo GmbH".into()] }
    }
}

/// Check 14: sanctioned country or region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SanctionedGeoConfig {
    /// Leave the check out.
    pub skip: bool,
    /// ISO 3166-1 alpha-2 codes.
    pub countries: Vec<String>,
    /// Region names or ISO 3166-2 codes.
    pub regions: Vec<String>,
}
impl Default for SanctionedGeoConfig {
    fn default() -> Self {
        let regions = [
            "Crimea", "Autonomous Republic of Crimea", "Republic of Crimea", "Krym", "Luhansk", "Luhanska Oblast",
            "Luganskaya Oblast", "Luhansk Oblast", "Donetsk", "Donetska Oblast", "Donetskaya Oblast", "Donetsk Oblast",
            "Sevastopol", "Sevastopol City", "Sebastopol", "Sebastopol City", "UA-43", "UA-40", "UA-14", "UA-09",
        ];
        Self {
            skip: true,
            countries: ["RU", "IR", "CU", "KP", "SY"].map(String::from).to_vec(),
            regions: regions.map(String::from).to_vec(),
        }
    }
}

/// Check 15: nodes per identity (1KV's FAQ policy, never enforced there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodesPerIdentityConfig {
    /// Leave the check out.
    pub skip: bool,
    /// Most candidates per identity, sub-identities included (Polkadot 1, Kusama 2).
    pub max: u32,
}
impl Default for NodesPerIdentityConfig {
    fn default() -> Self {
        Self { skip: false, max: 2 }
    }
}

/// Every check's settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidityConfig {
    /// 1: online (and whether nodes may be tied by name).
    pub online: OnlineConfig,
    /// 2: in Staking.Validators.
    pub validate_intention: Switch,
    /// 3: client version.
    pub client_version: ClientVersionConfig,
    /// 4: first seen long enough ago.
    pub connection_time: ConnectionTimeConfig,
    /// 5: identity with a Reasonable or KnownGood judgement.
    pub identity: Switch,
    /// 6: offline time in the window.
    pub offline_time: OfflineTimeConfig,
    /// 7: commission.
    pub commission: CommissionConfig,
    /// 8: self stake.
    pub self_stake: SelfStakeConfig,
    /// 9: unclaimed rewards.
    pub unclaimed_rewards: UnclaimedConfig,
    /// 10: not blocking nominations.
    pub blocked: Switch,
    /// 11: Kusama rank.
    pub kusama_rank: KusamaRankConfig,
    /// 12: provider.
    pub provider: ProviderConfig,
    /// 13: no dummy BEEFY key.
    pub beefy_key: Switch,
    /// 14: sanctioned geography.
    pub sanctioned_geo: SanctionedGeoConfig,
    /// 15: nodes per identity.
    pub nodes_per_identity: NodesPerIdentityConfig,
}

impl ValidityConfig {
    /// The defaults of a profile.
    ///
    /// The provider check starts switched off everywhere: it needs an
    /// IP-to-provider source (1KV used ipinfo), which stakeflow does not have;
    /// with no data it could only say "unknown". Its list keeps 1KV's values
    /// so turning it on is one switch. The geography check reads the
    /// country and region of the coordinates telemetry reports.
    pub fn for_profile(profile: Profile) -> Self {
        let mut c = Self::default();
        match profile {
            Profile::Polkadot => {
                c.sanctioned_geo.skip = false;
                c.commission.max_percent = 5.0;
                c.self_stake.min_tokens = 5_000.0;
                c.unclaimed_rewards.threshold_eras = 1;
                c.kusama_rank.skip = false;
                c.nodes_per_identity.max = 1;
            }
            Profile::Kusama => c.sanctioned_geo.skip = false,
            Profile::Testnet => {
                c.client_version.skip = true;
                c.connection_time.skip = true;
            }
        }
        c
    }

    /// Every problem with these settings.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(0.0..=100.0).contains(&self.commission.max_percent) {
            out.push(format!("commission.max_percent {} is not a percentage", self.commission.max_percent));
        }
        if !self.self_stake.min_tokens.is_finite() || self.self_stake.min_tokens < 0.0 {
            out.push(format!("self_stake.min_tokens {} must be a non-negative number", self.self_stake.min_tokens));
        }
        if !(0.0..=1.0).contains(&self.offline_time.max_ratio) {
            out.push(format!("offline_time.max_ratio {} must be within 0..=1", self.offline_time.max_ratio));
        }
        if !self.client_version.skip {
            match &self.client_version.min_version {
                None => out.push("client_version.min_version is required while the check is on".into()),
                Some(v) if super::checks::parse_version(v).is_none() => {
                    out.push(format!("client_version.min_version {v:?} is not a version like 1.15.2"))
                }
                Some(_) => {}
            }
        }
        if !self.nodes_per_identity.skip && self.nodes_per_identity.max == 0 {
            out.push("nodes_per_identity.max must be at least 1".into());
        }
        out
    }
}

/// Deep-merge `overrides` into the profile's defaults and read the result;
/// unknown keys are errors.
pub fn resolve(profile: Profile, overrides: &serde_json::Value) -> Result<ValidityConfig, String> {
    let mut base = serde_json::to_value(ValidityConfig::for_profile(profile)).map_err(|e| e.to_string())?;
    merge(&mut base, overrides);
    serde_json::from_value(base).map_err(|e| e.to_string())
}

/// Overlay `top` onto `base`, object by object.
pub(crate) fn merge(base: &mut serde_json::Value, top: &serde_json::Value) {
    match (base, top) {
        (serde_json::Value::Object(b), serde_json::Value::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn profiles_carry_1kv_production_values() {
        let p = ValidityConfig::for_profile(Profile::Polkadot);
        assert_eq!((p.commission.max_percent, p.self_stake.min_tokens, p.unclaimed_rewards.threshold_eras), (5.0, 5000.0, 1));
        assert!(p.unclaimed_rewards.skip && !p.kusama_rank.skip);
        let k = ValidityConfig::for_profile(Profile::Kusama);
        assert_eq!((k.commission.max_percent, k.self_stake.min_tokens, k.nodes_per_identity.max), (15.0, 10.0, 2));
        assert!(k.kusama_rank.skip);
    }

    #[test]
    fn overrides_merge_deeply_and_unknown_keys_fail() {
        let c = resolve(Profile::Polkadot, &json!({"commission": {"max_percent": 7.5}, "identity": {"skip": true}})).unwrap();
        assert_eq!(c.commission.max_percent, 7.5);
        assert!(c.identity.skip);
        assert_eq!(c.self_stake.min_tokens, 5000.0, "untouched keys keep the profile's value");
        let err = resolve(Profile::Polkadot, &json!({"comission": {"max_percent": 7.5}})).unwrap_err();
        assert!(err.contains("comission"), "{err}");
    }

    #[test]
    fn problems_name_the_key() {
        let mut c = ValidityConfig::for_profile(Profile::Kusama);
        c.commission.max_percent = 150.0;
        c.client_version.min_version = Some("latest".into());
        let p = c.problems();
        assert!(p.iter().any(|m| m.contains("commission.max_percent")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("client_version.min_version")), "{p:?}");
    }

    #[test]
    fn a_release_raises_the_bound_once_its_grace_period_is_over() {
        use super::{ClientVersionConfig, Release};
        const H: i64 = 3_600_000;
        let cfg = ClientVersionConfig::default();
        let release = Release { tag: "polkadot-v1.16.0".into(), version: "1.16.0".into(), published_at_ms: 100 * H };
        let bound = |r: Option<&Release>, at: i64| cfg.with_release(r, at).min_version;
        assert_eq!(bound(None, 200 * H), Some("1.15.2".into()), "no release known: the minimum");
        assert_eq!(bound(Some(&release), 147 * H), Some("1.15.2".into()), "within 48 h: the minimum still");
        assert_eq!(bound(Some(&release), 148 * H), Some("1.16.0".into()), "after 48 h: the release");
        let older = Release { version: "1.9.0".into(), ..release.clone() };
        assert_eq!(bound(Some(&older), 200 * H), Some("1.15.2".into()), "a release below the minimum does not lower it");
        let odd = Release { version: "stable2409".into(), ..release.clone() };
        assert_eq!(bound(Some(&odd), 200 * H), Some("1.15.2".into()), "a version that does not read as one changes nothing");
        let none = ClientVersionConfig { min_version: None, ..cfg.clone() };
        assert_eq!(none.with_release(Some(&release), 200 * H).min_version, Some("1.16.0".into()));
    }
}
