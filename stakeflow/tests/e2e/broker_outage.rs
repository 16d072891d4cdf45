//! The broker process goes away for a minute under separate service
//! processes (`stakeflow ingest`; the scorer with the API) while the chain
//! moves on: neither exits, each says so in its log, on `/ready` (503 with
//! the broker's reason) and in its metrics, and when the broker is back they
//! resume on their own: every block once on the topic, the round of the
//! session that changed during the outage scored, each round once.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use testkit::{Devnet, wait};

use crate::common::blocks_on_topic;
use crate::processes::{logs, wait_rounds, world};

const NETWORK: &str = "o1";
const OUTAGE: Duration = Duration::from_secs(60);

/// One process's HTTP face: `/ready` (status, body) and a metric's value.
struct Face {
    http: reqwest::Client,
    base: String,
}

impl Face {
    fn new(line: Option<String>, prefix: &str) -> Face {
        let line = line.expect("the process printed its address");
        let addr = line.trim_start_matches(prefix).split('/').next().unwrap().to_string();
        Face { http: reqwest::Client::new(), base: format!("http://{addr}") }
    }

    async fn ready(&self) -> Option<(u16, Value)> {
        let r = self.http.get(format!("{}/ready", self.base)).send().await.ok()?;
        Some((r.status().as_u16(), r.json().await.ok()?))
    }

    async fn metric(&self, name: &str) -> Option<f64> {
        let text = self.http.get(format!("{}/metrics", self.base)).send().await.ok()?.text().await.ok()?;
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// `/ready`'s broker part and the metric agree that the broker is (or is not) reachable.
    async fn sees_broker(&self, reachable: bool) -> Option<Value> {
        let (status, body) = self.ready().await?;
        let broker = body.get("broker")?.clone();
        let up = self.metric("stakeflow_broker_up").await?;
        (broker["reachable"] == reachable && up == if reachable { 1.0 } else { 0.0 } && (reachable || status == 503)).then_some(body)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_without_the_broker_is_reported_by_every_process_and_nothing_is_lost() {
    testkit::init_tracing();
    let devnet = Devnet::start().await.unwrap();
    let mut w = world(&devnet, &[NETWORK], None).await;
    let (ingest_log, programme_log, broker_log) = (w.log("ingest"), w.log("programme"), w.log("broker"));
    let procs: [(&str, &Path); 3] = [("ingest", &ingest_log), ("score+api", &programme_log), ("broker", &broker_log)];

    let (mut ingest, line) = w.spawn("ingest", &["--metrics-listen", "127.0.0.1:0", "ingest"]).start(Some("metrics: http://")).await.unwrap();
    let ingest_face = Face::new(line, "metrics: http://");
    let programme = w.spawn("programme", &["--api-listen", "127.0.0.1:0", "run", "--service", "score", "--service", "api"]);
    let (mut programme, line) = programme.start(Some("api: http://")).await.unwrap();
    let api = Face::new(line, "api: http://");

    devnet.force_session().await.unwrap();
    let s1 = devnet.session_index().await.unwrap();
    wait_rounds(&w.bootstrap, &[NETWORK], s1, &procs).await;
    for (who, face) in [("ingest", &ingest_face), ("the API", &api)] {
        wait::until(&format!("{who} to see the broker"), Duration::from_secs(30), || face.sees_broker(true)).await.unwrap_or_else(|e| panic!("{e:#}\n{}", logs(&procs)));
    }
    assert_eq!(ingest_face.ready().await.unwrap().0, 200, "ingest's own /ready is the broker's");

    // The broker dies; the chain moves on to a new session meanwhile.
    w.kill_broker().await;
    let down_at = tokio::time::Instant::now();
    devnet.force_session().await.unwrap();
    let s2 = devnet.session_index().await.unwrap();
    devnet.new_blocks(3).await.unwrap();
    for (who, face) in [("ingest", &ingest_face), ("the API", &api)] {
        let body = wait::until(&format!("{who} to report the outage"), Duration::from_secs(30), || face.sees_broker(false))
            .await
            .unwrap_or_else(|e| panic!("{e:#}\n{}", logs(&procs)));
        let why = body["broker"]["why"].as_str().unwrap_or_default();
        assert!(why.contains("has not answered"), "{who}: {body}");
        assert_eq!(body["ready"], false, "{who}: {body}");
    }
    // A minute of it: both processes keep running and keep reporting it.
    let body = wait::until("a minute of outage", OUTAGE + Duration::from_secs(30), || {
        for (name, p) in [("ingest", &mut ingest), ("score+api", &mut programme)] {
            if let Some(status) = p.exited() {
                panic!("{name} exited during the outage ({status})\n{}", logs(&procs));
            }
        }
        async {
            let body = api.sees_broker(false).await?;
            let down_for = body["broker"]["unreachable_for_s"].as_u64()?;
            (down_at.elapsed() >= OUTAGE && down_for >= OUTAGE.as_secs() - 10).then_some(body)
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}\n{}", logs(&procs)));
    assert!(api.metric("stakeflow_broker_unreachable_seconds").await.unwrap() >= (OUTAGE.as_secs() - 10) as f64, "{body}");
    assert!(ingest_face.metric("stakeflow_broker_unreachable_seconds").await.unwrap() >= (OUTAGE.as_secs() - 10) as f64);

    // Back: both say so, and the session that changed meanwhile is scored.
    w.start_broker().await;
    for (who, face) in [("ingest", &ingest_face), ("the API", &api)] {
        wait::until(&format!("{who} to see the broker again"), Duration::from_secs(60), || face.sees_broker(true)).await.unwrap_or_else(|e| panic!("{e:#}\n{}", logs(&procs)));
        assert_eq!(face.metric("stakeflow_broker_outages_total").await, Some(1.0), "{who} counted one outage");
    }
    let rounds = wait_rounds(&w.bootstrap, &[NETWORK], s2, &procs).await;
    let r = &rounds[NETWORK];
    assert!(r.windows(2).all(|w| w[0] < w[1]) && r.contains(&i64::from(s1)), "every round once, in order: {r:?}");
    for (p, name) in [(&mut ingest, "ingest"), (&mut programme, "score+api")] {
        assert!(p.exited().is_none(), "{name} still runs");
    }
    for (log, name) in [(&ingest_log, "ingest"), (&programme_log, "score+api")] {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(text.contains("the Kafka broker cannot be reached"), "{name} logged the outage");
        assert!(text.contains("the Kafka broker is reachable again"), "{name} logged the return");
    }

    // Nothing lost or doubled: every block from the start to the chain's head once.
    let head = devnet.finalized_number().await.unwrap();
    let blocks = wait::until("ingest to publish the head", Duration::from_secs(60), || async {
        let blocks = blocks_on_topic(&w.bootstrap, NETWORK).await;
        blocks.last().is_some_and(|b| b.number as u64 >= head).then_some(blocks)
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}\n{}", logs(&procs)));
    let numbers: Vec<i64> = blocks.iter().map(|b| b.number).collect();
    let expected: Vec<i64> = (w.start_block as i64..=numbers[numbers.len() - 1]).collect();
    assert_eq!(numbers, expected, "every block once, in order");
}
