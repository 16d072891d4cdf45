//! 1KV's API under `/1kv`: the records a 1KV front end reads, with 1KV's
//! field names, from the same round as stakeflow's own answers, in pages.

mod support;

use api::router;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

async fn get(app: &Router, path: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

async fn app(round: &rules::RoundSnapshot) -> (tempfile::TempDir, Router) {
    let (dir, store) = support::store_with(&[round]).await;
    (dir, router(support::state(store)))
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

#[tokio::test]
async fn nominator_endpoints_answer_1kv_documents_and_the_last_n_nominations() {
    let round = rules::synthetic::round(10);
    let (_dir, store) = support::store_with(&[&round]).await;
    let net = rules::synthetic::NET;
    let stash = rules::synthetic::ss58([3; 32]);
    let targets: Vec<String> = round.candidates.iter().take(2).map(|c| c.candidate.stash.clone()).collect();
    support::nominated(store.as_ref(), net, &stash, &rules::synthetic::ss58([4; 32]), &targets).await;
    let app = router(support::state(store));

    let (status, headers, list) = get(&app, "/1kv/nominators").await;
    assert_eq!((status, headers["x-total-count"].to_str().unwrap()), (StatusCode::OK, "1"));
    let n = &list[0];
    assert_eq!((n["stash"].as_str(), n["proxy"].as_str(), n["bonded"].as_f64()), (Some(stash.as_str()), Some(rules::synthetic::ss58([4; 32]).as_str()), Some(1234.0)));
    assert_eq!(n["current"][0]["stash"], targets[0].as_str());
    assert_eq!(n["current"][0]["name"], format!("name of {}", targets[0]));
    assert_eq!((n["lastNomination"].as_i64(), n["lastNominationEra"].as_u64()), (Some(7000), Some(7)));
    let (_, _, one) = get(&app, &format!("/1kv/nominator/{}", schemas::ss58::encode(0, &[3; 32]))).await;
    assert_eq!(&one, n, "any SS58 encoding of the stash");

    let (_, _, statuses) = get(&app, "/1kv/nominators/status").await;
    assert!(statuses.is_array(), "JSON, not 1KV's JSON string");
    assert_eq!((statuses[0]["status"].as_str(), statuses[0]["isProxy"].as_bool()), (Some("Nominated"), Some(true)));

    // 1KV's /nominations/:address/:last answered nothing; here the newest `last` of that account.
    let (status, _, last) = get(&app, &format!("/1kv/nominations/{stash}/1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(last.as_array().unwrap().len(), 1);
    assert_eq!((last[0]["era"].as_u64(), last[0]["validators"].as_array().unwrap().len()), (Some(7), 2));
    let (_, _, both) = get(&app, &format!("/1kv/nominations/{stash}/10")).await;
    assert_eq!(both.as_array().unwrap().iter().map(|n| n["era"].as_u64().unwrap()).collect::<Vec<_>>(), [7, 6]);
    let (status, _, _) = get(&app, &format!("/1kv/nominations/{stash}/0")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, headers, all) = get(&app, "/1kv/nominations?limit=1").await;
    assert_eq!((headers["x-total-count"].to_str().unwrap(), all.as_array().unwrap().len()), ("2", 1));
    assert!(headers["link"].to_str().unwrap().contains("offset=1"));
    let (_, _, era) = get(&app, "/1kv/lastnomination").await;
    assert_eq!((era[0]["lastNominatedEraIndex"].as_u64(), era[0]["when"].as_i64()), (Some(7), Some(7000)));
}

#[tokio::test]
async fn location_and_beefy_statistics_come_from_the_round() {
    let mut round = rules::synthetic::round(60);
    let dummy = round.candidates.iter().position(|c| c.facts.beefy_key.is_some()).expect("candidates with session keys");
    round.candidates[dummy].facts.beefy_key.as_mut().unwrap().value = "0x62656566aabb".into();
    let (_dir, app) = app(&round).await;

    let (_, _, stats) = get(&app, "/1kv/locationstats").await;
    let valid = round.counts().0 as u64;
    assert_eq!(stats["totalNodes"].as_u64(), Some(valid));
    for field in ["locations", "regions", "countries", "providers"] {
        let sum: u64 = stats[field].as_array().unwrap().iter().map(|b| b["numberOfNodes"].as_u64().unwrap()).sum();
        assert_eq!(sum, valid, "{field}: every valid candidate in one bucket");
    }
    assert_eq!(stats["countyVariance"], stats["countryVariance"], "1KV's spelling kept beside ours");
    let (_, _, valid_stats) = get(&app, "/1kv/locationstats/valid").await;
    assert_eq!(valid_stats, stats, "over the valid candidates, with the weights the round was scored with");

    let with_keys = round.candidates.iter().filter(|c| c.facts.beefy_key.is_some()).count() as u64;
    let (_, _, beefy) = get(&app, "/1kv/validators/beefy").await;
    assert_eq!((beefy["withKeys"].as_u64(), beefy["dummy"].as_u64(), beefy["beefy"].as_u64()), (Some(with_keys), Some(1), Some(with_keys - 1)));
    let (_, _, dummies) = get(&app, "/1kv/validators/beefy/dummy").await;
    assert_eq!(dummies.as_array().unwrap().len(), 1);
    assert_eq!(dummies[0]["stash"], round.candidates[dummy].candidate.stash.as_str());

    let located = round.candidates.iter().find(|c| c.facts.location.is_some()).unwrap();
    let (status, _, loc) = get(&app, &format!("/1kv/location/validator/{}", located.candidate.stash)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(loc["city"], serde_json::json!(located.facts.location.as_ref().unwrap().value.city));

    let (_, _, jobs) = get(&app, "/1kv/scorekeeper/jobs").await;
    assert!(jobs.as_array().unwrap().iter().any(|j| j["name"] == format!("ingest {}", rules::synthetic::NET)), "{jobs}");
}

#[tokio::test]
async fn validator_sets_keys_and_active_eras_in_the_networks_encoding() {
    let round = rules::synthetic::round(10);
    let (_dir, store) = support::store_with(&[&round]).await;
    let snaps = [support::snapshot(1, 1, &[0, 1, 2]), support::snapshot(2, 1, &[0, 1, 2]), support::snapshot(3, 2, &[0, 1]), support::snapshot(3, 2, &[0, 1])];
    support::validator_sets(store.as_ref(), &snaps).await;
    let app = router(support::state(store));
    let (status, _, set) = get(&app, "/1kv/validators/current").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((set["session"].as_i64(), set["era"].as_i64()), (Some(3), Some(2)));
    // The candidate list's encoding (the synthetic one uses 42).
    let first = round.candidates.iter().find(|c| c.candidate.slot_id == 0).unwrap();
    assert_eq!(set["validators"][0], first.candidate.stash.as_str());
    assert_eq!(set["validators"].as_array().unwrap().len(), 2);

    let (_, headers, all) = get(&app, "/1kv/validators").await;
    assert_eq!(headers["x-total-count"], "2");
    assert_eq!(all[0]["keys"]["grandpa"], rules::synthetic::hex(rules::synthetic::grandpa(0)).as_str());
    let (status, _, one) = get(&app, &format!("/1kv/validator/{}", schemas::ss58::encode(0, &rules::synthetic::key(1)))).await;
    assert_eq!((status, one["address"].as_str()), (StatusCode::OK, Some(rules::synthetic::ss58(rules::synthetic::key(1)).as_str())));
    let (status, _, _) = get(&app, &format!("/1kv/validator/{}", rules::synthetic::ss58(rules::synthetic::key(2)))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "left the set at session 3");

    // Eras, each counted once however many sessions (and replayed snapshots) it had.
    let eras = |i: usize| {
        let app = app.clone();
        async move { get(&app, &format!("/1kv/validators/activeeras/{}", rules::synthetic::ss58(rules::synthetic::key(i)))).await.2 }
    };
    assert_eq!(eras(0).await["activeEras"], 2);
    assert_eq!(eras(2).await["activeEras"], 1);
    assert_eq!(eras(7).await["activeEras"], 0);

    // Locations of the set's members (0 and 1 since session 3) that are located candidates, in the set's order.
    let want: Vec<(String, Option<String>)> = [0, 1]
        .iter()
        .filter_map(|&i| round.candidates.iter().find(|c| c.account == rules::synthetic::hex(rules::synthetic::key(i))))
        .filter_map(|c| c.facts.location.as_ref().map(|l| (c.candidate.stash.clone(), l.value.city.clone())))
        .collect();
    assert!(!want.is_empty(), "the synthetic members have locations");
    let (status, _, located) = get(&app, "/1kv/location/currentvalidatorset").await;
    assert_eq!(status, StatusCode::OK);
    let got: Vec<(String, Option<String>)> = located
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["address"].as_str().unwrap().to_string(), l["city"].as_str().map(String::from)))
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn era_points_per_validator_and_per_era_over_the_kept_eras() {
    let round = rules::synthetic::round(10);
    let (_dir, store) = support::store_with(&[&round]).await;
    let (status, _, _) = get(&router(support::state(store.clone())), "/1kv/totalerapoints").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no era has ended yet");
    // Era 3 replayed with the same record: nothing doubles.
    let records = [support::points(2, &[10, 30, 0]), support::points(3, &[20, 60, 40, 0]), support::points(3, &[20, 60, 40, 0])];
    support::era_points(store.as_ref(), &records).await;
    let app = router(support::state(store));

    let (status, headers, totals) = get(&app, "/1kv/totalerapoints").await;
    assert_eq!((status, headers["x-total-count"].to_str().unwrap()), (StatusCode::OK, "2"));
    let newest = &totals[0];
    assert_eq!((newest["era"].as_i64(), newest["totalEraPoints"].as_i64()), (Some(3), Some(120)));
    assert_eq!((newest["median"].as_f64(), newest["average"].as_f64(), newest["max"].as_i64(), newest["min"].as_i64()), (Some(40.0), Some(40.0), Some(60), Some(20)));
    assert_eq!(newest["validatorsEraPoints"].as_array().unwrap().len(), 3, "validators with points only");
    let first = rules::synthetic::ss58(rules::synthetic::key(0));
    assert!(newest["validatorsEraPoints"].as_array().unwrap().iter().any(|v| v["address"] == first.as_str() && v["eraPoints"] == 20));
    let (_, headers, page) = get(&app, "/1kv/totalerapoints?limit=1&offset=1").await;
    assert_eq!((page[0]["era"].as_i64(), page.as_array().unwrap().len()), (Some(2), 1));
    assert!(!headers.contains_key("link"), "the last page");

    // Any SS58 encoding asked, the network's answered; an era without points is 0.
    let (status, _, mine) = get(&app, &format!("/1kv/erapoints/{}", schemas::ss58::encode(0, &rules::synthetic::key(2)))).await;
    assert_eq!(status, StatusCode::OK);
    let got: Vec<(i64, i64)> = mine.as_array().unwrap().iter().map(|d| (d["era"].as_i64().unwrap(), d["eraPoints"].as_i64().unwrap())).collect();
    assert_eq!(got, [(3, 40), (2, 0)]);
    assert_eq!(mine[0]["address"], rules::synthetic::ss58(rules::synthetic::key(2)).as_str());
    let (status, _, _) = get(&app, "/1kv/erapoints/nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_block_index_says_what_is_applied() {
    let (_dir, store) = support::store_with(&[]).await;
    let head = |n: u64, applied: u64| store::ChainHead {
        chain: rules::synthetic::NET.into(),
        number: n,
        hash: "0x01".into(),
        parent_hash: "0x00".into(),
        timestamp_ms: None,
        spec_version: 1,
        applied_blocks: applied,
    };
    let app = router(support::state(store.clone()));
    let (_, _, none) = get(&app, "/1kv/blockindex").await;
    assert_eq!(none, serde_json::json!([]));
    // Ingest started at block 101 and has applied 100 blocks since.
    store.commit_heads("c", &[head(200, 100)], &store::CheckpointDelta { topic: "t".into(), partition: 0, from: None, to: 1 }).await.unwrap();
    let (_, _, index) = get(&app, "/1kv/blockindex").await;
    assert_eq!((index[0]["latest"].as_u64(), index[0]["earliest"].as_u64(), index[0]["blocksIndexed"].as_u64()), (Some(200), Some(101), Some(100)));
}

#[tokio::test]
async fn nominator_stake_over_the_kept_eras() {
    use rules::synthetic::{key, ss58};
    const UNIT: u128 = 10_000_000_000;
    let round = rules::synthetic::round(10);
    let (_dir, store) = support::store_with(&[&round]).await;
    let (n1, n2) = ([50; 32], [51; 32]);
    // n1 behind candidates 0 and 1 for ten eras; n2 behind 0 from era 10; era 10 replayed.
    let mut records: Vec<Vec<u8>> = (1..=10).map(|era| support::nominator(era, n1, 100 * UNIT, &[0, 1])).collect();
    records.push(support::nominator(10, n2, 50 * UNIT, &[0]));
    records.push(support::nominator(10, n2, 50 * UNIT, &[0]));
    support::fold(store.as_ref(), &scoring::NominatorStakeFold, &records).await;
    let app = router(support::state(store));

    let c0 = ss58(key(0));
    let (status, _, latest) = get(&app, &format!("/1kv/nominatorstake/{}", schemas::ss58::encode(0, &key(0)))).await;
    assert_eq!(status, StatusCode::OK, "{latest}");
    assert_eq!((latest["validator"].as_str(), latest["era"].as_i64(), latest["nominatorCount"].as_u64()), (Some(c0.as_str()), Some(10), Some(2)));
    assert_eq!((latest["totalStakePlanck"].as_str(), latest["totalStake"].as_f64()), (Some((150 * UNIT).to_string().as_str()), Some(150.0)));
    let who: Vec<&str> = latest["nominators"].as_array().unwrap().iter().map(|n| n["address"].as_str().unwrap()).collect();
    assert_eq!(who.len(), 2);
    assert!(who.contains(&ss58(n2).as_str()));

    let kept = rules::nominator_stake::KEPT_ERAS;
    let (_, _, last) = get(&app, &format!("/1kv/nominatorstake/{c0}/last/100")).await;
    let eras: Vec<i64> = last.as_array().unwrap().iter().map(|d| d["era"].as_i64().unwrap()).collect();
    assert_eq!(eras, (11 - kept..=10).rev().collect::<Vec<_>>(), "the newest {kept} eras, newest first");
    assert_eq!(last[1]["nominatorCount"].as_u64(), Some(1), "n2 joined in era 10 only");
    let (_, _, two) = get(&app, &format!("/1kv/nominatorstake/{c0}/last/2")).await;
    assert_eq!(two.as_array().unwrap().len(), 2);
    let (status, _, one) = get(&app, &format!("/1kv/nominatorstake/{}/{}", ss58(key(1)), 11 - kept)).await;
    assert_eq!((status, one["era"].as_i64(), one["nominatorCount"].as_u64()), (StatusCode::OK, Some(11 - kept), Some(1)));
    let (status, _, _) = get(&app, &format!("/1kv/nominatorstake/{c0}/{}", 10 - kept)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an era no longer kept");
    let (status, _, _) = get(&app, &format!("/1kv/nominatorstake/{}", ss58(key(5)))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nobody nominates candidate 5");
    for bad in [format!("/1kv/nominatorstake/{c0}/last/0"), format!("/1kv/nominatorstake/{c0}/x"), "/1kv/nominatorstake/nope".to_string()] {
        let (status, _, body) = get(&app, &bad).await;
        assert_eq!((status, body["error"].as_str().is_some()), (StatusCode::BAD_REQUEST, true), "{bad}: {body}");
    }
}

#[tokio::test]
async fn rewards_per_validator_and_nominator_with_totals_and_statistics() {
    use rules::synthetic::{key, ss58};
    const UNIT: u128 = 10_000_000_000;
    let round = rules::synthetic::round(10);
    let (_dir, store) = support::store_with(&[&round]).await;
    let n1 = [50; 32];
    // Candidate 0's era 5 pays itself 30 and n1 70; candidate 1's era 6 pays itself 10 and n1 20.
    let mut events = support::payout(1000, 5, 0, &[(key(0), 30 * UNIT), (n1, 70 * UNIT)]);
    events.extend(support::payout(1200, 6, 1, &[(key(1), 10 * UNIT), (n1, 20 * UNIT)]));
    // Candidate 2's era 7 pays nobody; a Rewarded in a block without its own PayoutStarted is not credited.
    events.extend(support::payout(1300, 7, 2, &[]));
    events.extend(support::payout(1500, 8, 3, &[(n1, UNIT)]).into_iter().skip(1));
    support::fold(store.as_ref(), &scoring::RewardsFold, &events).await;
    // The same events again (a replay): nothing counts twice.
    support::fold(store.as_ref(), &scoring::RewardsFold, &events).await;
    let app = router(support::state(store));

    let (status, headers, mine) = get(&app, &format!("/1kv/rewards/validator/{}", ss58(key(0)))).await;
    assert_eq!((status, headers["x-total-count"].to_str().unwrap()), (StatusCode::OK, "1"), "{mine}");
    assert_eq!((mine[0]["era"].as_i64(), mine[0]["role"].as_str(), mine[0]["rewardAmount"].as_f64()), (Some(5), Some("validator"), Some(30.0)));
    assert_eq!(mine[0]["rewardAmountPlanck"].as_str(), Some((30 * UNIT).to_string().as_str()));

    let (_, _, theirs) = get(&app, &format!("/1kv/rewards/nominator/{}", schemas::ss58::encode(2, &n1))).await;
    let got: Vec<(i64, &str, f64)> = theirs.as_array().unwrap().iter().map(|r| (r["era"].as_i64().unwrap(), r["validator"].as_str().unwrap(), r["rewardAmount"].as_f64().unwrap())).collect();
    let (c0, c1) = (ss58(key(0)), ss58(key(1)));
    assert_eq!(got, [(6, c1.as_str(), 20.0), (5, c0.as_str(), 70.0)], "newest first, each once");
    assert_eq!(theirs[0]["nominator"].as_str(), Some(ss58(n1).as_str()));

    let (_, _, total) = get(&app, &format!("/1kv/rewards/nominator/{}/total", ss58(n1))).await;
    assert_eq!((total["total"].as_f64(), total["rewardCount"].as_u64(), total["average"].as_f64()), (Some(90.0), Some(2), Some(45.0)));
    assert_eq!((total["firstEra"].as_i64(), total["lastEra"].as_i64()), (Some(5), Some(6)));
    let (_, _, stats) = get(&app, &format!("/1kv/rewards/validator/{c0}/stats")).await;
    assert_eq!((stats["total"].as_f64(), stats["rewardCount"].as_u64()), (Some(30.0), Some(1)));

    let (_, headers, all) = get(&app, "/1kv/rewards/validators/total?limit=1").await;
    assert_eq!(headers["x-total-count"].to_str().unwrap(), "2");
    assert!(headers.contains_key("link"), "a next page");
    assert_eq!((all[0]["address"].as_str(), all[0]["total"].as_f64()), (Some(c0.as_str()), Some(30.0)), "largest first");
    let (_, _, stats) = get(&app, "/1kv/rewards/validators/stats").await;
    assert_eq!((stats["accounts"].as_u64(), stats["total"].as_f64(), stats["rewardCount"].as_u64()), (Some(2), Some(40.0), Some(2)));
    assert_eq!((stats["meanTotal"].as_f64(), stats["medianTotal"].as_f64()), (Some(20.0), Some(20.0)));
    let (_, _, noms) = get(&app, "/1kv/rewards/nominators/total").await;
    assert_eq!(noms.as_array().unwrap().len(), 1);

    let (status, _, _) = get(&app, &format!("/1kv/rewards/validator/{}/total", ss58(n1))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "n1 was never paid as a validator");
    let (status, _, _) = get(&app, "/1kv/rewards/nominator/nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_newest_release_with_1kvs_name() {
    let round = rules::synthetic::round(10);
    let (_dir, store) = support::store_with(&[&round]).await;
    let (status, _, body) = get(&router(support::state(store.clone())), "/1kv/release").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["message"].as_str().unwrap().contains("releases"), "says what to configure: {body}");
    let records = [support::release("polkadot-v1.15.2", "1.15.2", 1_000), support::release("polkadot-v1.16.0", "1.16.0", 2_000)];
    support::fold(store.as_ref(), &scoring::ReleasesFold, &records).await;
    let (status, _, body) = get(&router(support::state(store)), "/1kv/release").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((body["name"].as_str(), body["tag"].as_str(), body["publishedAt"].as_i64(), body["observedAt"].as_i64()), (Some("v1.16.0"), Some("polkadot-v1.16.0"), Some(2_000), Some(62_000)));
}
