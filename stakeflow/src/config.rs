//! The whole configuration tree: layered, then validated before anything connects.

use std::path::{Path, PathBuf};

use anyhow::Context;
use api::ApiConfig;
use bus::BusConfig;
use chain::NetworkConfig;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ingest::IngestConfig;
use nominator::NominatorConfig;
use serde::{Deserialize, Serialize};
use store::StoreConfig;

use crate::cli::{Cli, Command};

/// Process-wide settings (`--config FILE`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppConfig {
    /// Where the embedded broker and store keep their files (default `data`).
    pub data_dir: PathBuf,
    /// Network TOML files to load in addition to `--network`.
    pub network_files: Vec<PathBuf>,
    /// Kafka.
    pub kafka: BusConfig,
    /// State store; unset means the embedded store at `<data_dir>/state.redb`.
    pub store: Option<StoreConfig>,
    /// REST API.
    pub api: ApiConfig,
    /// Chain ingest.
    pub ingest: IngestConfig,
    /// Uptime accounting.
    pub uptime: scoring::UptimeConfig,
    /// The programme of each network: candidates, checks, weights.
    pub scoring: scoring::scorer::ScoringConfig,
    /// Telemetry feed clients.
    pub telemetry: ingest::telemetry::TelemetryConfig,
    /// Nominator (reserved).
    pub nominator: NominatorConfig,
    /// Where a process without the API serves `/metrics` (unset: nowhere; the
    /// API serves `/metrics` itself).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The loaded networks (from their own files, not this one).
    #[serde(skip)]
    pub networks: Vec<NetworkConfig>,
    /// Port for the embedded broker (`run --kafka-port`).
    #[serde(skip)]
    pub embedded_kafka_port: u16,
    /// The config file it was loaded from (a running nominator reads its section again).
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
    /// The networks this process serves when told (`--only-network`); the
    /// rest of the configuration is then narrowed to them.
    #[serde(skip)]
    pub only_networks: Option<Vec<String>>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            network_files: Vec::new(),
            kafka: BusConfig::default(),
            store: None,
            api: ApiConfig::default(),
            ingest: IngestConfig::default(),
            nominator: NominatorConfig::default(),
            telemetry: ingest::telemetry::TelemetryConfig::default(),
            uptime: scoring::UptimeConfig::default(),
            scoring: scoring::scorer::ScoringConfig::default(),
            metrics_listen: None,
            networks: Vec::new(),
            embedded_kafka_port: 9092,
            config_file: None,
            only_networks: None,
        }
    }
}

impl AppConfig {
    /// The store to open.
    pub fn store_config(&self) -> StoreConfig {
        self.store.clone().unwrap_or_else(|| StoreConfig::Embedded { path: self.data_dir.join("state.redb") })
    }

    /// Names of every followed chain (relay, staking and identity chains).
    pub fn chain_names(&self) -> Vec<String> {
        self.networks.iter().flat_map(|n| n.followed_chains()).map(|c| c.config.name).collect()
    }

    /// The networks with a programme, resolved for the scorer.
    pub fn scored_networks(&self) -> anyhow::Result<Vec<scoring::scorer::ScoredNetwork>> {
        let mut out = Vec::new();
        for (name, programme) in &self.scoring.networks {
            let net = self
                .networks
                .iter()
                .find(|n| &n.name == name)
                .with_context(|| format!("scoring.networks.{name}: no network of that name is loaded"))?;
            let chains = net.followed_chains();
            let role = |f: fn(&chain::Roles) -> bool| {
                chains.iter().find(|c| f(&c.roles)).map_or_else(|| net.name.clone(), |c| c.config.name.clone())
            };
            let (relay, staking, identity) = (role(|r| r.relay), role(|r| r.staking), role(|r| r.identity));
            let scored = scoring::scorer::ScoredNetwork::new(
                name,
                (&relay, &staking, &identity),
                net.decimals,
                net.ss58_prefix,
                programme.clone(),
            )
            .map_err(|e| anyhow::anyhow!("scoring.networks.{name}: {e}"))?
            // Its rounds fold its telemetry when any is collected: feeds, or nodes reporting to /submit.
            .with_telemetry(!net.telemetry.is_empty() || self.telemetry.submit_listen.is_some());
            out.push(scored);
        }
        Ok(out)
    }

