//! `/submit` under abuse, against the real binary: 10,000 connections opened
//! at once, a quarter of them held open and the rest sending 64 MiB (one
//! frame that says so, a message in 32 KiB fragments, a handshake that never
//! ends). `stakeflow run` admits no more than its connection limit, refuses
//! the rest at once, keeps its resident memory within connections × message
//! limit of where it was, and still takes a well-behaved node afterwards.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::SinkExt;
use schemas::{TelemetryNodeEvent, topics};
use testkit::wait;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::common::read_topic;
use crate::telemetry::GENESIS;

const CONNECTIONS: usize = 10_000;
const MAX_CONNECTIONS: usize = 1_000;
const MAX_MESSAGE: usize = 64 * 1024;
const ABUSE: usize = 64 << 20;
const CHUNK: usize = 32 * 1024;
static ZEROS: [u8; CHUNK] = [0; CHUNK];

/// A kilobyte field of `/proc/<pid>/status`, in bytes.
fn status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"));
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).unwrap() * 1024
}

/// A client frame header: masked with a zero key, so the payload goes as is.
fn frame_header(opcode: u8, fin: bool, len: usize) -> Vec<u8> {
    let mut h = vec![if fin { 0x80 | opcode } else { opcode }];
    match len {
        0..=125 => h.push(0x80 | len as u8),
        126..=0xffff => {
            h.push(0x80 | 126);
            h.extend((len as u16).to_be_bytes());
        }
        _ => {
            h.push(0x80 | 127);
            h.extend((len as u64).to_be_bytes());
        }
    }
    h.extend([0; 4]);
    h
}

