//! The `[nominator]` section: per network, the programme's nominator
//! accounts and how they are controlled, and the settings of the rules that
//! decide when they are due.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use chain::proxy::ProxyClock;

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
    /// Which blocks the proxy pallet counts delays in (`own` on a relay chain,
    /// `relay` on Asset Hub); read from the runtime when not set.
    pub proxy_clock: Option<ProxyClock>,
    /// Call hashes (0x hex) of announcements to remove wherever they are found.
    pub announcement_blacklist: Vec<String>,
    /// The accounts, in the order they take slices of the ranking.
    pub accounts: Vec<AccountConfig>,
}

impl Default for NetworkNominators {
    fn default() -> Self {
        Self {
            era_buffer: None,
            min_bond: 50.0,
            stale_after_eras: None,
            mortality_blocks: 64,
            max_nominations: None,
            policy: PolicyKind::Ranked,
            proxy_clock: None,
            announcement_blacklist: Vec::new(),
            accounts: Vec::new(),
        }
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
    /// The proxy's announcement delay on chain, in the pallet's blocks: above
    /// 0 the account nominates in two steps (`proxy.announce`, then
    /// `proxy.proxy_announced` once the delay has passed). Honoured exactly,
    /// and checked against `Proxy.Proxies` on every pass.
    #[serde(default)]
    pub proxy_delay_blocks: u64,
    /// During a key rotation, the previous signer's secret: used only to
    /// finish what it announced (executed, or removed by it).
    #[serde(default)]
    pub previous_secret_file: Option<PathBuf>,
    /// ...or the environment variable holding it.
    #[serde(default)]
    pub previous_secret_env: Option<String>,
    /// The targets of a `pinned` programme (SS58).
    #[serde(default)]
    pub pinned: Vec<String>,
}

impl AccountConfig {
    /// An account of `stash` in `mode` whose secret is in `secret_file`.
    pub fn new(stash: impl Into<String>, mode: Control, secret_file: PathBuf) -> Self {
        Self {
            stash: stash.into(),
            mode,
            secret_file: Some(secret_file),
            secret_env: None,
            proxy_delay_blocks: 0,
            previous_secret_file: None,
            previous_secret_env: None,
            pinned: Vec::new(),
        }
    }

    /// Where the signing secret comes from; `None` unless exactly one is given.
    pub fn secret_source(&self) -> Option<SecretSource> {
        match (&self.secret_file, &self.secret_env) {
            (Some(p), None) => Some(SecretSource::File(p.clone())),
            (None, Some(v)) => Some(SecretSource::Env(v.clone())),
            _ => None,
        }
    }

    /// Where the previous signer's secret comes from: `Ok(None)` when none is named.
    pub fn previous_source(&self) -> Result<Option<SecretSource>, &'static str> {
        match (&self.previous_secret_file, &self.previous_secret_env) {
            (Some(p), None) => Ok(Some(SecretSource::File(p.clone()))),
            (None, Some(v)) => Ok(Some(SecretSource::Env(v.clone()))),
            (None, None) => Ok(None),
            _ => Err("give at most one of previous_secret_file or previous_secret_env"),
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
    /// The proxy's announcement delay (0: immediate).
    pub delay: u64,
    /// The previous signing key, while its announcements are finished.
    pub previous: Option<Signer>,
    /// Pinned targets' accounts.
    pub pinned: Vec<[u8; 32]>,
}

impl Account {
    /// The configured key (current or previous) whose public key is `delegate`.
    pub fn key_of(&self, delegate: [u8; 32]) -> Option<&Signer> {
        std::iter::once(&self.signer).chain(&self.previous).find(|s| s.public() == delegate)
    }
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
        for h in &self.announcement_blacklist {
            let t = h.trim_start_matches("0x");
            if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
                problems.push(format!("nominator.networks.{network}.announcement_blacklist: {h:?} is not a 0x call hash of 32 bytes"));
            }
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
            if a.proxy_delay_blocks > 0 && a.mode == Control::Direct {
                problems.push(at("proxy_delay_blocks is for mode = \"proxy\": a stash signs its own nominations at once".into()));
            }
            let previous = match a.previous_source() {
                Err(e) => {
                    problems.push(at(e.into()));
                    None
                }
                Ok(None) => None,
                Ok(Some(_)) if a.mode == Control::Direct => {
                    problems.push(at("a previous key is for mode = \"proxy\" (a stash's own key does not rotate)".into()));
                    None
                }
                Ok(Some(source)) => Signer::load(&source).map_err(|e| problems.push(at(format!("previous key: {e}")))).ok(),
            };
            if let (Some(p), Some(s)) = (&previous, &signer)
                && p.public() == s.public()
            {
                problems.push(at("the previous key is the current key".into()));
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
                accounts.push(Account { stash: a.stash.clone(), stash_account, mode: a.mode, signer, delay: a.proxy_delay_blocks, previous, pinned });
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
            announcement_blacklist: vec!["0x1234".into()],
            accounts: vec![
                AccountConfig::new(ALICE, Control::Direct, dev.clone()),
                AccountConfig::new(BOB, Control::Direct, wrong.clone()),
                AccountConfig { secret_file: None, pinned: vec!["x".into()], proxy_delay_blocks: 3, ..AccountConfig::new("nope", Control::Direct, dev.clone()) },
                AccountConfig { secret_file: None, secret_env: Some("STAKEFLOW_TEST_UNSET_SECRET".into()), ..AccountConfig::new(BOB, Control::Proxy, dev.clone()) },
                AccountConfig { previous_secret_file: Some(wrong.clone()), previous_secret_env: Some("X".into()), ..AccountConfig::new(BOB, Control::Proxy, wrong.clone()) },
                AccountConfig { previous_secret_file: Some(wrong.clone()), ..AccountConfig::new(ALICE, Control::Proxy, wrong.clone()) },
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
            "proxy_delay_blocks is for mode = \"proxy\"",
            "accounts[4]",
            "at most one of previous_secret_file",
            "accounts[5]",
            "the previous key is the current key",
            "announcement_blacklist",
        ] {
            assert!(p.contains(needle), "{needle} missing from:\n{p}");
        }
        assert!(!p.contains("bottom"), "a secret leaked:\n{p}");
        assert!(net.problems("devnet", 0).join("\n").contains("SS58 prefix 42"), "a stash of another network");
    }
}
