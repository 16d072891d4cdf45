//! chopsticks running the Paseo relay runtime from its genesis spec.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use chain::{Backend, ChainClient, NetworkConfig, StartBlock};
use serde_json::{Value, json};
use subxt_rpcs::{RpcClient, rpc_params};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A local chain on a free port; killed on drop.
pub struct Devnet {
    /// The chopsticks process this harness started (none when attached to a running devnet).
    child: Option<Child>,
    url: String,
    rpc: RpcClient,
    log: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where `scripts/setup` puts the chopsticks launcher.
pub fn chopsticks_bin() -> PathBuf {
    std::env::var_os("STAKEFLOW_CHOPSTICKS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("devnet/node_modules/.bin/chopsticks"))
}

/// Where `scripts/setup` puts the Paseo genesis spec.
pub fn chain_spec() -> PathBuf {
    std::env::var_os("STAKEFLOW_CHAIN_SPEC").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        home.join(".cache/stakeflow/chain-specs/paseo.json")
    })
}

/// The `ws://host:port` of chopsticks' "RPC listening on http://… and ws://…" line.
fn listening_url(line: &str) -> Option<String> {
    let at = line.find("ws://")?;
    let url: String = line[at..].chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\u{1b}').collect();
    (url.len() > "ws://".len()).then_some(url)
}

impl Devnet {
    /// Start chopsticks (blocks built on demand or per transaction) and wait
    /// until its RPC listens.
    pub async fn start() -> anyhow::Result<Self> {
        let spec = chain_spec();
        anyhow::ensure!(spec.exists(), "{} is missing: run scripts/setup first", spec.display());
        Self::launch(&[std::ffi::OsString::from("--genesis"), spec.into()]).await
    }

    /// Another node of this chain that stays behind: chopsticks forked from
    /// this one at block `at` (same blocks and hashes up to it), building
    /// nothing unless asked. For failover to a node that is not synced.
    pub async fn fork_behind(&self, at: u64) -> anyhow::Result<Self> {
        Self::launch(&["--endpoint".into(), self.url.clone().into(), "--block".into(), at.to_string().into()]).await
    }

