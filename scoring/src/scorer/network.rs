//! A network as the scorer scores it: its chains and its resolved programme.

use std::collections::BTreeSet;

use rules::validity::ValidityConfig;

use super::config::ProgrammeConfig;

/// A scored network as the scorer needs it.
#[derive(Debug, Clone)]
pub struct ScoredNetwork {
    /// Network name.
    pub name: String,
    /// Relay chain (sessions, faults).
    pub relay: String,
    /// Staking chain (validators, nominators, points).
    pub staking: String,
    /// Identity chain.
    pub identity: String,
    /// Token decimals.
    pub decimals: u8,
    /// SS58 prefix of the candidate list.
    pub ss58_prefix: u16,
    /// The programme settings.
    pub programme: ProgrammeConfig,
    /// Check settings resolved from the profile and overrides.
    pub validity: ValidityConfig,
    /// The programme's nominators, 0x hex.
    pub own_nominators: BTreeSet<String>,
    /// Whether telemetry of this network is collected (feeds or `/submit`):
    /// the scorer then folds it into the network's uptime.
    pub telemetry: bool,
}

impl ScoredNetwork {
    /// Resolve a network's programme; an error names what is wrong.
    pub fn new(
        name: &str,
        chains: (&str, &str, &str),
        decimals: u8,
        ss58_prefix: u16,
        programme: ProgrammeConfig,
    ) -> Result<Self, String> {
        let validity = programme.validity_for(name)?;
        let own_nominators = programme
            .nominators
            .iter()
            .map(|n| schemas::ss58::hex_account(n).ok_or_else(|| format!("nominator {n:?} is not SS58")))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            name: name.to_string(),
            relay: chains.0.to_string(),
            staking: chains.1.to_string(),
            identity: chains.2.to_string(),
            decimals,
            ss58_prefix,
            programme,
            validity,
            own_nominators,
            telemetry: false,
        })
    }

    /// Fold this network's telemetry into its rounds (it has feeds or `/submit`).
    pub fn with_telemetry(mut self, on: bool) -> Self {
        self.telemetry = on;
        self
    }
}