    /// The networks with nominator accounts, their signers loaded.
    pub fn nominator_networks(&self) -> anyhow::Result<Vec<nominator::NetworkSetup>> {
        let mut out = Vec::new();
        for (name, settings) in &self.nominator.networks {
            if settings.accounts.is_empty() {
                continue;
            }
            let net = self
                .networks
                .iter()
                .find(|n| &n.name == name)
                .with_context(|| format!("nominator.networks.{name}: no network of that name is loaded"))?;
            let staking_chain = net.followed_chains().into_iter().find(|c| c.roles.staking).map_or_else(|| net.clone(), |c| c.config);
            let accounts = settings.load(name, net.ss58_prefix).map_err(|p| anyhow::anyhow!(p.join("\n")))?;
            out.push(nominator::NetworkSetup {
                name: name.clone(),
                staking_chain,
                decimals: net.decimals,
                ss58_prefix: net.ss58_prefix,
                settings: settings.clone(),
                accounts,
            });
        }
        Ok(out)
    }

    /// Names of the configured networks.
    pub fn network_names(&self) -> Vec<String> {
        self.networks.iter().map(|n| n.name.clone()).collect()
    }

    /// Serve only `names` (`--only-network`): the networks, their programmes,
    /// nominator accounts and telemetry feeds; the others are another
    /// process's. Refused for a name no section configures, and for a
    /// programme whose `kusama_rank` check reads a network scored elsewhere
    /// (its rounds are judged with that network's latest standings, which
    /// only a scorer of both has).
    pub fn only_networks(&mut self, names: &[String]) -> anyhow::Result<()> {
        let known: std::collections::BTreeSet<&String> =
            self.networks.iter().map(|n| &n.name).chain(self.scoring.networks.keys()).chain(self.nominator.networks.keys()).collect();
        for name in names {
            anyhow::ensure!(known.contains(name), "--only-network {name}: no network of that name is configured (known: {known:?})");
        }
        for (name, programme) in self.scoring.networks.iter().filter(|(n, _)| names.contains(n)) {
            let Ok(validity) = programme.validity_for(name) else { continue }; // reported by validation
            let reads = &validity.kusama_rank.network;
            if !validity.kusama_rank.skip && self.scoring.networks.contains_key(reads) && !names.contains(reads) {
                anyhow::bail!(
                    "--only-network {name}: its kusama_rank check reads the standings of network {reads}, which would be scored elsewhere; serve {reads} in the same process (--only-network {reads})"
                );
            }
        }
        self.networks.retain(|n| names.contains(&n.name));
        self.scoring.networks.retain(|n, _| names.contains(n));
        self.nominator.networks.retain(|n, _| names.contains(n));
        self.only_networks = Some(names.to_vec());
        Ok(())
    }
}

/// Layer defaults, the config file, network files, environment and flags; validate.
pub fn load(cli: &Cli) -> anyhow::Result<AppConfig> {
    if let Some(path) = &cli.config {
        anyhow::ensure!(path.is_file(), "config file {} does not exist", path.display());
    }
    let mut cfg: AppConfig = layered(cli.config.as_deref()).extract().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    cfg.config_file = cli.config.clone();

    if let Some(brokers) = &cli.kafka_brokers {
        cfg.kafka.brokers = Some(brokers.clone());
    }
    if let Some(dir) = &cli.data_dir {
        cfg.data_dir = dir.clone();
    }
    if let Some(listen) = cli.api_listen {
        cfg.api.listen = listen;
    }
    if let Some(listen) = cli.metrics_listen {
        cfg.metrics_listen = Some(listen);
    }
    if let Some(port) = cli.command.kafka_port() {
        cfg.embedded_kafka_port = port;
    }
    let files: Vec<PathBuf> = cli.networks.iter().chain(cfg.network_files.iter()).cloned().collect();
    for file in files {
        cfg.networks.push(load_network(&file)?);
    }
    if !cli.only_networks.is_empty() {
        cfg.only_networks(&cli.only_networks)?;
    }
    let needs_networks = !matches!(cli.command, Command::Score | Command::Nominate | Command::Swap(_));
    let problems = problems(&cfg, needs_networks);
    anyhow::ensure!(problems.is_empty(), "invalid configuration:\n  - {}", problems.join("\n  - "));
    Ok(cfg)
}

