//! `stakeflow-bench`: ingest's decode-and-publish throughput on recorded
//! blocks, as a ratio to raw rdkafka produce of the same bytes to the same
//! broker in the same run.
//!
//! ```text
//! stakeflow-bench record            # once: devnet activity -> bench/fixtures/paseo-devnet.json
//! stakeflow-bench run [--repeat 20] # decode + publish vs raw produce, printed
//! stakeflow-bench rescore           # full rounds of 1,000 and 10,000 synthetic candidates (and their freeing)
//! stakeflow-bench replay            # rebuild every scoring table from 1,000 eras on the topics
//! stakeflow-bench api               # /candidates of a 1,000-candidate round vs nginx serving the same bytes
//! stakeflow-bench latency           # finalized block starting a session -> its round on the topic, on the devnet
//! ```

mod fixture;
mod latency;
mod nominate;
mod record;
mod run;
mod resume;
mod scoring;
mod serve;
mod year;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Benchmarks for stakeflow ingest.
#[derive(Debug, Parser)]
#[command(name = "stakeflow-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a devnet, make staking, identity and session activity, and record
    /// its blocks (metadata and raw event bytes) into a fixture.
    Record {
        /// Fixture to write.
        #[arg(long, default_value = fixture::DEFAULT_PATH)]
        out: PathBuf,
    },
    /// Decode and publish the recorded blocks through the embedded broker and
    /// compare with raw rdkafka produce of the same records.
    Run {
        /// Fixture to read.
        #[arg(long, default_value = fixture::DEFAULT_PATH)]
        fixture: PathBuf,
        /// How many times to replay the recorded blocks (block numbers shift each pass).
        #[arg(long, default_value_t = 20)]
        repeat: u32,
        /// Blocks per publish window (default: ingest's default).
        #[arg(long)]
        window: Option<usize>,
    },
    /// From the finalized block that starts a session to its round on the
    /// rounds topic, on the devnet (chopsticks), block ingest and scorer as
    /// `stakeflow run` runs them.
    Latency {
        /// Candidates in the programme.
        #[arg(long, default_value_t = 1000)]
        candidates: usize,
        /// Sessions timed (after one to warm up).
        #[arg(long, default_value_t = 20)]
        sessions: usize,
    },
    /// Full scoring rounds of synthetic programmes (pure, no I/O).
    Rescore {
        /// Candidate counts.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
        candidates: Vec<usize>,
        /// Rounds per size (the median is printed).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// The nominator: decide for many accounts from a large round, sign their batches on a devnet, count RPC requests.
    Nominate {
        /// Candidates in the round.
        #[arg(long, default_value_t = 10_000)]
        candidates: usize,
        /// Nominator accounts.
        #[arg(long, default_value_t = 100)]
        accounts: usize,
        /// Targets per account.
        #[arg(long, default_value_t = 24)]
        targets: u32,
        /// Decisions timed (the median is printed).
        #[arg(long, default_value_t = 20)]
        repeat: usize,
    },
    /// What an ingest restart reads back when its chain shares partitions with a busy one.
    Resume {
        /// Records the other chain writes (a year of blocks is about 5.3 million).
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
    },
    /// The public API under load against nginx serving the same bytes (nginx from the system packages).
    Api {
        /// Candidates in the round served.
        #[arg(long, default_value_t = 1000)]
        candidates: usize,
        /// Keep-alive connections sending requests back to back.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds of load per target.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Rebuild every scoring table from synthetic eras published to the embedded broker.
    Replay {
        /// Eras of history.
        #[arg(long, default_value_t = 1000)]
        eras: u64,
        /// Candidates (validators) per era.
        #[arg(long, default_value_t = 20)]
        validators: usize,
        /// Nominators per era.
        #[arg(long, default_value_t = 20)]
        nominators: usize,
        /// What each reader may fetch ahead, kB (librdkafka's queued.max.messages.kbytes;
        /// default: stakeflow's; librdkafka's own is 65536), to compare memory and speed.
        #[arg(long)]
        read_ahead_kb: Option<u32>,
        /// How long a reader's fetch may wait on the broker for data, ms
        /// (librdkafka's fetch.wait.max.ms; default: stakeflow's).
        #[arg(long)]
        fetch_wait_ms: Option<u32>,
    },
    /// Scoring time of a long history without the broker: the scorer's fold, rounds and saves over synthetic eras.
    Year {
        /// Eras (a year of Kusama: 1,460 eras of 6 hours).
        #[arg(long, default_value_t = 1460)]
        eras: u64,
        /// Candidates (validators) per era.
        #[arg(long, default_value_t = 1000)]
        validators: usize,
        /// Nominators per era.
        #[arg(long, default_value_t = 20_000)]
        nominators: usize,
    },
}

// mimalloc: a round allocates and frees a few hundred thousand small
// strings; with glibc's allocator that was a quarter of its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        match cli.command {
            Command::Record { out } => record::record(&out).await,
            Command::Run { fixture, repeat, window } => run::run(&fixture, repeat, window).await,
            Command::Rescore { candidates, repeat } => {
                scoring::rescore(&candidates, repeat.max(1));
                Ok(())
            }
            Command::Latency { candidates, sessions } => latency::latency(candidates, sessions.max(1)).await,
            Command::Resume { records } => resume::resume(records).await,
            Command::Replay { eras, validators, nominators, read_ahead_kb, fetch_wait_ms } => {
                scoring::replay(eras, validators, nominators, read_ahead_kb, fetch_wait_ms).await
            }
            Command::Year { eras, validators, nominators } => year::year(eras, validators, nominators).await,
            Command::Api { candidates, connections, seconds } => serve::api(candidates, connections, seconds).await,
            Command::Nominate { candidates, accounts, targets, repeat } => nominate::nominate(candidates, accounts, targets, repeat).await,
        }
    })
}