    async fn launch(source: &[std::ffi::OsString]) -> anyhow::Result<Self> {
        let bin = chopsticks_bin();
        anyhow::ensure!(bin.exists(), "{} is missing: run scripts/setup first", bin.display());
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = dir.path().join("chopsticks.log");
        let mut child = Command::new(&bin)
            .args(source)
            .args(["--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("--build-block-mode")
            .arg("Instant")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        // Both pipes are drained for the process's whole life (a full pipe
        // would stall chopsticks) into the log file; lines also go to a
        // channel so start-up can wait for the "listening" line.
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let file = tokio::fs::File::create(&log).await?;
        let file = std::sync::Arc::new(tokio::sync::Mutex::new(file));
        let stdout = child.stdout.take().context("chopsticks stdout")?;
        let stderr = child.stderr.take().context("chopsticks stderr")?;
        for pipe in [Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>, Box::new(stderr)] {
            let (tx, file) = (tx.clone(), file.clone());
            tokio::spawn(async move {
                let mut lines = BufReader::new(pipe).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let _ = file.lock().await.write_all(format!("{line}\n").as_bytes()).await;
                    let _ = tx.send(line);
                }
            });
        }
        drop(tx);
        // The port asked for is a hint: chopsticks moves on to the next free one when it
        // is taken meanwhile (by another test's server), so the address is read from its line.
        let ready = tokio::time::timeout(Duration::from_secs(180), async {
            while let Some(line) = rx.recv().await {
                if line.contains("RPC listening") {
                    return listening_url(&line);
                }
            }
            None
        })
        .await;
        let log_tail = || std::fs::read_to_string(&log).unwrap_or_default();
        let url = match ready {
            Ok(Some(url)) => url,
            Ok(None) => anyhow::bail!("chopsticks exited before listening (asked for port {port}); its log:\n{}", log_tail()),
            Err(_) => anyhow::bail!("chopsticks did not listen within 180s; its log:\n{}", log_tail()),
        };
        let rpc = RpcClient::from_insecure_url(&url).await?;
        Ok(Self { child: Some(child), url, rpc, log, _dir: Some(dir) })
    }

    /// A devnet that is already running at `url` (`scripts/devnet`), to shape it.
    pub async fn attach(url: &str) -> anyhow::Result<Self> {
        let rpc = RpcClient::from_insecure_url(url).await.with_context(|| format!("connecting to the devnet at {url}"))?;
        Ok(Self { child: None, url: url.to_string(), rpc, log: PathBuf::new(), _dir: None })
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn ws_url(&self) -> String {
        self.url.clone()
    }

    /// chopsticks' combined output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A network config for this devnet.
    pub fn network(&self, name: &str) -> NetworkConfig {
        NetworkConfig {
            name: name.to_string(),
            endpoints: vec![self.ws_url().parse().expect("valid url")],
            backend: Backend::Legacy,
            genesis_hash: None,
            ss58_prefix: 42,
            decimals: 10,
            start_block: StartBlock::Number(0),
            staking: None,
            identity: None,
            telemetry: Vec::new(),
        }
    }

    /// A connected chain client.
    pub async fn client(&self, name: &str) -> anyhow::Result<ChainClient> {
        Ok(ChainClient::connect(&self.network(name)).await?)
    }

    /// Build `count` blocks; returns the new head hash.
    pub async fn new_blocks(&self, count: u32) -> anyhow::Result<String> {
        Ok(self.rpc.request("dev_newBlock", rpc_params![json!({ "count": count })]).await?)
    }

    /// Change state in place at the head (no block is built).
    pub async fn set_storage(&self, changes: Value) -> anyhow::Result<()> {
        let _: Value = self.rpc.request("dev_setStorage", rpc_params![changes]).await?;
        Ok(())
    }

    /// Move the chain clock to `unix_ms`. On this relay chain it breaks BABE
    /// session rotation unless `Babe.EpochIndex` is written back afterwards
    /// (see shared/research/chain-harness.md §6.4); prefer writing
    /// `Timestamp.Now` with [`Devnet::set_storage`] to force sessions.
    pub async fn time_travel(&self, unix_ms: u64) -> anyhow::Result<u64> {
        Ok(self.rpc.request("dev_timeTravel", rpc_params![unix_ms]).await?)
    }

    /// Number of the finalized head (every chopsticks block is final at once).
    pub async fn finalized_number(&self) -> anyhow::Result<u64> {
        let hash: String = self.rpc.request("chain_getFinalizedHead", rpc_params![]).await?;
        let header: Value = self.rpc.request("chain_getHeader", rpc_params![hash]).await?;
        let n = header["number"].as_str().context("header number")?;
        Ok(u64::from_str_radix(n.trim_start_matches("0x"), 16)?)
    }

    /// Hash of block `number`.
    pub async fn block_hash(&self, number: u64) -> anyhow::Result<String> {
        Ok(self.rpc.request("chain_getBlockHash", rpc_params![number]).await?)
    }

    /// The last `lines` lines chopsticks printed (for a test's failure message).
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// What the node's pool holds and the next nonce of `account`: why a transaction has not landed.
    pub async fn pool_report(&self, account: [u8; 32]) -> String {
        let pending: Result<Vec<String>, _> = self.rpc.request("author_pendingExtrinsics", rpc_params![]).await;
        let ss58 = subxt::utils::AccountId32(account).to_string();
        let next: Result<Value, _> = self.rpc.request("system_accountNextIndex", rpc_params![ss58]).await;
        let finalized = self.finalized_number().await.map_or_else(|e| e.to_string(), |n| n.to_string());
        let pending = pending.map(|p| {
            use blake2::{Blake2b, Digest, digest::consts::U32};
            p.iter().map(|x| format!("0x{}", hex::encode(Blake2b::<U32>::digest(hex::decode(x.trim_start_matches("0x")).unwrap_or_default())))).collect::<Vec<_>>()
        });
        format!("finalized block {finalized}; next nonce of the account {next:?}; the pool holds {pending:?}")
    }

    /// The raw RPC client.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// Stop the chain now.
    pub async fn stop(mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill().await;
        }
    }
}

/// A test that fails with a devnet keeps chopsticks' whole log (its tempdir
/// goes with the devnet) and shows where, with the last lines.
impl Drop for Devnet {
    fn drop(&mut self) {
        if !std::thread::panicking() || self.child.is_none() {
            return;
        }
        let kept = std::env::temp_dir().join(format!("stakeflow-chopsticks-{}-{}.log", std::process::id(), self.url.rsplit(':').next().unwrap_or("devnet")));
        let kept = match std::fs::copy(&self.log, &kept) {
            Ok(_) => format!("kept at {}", kept.display()),
            Err(e) => format!("could not be kept: {e}"),
        };
        eprintln!("chopsticks at {} (its whole log {kept}), last lines:\n{}", self.url, self.log_tail(60));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_address_chopsticks_listens_on_is_read_from_its_line() {
        let line = "[12:00:01.000] INFO: Paseo Testnet RPC listening on http://127.0.0.1:40001 and ws://127.0.0.1:40001";
        assert_eq!(super::listening_url(line).as_deref(), Some("ws://127.0.0.1:40001"));
        assert_eq!(super::listening_url("RPC listening on nothing"), None);
    }
}