/// Defaults, the config file and the environment, in that order.
fn layered(path: Option<&Path>) -> Figment {
    let mut fig = Figment::from(Serialized::defaults(AppConfig::default()));
    if let Some(path) = path {
        fig = fig.merge(Toml::file(path));
    }
    // STAKEFLOW__NETWORK__<FILE_STEM>__* belongs to network files.
    fig.merge(Env::prefixed("STAKEFLOW__").split("__").filter(|k| !is_network_key(k.as_str())))
}

/// The `[nominator]` section as the config file and the environment state it now.
pub fn nominator_section(path: Option<&Path>) -> anyhow::Result<NominatorConfig> {
    layered(path).extract_inner("nominator").map_err(|e| anyhow::anyhow!("configuration: {e}"))
}

/// Whether an environment key (after the STAKEFLOW__ prefix) targets a network file.
fn is_network_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("network__") || key.starts_with("network.")
}

fn load_network(path: &Path) -> anyhow::Result<NetworkConfig> {
    anyhow::ensure!(path.is_file(), "network file {} does not exist", path.display());
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_uppercase().replace('-', "_")).unwrap_or_default();
    Figment::from(Toml::file(path))
        .merge(Env::prefixed(&format!("STAKEFLOW__NETWORK__{stem}__")).split("__"))
        .extract()
        .with_context(|| format!("network file {}", path.display()))
}

