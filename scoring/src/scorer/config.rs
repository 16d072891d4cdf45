//! The `[scoring]` section: per network, where the candidate list comes
//! from, which defaults apply, what to override, and the weights.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use rules::score::Weights;
use rules::validity::{Profile, ValidityConfig};

/// How long the scorer waits after a pass that found nothing new, by default.
pub const DEFAULT_IDLE: Duration = Duration::from_millis(500);

/// The `[scoring]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringConfig {
    /// The programme of each network (`[scoring.networks.<name>]`); networks without one are not scored.
    pub networks: BTreeMap<String, ProgrammeConfig>,
    /// How long the scorer waits after a pass that found nothing new before
    /// reading again (default 500ms): lower answers sooner, higher polls less.
    #[serde(with = "humantime_serde")]
    pub idle: Duration,
    /// One scorer holds the lease; a standby takes over once it has gone
    /// unrenewed this long (default 30s).
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self { networks: BTreeMap::new(), idle: DEFAULT_IDLE, lease_ttl: Duration::from_secs(30) }
    }
}

/// One network's programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProgrammeConfig {
    /// The candidate list in 1KV's format: a file path or an http(s) URL.
    pub candidates: Option<String>,
    /// How often the list is re-read for changes.
    #[serde(with = "humantime_serde")]
    pub candidates_poll: Duration,
    /// Which defaults apply (default: from the network name: polkadot, kusama, else testnet).
    pub profile: Option<Profile>,
    /// The programme's own nominator accounts (SS58), left out of each candidate's nominator stake.
    pub nominators: Vec<String>,
    /// Overrides of the profile's check settings, e.g. `commission = { max_percent = 7 }`.
    pub validity: serde_json::Value,
    /// Score weights; 0 switches a component off; those not named keep 1KV's production values.
    #[serde(deserialize_with = "rules::score::deserialize_weights")]
    pub weights: Weights,
    /// Client releases in GitHub's release format: a URL (such as
    /// `https://api.github.com/repos/paritytech/polkadot-sdk/releases`) or a
    /// file. The newest release raises the client-version bound once its
    /// grace period (`validity.client_version.grace`) is over; none: only
    /// `validity.client_version.min_version` applies.
    pub releases: Option<String>,
    /// How often the releases source is read (default 15 min).
    #[serde(with = "humantime_serde")]
    pub releases_poll: Duration,
    /// Which tags are releases; the first group is the node version (default 1KV's `^polkadot-v(\d+\.\d+\.\d+)$`).
    pub release_tag_format: String,
}

impl Default for ProgrammeConfig {
    fn default() -> Self {
        Self {
            candidates: None,
            candidates_poll: Duration::from_secs(60),
            profile: None,
            nominators: Vec::new(),
            validity: serde_json::Value::Object(Default::default()),
            weights: Weights::production(),
            releases: None,
            releases_poll: Duration::from_secs(15 * 60),
            release_tag_format: DEFAULT_RELEASE_TAG_FORMAT.to_string(),
        }
    }
}

/// 1KV's release tag format (`clientUpgrade.releaseTagFormat`), with the version as a group.
pub const DEFAULT_RELEASE_TAG_FORMAT: &str = r"^polkadot-v(\d+\.\d+\.\d+)$";

impl ProgrammeConfig {
    /// The profile in force for `network`.
    pub fn profile_for(&self, network: &str) -> Profile {
        self.profile.unwrap_or_else(|| Profile::for_network(network))
    }

    /// The check settings in force for `network`.
    pub fn validity_for(&self, network: &str) -> Result<ValidityConfig, String> {
        let overrides = if self.validity.is_null() { serde_json::json!({}) } else { self.validity.clone() };
        rules::validity::resolve(self.profile_for(network), &overrides)
    }

    /// Every problem with this network's programme, prefixed with where it is.
    pub fn problems(&self, network: &str, known_networks: &[String]) -> Vec<String> {
        let at = |m: String| format!("scoring.networks.{network}: {m}");
        let mut out = Vec::new();
        if !known_networks.iter().any(|n| n == network) {
            out.push(at(format!("no network named {network:?} is loaded (known: {known_networks:?})")));
        }
        if self.candidates.is_none() {
            out.push(at("`candidates` (a file path or URL of the candidate list) is required".into()));
        }
        match self.validity_for(network) {
            Ok(v) => {
                out.extend(v.problems().into_iter().map(|m| at(format!("validity.{m}"))));
                if !v.kusama_rank.skip && !known_networks.contains(&v.kusama_rank.network) {
                    out.push(at(format!(
                        "validity.kusama_rank reads the standing of network {:?}, which is not loaded; load it or set validity.kusama_rank.skip = true",
                        v.kusama_rank.network
                    )));
                }
            }
            Err(e) => out.push(at(format!("validity: {e}"))),
        }
        out.extend(self.weights.problems().into_iter().map(|m| at(format!("weights: {m}"))));
        if let Err(e) = regex::Regex::new(&self.release_tag_format) {
            out.push(at(format!("release_tag_format is not a regular expression: {e}")));
        }
        for n in &self.nominators {
            if schemas::ss58::decode(n).is_none() {
                out.push(at(format!("nominator {n:?} is not an SS58 address")));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_point_at_the_key() {
        let cfg = ProgrammeConfig {
            validity: serde_json::json!({"commission": {"max_percent": 500}}),
            nominators: vec!["nope".into()],
            release_tag_format: "polkadot-v(".into(),
            ..Default::default()
        };
        let p = cfg.problems("polkadot", &["polkadot".into()]);
        let joined = p.join("\n");
        for needle in ["`candidates`", "validity.commission.max_percent", "kusama_rank", "nominator \"nope\"", "release_tag_format"] {
            assert!(joined.contains(needle), "{needle} missing from:\n{joined}");
        }
        assert!(p.iter().all(|m| m.starts_with("scoring.networks.polkadot: ")));
    }

    #[test]
    fn toml_shape() {
        let cfg: ScoringConfig = toml::from_str(
            r#"
            [networks.polkadot]
            candidates = "candidates/polkadot.json"
            profile = "polkadot"
            [networks.polkadot.validity]
            commission = { max_percent = 7 }
            kusama_rank = { skip = true }
            [networks.polkadot.weights]
            client = 0
            "#,
        )
        .unwrap();
        let p = &cfg.networks["polkadot"];
        let v = p.validity_for("polkadot").unwrap();
        assert_eq!((v.commission.max_percent, v.kusama_rank.skip, v.self_stake.min_tokens), (7.0, true, 5000.0));
        assert_eq!(p.weights.client, 0.0);
        assert!(p.problems("polkadot", &["polkadot".into()]).is_empty());
        assert_eq!((p.weights.inclusion, cfg.idle), (220.0, DEFAULT_IDLE), "unnamed weights and the idle keep their defaults");
    }

    #[test]
    fn idle_is_read() {
        let cfg: ScoringConfig = toml::from_str("idle = \"2s\"").unwrap();
        assert_eq!(cfg.idle, Duration::from_secs(2));
    }
}
