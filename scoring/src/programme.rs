//! The programme: candidates judged and scored round by round from the
//! topics. Pure parts ([`chain_facts`], [`history`], [`round`]) are
//! separate from the consumer ([`scorer`]) and its publishing ([`publish`]).

pub mod chain_facts;
pub mod config;
pub mod eras;
pub mod explain;
pub mod history;
pub mod list_feed;
pub mod publish;
pub mod round;
pub mod scorer;

pub use config::{ProgrammeConfig, ScoringConfig};
pub use round::{CandidateRound, RoundSnapshot, evaluate_round};
pub use scorer::{ScoredNetwork, Scorer, ScorerState, latest_round, round_numbers, stored_round};
