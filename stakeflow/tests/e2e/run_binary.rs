//! `stakeflow run`, the single-machine mode, as a user runs it: the binary
//! with its embedded broker and store against the devnet. It serves `/ready`
//! with an advancing height, survives `kill -9`, and its topic is readable
//! by an ordinary Kafka client.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use testkit::{Devnet, wait};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{assert_exactly_once, blocks_on_topic};

pub(crate) struct Running {
    pub child: Child,
    pub api: String,
    pub kafka: String,
    /// The service's stderr, kept outside the test's temporary directory so a
    /// failure can show it.
    pub log: std::path::PathBuf,
}

impl Running {
    /// The last lines of the service's log, for a failure message.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Running {
    // Kept only for a failure to show.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// Start the binary and read the addresses it prints.
async fn start(network_file: &Path, data_dir: &Path) -> Running {
    start_with(None, network_file, data_dir).await
}

/// Start `stakeflow run` (with `--config` when given) and read the addresses it prints.
pub(crate) async fn start_with(config: Option<&Path>, network_file: &Path, data_dir: &Path) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stakeflow"));
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    // Named by the process and a counter: several tests start the binary at once.
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("stakeflow-run-{}-{n}.log", std::process::id()));
    let mut child = cmd
        .arg("--network")
        .arg(network_file)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--api-listen", "127.0.0.1:0", "--log-format", "json", "run", "--kafka-port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .kill_on_drop(true)
        .spawn()
        .expect("spawn stakeflow");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut api, mut kafka) = (None, None);
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("kafka: embedded broker at ") {
                kafka = rest.split_whitespace().next().map(str::to_string);
            }
            if let Some(rest) = line.strip_prefix("api: http://") {
                api = rest.split('/').next().map(str::to_string);
            }
            if api.is_some() && kafka.is_some() {
                break;
            }
        }
    })
    .await;
    assert!(found.is_ok() && api.is_some() && kafka.is_some(), "stakeflow printed its addresses");
    // Keep draining stdout so the process never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Running { child, api: api.unwrap(), kafka: kafka.unwrap(), log }
}

/// The devnet's network file in `dir`, its one endpoint `url`.
fn network_file(dir: &Path, url: &str) -> std::path::PathBuf {
    let file = dir.join("devnet.toml");
    std::fs::write(&file, format!("name = \"paseo-devnet\"\nendpoints = [\"{url}\"]\nbackend = \"legacy\"\nstart_block = 0\n")).unwrap();
    file
}

