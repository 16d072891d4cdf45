//! One campaign: set the world up, run its phases, check after each.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rules::RoundSnapshot;
use schemas::topics;
use testkit::{Devnet, TcpProxy};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::procs::{Proc, Spawn, tail};
use crate::reader::{self, Raw};
use crate::schedule::{self, Role};
use crate::{Plan, Report, invariants};

const NETWORK: &str = "paseo-devnet";
/// Longest a check waits for the pipeline to catch up with the chain.
const CATCH_UP: Duration = Duration::from_secs(300);

/// The repository root (for the devnet programme's candidates and secrets).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The processes' config: the devnet programme with absolute paths, and
/// stalls found within seconds.
fn config(repo: &Path) -> anyhow::Result<String> {
    let devnet = std::fs::read_to_string(repo.join("config/devnet.toml")).context("config/devnet.toml")?;
    let abs = |s: &str| repo.join(s).display().to_string();
    let devnet = devnet
        .replace("\"config/candidates/", &format!("\"{}/", abs("config/candidates")))
        .replace("\"config/devnet-secrets/", &format!("\"{}/", abs("config/devnet-secrets")));
    Ok(format!("[ingest]\nstall_after = \"5s\"\nstall_probe = \"3s\"\n\n{devnet}"))
}

/// The chain driver: builds a block at each tick, a session every eighth
/// block, an era every fourth session. A check holds `turn` so the chain
/// stands still while it reads.
async fn drive(devnet: Arc<Devnet>, turn: Arc<Mutex<()>>, stop: CancellationToken) {
    let mut tick: u64 = 0;
    while !stop.is_cancelled() {
        {
            let _turn = turn.lock().await;
            tick += 1;
            let step = if tick.is_multiple_of(32) {
                devnet.advance_era().await.map(|_| ())
            } else if tick.is_multiple_of(8) {
                devnet.force_session().await
            } else {
                devnet.new_blocks(1).await.map(|_| ())
            };
            if let Err(e) = step {
                tracing::warn!(error = %e, "chain driver step failed");
            }
        }
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_millis(700)) => {}
        }
    }
}

struct World<'a> {
    plan: &'a Plan,
    say: &'a (dyn Fn(&str) + Sync),
    devnet: Arc<Devnet>,
    proxy: TcpProxy,
    dir: PathBuf,
    bootstrap: String,
    broker_spawn: Spawn,
    broker: Option<Proc>,
    spawns: BTreeMap<Role, Spawn>,
    running: BTreeMap<Role, Proc>,
    turn: Arc<Mutex<()>>,
    /// The chain's head once the programme was set up: batches after it are the nominator's.
    setup_block: u64,
    checks: usize,
    report: Report,
}

