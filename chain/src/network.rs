//! One network per TOML file (`config/networks/*.toml`).

use serde::{Deserialize, Serialize};
use url::Url;

/// Which subxt backend to speak to the node with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The legacy JSON-RPC methods. Required for chopsticks, whose chainHead_v1
    /// answers in a shape subxt rejects (its block streams end at once).
    #[default]
    Legacy,
    /// subxt's default (chainHead_v1 where offered), for real nodes.
    Default,
}

/// A network stakeflow follows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Short name used in topic keys and the API, e.g. `paseo`.
    pub name: String,
    /// WebSocket RPC endpoints of the relay chain, tried in order (failover).
    pub endpoints: Vec<Url>,
    /// subxt backend (default `legacy`).
    #[serde(default)]
    pub backend: Backend,
    /// Expected genesis hash (0x hex); an endpoint serving another chain is refused.
    #[serde(default)]
    pub genesis_hash: Option<String>,
    /// SS58 address prefix (default 42).
    #[serde(default = "default_ss58")]
    pub ss58_prefix: u16,
    /// Token decimals (default 10).
    #[serde(default = "default_decimals")]
    pub decimals: u8,
    /// First block to ingest: a number, or `"latest"` for the finalized head at
    /// first start (default 0). Ignored once the topic holds blocks of this network.
    #[serde(default)]
    pub start_block: StartBlock,
    /// The chain that holds the Staking pallet when it is not the relay chain
    /// (Asset Hub since the 2025 migration). Unset: the relay chain.
    #[serde(default)]
    pub staking: Option<SystemChain>,
    /// The chain that holds the Identity pallet when it is not the relay chain
    /// (the People chain). Unset: the relay chain.
    #[serde(default)]
    pub identity: Option<SystemChain>,
    /// substrate-telemetry feeds to follow (`wss://…/feed`), each subscribed
    /// by the relay chain's genesis hash.
    #[serde(default)]
    pub telemetry: Vec<Url>,
}

/// A chain of the network other than the relay chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SystemChain {
    /// Name used in its records' `chain` field and keys (default `<network>.<role>`).
    #[serde(default)]
    pub name: Option<String>,
    /// WebSocket RPC endpoints, tried in order.
    pub endpoints: Vec<Url>,
    /// subxt backend.
    #[serde(default)]
    pub backend: Backend,
    /// Expected genesis hash.
    #[serde(default)]
    pub genesis_hash: Option<String>,
    /// First block to ingest on this chain (default: the finalized head at first start).
    #[serde(default = "latest")]
    pub start_block: StartBlock,
}

fn latest() -> StartBlock {
    StartBlock::Latest(Latest::Latest)
}

/// What a followed chain is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles {
    /// The relay chain: sessions, validator set and session keys, offline signals.
    pub relay: bool,
    /// Holds Staking: eras, exposures, nominators, points.
    pub staking: bool,
    /// Holds Identity.
    pub identity: bool,
}

/// One chain to follow, with the roles it plays in its network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowedChain {
    /// The network's name.
    pub network: String,
    /// Its config, `name` being the chain's own name.
    pub config: NetworkConfig,
    /// What it is for.
    pub roles: Roles,
}

/// Where ingest begins on a network it has never published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StartBlock {
    /// This block number.
    Number(u64),
    /// The finalized head when ingest first starts.
    Latest(Latest),
}

/// The literal `"latest"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Latest {
    /// `"latest"`.
    Latest,
}

impl Default for StartBlock {
    fn default() -> Self {
        StartBlock::Number(0)
    }
}

fn default_ss58() -> u16 {
    42
}

fn default_decimals() -> u8 {
    10
}

impl NetworkConfig {
    /// The chains to follow: the relay chain, plus the staking and identity
    /// chains where configured apart (one chain when both name the same endpoints).
    pub fn followed_chains(&self) -> Vec<FollowedChain> {
        let relay_roles = Roles { relay: true, staking: self.staking.is_none(), identity: self.identity.is_none() };
        let mut out = vec![FollowedChain {
            network: self.name.clone(),
            config: NetworkConfig { staking: None, identity: None, telemetry: Vec::new(), ..self.clone() },
            roles: relay_roles,
        }];
        for (role, chain) in [("staking", &self.staking), ("identity", &self.identity)] {
            let Some(chain) = chain else { continue };
            if let Some(same) = out.iter_mut().skip(1).find(|c| c.config.endpoints == chain.endpoints) {
                same.roles.identity |= role == "identity";
                same.roles.staking |= role == "staking";
                continue;
            }
            out.push(FollowedChain {
                network: self.name.clone(),
                config: NetworkConfig {
                    name: chain.name.clone().unwrap_or_else(|| format!("{}.{role}", self.name)),
                    endpoints: chain.endpoints.clone(),
                    backend: chain.backend,
                    genesis_hash: chain.genesis_hash.clone(),
                    ss58_prefix: self.ss58_prefix,
                    decimals: self.decimals,
                    start_block: chain.start_block,
                    staking: None,
                    identity: None,
                    telemetry: Vec::new(),
                },
                roles: Roles { relay: false, staking: role == "staking", identity: role == "identity" },
            });
        }
        out
    }

