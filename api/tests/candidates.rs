//! `/candidates` from the read model: pages, field selection, lookups in any
//! SS58 encoding, and conditional requests that follow new rounds.

mod support;

use std::sync::Arc;

use api::router;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rules::RoundSnapshot;
use serde_json::Value;
use store::Store;
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    etag: Option<String>,
    cache: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn ask(app: &Router, path: &str, if_none_match: Option<&str>) -> Answer {
    let mut req = Request::get(path);
    if let Some(tag) = if_none_match {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let text = |h| resp.headers().get(h).map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_string());
    let (status, etag, cache) = (resp.status(), text(header::ETAG), text(header::CACHE_CONTROL));
    let body = axum::body::to_bytes(resp.into_body(), 64 << 20).await.unwrap().to_vec();
    Answer { status, etag, cache, body }
}

async fn app(rounds: &[&RoundSnapshot]) -> (tempfile::TempDir, Arc<dyn Store>, Router) {
    let (dir, store) = support::store_with(rounds).await;
    let app = router(support::state(store.clone()));
    (dir, store, app)
}

#[tokio::test]
async fn pages_and_field_selections_answer_the_round_sorted_by_total() {
    let r = rules::synthetic::round(60);
    let (_dir, _store, app) = app(&[&r]).await;

    let all = ask(&app, "/candidates?limit=1000", None).await.json();
    assert_eq!(all["total"], 60);
    assert_eq!(all["round"], r.round);
    let rows = all["candidates"].as_array().unwrap();
    assert_eq!(rows.len(), 60);
    let totals: Vec<f64> = rows.iter().map(|c| c["total"].as_f64().unwrap_or(f64::NEG_INFINITY)).collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "sorted by total, highest first: {totals:?}");
    let (valid, _, _) = r.counts();
    assert_eq!(all["counts"]["valid"], valid);

    // Pages cover the list once, in order, and say where the next one starts.
    let first = ask(&app, "/candidates?limit=25", None).await.json();
    let second = ask(&app, "/candidates?limit=25&offset=25", None).await.json();
    let third = ask(&app, "/candidates?limit=25&offset=50", None).await.json();
    assert_eq!((first["next_offset"].as_u64(), second["next_offset"].as_u64(), third["next_offset"].as_u64()), (Some(25), Some(50), None));
    let paged: Vec<&Value> = [&first, &second, &third].iter().flat_map(|p| p["candidates"].as_array().unwrap()).collect();
    assert_eq!(paged, rows.iter().collect::<Vec<_>>());

    // A field selection answers only those fields, in the same order.
    let slim = ask(&app, "/candidates?limit=1000&fields=stash,total", None).await.json();
    for (s, full) in slim["candidates"].as_array().unwrap().iter().zip(rows) {
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["stash", "total"]);
        assert_eq!((&s["stash"], &s["total"]), (&full["stash"], &full["total"]));
    }
    // Every field a selection may name is one the full answer has, and all of them are all of it.
    let every = ask(&app, &format!("/candidates?limit=1000&fields={}", full_field_list(&rows[0])), None).await.json();
    assert_eq!(every["candidates"], all["candidates"]);

    let bad = ask(&app, "/candidates?fields=stash,password", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"], "bad_query");
    assert!(bad.json()["message"].as_str().unwrap().contains("\"password\""));
}

/// The full answer's keys, as a `fields=` list.
fn full_field_list(row: &Value) -> String {
    row.as_object().unwrap().keys().cloned().collect::<Vec<_>>().join(",")
}

#[tokio::test]
async fn a_candidate_is_found_by_its_stash_in_any_ss58_encoding() {
    let r = rules::synthetic::round(12);
    let (_dir, _store, app) = app(&[&r]).await;
    let key = rules::synthetic::key(7);
    for address in [schemas::ss58::encode(42, &key), schemas::ss58::encode(0, &key), schemas::ss58::encode(2, &key), rules::synthetic::hex(key)] {
        let one = ask(&app, &format!("/candidates/{address}"), None).await;
        assert_eq!(one.status, StatusCode::OK, "{address}");
        assert_eq!(one.json()["candidate"]["name"], "node-7", "{address}");
    }
    let stranger = ask(&app, &format!("/candidates/{}", schemas::ss58::encode(0, &[9; 32])), None).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn conditional_requests_get_304_until_a_new_round_is_saved() {
    let first = rules::synthetic::round(30);
    let (_dir, store, app) = app(&[&first]).await;

    let a = ask(&app, "/candidates", None).await;
    assert_eq!(a.status, StatusCode::OK);
    let tag = a.etag.clone().expect("an ETag");
    assert_eq!(a.cache.as_deref(), Some("public, max-age=10"), "the latest round changes at the next session");
    let again = ask(&app, "/candidates", Some(&tag)).await;
    assert_eq!((again.status, again.body.len(), again.etag.as_deref()), (StatusCode::NOT_MODIFIED, 0, Some(tag.as_str())));
    // Another query is another answer.
    let other = ask(&app, "/candidates?sort=name", Some(&tag)).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_ne!(other.etag, a.etag);

    // The next round is served once the held one is revalidated, and the old tag no longer matches.
    let mut next = rules::synthetic::round(31);
    next.round = first.round + 1;
    support::save(store.as_ref(), &next).await;
    let saved = std::time::Instant::now();
    let b = loop {
        let b = ask(&app, "/candidates", Some(&tag)).await;
        if b.status != StatusCode::NOT_MODIFIED {
            break b;
        }
        assert!(saved.elapsed() < std::time::Duration::from_secs(5), "the new round is not served 5 s after it was saved");
        tokio::task::yield_now().await;
    };
    assert_eq!(b.status, StatusCode::OK);
    assert_eq!((b.json()["round"].as_u64(), b.json()["total"].as_u64()), (Some(next.round), Some(31)));
    assert_ne!(b.etag.as_deref(), Some(tag.as_str()));

    // A round asked for by number keeps its answer; it changes only if the programme is rescored.
    let fixed = ask(&app, &format!("/candidates?round={}", first.round), None).await;
    assert_eq!((fixed.status, fixed.json()["total"].as_u64()), (StatusCode::OK, Some(30)));
    assert_eq!(fixed.etag.as_deref(), Some(tag.as_str()), "the same bytes as when it was the latest");
    assert_eq!(fixed.cache.as_deref(), Some("public, max-age=3600"));

    // Endpoints answering from elsewhere are tagged by their bytes and revalidated.
    let rounds = ask(&app, "/rounds", None).await;
    assert_eq!(rounds.cache.as_deref(), Some("no-cache"));
    let rounds_tag = rounds.etag.expect("an ETag on /rounds");
    assert_eq!(ask(&app, "/rounds", Some(&rounds_tag)).await.status, StatusCode::NOT_MODIFIED);
    let mut third = rules::synthetic::round(5);
    third.round = next.round + 1;
    support::save(store.as_ref(), &third).await;
    assert_eq!(ask(&app, "/rounds", Some(&rounds_tag)).await.status, StatusCode::OK);
}
