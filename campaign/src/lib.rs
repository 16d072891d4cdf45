//! The fault campaign: the real `stakeflow` binary as separate processes
//! (a broker process, ingest, and the scorer with the nominator, each with its own store)
//! against the devnet, hit by `kill -9` at random instants, broker outages,
//! chain connections cut and black-holed, and second instances started
//! beside the first; after each run an independent reader checks that every
//! record is on its topic once, that the rounds on the topics are the
//! stored ones and a rebuild's, and that no era was nominated twice.

pub mod invariants;
pub mod procs;
pub mod reader;
mod run;
pub mod schedule;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use run::run;
use schedule::Role;

/// What a campaign does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The `stakeflow` binary.
    pub stakeflow: PathBuf,
    /// Seeds where the kills fall (same seed, same campaign).
    pub seed: u64,
    /// `kill -9`s of service processes.
    pub kills: usize,
    /// Longest time between two kills.
    pub max_gap: Duration,
    /// Broker outages, in order.
    pub outages: Vec<Duration>,
    /// How long second instances run beside the first (zero: none).
    pub overlap: Duration,
    /// Cut the chain connection, then black-hole it, with a second endpoint
    /// that is behind (a fork of the devnet at an older block) to fail over to.
    pub stalls: bool,
    /// Blocks built before ingest starts (a backfill from block 0).
    pub history_blocks: u32,
    /// Where the processes' files and logs go (kept); a temporary directory otherwise.
    pub work_dir: Option<PathBuf>,
}

impl Plan {
    /// The full campaign: 120 kills, outages of 10, 45 and 120 s, a minute
    /// of doubled instances, a cut and a black hole.
    pub fn full(stakeflow: PathBuf) -> Self {
        Self {
            stakeflow,
            seed: 1,
            kills: 120,
            max_gap: Duration::from_secs(4),
            outages: [10, 45, 120].map(Duration::from_secs).to_vec(),
            overlap: Duration::from_secs(60),
            stalls: true,
            history_blocks: 150,
            work_dir: None,
        }
    }

    /// The short version the test command runs: a few kills, one outage,
    /// a short overlap.
    pub fn short(stakeflow: PathBuf) -> Self {
        Self {
            kills: 6,
            outages: vec![Duration::from_secs(10)],
            overlap: Duration::from_secs(15),
            stalls: false,
            history_blocks: 60,
            ..Self::full(stakeflow)
        }
    }
}

/// What a campaign did and found.
#[derive(Debug, Default)]
pub struct Report {
    /// Runs checked (one after each phase).
    pub runs: usize,
    pub kills: BTreeMap<Role, usize>,
    pub outages: Vec<Duration>,
    /// Time from a broker's return to the chain's head on the topic, per outage.
    pub recoveries: Vec<Duration>,
    pub stalls: usize,
    pub overlaps: usize,
    /// The chain's head at the last check, and records read then.
    pub blocks: u64,
    pub records: usize,
    pub rounds: usize,
    /// Batches the nominator landed on the chain.
    pub batches: usize,
    pub violations: Vec<String>,
    pub elapsed: Duration,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kills: Vec<String> = self.kills.iter().map(|(r, n)| format!("{} {n}", r.name())).collect();
        let total: usize = self.kills.values().sum();
        let outages: Vec<String> = self.outages.iter().zip(&self.recoveries).map(|(o, r)| format!("{}s (back in {:.1}s)", o.as_secs(), r.as_secs_f64())).collect();
        writeln!(f, "campaign: {} runs checked in {:.0} s", self.runs, self.elapsed.as_secs_f64())?;
        writeln!(f, "  kills -9: {total} ({})", kills.join(", "))?;
        writeln!(f, "  broker outages: {}", if outages.is_empty() { "none".into() } else { outages.join(", ") })?;
        writeln!(f, "  chain stalls: {}, doubled instances: {}", self.stalls, self.overlaps)?;
        writeln!(f, "  checked: blocks 0..={}, {} records, {} rounds, {} batches landed", self.blocks, self.records, self.rounds, self.batches)?;
        write!(f, "  violations: {}", self.violations.len())?;
        for v in &self.violations {
            write!(f, "\n    - {v}")?;
        }
        Ok(())
    }
}