    /// The chain that holds Identity (to read identities from another chain's ingest).
    pub fn identity_chain(&self) -> NetworkConfig {
        self.followed_chains().into_iter().find(|c| c.roles.identity).map(|c| c.config).unwrap_or_else(|| self.clone())
    }

    /// Every problem with this network's config, for `stakeflow validate`.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.name.is_empty() || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            out.push(format!("network name {:?} must be non-empty letters, digits, '-' or '_'", self.name));
        }
        if self.endpoints.is_empty() {
            out.push(format!("network {}: `endpoints` is empty; give at least one ws:// or wss:// URL", self.name));
        }
        for e in &self.endpoints {
            if !matches!(e.scheme(), "ws" | "wss") {
                out.push(format!("network {}: endpoint {e} must be ws:// or wss://", self.name));
            }
        }
        let genesis_ok = |g: &str| g.len() == 66 && g.starts_with("0x") && g[2..].chars().all(|c| c.is_ascii_hexdigit());
        if let Some(g) = &self.genesis_hash
            && !genesis_ok(g)
        {
            out.push(format!("network {}: genesis_hash {g:?} must be 0x and 64 hex digits", self.name));
        }
        if !self.telemetry.is_empty() && self.genesis_hash.is_none() {
            out.push(format!("network {}: telemetry feeds subscribe by genesis hash; set genesis_hash", self.name));
        }
        for t in &self.telemetry {
            if !matches!(t.scheme(), "ws" | "wss") {
                out.push(format!("network {}: telemetry feed {t} must be ws:// or wss://", self.name));
            }
        }
        for (role, chain) in [("staking", &self.staking), ("identity", &self.identity)] {
            let Some(chain) = chain else { continue };
            if chain.endpoints.is_empty() {
                out.push(format!("network {}: [{role}] has no endpoints; remove the section to use the relay chain", self.name));
            }
            for e in &chain.endpoints {
                if !matches!(e.scheme(), "ws" | "wss") {
                    out.push(format!("network {}: [{role}] endpoint {e} must be ws:// or wss://", self.name));
                }
            }
            if let Some(g) = chain.genesis_hash.as_deref().filter(|g| !genesis_ok(g)) {
                out.push(format!("network {}: [{role}] genesis_hash {g:?} must be 0x and 64 hex digits", self.name));
            }
            if let Some(name) = chain.name.as_deref().filter(|n| n.is_empty() || n.contains('/')) {
                out.push(format!("network {}: [{role}] name {name:?} must be non-empty and without '/'", self.name));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_block_accepts_number_or_latest() {
        #[derive(Deserialize)]
        struct W {
            s: StartBlock,
        }
        let n: W = serde_json::from_str(r#"{"s": 12}"#).unwrap();
        assert_eq!(n.s, StartBlock::Number(12));
        let l: W = serde_json::from_str(r#"{"s": "latest"}"#).unwrap();
        assert_eq!(l.s, StartBlock::Latest(Latest::Latest));
        assert!(serde_json::from_str::<W>(r#"{"s": "soon"}"#).is_err());
    }

    #[test]
    fn problems_name_every_bad_field() {
        let cfg = NetworkConfig {
            name: "bad name".into(),
            endpoints: vec![Url::parse("http://x").unwrap()],
            backend: Backend::Legacy,
            genesis_hash: Some("0x12".into()),
            ss58_prefix: 42,
            decimals: 10,
            start_block: StartBlock::default(),
            staking: None,
            identity: None,
            telemetry: vec![Url::parse("http://feed").unwrap()],
        };
        let p = cfg.problems();
        assert_eq!(p.len(), 4, "{p:?}");
    }

    fn chain(url: &str) -> SystemChain {
        SystemChain { name: None, endpoints: vec![Url::parse(url).unwrap()], backend: Backend::Default, genesis_hash: None, start_block: latest() }
    }

    fn relay_only() -> NetworkConfig {
        NetworkConfig {
            name: "polkadot".into(),
            endpoints: vec![Url::parse("ws://relay").unwrap()],
            backend: Backend::Default,
            genesis_hash: None,
            ss58_prefix: 0,
            decimals: 10,
            start_block: StartBlock::default(),
            staking: None,
            identity: None,
            telemetry: Vec::new(),
        }
    }

    #[test]
    fn the_relay_plays_every_role_not_given_elsewhere() {
        let c = relay_only().followed_chains();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].roles, Roles { relay: true, staking: true, identity: true });
        assert_eq!(c[0].config.name, "polkadot");
    }

    #[test]
    fn staking_and_identity_chains_are_followed_apart_or_together() {
        let apart = NetworkConfig { staking: Some(chain("ws://ah")), identity: Some(chain("ws://people")), ..relay_only() };
        let c = apart.followed_chains();
        let names: Vec<&str> = c.iter().map(|c| c.config.name.as_str()).collect();
        assert_eq!(names, vec!["polkadot", "polkadot.staking", "polkadot.identity"]);
        assert_eq!(c[0].roles, Roles { relay: true, staking: false, identity: false });
        assert_eq!(apart.identity_chain().name, "polkadot.identity");

        let together = NetworkConfig { staking: Some(chain("ws://ah")), identity: Some(chain("ws://ah")), ..relay_only() };
        let c = together.followed_chains();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].roles, Roles { relay: false, staking: true, identity: true });
    }
}
