//! Validity: the fourteen 1KV checks plus nodes per identity, each a pure
//! function with its evidence; a candidate's verdict is derived from its
//! checks in one step, so `valid` and its reasons never disagree.

mod checks;
mod config;
mod facts;

use serde::{Deserialize, Serialize};

pub use checks::{CheckContext, CheckKind, CheckResult, Evidence, Verdict, is_dummy_beefy, parse_version, planck_to_tokens, sources, tokens_to_planck};
pub use config::{ClientVersionConfig, Profile, Release, ValidityConfig, resolve};
pub use facts::{CandidateFacts, Fact, IdentityFacts, KusamaStanding, LocationFacts, NodeFacts, StakingFacts};

/// A candidate's validity: every enabled check, and the verdict they imply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validity {
    /// Valid when every enabled check is valid; invalid when any is invalid;
    /// unknown otherwise (some data is missing, nothing is known to be wrong).
    pub verdict: Verdict,
    /// `verdict == Valid`.
    pub valid: bool,
    /// The enabled checks' results, in [`CheckKind::ALL`] order.
    pub checks: Vec<CheckResult>,
    /// Checks the settings switch off.
    pub skipped: Vec<CheckKind>,
}

impl Validity {
    /// The checks that are not valid (what a candidate needs to fix or wait for).
    pub fn reasons(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.verdict != Verdict::Valid)
    }
}

/// Run every enabled check and derive the verdict.
pub fn evaluate(facts: &CandidateFacts, cfg: &ValidityConfig, ctx: CheckContext) -> Validity {
    let (skipped, enabled): (Vec<CheckKind>, Vec<CheckKind>) = CheckKind::ALL.iter().partition(|k| k.skipped(cfg));
    let checks: Vec<CheckResult> = enabled.into_iter().map(|k| checks::run(k, facts, cfg, ctx)).collect();
    let verdict = combine(checks.iter().map(|c| c.verdict));
    Validity { verdict, valid: verdict == Verdict::Valid, checks, skipped }
}

/// Invalid beats unknown beats valid.
pub fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    verdicts.into_iter().fold(Verdict::Valid, |acc, v| match (acc, v) {
        (Verdict::Invalid, _) | (_, Verdict::Invalid) => Verdict::Invalid,
        (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
        _ => Verdict::Valid,
    })
}

#[cfg(test)]
mod tests;
