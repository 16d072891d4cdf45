//! The real binary as separate processes on a broker process (the
//! distributed mode on one machine): the world the scale-out and
//! broker-outage scenarios run in. Several networks on one devnet, each its
//! own chain name, so its own topics' keys, ingest lease and rounds.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use campaign::procs::{Proc, Spawn, tail};
use schemas::topics;
use testkit::{Devnet, wait};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The devnet's programme for each network (its candidates, the checks the
/// devnet cannot pass left out), and the store when one is shared.
fn config(networks: &[&str], store: Option<&str>) -> String {
    let candidates = repo().join("config/candidates/devnet.json");
    let mut out = String::from("[scoring]\nidle = \"200ms\"\nlease_ttl = \"10s\"\n\n");
    if let Some(uri) = store {
        let keyspace = format!("stakeflow_processes_{}", std::process::id());
        out.push_str(&format!("[store]\nkind = \"scylla\"\nuri = \"{uri}\"\nkeyspace = \"{keyspace}\"\n\n"));
    }
    for n in networks {
        out.push_str(&format!(
            "[scoring.networks.{n}]\ncandidates = \"{}\"\nprofile = \"testnet\"\n\n[scoring.networks.{n}.validity]\n\
             online = {{ skip = true }}\nconnection_time = {{ skip = true }}\nclient_version = {{ skip = true }}\n\
             offline_time = {{ skip = true }}\nidentity = {{ skip = true }}\nbeefy_key = {{ skip = true }}\n\
             nodes_per_identity = {{ skip = true }}\nkusama_rank = {{ skip = true }}\nsanctioned_geo = {{ skip = true }}\n\n",
            candidates.display()
        ));
    }
    out
}

/// Per network, the rounds on the rounds topic in topic order.
pub async fn rounds_on_topic(bootstrap: &str) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in campaign::reader::read(bootstrap, topics::ROUNDS).await.expect("reading the rounds topic") {
        let round = schemas::Round::decode(&r.payload).expect("a round record");
        out.entry(round.network).or_default().push(round.round);
    }
    out
}

/// Wait until each of `networks` has round `session` on the topic.
pub async fn wait_rounds(bootstrap: &str, networks: &[&str], session: u32, procs: &[(&str, &Path)]) -> BTreeMap<String, Vec<i64>> {
    let found = wait::until(&format!("round {session} of {networks:?}"), Duration::from_secs(180), || async {
        let rounds = rounds_on_topic(bootstrap).await;
        networks.iter().all(|n| rounds.get(*n).is_some_and(|r| r.contains(&i64::from(session)))).then_some(rounds)
    })
    .await;
    found.unwrap_or_else(|e| panic!("{e:#}\n{}", logs(procs)))
}

/// The last lines of each process's log, for a failure's message.
pub fn logs(procs: &[(&str, &Path)]) -> String {
    let logs: Vec<String> = procs.iter().map(|(role, log)| format!("--- {role}:\n{}", tail(log, 30))).collect();
    logs.join("\n")
}

pub struct World {
    pub dir: tempfile::TempDir,
    common: Vec<OsString>,
    pub bootstrap: String,
    broker_spawn: Spawn,
    broker: Option<Proc>,
    /// The chain's finalized head when the world was made: ingest starts there.
    pub start_block: u64,
}

impl World {
    /// How to start `stakeflow <args>` as `role`, on its own data directory.
    pub fn spawn(&self, role: &str, args: &[&str]) -> Spawn {
        let mut all = self.common.clone();
        all.extend(["--kafka-brokers".into(), self.bootstrap.clone().into()]);
        all.extend(["--data-dir".into(), self.dir.path().join(role).into()]);
        all.extend(args.iter().map(OsString::from));
        Spawn { role: role.into(), bin: env!("CARGO_BIN_EXE_stakeflow").into(), args: all, log: self.log(role) }
    }

    pub fn log(&self, role: &str) -> PathBuf {
        self.dir.path().join(format!("{role}.log"))
    }

    /// `kill -9` the broker process.
    pub async fn kill_broker(&mut self) {
        if let Some(b) = self.broker.take() {
            b.kill9().await.unwrap();
        }
    }

    /// Start the broker again on its port and files.
    pub async fn start_broker(&mut self) {
        let (b, _) = self.broker_spawn.start(Some(Spawn::BROKER_READY)).await.unwrap();
        self.broker = Some(b);
    }
}

/// A broker process and the devnet's programme for `networks`, each
/// followed from the devnet's current head.
pub async fn world(devnet: &Devnet, networks: &[&str], store: Option<&str>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let head = devnet.finalized_number().await.unwrap();
    let mut common: Vec<OsString> = vec!["--log-format".into(), "json".into()];
    for n in networks {
        let file = dir.path().join(format!("{n}.toml"));
        std::fs::write(&file, format!("name = \"{n}\"\nendpoints = [\"{}\"]\nbackend = \"legacy\"\nstart_block = {head}\n", devnet.ws_url())).unwrap();
        common.extend(["--network".into(), file.into()]);
    }
    let config = dir.path().join("stakeflow.toml");
    std::fs::write(&config, self::config(networks, store)).unwrap();
    common.extend(["--config".into(), config.into()]);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let broker_spawn = Spawn::broker(env!("CARGO_BIN_EXE_stakeflow").into(), dir.path(), port);
    let (broker, _) = broker_spawn.start(Some(Spawn::BROKER_READY)).await.unwrap();
    World { dir, common, bootstrap: format!("127.0.0.1:{port}"), broker_spawn, broker: Some(broker), start_block: head }
}
