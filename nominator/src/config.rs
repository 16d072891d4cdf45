//! The `[nominator]` section: per network, the programme's nominator
//! accounts and how they are controlled, and the settings of the rules that
//! decide when they are due.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::secret::{SecretSource, Signer};

/// The `[nominator]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NominatorConfig {
    /// Decide, select and build the calls, record and serve them, but never sign or send.
    pub dry_run: bool,
    /// Time between passes (each reads the chain and the newest round).
    #[serde(with = "humantime_serde")]
    pub poll: Duration,
    /// How long a network's lease lasts unrenewed: a standby takes over after it.
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
    /// The accounts of each network (`[nominator.networks.<name>]`).
    pub networks: BTreeMap<String, NetworkNominators>,
}

impl Default for NominatorConfig {
    fn default() -> Self {
        Self { dry_run: false, poll: Duration::from_secs(6), lease_ttl: Duration::from_secs(30), networks: BTreeMap::new() }
    }
}

/// How nominations are chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// 1KV: every due account takes the next slice of the round's valid candidates by score.
    #[default]
    Ranked,
    /// A fixed target list per account (`pinned`), re-asserted whenever the chain drifts from it.
    Pinned,
}

/// One network's nominator accounts and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkNominators {
    /// An account is due once its on-chain nomination is this many eras old
    /// (default: 1 on Polkadot, 4 elsewhere, as 1KV).
    pub era_buffer: Option<u32>,
    /// Accounts bonded at or below this (tokens) are not nominated (1KV: 50).
    pub min_bond: f64,
    /// An account with no nomination for more than this many eras is stale
    /// (default: 8 on Kusama, 2 elsewhere, as 1KV).
    pub stale_after_eras: Option<u32>,
    /// Blocks a signed transaction stays valid.
    pub mortality_blocks: u64,
    /// Most targets per account, used only where the runtime does not state
    /// `Staking.MaxNominations` in its metadata (older runtimes); the
    /// runtime's value always wins where it has one.
    pub max_nominations: Option<u32>,
    /// How targets are chosen.
    pub policy: PolicyKind,
    /// The accounts, in the order they take slices of the ranking.
    pub accounts: Vec<AccountConfig>,
}

impl Default for NetworkNominators {
    fn default() -> Self {
        Self { era_buffer: None, min_bond: 50.0, stale_after_eras: None, mortality_blocks: 64, max_nominations: None, policy: PolicyKind::Ranked, accounts: Vec::new() }
    }
}

impl NetworkNominators {
    /// The era buffer in force on `network`.
    pub fn era_buffer_for(&self, network: &str) -> u32 {
        self.era_buffer.unwrap_or(if network == "polkadot" { 1 } else { 4 })
    }

    /// Eras without a nomination after which an account of `network` is stale.
    pub fn stale_after_for(&self, network: &str) -> u32 {
        self.stale_after_eras.unwrap_or(if network == "kusama" { 8 } else { 2 })
    }
}

/// How the stash is controlled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// The stash's own key signs `staking.nominate`.
    Direct,
    /// A Staking proxy of the stash signs `proxy.proxy(stash, Staking, nominate)`.
    Proxy,
}

/// One nominator account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The stash (SS58 of the network).
    pub stash: String,
    /// How it is controlled.
    pub mode: Control,
    /// A file holding the signer's secret URI or mnemonic.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// An environment variable holding it.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// The targets of a `pinned` programme (SS58).
    #[serde(default)]
    pub pinned: Vec<String>,
}

impl AccountConfig {
    /// Where the signing secret comes from; `None` unless exactly one is given.
    pub fn secret_source(&self) -> Option<SecretSource> {
        match (&self.secret_file, &self.secret_env) {
            (Some(p), None) => Some(SecretSource::File(p.clone())),
            (None, Some(v)) => Some(SecretSource::Env(v.clone())),
            _ => None,
        }
    }
}

/// A network's accounts with their signers loaded, as the nominator runs them.
#[derive(Debug, Clone)]
pub struct Account {
    /// The stash as configured.
    pub stash: String,
    /// The stash's account.
    pub stash_account: [u8; 32],
    /// How it is controlled.
    pub mode: Control,
    /// The signing key.
    pub signer: Signer,
    /// Pinned targets' accounts.
    pub pinned: Vec<[u8; 32]>,
}

impl NetworkNominators {
    /// Every problem with this network's accounts, prefixed with where it is;
    /// reads the secrets (to check them) but never shows them.
    pub fn problems(&self, network: &str, ss58_prefix: u16) -> Vec<String> {
        self.load(network, ss58_prefix).err().unwrap_or_default()
    }