/// Every problem, so one run of `stakeflow validate` shows them all.
fn problems(cfg: &AppConfig, needs_networks: bool) -> Vec<String> {
    let mut out = cfg.api.problems();
    if needs_networks && cfg.networks.is_empty() {
        out.push("no network configured: pass --network config/networks/devnet.toml (or list network_files)".into());
    }
    let mut names: Vec<&str> = cfg.networks.iter().map(|n| n.name.as_str()).collect();
    names.sort_unstable();
    for w in names.windows(2) {
        if w[0] == w[1] {
            out.push(format!("network {} is configured twice", w[0]));
        }
    }
    for n in &cfg.networks {
        out.extend(n.problems());
    }
    let names: Vec<String> = cfg.network_names();
    for (name, programme) in &cfg.scoring.networks {
        out.extend(programme.problems(name, &names));
    }
    for (name, nominators) in &cfg.nominator.networks {
        match cfg.networks.iter().find(|n| &n.name == name) {
            Some(net) => out.extend(nominators.problems(name, net.ss58_prefix)),
            None => out.push(format!("nominator.networks.{name}: no network of that name is loaded (known: {names:?})")),
        }
        if !nominators.accounts.is_empty() && !cfg.scoring.networks.contains_key(name) {
            out.push(format!("nominator.networks.{name}: no programme scores this network, so there is nothing to nominate from; add [scoring.networks.{name}]"));
        }
    }
    if cfg.kafka.partitions < 1 {
        out.push(format!("kafka.partitions must be at least 1, not {}", cfg.kafka.partitions));
    }
    if cfg.kafka.replication < 1 {
        out.push(format!("kafka.replication must be at least 1, not {}", cfg.kafka.replication));
    }
    if matches!(cfg.kafka.brokers.as_deref(), Some("")) {
        out.push("kafka.brokers is empty; unset it to use the embedded broker".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_all_reported() {
        let mut cfg = AppConfig::default();
        cfg.kafka.partitions = 0;
        cfg.kafka.brokers = Some(String::new());
        let p = problems(&cfg, true);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(problems(&AppConfig::default(), false).is_empty());
    }

    /// Environment variables override the process config and, per file stem,
    /// a network file; flags override both.
    #[test]
    fn environment_and_flags_layer_over_files() {
        use clap::Parser;
        figment::Jail::expect_with(|jail| {
            jail.create_file("net.toml", "name = \"devnet\"\nendpoints = [\"ws://127.0.0.1:1\"]\n")?;
            jail.create_file("app.toml", "[api]\nready_max_lag = 3\n[kafka]\npartitions = 2\n")?;
            jail.set_env("STAKEFLOW__KAFKA__PARTITIONS", "6");
            jail.set_env("STAKEFLOW__STORE__KIND", "scylla");
            jail.set_env("STAKEFLOW__STORE__URI", "scylla-1:9042");
            jail.set_env("STAKEFLOW__NETWORK__NET__ENDPOINTS", "[\"ws://10.1.2.3:9944\"]");
            let cli = Cli::parse_from([
                "stakeflow", "--config", "app.toml", "--network", "net.toml", "--api-listen", "127.0.0.1:9999", "validate",
            ]);
            let cfg = load(&cli).map_err(|e| e.to_string())?;
            assert_eq!(cfg.kafka.partitions, 6);
            assert_eq!(cfg.api.ready_max_lag, 3);
            assert_eq!(cfg.api.listen.port(), 9999);
            assert_eq!(cfg.networks[0].endpoints[0].as_str(), "ws://10.1.2.3:9944/");
            assert!(matches!(cfg.store_config(), StoreConfig::Scylla { ref uri, .. } if uri == "scylla-1:9042"));
            Ok(())
        });
    }

    /// `--only-network` narrows every per-network section, and refuses what
    /// another process could not score the same: an unknown name, and a
    /// programme whose kusama_rank reads a network left to another process.
    #[test]
    fn only_network_narrows_the_configuration_and_refuses_a_split_it_cannot_score() {
        use clap::Parser;
        figment::Jail::expect_with(|jail| {
            for n in ["kusama", "polkadot", "westend"] {
                jail.create_file(format!("{n}.toml"), &format!("name = \"{n}\"\nendpoints = [\"ws://127.0.0.1:1\"]\n"))?;
            }
            // Polkadot's profile reads Kusama's standings (kusama_rank on).
            let programme = |n: &str| format!("[scoring.networks.{n}]\ncandidates = \"c.json\"\n");
            jail.create_file("app.toml", &["kusama", "polkadot", "westend"].map(programme).concat())?;
            let parse = |only: &str| {
                let mut args = vec!["stakeflow", "--config", "app.toml", "-n", "kusama.toml", "-n", "polkadot.toml", "-n", "westend.toml"];
                args.extend(["--only-network", only, "validate"]);
                load(&Cli::parse_from(args)).map_err(|e| e.to_string())
            };
            let cfg = parse("westend")?;
            assert_eq!(cfg.network_names(), ["westend"]);
            assert_eq!(cfg.scoring.networks.keys().collect::<Vec<_>>(), ["westend"]);
            assert_eq!(cfg.only_networks.as_deref(), Some(&["westend".to_string()][..]));
            let both = parse("polkadot,kusama")?;
            assert_eq!(both.scoring.networks.len(), 2, "a comma-separated list");
            let split = parse("polkadot").unwrap_err();
            assert!(split.contains("kusama_rank") && split.contains("--only-network kusama"), "{split}");
            let unknown = parse("rococo").unwrap_err();
            assert!(unknown.contains("rococo") && unknown.contains("westend"), "{unknown}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        use clap::Parser;
        figment::Jail::expect_with(|jail| {
            jail.create_file("app.toml", "[kafka]\npartitons = 2\n")?;
            let cli = Cli::parse_from(["stakeflow", "--config", "app.toml", "score"]);
            let err = load(&cli).unwrap_err().to_string();
            assert!(err.contains("partitons"), "{err}");
            let cli = Cli::parse_from(["stakeflow", "--network", "nope.toml", "validate"]);
            assert!(load(&cli).unwrap_err().to_string().contains("nope.toml"));
            Ok(())
        });
    }

    #[test]
    fn committed_example_configs_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for file in std::fs::read_dir(root.join("config/networks")).unwrap() {
            let path = file.unwrap().path();
            let net = load_network(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            assert!(net.problems().is_empty(), "{}: {:?}", path.display(), net.problems());
        }
        let polkadot = load_network(&root.join("config/networks/polkadot.toml")).unwrap();
        let names: Vec<String> = polkadot.followed_chains().into_iter().map(|c| c.config.name).collect();
        assert_eq!(names, vec!["polkadot", "polkadot.staking", "polkadot.identity"]);
        let fig = Figment::from(Serialized::defaults(AppConfig::default()))
            .merge(Toml::file(root.join("config/stakeflow.example.toml")));
        let cfg: AppConfig = fig.extract().unwrap();
        assert!(problems(&cfg, false).is_empty());
        // The devnet programme with its network (the compose one, whose secret is
        // mounted by the deployment, is checked by tests/deploy.rs).
        for (file, network) in [("config/devnet.toml", "config/networks/devnet.toml")] {
            let fig = Figment::from(Serialized::defaults(AppConfig::default())).merge(Toml::file(root.join(file)));
            let mut cfg: AppConfig = fig.extract().unwrap_or_else(|e| panic!("{file}: {e}"));
            cfg.networks.push(load_network(&root.join(network)).unwrap());
            // Secret files are relative to the repository root, where scripts/run starts.
            for a in cfg.nominator.networks.values_mut().flat_map(|n| n.accounts.iter_mut()) {
                a.secret_file = a.secret_file.take().map(|p| root.join(p));
            }
            assert!(problems(&cfg, true).is_empty(), "{file}: {:?}", problems(&cfg, true));
            assert_eq!(cfg.scored_networks().unwrap().len(), 1, "{file}");
        }
        let list = std::fs::read(root.join("config/candidates/devnet.json")).unwrap();
        assert_eq!(ingest::candidates::parse(&list, 42).unwrap().candidates.len(), 6);
    }

    /// The devnet's nominator stashes are //Nominator1 and //Nominator2 of the
    /// development phrase (what scripts/devnet-programme bonds), //Nominator1 signing.
    #[test]
    fn the_devnet_nominators_are_the_accounts_the_devnet_helper_bonds() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let fig = Figment::from(Serialized::defaults(AppConfig::default())).merge(Toml::file(root.join("config/devnet.toml")));
        let cfg: AppConfig = fig.extract().unwrap();
        let net = &cfg.nominator.networks["paseo-devnet"];
        let dev = |n: u8| {
            let uri: subxt_signer::SecretUri = format!("{}//Nominator{n}", subxt_signer::DEV_PHRASE).parse().unwrap();
            schemas::ss58::encode(42, &subxt_signer::sr25519::Keypair::from_uri(&uri).unwrap().public_key().0)
        };
        let stashes: Vec<&str> = net.accounts.iter().map(|a| a.stash.as_str()).collect();
        assert_eq!(stashes, vec![dev(1), dev(2)]);
        assert_eq!(cfg.scoring.networks["paseo-devnet"].nominators, vec![dev(1), dev(2)]);
        let signer = nominator::Signer::load(&nominator::SecretSource::File(root.join("config/devnet-secrets/nominator1"))).unwrap();
        assert_eq!(signer.address(42), dev(1));
    }

    #[test]
    fn a_broken_programme_is_reported_with_its_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("net.toml", "name = \"devnet\"\nendpoints = [\"ws://127.0.0.1:1\"]\n")?;
            jail.create_file(
                "app.toml",
                "[scoring.networks.devnet]\ncandidates = \"c.json\"\n[scoring.networks.devnet.validity]\ncommission = { max_percent = 500 }\n[scoring.networks.other]\ncandidates = \"c.json\"\n",
            )?;
            use clap::Parser;
            let cli = Cli::parse_from(["stakeflow", "--config", "app.toml", "--network", "net.toml", "validate"]);
            let err = load(&cli).unwrap_err().to_string();
            assert!(err.contains("scoring.networks.devnet: validity.commission.max_percent"), "{err}");
            assert!(err.contains("scoring.networks.other: no network named \"other\""), "{err}");
            Ok(())
        });
    }
}
