//! Command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Streaming backend for validator nomination programmes on Polkadot-family chains.
///
/// Configuration is layered: built-in defaults, then `--config FILE`, then one
/// TOML per network (`--network FILE`, repeatable), then environment variables
/// `STAKEFLOW__SECTION__KEY` (e.g. `STAKEFLOW__KAFKA__BROKERS=k1:9092`), then
/// the flags below.
#[derive(Debug, Parser)]
#[command(name = "stakeflow", version, about, long_about)]
pub struct Cli {
    /// Process-wide settings (kafka, store, api, ingest), TOML.
    #[arg(long, short = 'c', global = true, env = "STAKEFLOW_CONFIG")]
    pub config: Option<PathBuf>,

    /// A network to follow, one TOML per network (see config/networks/). Repeat for several.
    #[arg(long = "network", short = 'n', global = true)]
    pub networks: Vec<PathBuf>,

    /// Serve only this network here (repeat, or separate with commas; default:
    /// every configured network). Spreads networks over processes: each
    /// scores, nominates, ingests and serves only its own, with its scorer's
    /// state and positions apart from other processes'.
    #[arg(long = "only-network", global = true, value_delimiter = ',', env = "STAKEFLOW_ONLY_NETWORKS")]
    pub only_networks: Vec<String>,

    /// Kafka bootstrap servers of an external cluster; without it `run` starts an embedded broker.
    #[arg(long, global = true, env = "STAKEFLOW_KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,

    /// Where the embedded broker and store keep their files.
    #[arg(long, global = true, env = "STAKEFLOW_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address the API listens on.
    #[arg(long, global = true, env = "STAKEFLOW_API_LISTEN")]
    pub api_listen: Option<SocketAddr>,

    /// Where `ingest` or `score` serve Prometheus `/metrics` (the API serves it itself).
    #[arg(long, global = true, env = "STAKEFLOW_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Pretty, env = "STAKEFLOW_LOG_FORMAT")]
    pub log_format: LogFormat,

    /// Log filter (tracing EnvFilter syntax), e.g. `info,ingest=debug`. The embedded
    /// broker's own logs are quiet unless named, e.g. `info,tansu_broker=debug`.
    #[arg(long, global = true, default_value = DEFAULT_LOG, env = "STAKEFLOW_LOG")]
    pub log_level: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Default log filter: our crates at info, the embedded broker's crates at warn
/// (they trace every protocol frame at info).
pub const DEFAULT_LOG: &str =
    "info,tansu_sans_io=warn,tansu_storage=warn,tansu_broker=warn,tansu_service=warn,tansu_schema=warn,tansu_model=warn,libsql=warn";

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Modes.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything in one process: embedded Kafka broker (unless --kafka-brokers), embedded
    /// store (unless [store] says scylla), ingest, scoring and the API.
    Run(RunArgs),
    /// Chain ingest alone, against the configured Kafka cluster and store.
    Ingest,
    /// The scoring consumers alone.
    Score,
    /// The nominator alone, for every network with nominator accounts.
    Nominate,
    /// The REST API alone.
    Api,
    /// Load and check the configuration, print a summary, and exit.
    Validate,
    /// Rebuild every scoring table from the topics into a new namespace while
    /// the live one serves (try changed weights or rules over history).
    Rescore(RescoreArgs),
    /// Make a rebuilt namespace live (`--base` goes back to the base tables).
    Swap(SwapArgs),
    /// A Kafka-API broker alone (tansu, SQLite engine, data under `--data-dir`):
    /// the embedded broker of `run` as a process of its own, for distributed
    /// mode on one machine.
    Broker(BrokerArgs),
}

/// Options of `broker`.
#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Port on 127.0.0.1 (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 9092)]
    pub port: u16,
}

/// Options of `rescore`.
#[derive(Debug, Args)]
pub struct RescoreArgs {
    /// Name of the new namespace (letters, digits, `_`).
    #[arg(long)]
    pub into: String,
}

/// Options of `swap`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SwapArgs {
    /// The namespace to make live.
    pub name: Option<String>,
    /// Go back to the base tables.
    #[arg(long)]
    pub base: bool,
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Port of the embedded Kafka broker on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 9092, env = "STAKEFLOW_KAFKA_PORT")]
    pub kafka_port: u16,
    /// Run only these services here (repeat; default: all). With the
    /// embedded store, services that read each other's state (score,
    /// nominate, api) share a process; ingest can run alone.
    #[arg(long = "service", value_enum)]
    pub services: Vec<ServiceArg>,
}

/// A service `run --service` names.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ServiceArg {
    Ingest,
    Score,
    Nominate,
    Api,
}

impl Command {
    /// The embedded broker port, for `run`.
    pub fn kafka_port(&self) -> Option<u16> {
        match self {
            Command::Run(a) => Some(a.kafka_port),
            _ => None,
        }
    }
}
