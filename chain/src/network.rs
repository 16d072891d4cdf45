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
        if let Some(g) = &self.genesis_hash
            && !(g.len() == 66 && g.starts_with("0x") && g[2..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            out.push(format!("network {}: genesis_hash {g:?} must be 0x and 64 hex digits", self.name));
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
        };
        let p = cfg.problems();
        assert_eq!(p.len(), 3, "{p:?}");
    }
}
