//! What validity is judged on: every fact about one candidate at one moment,
//! each with where it came from and when. `None` means the source has said
//! nothing (or nothing fresh): the check that needs it answers "unknown".

use serde::{Deserialize, Serialize};
use smol_str::SmolStr;

/// A value with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact<T> {
    /// The value seen.
    pub value: T,
    /// Where it came from (a topic, or a config file).
    pub source: SmolStr,
    /// When it was true: `era 12`, `block polkadot#345`, an RFC 3339 time.
    /// Every check on this fact quotes it: a shared text, cloned without copying.
    pub at: SmolStr,
}

impl<T> Fact<T> {
    /// A fact from `source` at `at`.
    pub fn new(value: T, source: impl Into<SmolStr>, at: impl Into<SmolStr>) -> Self {
        Self { value, source: source.into(), at: at.into() }
    }
}

/// What telemetry says of the candidate's node.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NodeFacts {
    /// Online now; `None` while no feed of the network is up (our outage, not theirs).
    pub online: Option<bool>,
    /// Since when the node has been continuously online (ms), when online.
    pub online_since_ms: Option<i64>,
    /// First sighting (ms).
    pub discovered_at_ms: i64,
    /// Offline time inside the uptime window (ms).
    pub offline_ms: i64,
    /// The uptime window (ms) `offline_ms` is measured over.
    pub window_ms: i64,
    /// Node implementation, e.g. "Parity Polkadot".
    pub implementation: Option<String>,
    /// Node version, e.g. "1.15.2-4b6a2e7f".
    pub version: Option<String>,
    /// How the node was tied to the candidate: `session_key` or `name`.
    pub matched_by: SmolStr,
}

/// Where the node runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LocationFacts {
    /// City (telemetry).
    pub city: Option<String>,
    /// Region or subdivision.
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Hosting provider.
    pub provider: Option<String>,
}

/// The candidate's validator prefs and stake at the latest era.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StakingFacts {
    /// Commission, Perbill (1e7 = 1 %).
    pub commission_perbill: u32,
    /// Blocks external nominations.
    pub blocked: bool,
    /// Self stake (ledger active), planck.
    pub self_bonded: u128,
}

/// The candidate's on-chain identity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IdentityFacts {
    /// The account holding the identity: the candidate's own, or its super's.
    pub root: String,
    /// Display name of the root identity.
    pub display: Option<String>,
    /// Whether an identity is set (own or via a super).
    pub has_identity: bool,
    /// Judgements of the root identity (`Reasonable`, `KnownGood`, `FeePaid`, ...).
    pub judgements: Vec<String>,
}

impl IdentityFacts {
    /// Verified the way 1KV counts it: a `Reasonable` or `KnownGood` judgement.
    pub fn verified(&self) -> bool {
        self.judgements.iter().any(|j| j == "Reasonable" || j == "KnownGood")
    }
}

/// The candidate's standing in the Kusama programme (Polkadot candidates with a Kusama stash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KusamaStanding {
    /// Kusama rank.
    pub rank: u32,
    /// Valid in the Kusama programme.
    pub valid: bool,
}

/// Everything known about one candidate when validity is judged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CandidateFacts {
    /// Stash (SS58, as in the candidates file).
    pub stash: String,
    /// The file's `skipSelfStake` ("case for good intentions").
    pub skip_self_stake: bool,
    /// Whether the candidate lists a Kusama stash.
    pub has_kusama_stash: bool,
    /// Whether any telemetry feed of the network is up now.
    pub telemetry_up: bool,
    /// The candidate's node in telemetry; `None` = not seen.
    pub node: Option<Fact<NodeFacts>>,
    /// Location of the node.
    pub location: Option<Fact<LocationFacts>>,
    /// Whether the stash is in Staking.Validators (intends to validate) at the latest era.
    pub intends_to_validate: Option<Fact<bool>>,
    /// Prefs and self stake at the latest era.
    pub staking: Option<Fact<StakingFacts>>,
    /// Identity.
    pub identity: Option<Fact<IdentityFacts>>,
    /// How many candidates share the root identity (sub-identities included).
    pub nodes_of_identity: Option<Fact<u32>>,
    /// BEEFY session key (0x hex), when the stash is in the session's validator set.
    pub beefy_key: Option<Fact<String>>,
    /// Eras with unclaimed rewards, and the active era.
    pub unclaimed_eras: Option<Fact<(Vec<u32>, u32)>>,
    /// Kusama standing.
    pub kusama: Option<Fact<KusamaStanding>>,
}