/// `/ready`'s status and body, or why there was none.
async fn ready_answer(http: &reqwest::Client, api: &str) -> Result<(u16, serde_json::Value), String> {
    // Bounded per request: one that hangs is a finding to report, not a wait
    // that swallows the whole deadline.
    let resp = http.get(format!("http://{api}/ready")).timeout(Duration::from_secs(10)).send().await.map_err(|e| format!("request: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp.json().await.map_err(|e| format!("body: {e}"))?;
    Ok((status, body))
}

async fn wait_ready_at(http: &reqwest::Client, run: &Running, devnet: &Devnet, height: u64) {
    let last = std::sync::Mutex::new(String::from("no answer yet"));
    let waited = wait::until(&format!("/ready to answer 200 at height {height}"), Duration::from_secs(120), || async {
        let answer = ready_answer(http, &run.api).await;
        *last.lock().unwrap() = match &answer {
            Ok((s, b)) => format!("{s} {b}"),
            Err(e) => e.clone(),
        };
        let (status, body) = answer.ok()?;
        (status == 200 && body["chains"][0]["applied"].as_u64() == Some(height)).then_some(())
    })
    .await;
    if let Err(e) = waited {
        let head = devnet.finalized_number().await.map_or_else(|e| format!("unknown ({e})"), |n| n.to_string());
        panic!(
            "{e}\nthe chain's finalized head: {head}\nthe last answer: {}\nthe service's log ({}):\n{}",
            last.lock().unwrap(),
            run.log.display(),
            run.log_tail(60)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakeflow_run_serves_an_advancing_height_and_survives_kill_9() {
    testkit::init_tracing();
    let devnet = Devnet::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let network_file = network_file(dir.path(), &devnet.ws_url());
    let data_dir = dir.path().join("data");
    let http = reqwest::Client::new();

    let mut run = start(&network_file, &data_dir).await;
    let h0 = devnet.finalized_number().await.unwrap();
    wait_ready_at(&http, &run, &devnet, h0).await;
    devnet.new_blocks(2).await.unwrap();
    wait_ready_at(&http, &run, &devnet, h0 + 2).await;

    // kill -9 and start again on the same data directory.
    run.child.kill().await.unwrap();
    devnet.new_blocks(1).await.unwrap();
    let mut run = start(&network_file, &data_dir).await;
    devnet.new_blocks(1).await.unwrap();
    let last = devnet.finalized_number().await.unwrap();
    assert_eq!(last, h0 + 4);
    wait_ready_at(&http, &run, &devnet, last).await;

    // Prometheus metrics: ingest's published height and the consumer's count.
    let metrics = http.get(format!("http://{}/metrics", run.api)).send().await.unwrap().text().await.unwrap();
    let published = metrics
        .lines()
        .find(|l| l.starts_with("stakeflow_ingest_published_block{") && l.contains("paseo-devnet"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok());
    assert_eq!(published, Some(last as f64), "{metrics}");
    assert!(metrics.contains("stakeflow_consumer_records_total"), "{metrics}");

    // The folding consumers report to /ready from their start, quiet topics included.
    let ready: serde_json::Value = http.get(format!("http://{}/ready", run.api)).send().await.unwrap().json().await.unwrap();
    let reporting: Vec<&str> = ready["consumers"].as_array().into_iter().flatten().filter_map(|c| c["consumer"].as_str()).collect();
    for &consumer in scoring::FOLD_CONSUMERS {
        assert!(reporting.contains(&consumer), "{consumer} does not report: {ready}");
    }
    assert_eq!(ready["ready"], true, "{ready}");

    // An ordinary Kafka client reads the embedded broker's topic.
    let blocks = blocks_on_topic(&run.kafka, "paseo-devnet").await;
    assert_exactly_once(&blocks, &devnet, last).await;
    run.child.kill().await.unwrap();
}

/// The only endpoint goes silent (a TCP black hole: the connection stays
/// open and carries nothing) while the chain moves on: `/ready` answers 503
/// saying the chain is not heard from, within its bound, and 200 at the new
/// head once the node answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_answers_503_while_the_chain_is_silent_and_200_after() {
    testkit::init_tracing();
    let devnet = Devnet::start().await.unwrap();
    let target: std::net::SocketAddr = devnet.ws_url().trim_start_matches("ws://").parse().unwrap();
    let proxy = testkit::TcpProxy::start(target).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let network_file = network_file(dir.path(), &proxy.ws_url());
    let (stall_after, stall_probe, max_silence) = (3, 2, 10);
    let config = dir.path().join("stakeflow.toml");
    std::fs::write(
        &config,
        format!("[ingest]\nstall_after = \"{stall_after}s\"\nstall_probe = \"{stall_probe}s\"\n\n[api]\nready_max_silence = \"{max_silence}s\"\n"),
    )
    .unwrap();
    let http = reqwest::Client::new();
    let mut run = start_with(Some(&config), &network_file, &dir.path().join("data")).await;
    let h0 = devnet.finalized_number().await.unwrap();
    wait_ready_at(&http, &run, &devnet, h0).await;

    proxy.black_hole(true);
    devnet.new_blocks(1).await.unwrap();
    // The bound: the silence limit after the last word heard, one stall check
    // and its probe, and room for a loaded machine.
    let bound = Duration::from_secs(max_silence + stall_after + stall_probe + 45);
    let api = run.api.clone();
    let why = wait::until("/ready to answer 503 for the silent chain", bound, || {
        let (http, api) = (http.clone(), api.clone());
        async move {
            let resp = http.get(format!("http://{api}/ready")).send().await.ok()?;
            if resp.status().as_u16() != 503 {
                return None;
            }
            let body: serde_json::Value = resp.json().await.ok()?;
            body["chains"][0]["why"].as_str().map(str::to_string)
        }
    })
    .await
    .unwrap();
    assert!(why.contains("not heard from the chain"), "{why}");

    proxy.black_hole(false);
    devnet.new_blocks(1).await.unwrap();
    let head = devnet.finalized_number().await.unwrap();
    assert_eq!(head, h0 + 2);
    wait_ready_at(&http, &run, &devnet, head).await;
    run.child.kill().await.unwrap();
}
