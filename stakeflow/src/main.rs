//! `stakeflow`: one binary, every mode. `run` starts everything in one process
//! on embedded defaults; `ingest | score | nominate | api` run one service
//! against external Kafka and ScyllaDB.

mod cli;
mod config;
mod observability;
mod reload;
mod replay;
mod services;

use clap::Parser;

use crate::cli::{Cli, Command};

// mimalloc: a round allocates and frees a few hundred thousand small
// strings; with glibc's allocator that was a quarter of its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    observability::init(cli.log_format, &cli.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    if let Command::Broker(a) = &cli.command {
        // A broker needs no network or programme: only where its files go.
        let dir = cli.data_dir.clone().unwrap_or_else(|| "data".into());
        return services::run_broker(&dir, a.port).await;
    }
    let cfg = config::load(&cli)?;
    match cli.command {
        Command::Validate => {
            println!("configuration is valid: {} network(s): {}", cfg.networks.len(), cfg.network_names().join(", "));
            if let Some(only) = &cfg.only_networks {
                println!("  this process serves only: {} (--only-network)", only.join(", "));
            }
            for net in cfg.scored_networks()? {
                let skipped: Vec<&str> =
                    rules::validity::CheckKind::ALL.iter().filter(|k| k.skipped(&net.validity)).map(|k| k.key()).collect();
                println!(
                    "  programme {}: candidates from {}; checks skipped: {}",
                    net.name,
                    net.programme.candidates.as_deref().unwrap_or("?"),
                    if skipped.is_empty() { "none".to_string() } else { skipped.join(", ") }
                );
            }
            // Public addresses only: secrets are checked, never shown.
            for (name, nominators) in &cfg.nominator.networks {
                let prefix = cfg.networks.iter().find(|n| &n.name == name).map_or(42, |n| n.ss58_prefix);
                let accounts = nominators.load(name, prefix).map_err(|p| anyhow::anyhow!(p.join("; ")))?;
                println!("  nominator {name}: {} account(s), policy {:?}, dry run {}", accounts.len(), nominators.policy, cfg.nominator.dry_run);
                for a in accounts {
                    println!("    {} ({:?}) signed by {}", a.stash, a.mode, a.signer.address(prefix));
                }
            }
            Ok(())
        }
        Command::Run(a) => {
            let only = a.services.iter().map(|s| match s {
                cli::ServiceArg::Ingest => services::Service::Ingest,
                cli::ServiceArg::Score => services::Service::Score,
                cli::ServiceArg::Nominate => services::Service::Nominate,
                cli::ServiceArg::Api => services::Service::Api,
            });
            services::run_all(cfg, only.collect()).await
        }
        Command::Ingest => services::run_one(cfg, services::Service::Ingest).await,
        Command::Score => services::run_one(cfg, services::Service::Score).await,
        Command::Api => services::run_one(cfg, services::Service::Api).await,
        Command::Nominate => services::run_one(cfg, services::Service::Nominate).await,
        // A namespace holds every network's rounds, and a swap moves them all.
        Command::Rescore(_) | Command::Swap(_) if cfg.only_networks.is_some() => {
            anyhow::bail!("rescore and swap work on every network at once: run them without --only-network")
        }
        Command::Rescore(a) => replay::rescore(cfg, &a.into).await,
        Command::Swap(a) => replay::swap(cfg, if a.base { None } else { a.name.as_deref() }).await,
        Command::Broker(a) => services::run_broker(&cfg.data_dir, a.port).await,
    }
}
