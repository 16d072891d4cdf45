//! `stakeflow-bench`: ingest's decode-and-publish throughput on recorded
//! blocks, as a ratio to raw rdkafka produce of the same bytes to the same
//! broker in the same run.
//!
//! ```text
//! stakeflow-bench record            # once: devnet activity -> bench/fixtures/paseo-devnet.json
//! stakeflow-bench run [--repeat 20] # decode + publish vs raw produce, printed
//! ```

mod fixture;
mod record;
mod run;

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        match cli.command {
            Command::Record { out } => record::record(&out).await,
            Command::Run { fixture, repeat, window } => run::run(&fixture, repeat, window).await,
        }
    })
}
