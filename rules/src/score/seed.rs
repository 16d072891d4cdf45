//! Reproducible per-round randomness, replacing 1KV's `Math.random()`: the
//! same (network, round, stash) always gets the same factor, so a round's
//! result can be replayed and audited.

use std::{fmt, str::FromStr};

use blake2::{Blake2b, Digest, digest::consts::U32};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

type Blake2b256 = Blake2b<U32>;

/// How far randomness can lift a total: factors are in [1, 1 + spread).
pub const RANDOMNESS_SPREAD: f64 = 0.15;

const DOMAIN: &[u8] = b"stakeflow/round-seed/v1";

/// The seed of one scoring round; serialized as a `0x` hex string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoundSeed(pub [u8; 32]);

impl RoundSeed {
    /// blake2b-256(domain tag ‖ network ‖ 0 ‖ round as big-endian u64).
    pub fn derive(network: &str, round: u64) -> RoundSeed {
        let hash = Blake2b256::new()
            .chain_update(DOMAIN)
            .chain_update(network.as_bytes())
            .chain_update([0u8])
            .chain_update(round.to_be_bytes())
            .finalize();
        RoundSeed(hash.into())
    }

    /// A uniform number in [0, 1) for `stash`: the top 53 bits of
    /// blake2b-256(seed ‖ stash).
    pub fn uniform(&self, stash: &str) -> f64 {
        let hash = Blake2b256::new().chain_update(self.0).chain_update(stash.as_bytes()).finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&hash[..8]);
        (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The factor a candidate's aggregate is multiplied by, in [1, 1 + spread).
pub fn randomness(seed: &RoundSeed, stash: &str) -> f64 {
    factor(seed.uniform(stash))
}

fn factor(uniform: f64) -> f64 {
    let upper = 1.0 + RANDOMNESS_SPREAD;
    let r = 1.0 + uniform * RANDOMNESS_SPREAD;
    // The largest uniform value rounds to `upper` itself; keep the bound strict.
    if r < upper { r } else { upper.next_down() }
}

impl fmt::Display for RoundSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl FromStr for RoundSeed {
    type Err = hex::FromHexError;

    /// 64 hex digits, with or without `0x`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s.strip_prefix("0x").unwrap_or(s), &mut bytes)?;
        Ok(RoundSeed(bytes))
    }
}

impl Serialize for RoundSeed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RoundSeed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_is_reproducible_and_round_specific() {
        let a = RoundSeed::derive("polkadot", 7);
        assert_eq!(a, RoundSeed::derive("polkadot", 7));
        assert_ne!(a, RoundSeed::derive("polkadot", 8));
        assert_ne!(a, RoundSeed::derive("kusama", 7));
        let stash = "1abc";
        assert_eq!(randomness(&a, stash), randomness(&RoundSeed::derive("polkadot", 7), stash));
        assert_ne!(randomness(&a, stash), randomness(&RoundSeed::derive("polkadot", 8), stash));
    }

    #[test]
    fn derive_matches_spec() {
        let mut input = DOMAIN.to_vec();
        input.extend_from_slice(b"kusama\0");
        input.extend_from_slice(&5u64.to_be_bytes());
        let expected: [u8; 32] = Blake2b256::digest(&input).into();
        assert_eq!(RoundSeed::derive("kusama", 5).0, expected);
    }

    #[test]
    fn randomness_in_range() {
        for round in 0..50 {
            let seed = RoundSeed::derive("polkadot", round);
            for stash in ["a", "b", "", "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"] {
                let r = randomness(&seed, stash);
                assert!((1.0..1.0 + RANDOMNESS_SPREAD).contains(&r), "{r}");
                assert!((0.0..1.0).contains(&seed.uniform(stash)));
            }
        }
        let max_uniform = (u64::MAX >> 11) as f64 / (1u64 << 53) as f64;
        assert!(1.0 + max_uniform * RANDOMNESS_SPREAD >= 1.0 + RANDOMNESS_SPREAD, "why factor clamps");
        assert!(factor(max_uniform) < 1.0 + RANDOMNESS_SPREAD);
        assert_eq!(factor(0.0), 1.0);
    }

    #[test]
    fn serde_hex() {
        let seed = RoundSeed::derive("polkadot", 1);
        let json = serde_json::to_string(&seed).unwrap_or_default();
        assert_eq!(json, format!("\"{seed}\""));
        assert!(json.starts_with("\"0x") && json.len() == 68);
        assert_eq!(serde_json::from_str::<RoundSeed>(&json).ok(), Some(seed));
        assert!(serde_json::from_str::<RoundSeed>("\"0x12\"").is_err());
        assert!(serde_json::from_str::<RoundSeed>("\"nothex\"").is_err());
    }
}