    /// The accounts with their signers, or every problem found.
    pub fn load(&self, network: &str, ss58_prefix: u16) -> Result<Vec<Account>, Vec<String>> {
        let mut problems = Vec::new();
        let mut accounts = Vec::new();
        if !self.min_bond.is_finite() || self.min_bond < 0.0 {
            problems.push(format!("nominator.networks.{network}: min_bond must be a non-negative number of tokens"));
        }
        if self.mortality_blocks < 4 {
            problems.push(format!("nominator.networks.{network}: mortality_blocks must be at least 4"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            let at = |m: String| format!("nominator.networks.{network}.accounts[{i}] ({}): {m}", a.stash);
            let stash = match schemas::ss58::decode(&a.stash) {
                Some((p, key)) if p == ss58_prefix => Some(key),
                Some((p, _)) => {
                    problems.push(at(format!("the stash is an address of SS58 prefix {p}, the network's is {ss58_prefix}")));
                    None
                }
                None => {
                    problems.push(at("the stash is not an SS58 address".into()));
                    None
                }
            };
            if let Some(key) = stash
                && !seen.insert(key)
            {
                problems.push(at("this stash is listed twice".into()));
            }
            let signer = match a.secret_source() {
                Some(source) => Signer::load(&source).map_err(|e| problems.push(at(e.to_string()))).ok(),
                None => {
                    problems.push(at("give exactly one of secret_file or secret_env".into()));
                    None
                }
            };
            if let (Some(signer), Some(key), Control::Direct) = (&signer, stash, a.mode)
                && signer.public() != key
            {
                problems.push(at(format!(
                    "mode = \"direct\" needs the stash's own key, but the secret is the key of {}; use mode = \"proxy\" for a proxy",
                    signer.address(ss58_prefix)
                )));
            }
            let mut pinned = Vec::new();
            match self.policy {
                PolicyKind::Pinned if a.pinned.is_empty() => problems.push(at("policy \"pinned\" needs a pinned target list".into())),
                PolicyKind::Ranked if !a.pinned.is_empty() => {
                    problems.push(at("pinned targets are only used with policy = \"pinned\"".into()))
                }
                _ => {}
            }
            for t in &a.pinned {
                match schemas::ss58::decode(t) {
                    Some((_, key)) => pinned.push(key),
                    None => problems.push(at(format!("pinned target {t:?} is not an SS58 address"))),
                }
            }
            if let (Some(stash_account), Some(signer)) = (stash, signer) {
                accounts.push(Account { stash: a.stash.clone(), stash_account, mode: a.mode, signer, pinned });
            }
        }
        if problems.is_empty() { Ok(accounts) } else { Err(problems) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    fn secret(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_direct_and_a_proxied_account_load() {
        let dir = tempfile::tempdir().unwrap();
        let cfg: NominatorConfig = toml::from_str(&format!(
            r#"
            [networks.devnet]
            [[networks.devnet.accounts]]
            stash = "{ALICE}"
            mode = "direct"
            secret_file = "{}"
            [[networks.devnet.accounts]]
            stash = "{BOB}"
            mode = "proxy"
            secret_file = "{}"
            "#,
            secret(dir.path(), "alice", &format!("{PHRASE}//Alice")).display(),
            secret(dir.path(), "charlie", &format!("{PHRASE}//Charlie")).display(),
        ))
        .unwrap();
        let net = &cfg.networks["devnet"];
        let accounts = net.load("devnet", 42).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].signer.address(42), ALICE);
        assert_eq!(accounts[1].mode, Control::Proxy);
        assert_eq!((net.era_buffer_for("devnet"), net.era_buffer_for("polkadot"), net.stale_after_for("kusama")), (4, 1, 8));
    }

    #[test]
    fn every_problem_is_named_and_no_secret_is_shown() {
        let dir = tempfile::tempdir().unwrap();
        let dev = secret(dir.path(), "dev", "//Alice");
        let wrong = secret(dir.path(), "wrong", &format!("{PHRASE}//Charlie"));
        let net = NetworkNominators {
            min_bond: -1.0,
            accounts: vec![
                AccountConfig { stash: ALICE.into(), mode: Control::Direct, secret_file: Some(dev), secret_env: None, pinned: vec![] },
                AccountConfig { stash: BOB.into(), mode: Control::Direct, secret_file: Some(wrong), secret_env: None, pinned: vec![] },
                AccountConfig { stash: "nope".into(), mode: Control::Proxy, secret_file: None, secret_env: None, pinned: vec!["x".into()] },
                AccountConfig { stash: BOB.into(), mode: Control::Proxy, secret_file: None, secret_env: Some("STAKEFLOW_TEST_UNSET_SECRET".into()), pinned: vec![] },
            ],
            ..Default::default()
        };
        let p = net.problems("devnet", 42).join("\n");
        for needle in [
            "min_bond",
            "accounts[0]",
            "public development phrase",
            "accounts[1]",
            "needs the stash's own key",
            "accounts[2]",
            "not an SS58 address",
            "exactly one of secret_file or secret_env",
            "only used with policy",
            "accounts[3]",
            "listed twice",
            "not set",
        ] {
            assert!(p.contains(needle), "{needle} missing from:\n{p}");
        }
        assert!(!p.contains("bottom"), "a secret leaked:\n{p}");
        assert!(net.problems("devnet", 0).join("\n").contains("SS58 prefix 42"), "a stash of another network");
    }
}
