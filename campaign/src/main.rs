//! `stakeflow-campaign`: the fault campaign in one command. Prints its
//! progress, then runs, kills, outages and violations; exits non-zero on
//! any violation.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Run the real stakeflow binary as separate processes against the devnet
/// and a broker process, under kill -9, broker outages, chain stalls and
/// doubled instances, and check every invariant after each phase.
#[derive(Debug, Parser)]
#[command(name = "stakeflow-campaign")]
struct Args {
    /// The stakeflow binary (default: beside this one).
    #[arg(long)]
    stakeflow: Option<PathBuf>,
    /// The short version (a few kills, one outage) instead of the full campaign.
    #[arg(long)]
    short: bool,
    /// Number of kill -9s (default: 120, short 6).
    #[arg(long)]
    kills: Option<usize>,
    /// Broker outages, e.g. `10s,45s,120s` (default as given; `none` for none).
    #[arg(long)]
    outages: Option<String>,
    /// Seed of the kill instants.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the processes' files and logs here.
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

fn outages(s: &str) -> anyhow::Result<Vec<Duration>> {
    if s == "none" {
        return Ok(Vec::new());
    }
    s.split(',').map(|d| humantime::parse_duration(d.trim()).map_err(|e| anyhow::anyhow!("outage {d:?}: {e}"))).collect()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(clean) if clean => std::process::ExitCode::SUCCESS,
        Ok(_) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let stakeflow = match args.stakeflow {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name("stakeflow"),
    };
    let mut plan = if args.short { campaign::Plan::short(stakeflow) } else { campaign::Plan::full(stakeflow) };
    plan.seed = args.seed;
    plan.work_dir = args.work_dir;
    if let Some(k) = args.kills {
        plan.kills = k;
    }
    if let Some(o) = &args.outages {
        plan.outages = outages(o)?;
    }
    let started = std::time::Instant::now();
    let report = campaign::run(&plan, &|line| println!("[{:>5.0}s] {line}", started.elapsed().as_secs_f64())).await?;
    println!("{report}");
    Ok(report.violations.is_empty())
}