const REQUEST: &str = "GET /submit HTTP/1.1\r\nHost: stakeflow\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// Upgrade to a websocket by hand; false when the server closed instead.
async fn handshake(tcp: &mut TcpStream) -> bool {
    if tcp.write_all(format!("{REQUEST}\r\n").as_bytes()).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.len() < 8192 {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    answer.starts_with(b"HTTP/1.1 101")
}

/// Send `first`, then zeros (each chunk preceded by `each`) until `ABUSE`
/// bytes went or the server closed. Returns the bytes that went.
async fn flood(tcp: &mut TcpStream, first: &[u8], each: Option<&[u8]>) -> usize {
    if tcp.write_all(first).await.is_err() {
        return 0;
    }
    let mut sent = 0;
    while sent < ABUSE {
        if let Some(h) = each
            && tcp.write_all(h).await.is_err()
        {
            break;
        }
        if tcp.write_all(&ZEROS).await.is_err() {
            break;
        }
        sent += CHUNK;
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_holds_its_limits_and_its_memory_under_10000_connections_and_64_mib_messages() {
    testkit::init_tracing();
    let dir = tempfile::tempdir().unwrap();
    // No chain is needed: the endpoint refuses, ingest retries, /submit serves.
    let network = dir.path().join("net.toml");
    std::fs::write(&network, format!("name = \"loadnet\"\nendpoints = [\"ws://127.0.0.1:9\"]\ngenesis_hash = \"{GENESIS}\"\nstart_block = 0\n")).unwrap();
    let config = dir.path().join("stakeflow.toml");
    std::fs::write(
        &config,
        format!("[telemetry]\nsubmit_listen = \"127.0.0.1:0\"\nsubmit_max_connections = {MAX_CONNECTIONS}\nsubmit_max_frame_bytes = {MAX_MESSAGE}\nsubmit_idle = \"300s\"\n"),
    )
    .unwrap();
    let (mut child, submit, api, kafka) = start(&config, &network, &dir.path().join("data")).await;
    let pid = child.id().unwrap();

    // A node reports: the service is up and its record is on the topic.
    let node = |peer: &'static str| {
        let submit = submit.clone();
        async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{submit}/submit")).await.unwrap();
            let m = format!(r#"{{"id":1,"ts":"2026-12-03T09:00:00Z","payload":{{"msg":"system.connected","chain":"Polkadot","genesis_hash":"{GENESIS}","name":"{peer}","implementation":"Parity Polkadot","version":"1.20.2","network_id":"{peer}"}}}}"#);
            ws.send(Message::text(m)).await.unwrap();
            ws
        }
    };
    let on_topic = |peer: &'static str| {
        let kafka = kafka.clone();
        async move {
            wait::until(&format!("{peer} on the telemetry topic"), Duration::from_secs(60), || {
                let k = kafka.clone();
                async move {
                    let records = tokio::task::spawn_blocking(move || read_topic(&k, topics::TELEMETRY_NODES)).await.unwrap();
                    records.iter().filter_map(|(_, _, p)| TelemetryNodeEvent::decode(p).ok()).any(|e| e.peer_id == peer && e.kind == "added").then_some(())
                }
            })
            .await
            .unwrap();
        }
    };
    let first = node("12D3KooBefore").await;
    on_topic("12D3KooBefore").await;
    drop(first);

    // From here the peak resident size is measured afresh (Linux resets VmHWM on "5").
    let before = status_bytes(pid, "VmRSS:");
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();

    let release = tokio_util::sync::CancellationToken::new();
    let flooded = Arc::new(AtomicUsize::new(0));
    // Each held-open connection reports once whether it was admitted.
    let (admitted_tx, mut admitted_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    // Bounded in flight on this side only so the kernel's accept queue is not the test.
    let connecting = Arc::new(Semaphore::new(512));
    let (mut abusers, mut holders) = (tokio::task::JoinSet::new(), tokio::task::JoinSet::new());
    for i in 0..CONNECTIONS {
        let (submit, connecting) = (submit.clone(), connecting.clone());
        if i % 4 == 3 {
            // Held open, as many as the limit admits.
            let (release, admitted) = (release.clone(), admitted_tx.clone());
            holders.spawn(async move {
                let permit = connecting.acquire_owned().await.unwrap();
                let mut tcp = match TcpStream::connect(&submit).await {
                    Ok(tcp) => tcp,
                    Err(_) => {
                        admitted.send(false).unwrap();
                        return;
                    }
                };
                if !handshake(&mut tcp).await {
                    admitted.send(false).unwrap();
                    return;
                }
                admitted.send(true).unwrap();
                drop(permit);
                release.cancelled().await;
                let _ = tcp.shutdown().await;
            });
            continue;
        }
        let flooded = flooded.clone();
        abusers.spawn(async move {
            let _permit = connecting.acquire_owned().await.unwrap();
            let Ok(mut tcp) = TcpStream::connect(&submit).await else { return };
            let sent = match i % 4 {
                // One frame that says 64 MiB.
                0 if handshake(&mut tcp).await => flood(&mut tcp, &frame_header(2, true, ABUSE), None).await,
                // A 64 MiB message in fragments, each within the frame limit.
                1 if handshake(&mut tcp).await => {
                    let continuation = frame_header(0, false, CHUNK);
                    flood(&mut tcp, &frame_header(2, false, CHUNK), Some(&continuation)).await
                }
                // A handshake that never ends.
                2 => flood(&mut tcp, format!("{REQUEST}X-Pad: ").as_bytes(), None).await,
                _ => 0,
            };
            flooded.fetch_max(sent, Ordering::Relaxed);
        });
    }
    drop(admitted_tx);
    // Every abuser ends: refused, or closed by the server before its 64 MiB went.
    while let Some(r) = abusers.join_next().await {
        r.unwrap();
    }
    let (mut held_n, mut refused_n) = (0, 0);
    while let Some(admitted) = admitted_rx.recv().await {
        if admitted { held_n += 1 } else { refused_n += 1 }
        if held_n + refused_n == CONNECTIONS / 4 {
            break;
        }
    }
    let peak = status_bytes(pid, "VmHWM:");
    let growth = peak.saturating_sub(before);
    let bound = (MAX_CONNECTIONS * MAX_MESSAGE + (64 << 20)) as u64;
    println!(
        "submit under load: {CONNECTIONS} connections, {held_n} held, {refused_n} holders refused, largest flood accepted {} kB; resident {} MB before, peak {} MB (+{} MB, bound +{} MB)",
        flooded.load(Ordering::Relaxed) / 1024,
        before >> 20,
        peak >> 20,
        growth >> 20,
        bound >> 20
    );
    assert!(held_n <= MAX_CONNECTIONS, "{held_n} connections held open past the limit of {MAX_CONNECTIONS}");
    assert!(held_n > 0, "no connection admitted at all");
    assert!(growth <= bound, "resident memory grew {growth} bytes under abuse (bound {bound})");

    // Refusals are counted, and the service still takes a node.
    let metrics = reqwest::get(format!("http://{api}/metrics")).await.unwrap().text().await.unwrap();
    let refused: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("stakeflow_telemetry_submit_refused_total") && l.contains("why=\"connections\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(refused >= refused_n as f64, "{refused} refusals counted, {refused_n} seen: {metrics}");
    release.cancel();
    while let Some(r) = holders.join_next().await {
        r.unwrap();
    }
    let _after = node("12D3KooAfter").await;
    on_topic("12D3KooAfter").await;
    child.kill().await.unwrap();
}

/// `stakeflow run` with `config`; returns the child and its /submit, API and Kafka addresses.
async fn start(config: &Path, network: &Path, data: &Path) -> (tokio::process::Child, String, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stakeflow"))
        .arg("--config")
        .arg(config)
        .arg("--network")
        .arg(network)
        .arg("--data-dir")
        .arg(data)
        .args(["--api-listen", "127.0.0.1:0", "run", "--kafka-port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(data.with_extension("log")).unwrap()))
        .kill_on_drop(true)
        .spawn()
        .expect("spawn stakeflow");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut submit, mut api, mut kafka) = (None, None, None);
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(rest) = line.strip_prefix("kafka: embedded broker at ") {
            kafka = rest.split_whitespace().next().map(str::to_string);
        }
        if let Some(rest) = line.strip_prefix("telemetry: nodes may report to ws://") {
            submit = rest.split('/').next().map(str::to_string);
        }
        if let Some(rest) = line.strip_prefix("api: http://") {
            api = rest.split('/').next().map(str::to_string);
            break;
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, submit.expect("the /submit address printed"), api.expect("the API address printed"), kafka.expect("the broker printed"))
}