/// Run the campaign; `say` hears its progress.
pub async fn run(plan: &Plan, say: &(dyn Fn(&str) + Sync)) -> anyhow::Result<Report> {
    let started = Instant::now();
    let temp = tempfile::tempdir()?;
    let dir = plan.work_dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    anyhow::ensure!(plan.stakeflow.exists(), "{} is missing: build it first (cargo build -p stakeflow)", plan.stakeflow.display());

    say("starting the devnet");
    let devnet = Arc::new(Devnet::start().await?);
    say("shaping the devnet programme (candidates validate, nominators bond, a new era)");
    testkit::programme::shape(&devnet, |_| {}).await?;
    // In steps: one request building hundreds of blocks outlasts the RPC timeout.
    for _ in 0..plan.history_blocks / 20 {
        devnet.new_blocks(20).await?;
    }
    if !plan.history_blocks.is_multiple_of(20) {
        devnet.new_blocks(plan.history_blocks % 20).await?;
    }
    let setup_block = devnet.finalized_number().await?;
    say(&format!("history: {setup_block} blocks before ingest starts"));

    let target: std::net::SocketAddr = devnet.ws_url().trim_start_matches("ws://").parse()?;
    let proxy = TcpProxy::start(target).await?;
    // With the stalls, a second endpoint that is behind: a node of the same
    // chain stuck at an older block, for the failover to land on.
    let behind = match plan.stalls {
        true => Some(devnet.fork_behind(setup_block.saturating_sub(5)).await.context("starting the node behind")?),
        false => None,
    };
    let endpoints: Vec<String> = std::iter::once(proxy.ws_url()).chain(behind.as_ref().map(Devnet::ws_url)).map(|u| format!("\"{u}\"")).collect();
    let network_file = dir.join("devnet.toml");
    std::fs::write(
        &network_file,
        format!("name = \"{NETWORK}\"\nendpoints = [{}]\nbackend = \"legacy\"\nstart_block = 0\n", endpoints.join(", ")),
    )?;
    let config_file = dir.join("stakeflow.toml");
    std::fs::write(&config_file, config(&repo())?)?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let broker_spawn = Spawn::broker(plan.stakeflow.clone(), &dir, port);
    let (broker, _) = broker_spawn.start(Some(Spawn::BROKER_READY)).await?;
    let bootstrap = format!("127.0.0.1:{port}");
    let spawns = Role::ALL
        .iter()
        .map(|&role| {
            let mut args: Vec<OsString> = vec![
                "--config".into(),
                config_file.clone().into(),
                "--network".into(),
                network_file.clone().into(),
                "--data-dir".into(),
                dir.join(role.dir()).into(),
                "--kafka-brokers".into(),
                bootstrap.clone().into(),
                "--log-format".into(),
                "json".into(),
            ];
            args.extend(role.command().iter().map(OsString::from));
            (role, Spawn { role: role.name().into(), bin: plan.stakeflow.clone(), args, log: dir.join(format!("{}.log", role.dir())) })
        })
        .collect();
    let mut world = World {
        plan,
        say,
        devnet: devnet.clone(),
        proxy,
        dir: dir.clone(),
        bootstrap,
        broker_spawn,
        broker: Some(broker),
        spawns,
        running: BTreeMap::new(),
        turn: Arc::new(Mutex::new(())),
        setup_block,
        checks: 0,
        report: Report::default(),
    };
    for role in Role::ALL {
        world.start(role).await?;
    }
    let stop = CancellationToken::new();
    let driver = tokio::spawn(drive(devnet.clone(), world.turn.clone(), stop.clone()));

    let outcome = world.phases().await;
    drop(behind);
    stop.cancel();
    let _ = driver.await;
    for (_, p) in std::mem::take(&mut world.running) {
        let _ = p.kill9().await;
    }
    if let Some(b) = world.broker.take() {
        let _ = b.kill9().await;
    }
    outcome?;
    if plan.work_dir.is_none() && !world.report.violations.is_empty() {
        // Keep the evidence.
        let kept = std::env::temp_dir().join(format!("stakeflow-campaign-{}", std::process::id()));
        let _ = std::fs::rename(temp.path(), &kept);
        world.report.violations.push(format!("logs and data kept in {}", kept.display()));
    }
    world.report.elapsed = started.elapsed();
    Ok(world.report)
}

