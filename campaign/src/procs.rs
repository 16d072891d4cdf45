//! The processes of a run: the `stakeflow` binary started with its
//! arguments, its output appended to one log file per role, killed with
//! SIGKILL (never asked to stop) and started again on the same files.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How to start one role's process.
#[derive(Debug, Clone)]
pub struct Spawn {
    pub role: String,
    pub bin: PathBuf,
    pub args: Vec<OsString>,
    pub log: PathBuf,
}

/// A running process.
pub struct Proc {
    pub role: String,
    child: Child,
}

impl Spawn {
    /// What the broker process prints once it listens.
    pub const BROKER_READY: &'static str = "kafka: broker at ";

    /// The broker process (`stakeflow broker`) on 127.0.0.1:`port`, its files
    /// under `dir/broker`, its log `dir/broker.log`; start it again with the
    /// same `Spawn` to bring the same broker back.
    pub fn broker(bin: PathBuf, dir: &Path, port: u16) -> Spawn {
        Spawn {
            role: "broker".into(),
            bin,
            args: ["--data-dir", &dir.join("broker").display().to_string(), "broker", "--port", &port.to_string()].map(OsString::from).to_vec(),
            log: dir.join("broker.log"),
        }
    }

    /// Start it; with `wait_for`, until its stdout prints a line starting so
    /// (returned).
    pub async fn start(&self, wait_for: Option<&str>) -> anyhow::Result<(Proc, Option<String>)> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).with_context(|| format!("{}", self.log.display()))?;
        let mut child = Command::new(&self.bin)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.try_clone()?))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} ({})", self.role, self.bin.display()))?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let mut found = None;
        if let Some(prefix) = wait_for {
            let line = tokio::time::timeout(Duration::from_secs(120), async {
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.starts_with(prefix) {
                        return Some(line);
                    }
                }
                None
            })
            .await;
            match line {
                Ok(Some(l)) => found = Some(l),
                _ => anyhow::bail!("{} did not print {prefix:?} (see {})", self.role, self.log.display()),
            }
        }
        // Keep draining stdout (into the log) so the process never blocks on a full pipe.
        let mut log = tokio::fs::File::from_std(log);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = log.write_all(format!("{line}\n").as_bytes()).await;
            }
        });
        Ok((Proc { role: self.role.clone(), child }, found))
    }
}

impl Proc {
    /// `kill -9`, and reap it.
    pub async fn kill9(mut self) -> anyhow::Result<()> {
        self.child.start_kill().with_context(|| format!("killing {}", self.role))?;
        self.child.wait().await?;
        Ok(())
    }

    /// Whether it has exited (a service must not), and how.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

/// The last `lines` lines of a log, for a report.
pub fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
