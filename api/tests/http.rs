//! The router against a real embedded store, without a socket.

use std::sync::Arc;

use api::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use store::{ChainHead, CheckpointDelta, EmbeddedStore, ObservedHead, Store};
use tower::ServiceExt;

async fn get(state: AppState, path: &str) -> (StatusCode, serde_json::Value) {
    let resp = router(state).oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn health_and_ready_follow_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    let state = AppState {
        store: store.clone(),
        networks: Arc::new(vec!["paseo".into()]),
        consumer: "c",
        ready_max_lag: 3, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX,
        metrics: None,
        uptime_window_ms: 0,
        namespaces: None,
        scored_networks: Arc::new(vec![]), nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None,
    };
    let (status, body) = get(state.clone(), "/health").await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));

    // Nothing yet: not ready.
    let (status, body) = get(state.clone(), "/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["chains"][0]["applied"], serde_json::Value::Null);

    let head = |n: u64| ChainHead {
        chain: "paseo".into(),
        number: n,
        hash: "0x01".into(),
        parent_hash: "0x00".into(),
        timestamp_ms: None,
        spec_version: 1,
        applied_blocks: n,
    };
    store.record_observed(&ObservedHead { chain: "paseo".into(), number: 10, observed_at_ms: 0 }).await.unwrap();
    store
        .commit_heads("c", &[head(6)], &CheckpointDelta { topic: "t".into(), partition: 0, from: None, to: 1 })
        .await
        .unwrap();
    let (status, body) = get(state.clone(), "/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["chains"][0]["lag"], 4);

    store
        .commit_heads("c", &[head(8)], &CheckpointDelta { topic: "t".into(), partition: 0, from: Some(1), to: 2 })
        .await
        .unwrap();
    let (status, body) = get(state, "/ready").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["chains"][0]["seen_on_chain"].as_u64(), body["chains"][0]["applied"].as_u64(), body["chains"][0]["lag"].as_u64()),
        (Some(10), Some(8), Some(2))
    );
}

