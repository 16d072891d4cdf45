//! 1KV's API under `/1kv`: the records a 1KV front end reads, with 1KV's
//! field names, from the same round as stakeflow's own answers, in pages.

use std::sync::Arc;

use api::{AppState, router};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use store::{EmbeddedStore, Store};
use tower::ServiceExt;

async fn get(app: &Router, path: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

async fn app(round: &rules::RoundSnapshot) -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    store.commit_states(scoring::scorer::SCORER, &scoring::scorer::round_writes(round).unwrap(), &[]).await.unwrap();
    let net = rules::synthetic::NET.to_string();
    let state = AppState {
        store,
        networks: Arc::new(vec![net.clone()]),
        consumer: "c",
        ready_max_lag: 0,
        ready_max_silence_ms: i64::MAX,
        metrics: None,
        uptime_window_ms: 0,
        namespaces: None,
        scored_networks: Arc::new(vec![net]),
        nominated_networks: Default::default(), events: None,
    };
    (dir, router(state))
}

#[tokio::test]
async fn candidate_records_carry_1kv_fields_from_the_same_round() {
    let round = rules::synthetic::round(150);
    let (_dir, app) = app(&round).await;
    let c = round.candidates.iter().find(|c| c.score.is_some()).unwrap();
    let (status, _, rec) = get(&app, &format!("/1kv/candidate/{}", schemas::ss58::encode(0, &rules::synthetic::key(c.candidate.slot_id as usize)))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, ours) = get(&app, &format!("/candidates/{}", c.candidate.stash)).await;
    assert_eq!((&rec["name"], &rec["stash"], &rec["slotId"]), (&ours["candidate"]["name"], &ours["candidate"]["stash"], &ours["candidate"]["slot_id"]));
    assert_eq!(rec["valid"], true);
    assert_eq!(rec["total"], ours["score"]["total"]);
    assert_eq!(rec["score"]["total"], rec["total"]);
    assert_eq!(rec["score"]["session"], round.round);
    assert_eq!(rec["rank"], ours["history"]["rank"]);
    assert_eq!(rec["inclusion"], ours["history"]["inclusion"]);
    let perbill = c.facts.staking.as_ref().unwrap().value.commission_perbill;
    assert_eq!(rec["commission"].as_f64(), Some(f64::from(perbill) / 1e7), "percent");
    assert_eq!(rec["bondedPlanck"].as_str(), Some(c.facts.staking.as_ref().unwrap().value.self_bonded.to_string().as_str()));
    let types: Vec<&str> = rec["validity"].as_array().unwrap().iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(types.len(), c.validity.checks.len());
    assert!(types.contains(&"COMMISION") && types.contains(&"ONLINE") && types.contains(&"ACCUMULATED_OFFLINE_TIME"), "{types:?}");
    assert!(rec["validity"].as_array().unwrap().iter().all(|v| v["valid"] == true && v["details"] == ""));

    // An invalid candidate says why, in 1KV's string and per check.
    let bad = round.candidates.iter().find(|c| !c.validity.valid).unwrap();
    let (_, _, rec) = get(&app, &format!("/1kv/candidate/{}", bad.candidate.stash)).await;
    assert_eq!((rec["valid"].as_bool(), rec["total"].as_f64(), rec["score"].is_null()), (Some(false), Some(0.0), true));
    let failing: Vec<&Value> = rec["validity"].as_array().unwrap().iter().filter(|v| v["valid"] == false).collect();
    assert!(!failing.is_empty());
    for f in failing {
        assert!(rec["invalidityReasons"].as_str().unwrap().contains(f["details"].as_str().unwrap()));
    }
}

#[tokio::test]
async fn lists_are_paged_sorted_and_split_by_validity() {
    let round = rules::synthetic::round(150);
    let (_dir, app) = app(&round).await;
    let (status, headers, all) = get(&app, "/1kv/candidates").await;
    assert_eq!(status, StatusCode::OK);
    let all = all.as_array().unwrap().clone();
    assert_eq!(all.len(), 150);
    assert_eq!(headers["x-total-count"], "150");
    assert!(headers.get("link").is_none(), "one page holds everything");
    let totals: Vec<f64> = all.iter().map(|c| c["total"].as_f64().unwrap()).collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "by total, highest first");

    // Pages follow their Link headers to the end and together are the whole list.
    let (mut path, mut paged) = ("/1kv/candidates?limit=40".to_string(), Vec::new());
    loop {
        let (_, headers, page) = get(&app, &path).await;
        assert_eq!(headers["x-total-count"], "150");
        paged.extend(page.as_array().unwrap().iter().cloned());
        let Some(link) = headers.get("link") else { break };
        let link = link.to_str().unwrap();
        path = link[link.find('<').unwrap() + 1..link.find('>').unwrap()].to_string();
    }
    assert_eq!(paged, all);

    let (_, _, by_rank) = get(&app, "/1kv/candidates/rank").await;
    let ranks: Vec<u64> = by_rank.as_array().unwrap().iter().map(|c| c["rank"].as_u64().unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "by rank, highest first");
    let (_, vh, valid) = get(&app, "/1kv/candidates/valid").await;
    let (_, ih, invalid) = get(&app, "/1kv/candidates/invalid").await;
    assert!(valid.as_array().unwrap().iter().all(|c| c["valid"] == true));
    assert!(invalid.as_array().unwrap().iter().all(|c| c["valid"] == false));
    let (v, i): (usize, usize) = (vh["x-total-count"].to_str().unwrap().parse().unwrap(), ih["x-total-count"].to_str().unwrap().parse().unwrap());
    assert_eq!(v + i, 150);
    assert_eq!(v, round.counts().0);
    assert!(i > 0 && v > 0);

    let (status, _, err) = get(&app, "/1kv/candidates?limit=5000").await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_query")));
    let (_, _, stats) = get(&app, "/1kv/erastats").await;
    assert_eq!((stats[0]["totalNodes"].as_u64(), stats[0]["valid"].as_u64()), (Some(150), Some(v as u64)));
}
