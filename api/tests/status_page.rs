//! `/status` in a real headless browser (Debian's chromium, driven through
//! chromedriver): the page renders, its numbers are the JSON endpoints'
//! numbers, and a new block on the topics updates it through the live
//! stream. A screenshot is kept in the test's target directory.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::AppState;
use bus::embedded::EmbeddedBroker;
use bus::{BusConfig, Publisher};
use fantoccini::{Client, ClientBuilder, Locator};
use schemas::{FinalizedBlock, topics};
use serde_json::{Value, json};
use store::{ChainHead, CheckpointDelta, EmbeddedStore, ObservedHead, Store};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    _child: tokio::process::Child,
    port: u16,
}

async fn chromedriver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "the browser test needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}); scripts/setup installs them"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let until = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < until, "chromedriver does not accept connections within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Driver { _child: child, port }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    // Headless, and nothing that reaches for the network this machine does not have.
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": CHROMIUM, "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1200,1400",
            format!("--user-data-dir={}", profile.display()),
        ]}),
    );
    // Plain HTTP to a driver on loopback: no TLS.
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

/// The text of `css` once `ok` holds for it, within 60 s.
async fn text_when(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            if let Ok(t) = el.text().await {
                if ok(&t) {
                    return t;
                }
            }
        }
        assert!(Instant::now() < until, "{css} did not show what was expected within 60 s; page: {}", c.source().await.unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn cell(c: &Client, row: &str, field: &str) -> String {
    c.find(Locator::Css(&format!("#{row} td[data-field={field}]"))).await.unwrap().text().await.unwrap()
}

async fn json(addr: SocketAddr, path: &str) -> Value {
    reqwest::get(format!("http://{addr}{path}")).await.unwrap().json().await.unwrap()
}

fn head(chain: &str, n: u64) -> ChainHead {
    ChainHead { chain: chain.into(), number: n, hash: format!("0x{n:02x}"), parent_hash: "0x00".into(), timestamp_ms: None, spec_version: 1, applied_blocks: n }
}


#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_the_json_numbers_and_follows_new_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(&dir.path().join("broker"), 0).await.unwrap();
    let bus = BusConfig::for_brokers(broker.bootstrap());
    bus::admin::ensure_topics(&bus, &[topics::BLOCKS, topics::ROUNDS, topics::SCORES, topics::NOMINATOR_EVENTS, topics::TELEMETRY_NODES])
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    let net = rules::synthetic::NET.to_string();
    // Two stored rounds, and the chain at block 5.
    let mut first = rules::synthetic::round(20);
    first.round -= 1;
    let second = rules::synthetic::round(25);
    for r in [&first, &second] {
        support::save(store.as_ref(), r).await;
    }
    store.record_observed(&ObservedHead { chain: net.clone(), number: 5, observed_at_ms: schemas::clock::now_ms() }).await.unwrap();
    store.commit_heads("c", &[head(&net, 5)], &CheckpointDelta { topic: "t".into(), partition: 0, from: None, to: 1 }).await.unwrap();
    let state = AppState { ready_max_lag: 10, events: Some(bus.clone()), ..support::state(store.clone()) };
    let cfg = api::ApiConfig { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
    let token = tokio_util::sync::CancellationToken::new();
    let (addr, server) = api::serve(&cfg, state, token.clone()).await.unwrap();

    let driver = chromedriver().await;
    let c = browser(&driver, &dir.path().join("profile")).await;
    c.goto(&format!("http://{addr}/status")).await.unwrap();
    let row = format!("chains-{net}");

    // It renders, and says what /ready and /rounds say.
    text_when(&c, &format!("#{row} td[data-field=applied]"), |t| t == "5").await;
    text_when(&c, "#stream", |t| t.ends_with("connected")).await;
    let ready = json(addr, "/ready").await;
    let chain = &ready["chains"][0];
    assert_eq!(cell(&c, &row, "head").await, chain["seen_on_chain"].to_string());
    assert_eq!(cell(&c, &row, "lag").await, chain["lag"].to_string());
    let shown = c.find(Locator::Css("#overall")).await.unwrap().text().await.unwrap();
    assert_eq!(shown, if ready["ready"] == true { "ready" } else { "not ready" });
    for r in [&first, &second] {
        let rr = format!("rounds-{net}-{}", r.round);
        let answer = json(addr, &format!("/rounds/{}?network={net}", r.round)).await;
        for field in ["valid", "invalid", "unknown"] {
            text_when(&c, &format!("#{rr} td[data-field={field}]"), |t| t == answer["counts"][field].to_string()).await;
        }
    }

    // A new block: applied by the store, then on the blocks topic; the page follows through the stream.
    store.record_observed(&ObservedHead { chain: net.clone(), number: 6, observed_at_ms: schemas::clock::now_ms() }).await.unwrap();
    store.commit_heads("c", &[head(&net, 6)], &CheckpointDelta { topic: "t".into(), partition: 0, from: Some(1), to: 2 }).await.unwrap();
    let block = FinalizedBlock { chain: net.clone(), number: 6, hash: "0x06".into(), parent_hash: "0x05".into(), ..Default::default() };
    Publisher::new(&bus).unwrap().publish(topics::BLOCKS, net.as_bytes(), &block.encode().unwrap()).await.unwrap();
    text_when(&c, "#events", |t| t.contains(&format!("block {net} #6"))).await;
    text_when(&c, &format!("#{row} td[data-field=applied]"), |t| t == "6").await;
    assert_eq!(cell(&c, &row, "head").await, json(addr, "/ready").await["chains"][0]["seen_on_chain"].to_string());

    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let artifact = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    std::fs::write(&artifact, &png).unwrap();
    println!("screenshot: {}", artifact.display());
    c.close().await.unwrap();
    token.cancel();
    server.await.unwrap().unwrap();
}