#[tokio::test]
async fn schema_registry_read_side_serves_our_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    let state = AppState { store, networks: Arc::new(vec![]), consumer: "c", ready_max_lag: 0, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX, metrics: None, uptime_window_ms: 0, namespaces: None, scored_networks: Arc::new(vec![]), nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None };

    let (status, subjects) = get(state.clone(), "/subjects").await;
    assert_eq!(status, StatusCode::OK);
    assert!(subjects.as_array().unwrap().iter().any(|s| s == "stakeflow.chain.blocks-value"));

    let (status, v) = get(state.clone(), "/subjects/stakeflow.chain.blocks-value/versions/latest").await;
    assert_eq!(status, StatusCode::OK);
    let id = v["id"].as_u64().unwrap() as u32;
    assert_eq!(id, schemas::registry::FINALIZED_BLOCK_ID);
    // The schema text served is the one that frames records on the topic.
    let served = apache_avro::Schema::parse_str(v["schema"].as_str().unwrap()).unwrap();
    assert_eq!(served, schemas::registry::by_id(id).unwrap().schema);

    let (status, by_id) = get(state.clone(), &format!("/schemas/ids/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id["schema"], v["schema"]);

    let (status, e) = get(state.clone(), "/schemas/ids/9999").await;
    assert_eq!((status, e["error_code"].as_u64()), (StatusCode::NOT_FOUND, Some(40403)));
    let (status, e) = get(state.clone(), "/subjects/nope-value/versions").await;
    assert_eq!((status, e["error_code"].as_u64()), (StatusCode::NOT_FOUND, Some(40401)));
    let (status, e) = get(state.clone(), "/subjects/stakeflow.chain.blocks-value/versions/7").await;
    assert_eq!((status, e["error_code"].as_u64()), (StatusCode::NOT_FOUND, Some(40402)));
    let (status, e) = get(state.clone(), "/subjects/stakeflow.chain.blocks-value/versions/one").await;
    assert_eq!((status, e["error_code"].as_u64()), (StatusCode::UNPROCESSABLE_ENTITY, Some(42202)));
    let (_, c) = get(state, "/config").await;
    assert_eq!(c["compatibilityLevel"], "BACKWARD_TRANSITIVE");
}

/// Registration against the API's registry, through the same HTTP client the
/// services use against a Confluent registry in distributed mode.
#[tokio::test]
async fn registering_our_schemas_returns_their_ids_and_foreign_schemas_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    let state = AppState { store, networks: Arc::new(vec![]), consumer: "c", ready_max_lag: 0, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX, metrics: None, uptime_window_ms: 0, namespaces: None, scored_networks: Arc::new(vec![]), nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None };
    let cfg = api::ApiConfig { listen: "127.0.0.1:0".parse().unwrap(), ready_max_lag: 0, ..Default::default() };
    let token = tokio_util::sync::CancellationToken::new();
    let (addr, server) = api::serve(&cfg, state.clone(), token.clone()).await.unwrap();
    let url: url::Url = format!("http://{addr}/").parse().unwrap();
    let ids = bus::schema_registry::register_schemas(&url).await.unwrap();
    for e in schemas::registry::catalog() {
        assert_eq!(ids.get(&e.id), Some(&e.id), "{}", e.subject);
    }
    let foreign = serde_json::json!({"schema": "{\"type\":\"record\",\"name\":\"X\",\"fields\":[]}"}).to_string();
    let resp = router(state)
        .oneshot(
            Request::post("/subjects/stakeflow.chain.blocks-value/versions")
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(Body::from(foreign))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    token.cancel();
    server.await.unwrap().unwrap();
}

fn empty_state(store: Arc<dyn Store>) -> AppState {
    AppState { store, networks: Arc::new(vec![]), consumer: "c", ready_max_lag: 0, ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX, metrics: None, uptime_window_ms: 0, namespaces: None, scored_networks: Arc::new(vec![]), nominated_networks: Default::default(), events: None, decimals: Default::default(), broker: None }
}

/// Over a socket, as a client sees it: a body above the limit is refused with
/// JSON, a browser of a listed origin may read, another gets no CORS grant.
#[tokio::test]
async fn bodies_are_bounded_and_only_listed_origins_may_read() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    let cfg = api::ApiConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        max_body_bytes: 1024,
        cors_origins: vec!["https://front.example".into()],
        ..Default::default()
    };
    assert!(cfg.problems().is_empty());
    let token = tokio_util::sync::CancellationToken::new();
    let (addr, server) = api::serve(&cfg, empty_state(store), token.clone()).await.unwrap();
    let http = reqwest::Client::new();
    let big = serde_json::json!({"schema": "x".repeat(4096)}).to_string();
    let resp = http.post(format!("http://{addr}/subjects/s/versions")).body(big).send().await.unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = resp.json().await.expect("a JSON error");
    assert_eq!(body["error_code"], 413);
    let from = |origin: &'static str| http.get(format!("http://{addr}/health")).header("origin", origin).send();
    let listed = from("https://front.example").await.unwrap();
    assert_eq!(listed.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()), Some("https://front.example"));
    let other = from("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    token.cancel();
    server.await.unwrap().unwrap();
    let bad = api::ApiConfig { request_timeout: std::time::Duration::ZERO, cors_origins: vec!["front.example".into()], ..Default::default() };
    assert_eq!(bad.problems().len(), 2, "{:?}", bad.problems());
}

/// A request not answered in time gets the API's JSON error, not a hang.
#[tokio::test]
async fn a_request_past_its_deadline_gets_a_json_timeout() {
    let cfg = api::ApiConfig { request_timeout: std::time::Duration::from_millis(50), ..Default::default() };
    let slow = axum::Router::new().route("/slow", axum::routing::get(|| std::future::pending::<&'static str>()));
    let resp = api::with_limits(slow, &cfg).oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"], "timeout");
}
