//! Candidate scoring: the 15 components of the Thousand Validators programme
//! (1KV), with its formulas and production weights but without its bugs:
//! quantiles never reorder their input, a weight of 0 switches a component
//! off, missing or NaN data is never rewarded, and the random factor comes
//! from a per-round seed instead of `Math.random()`, so every round can be
//! replayed. Pure: no I/O, no clock, no panics on any input.

mod components;
mod seed;
mod stats;
mod weights;

pub use components::{Buckets, MISSING_BUCKET, Score, ScoreInputs, ScoreStats, score_one, score_round};
pub use seed::{RANDOMNESS_SPREAD, RoundSeed, randomness};
pub use stats::{Stats, quantile, scaled, scaled_defined};
pub use weights::{COMPONENTS, Components, PerComponent, Weights, deserialize_partial as deserialize_weights};