impl World<'_> {
    async fn phases(&mut self) -> anyhow::Result<()> {
        self.kills().await?;
        self.check("kills across the backfill and live blocks").await?;
        if !self.plan.overlap.is_zero() {
            self.overlap().await?;
            self.check("doubled instances").await?;
        }
        if !self.plan.outages.is_empty() {
            for d in self.plan.outages.clone() {
                self.outage(d).await?;
            }
            self.check("broker outages").await?;
        }
        if self.plan.stalls {
            self.stalls().await?;
            self.check("chain connection cut and black-holed").await?;
        }
        Ok(())
    }

    async fn start(&mut self, role: Role) -> anyhow::Result<()> {
        let (p, _) = self.spawns[&role].start(None).await?;
        self.running.insert(role, p);
        Ok(())
    }

    /// A service process must never exit by itself: note it and start it again.
    async fn watch_exits(&mut self) -> anyhow::Result<()> {
        let exited: Vec<(Role, std::process::ExitStatus)> =
            self.running.iter_mut().filter_map(|(r, p)| p.exited().map(|s| (*r, s))).collect();
        for (role, status) in exited {
            let log = &self.spawns[&role].log;
            self.report.violations.push(format!("{} exited by itself ({status}); its log ends:\n{}", role.name(), tail(log, 15)));
            self.start(role).await?;
        }
        Ok(())
    }

    async fn kills(&mut self) -> anyhow::Result<()> {
        let kills = schedule::kills(self.plan.seed, self.plan.kills, self.plan.max_gap);
        (self.say)(&format!("{} kills -9 at random instants (seed {})", kills.len(), self.plan.seed));
        for (i, k) in kills.iter().enumerate() {
            tokio::time::sleep(k.after).await;
            self.watch_exits().await?;
            if let Some(p) = self.running.remove(&k.role) {
                p.kill9().await?;
            }
            *self.report.kills.entry(k.role).or_default() += 1;
            self.start(k.role).await?;
            if (i + 1) % 20 == 0 {
                (self.say)(&format!("  {} kills done", i + 1));
            }
        }
        Ok(())
    }

    /// Second ingest and scorer processes beside the first, on the same
    /// stores; halfway the first ones die, the second carry on.
    async fn overlap(&mut self) -> anyhow::Result<()> {
        (self.say)(&format!("second ingest and scorer+nominator processes for {} s", self.plan.overlap.as_secs()));
        let mut seconds = Vec::new();
        for role in Role::ALL {
            let mut spawn = self.spawns[&role].clone();
            spawn.role = format!("{}#2", role.name());
            spawn.log = self.dir.join(format!("{}-2.log", role.dir()));
            seconds.push((role, spawn.start(None).await?.0));
        }
        tokio::time::sleep(self.plan.overlap / 2).await;
        self.watch_exits().await?;
        for (role, second) in seconds {
            if let Some(first) = self.running.remove(&role) {
                first.kill9().await?;
            }
            *self.report.kills.entry(role).or_default() += 1;
            self.running.insert(role, second);
        }
        tokio::time::sleep(self.plan.overlap / 2).await;
        self.report.overlaps += 2;
        Ok(())
    }

    /// The broker process dies and comes back after `d` on the same port
    /// and files; the services keep running through it.
    async fn outage(&mut self, d: Duration) -> anyhow::Result<()> {
        (self.say)(&format!("broker down for {} s", d.as_secs()));
        if let Some(b) = self.broker.take() {
            b.kill9().await?;
        }
        tokio::time::sleep(d).await;
        let (b, _) = self.broker_spawn.start(Some(Spawn::BROKER_READY)).await?;
        self.broker = Some(b);
        let back = Instant::now();
        let head = self.devnet.finalized_number().await?;
        self.wait_block(head).await?;
        self.watch_exits().await?;
        self.report.outages.push(d);
        self.report.recoveries.push(back.elapsed());
        Ok(())
    }

    async fn stalls(&mut self) -> anyhow::Result<()> {
        (self.say)("chain connection cut, then black-holed for 20 s (the other endpoint is a node behind)");
        self.proxy.cut();
        let head = self.devnet.finalized_number().await?;
        self.wait_block(head).await?;
        self.proxy.black_hole(true);
        tokio::time::sleep(Duration::from_secs(20)).await;
        self.proxy.black_hole(false);
        let head = self.devnet.finalized_number().await?;
        self.wait_block(head).await?;
        self.watch_exits().await?;
        self.report.stalls += 2;
        Ok(())
    }

    /// Until the chain's block `n` is on the blocks topic.
    async fn wait_block(&self, n: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + CATCH_UP;
        loop {
            if let Ok(records) = reader::read(&self.bootstrap, topics::BLOCKS).await
                && invariants::blocks(NETWORK, &records).is_ok_and(|b| b.iter().any(|b| b.number as u64 >= n))
            {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "block {n} not on the topic within {CATCH_UP:?} (see {})", self.dir.display());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Until the round of `session` is on the rounds topic.
    async fn wait_round(&self, session: u32) -> anyhow::Result<()> {
        let deadline = Instant::now() + CATCH_UP;
        loop {
            if let Ok(records) = reader::read(&self.bootstrap, topics::ROUNDS).await
                && records.iter().filter_map(|r| schemas::Round::decode(&r.payload).ok()).any(|r| r.network == NETWORK && r.round >= i64::from(session))
            {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "round {session} not on the topic within {CATCH_UP:?} (see {})", self.dir.display());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Stop the chain, let the pipeline catch up, and check every invariant.
    async fn check(&mut self, what: &str) -> anyhow::Result<()> {
        let turn = self.turn.clone();
        let _still = turn.lock().await;
        self.watch_exits().await?;
        let head = self.devnet.finalized_number().await?;
        let session = self.devnet.session_index().await?;
        (self.say)(&format!("check after {what}: chain at block {head}, session {session}"));
        self.wait_block(head).await?;
        self.wait_round(session).await?;

        // The scorer's store opens only once its process is gone.
        if let Some(p) = self.running.remove(&Role::Programme) {
            p.kill9().await?;
        }
        let score_dir = self.dir.join(Role::Programme.dir());
        let base = store::StoreConfig::Embedded { path: score_dir.join("state.redb") };
        let live = rounds_in(&base).await?;
        self.checks += 1;
        let ns = format!("check{}", self.checks);
        let mut rescore = self.spawns[&Role::Programme].clone();
        rescore.role = "rescore".into();
        rescore.log = self.dir.join("rescore.log");
        rescore.args.truncate(rescore.args.len() - Role::Programme.command().len());
        rescore.args.extend(["rescore", "--into", &ns].map(OsString::from));
        let status = tokio::process::Command::new(&rescore.bin)
            .args(&rescore.args)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&rescore.log)?)
            .status()
            .await?;
        let rebuilt = if status.success() {
            rounds_in(&base.namespaced(&ns).map_err(anyhow::Error::msg)?).await?
        } else {
            self.report.violations.push(format!("{what}: rescore failed ({status}): {}", tail(&rescore.log, 10)));
            BTreeMap::new()
        };
        self.start(Role::Programme).await?;

        let mut records: Vec<Raw> = Vec::new();
        let mut wanted: Vec<&str> = topics::CHAIN.to_vec();
        wanted.extend([topics::ROUNDS, topics::SCORES, topics::NOMINATOR_EVENTS]);
        for t in wanted {
            records.extend(reader::read(&self.bootstrap, t).await?);
        }
        let mut found = Vec::new();
        match invariants::blocks(NETWORK, &records) {
            Ok(blocks) => {
                found.extend(invariants::block_sequence(&blocks, head));
                found.extend(invariants::events(NETWORK, &records, &blocks));
                found.extend(self.hashes(&blocks).await?);
            }
            Err(e) => found.push(e),
        }
        found.extend(invariants::positions(NETWORK, &records));
        found.extend(invariants::rounds(NETWORK, &records, &live));
        found.extend(invariants::rebuild(&live, &rebuilt));
        let (batches, doubled) = invariants::nominations(NETWORK, &records, self.setup_block);
        found.extend(doubled);
        if live.is_empty() {
            found.push("no round was scored".into());
        }
        (self.say)(&format!(
            "  {} records, {} rounds (rebuilt {}), {batches} batches landed: {} violation(s)",
            records.len(),
            live.len(),
            rebuilt.len(),
            found.len()
        ));
        self.report.violations.extend(found.into_iter().map(|v| format!("{what}: {v}")));
        self.report.runs += 1;
        self.report.blocks = head;
        self.report.records = records.len();
        self.report.rounds = live.len();
        self.report.batches = batches;
        Ok(())
    }

    /// Each block record carries the chain's own hash.
    async fn hashes(&self, blocks: &[schemas::FinalizedBlock]) -> anyhow::Result<Vec<String>> {
        let mut wrong = Vec::new();
        for b in blocks {
            if self.devnet.block_hash(b.number as u64).await.ok().as_deref() != Some(b.hash.as_str()) {
                wrong.push(b.number);
            }
        }
        Ok((!wrong.is_empty()).then(|| format!("blocks whose hash is not the chain's: {wrong:?}")).into_iter().collect())
    }
}

/// Every round stored in the store `cfg` names.
async fn rounds_in(cfg: &store::StoreConfig) -> anyhow::Result<BTreeMap<u64, RoundSnapshot>> {
    let store = store::open(cfg).await.with_context(|| format!("opening {cfg:?}"))?;
    let mut out = BTreeMap::new();
    for n in scoring::scorer::round_numbers(store.as_ref(), NETWORK).await? {
        if let Some(r) = scoring::scorer::stored_round(store.as_ref(), NETWORK, n).await? {
            out.insert(n, r);
        }
    }
    Ok(out)
}
