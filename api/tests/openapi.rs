//! The OpenAPI document against the API itself: every route is in the
//! document, every documented operation is routed, and what the API answers
//! validates against the schema the document gives for that status.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use api::{AppState, router};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A round of 150 candidates and a nominator account nominating two of them.
async fn app() -> (tempfile::TempDir, Router, rules::RoundSnapshot) {
    let round = rules::synthetic::round(150);
    let (dir, store) = support::store_with(&[&round]).await;
    let targets: Vec<String> = round.candidates.iter().take(2).map(|c| c.candidate.stash.clone()).collect();
    support::nominated(store.as_ref(), rules::synthetic::NET, &nominator_stash(), &rules::synthetic::ss58([4; 32]), &targets).await;
    support::validator_sets(store.as_ref(), &[support::snapshot(1, 1, &[0, 1, 2]), support::snapshot(2, 2, &[0, 1])]).await;
    support::era_points(store.as_ref(), &[support::points(1, &[10, 20]), support::points(2, &[30, 0, 5])]).await;
    support::fold(store.as_ref(), &scoring::NominatorStakeFold, &[support::nominator(2, [3; 32], 1_000, &[0, 1])]).await;
    support::fold(store.as_ref(), &scoring::ReleasesFold, &[support::release("polkadot-v1.16.0", "1.16.0", 1_727_357_025_000)]).await;
    support::fold(store.as_ref(), &scoring::RewardsFold, &support::payout(100, 1, 0, &[(rules::synthetic::key(0), 5), ([3; 32], 7)])).await;
    let state = AppState { metrics: Some(Arc::new(|| "# no metrics yet\n".to_string())), ..support::state(store) };
    (dir, router(state), round)
}

fn nominator_stash() -> String {
    rules::synthetic::ss58([3; 32])
}

async fn call(app: &Router, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Option<String>, Vec<u8>) {
    let req = Request::builder().method(method).uri(path);
    let req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ctype = resp.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string());
    (status, ctype, axum::body::to_bytes(resp.into_body(), 64 << 20).await.unwrap().to_vec())
}

/// The schema the document gives `path`'s `method` answering `status` as `ctype`.
fn documented(doc: &Value, template: &str, method: &str, status: StatusCode, ctype: &str) -> Result<Value, String> {
    let op = &doc["paths"][template][method];
    let resp = &op["responses"][status.as_u16().to_string()];
    if resp.is_null() {
        return Err(format!("{method} {template} answered {status}, which the document does not list"));
    }
    let media = ctype.split(';').next().unwrap_or_default().trim();
    resp["content"][media]["schema"].clone().as_object().map(|_| resp["content"][media]["schema"].clone()).ok_or_else(|| {
        format!("{method} {template} answered {status} as {media}; the document has {}", resp["content"])
    })
}

fn validate(doc: &Value, schema: Value, body: &Value) -> Result<(), String> {
    // The components travel with the schema, so its `#/components/...` references resolve.
    let root = json!({"components": doc["components"], "allOf": [schema]});
    let validator = jsonschema::validator_for(&root).map_err(|e| format!("the document's schema does not compile: {e}"))?;
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
}

#[tokio::test]
async fn every_route_is_documented_and_every_answer_matches_its_schema() {
    let (_dir, app, round) = app().await;
    let (status, ctype, bytes) = call(&app, Method::GET, "/openapi.json", None).await;
    assert_eq!((status, ctype.as_deref()), (StatusCode::OK, Some("application/json")));
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert_eq!(doc, serde_json::to_value(api::openapi()).unwrap());

    // Concrete requests for every documented operation, and some that fail.
    let valid = round.candidates.iter().find(|c| c.score.is_some()).unwrap();
    let invalid = round.candidates.iter().find(|c| c.score.is_none()).unwrap();
    let id = schemas::registry::catalog().into_iter().next().unwrap().id;
    let subject = "stakeflow.chain.blocks-value";
    let stash = &valid.candidate.stash;
    let stash0 = rules::synthetic::ss58(rules::synthetic::key(0));
    let requests: Vec<(Method, String, Option<Value>)> = [
        "/health".to_string(),
        "/ready".into(),
        "/metrics".into(),
        "/status".into(),
        "/networks".into(),
        "/nodes".into(),
        "/events".into(),
        "/events?kind=rounds".into(),
        "/nodes?network=x&bogus=1".into(),
        "/candidates".into(),
        "/candidates?limit=5&fields=stash,total&verdict=valid".into(),
        "/candidates?limit=0".into(),
        format!("/candidates/{stash}"),
        format!("/candidates/{}", schemas::ss58::encode(0, &[7; 32])),
        format!("/candidates/{stash}/score"),
        format!("/candidates/{}/score", invalid.candidate.stash),
        "/rounds".into(),
        format!("/rounds/{}", round.round),
        "/rounds/999999".into(),
        "/nominators".into(),
        format!("/nominators/{stash}"),
        format!("/nominators/{}", nominator_stash()),
        "/nominators/not-an-address".into(),
        "/nominations".into(),
        "/nominations?limit=5000".into(),
        "/proxytxs".into(),
        "/1kv/healthcheck".into(),
        "/1kv/candidates".into(),
        "/1kv/candidates?limit=5&offset=3".into(),
        "/1kv/candidates?limit=0".into(),
        "/1kv/candidates/rank".into(),
        "/1kv/candidates/valid".into(),
        "/1kv/candidates/invalid".into(),
        format!("/1kv/candidate/{stash}"),
        format!("/1kv/candidate/{}", schemas::ss58::encode(0, &[7; 32])),
        format!("/1kv/score/{stash}"),
        format!("/1kv/score/{}", invalid.candidate.stash),
        format!("/1kv/score/{stash}/{}", round.round),
        "/1kv/scoremetadata".into(),
        format!("/1kv/scoremetadata/{}", round.round),
        "/1kv/erastats".into(),
        format!("/1kv/location/validator/{stash}"),
        "/1kv/location/currentvalidatorset".into(),
        "/1kv/locationstats".into(),
        "/1kv/locationstats/valid".into(),
        format!("/1kv/locationstats/{}", round.round),
        "/1kv/validators/beefy".into(),
        "/1kv/validators/beefy/dummy".into(),
        "/1kv/scorekeeper/jobs".into(),
        "/1kv/blockindex".into(),
        "/1kv/validators/current".into(),
        "/1kv/validators".into(),
        format!("/1kv/validator/{}", schemas::ss58::encode(0, &rules::synthetic::key(0))),
        format!("/1kv/validator/{}", schemas::ss58::encode(0, &rules::synthetic::key(9))),
        format!("/1kv/validators/activeeras/{}", rules::synthetic::hex(rules::synthetic::key(0))),
        "/1kv/validators/activeeras/nope".into(),
        format!("/1kv/erapoints/{stash}"),
        "/1kv/erapoints/nope".into(),
        "/1kv/totalerapoints".into(),
        "/1kv/totalerapoints?limit=0".into(),
        "/1kv/nominators".into(),
        format!("/1kv/nominator/{stash}"),
        format!("/1kv/nominator/{}", nominator_stash()),
        "/1kv/nominators/status".into(),
        "/1kv/nominations".into(),
        format!("/1kv/nominations/{}/5", nominator_stash()),
        format!("/1kv/nominations/{stash}/0"),
        "/1kv/lastnomination".into(),
        "/1kv/release".into(),
        "/1kv/release?network=nope".into(),
        format!("/1kv/nominatorstake/{stash0}"),
        format!("/1kv/nominatorstake/{}", nominator_stash()),
        format!("/1kv/nominatorstake/{stash0}/2"),
        format!("/1kv/nominatorstake/{stash0}/x"),
        format!("/1kv/nominatorstake/{stash0}/last/3"),
        format!("/1kv/nominatorstake/{stash0}/last/0"),
        format!("/1kv/rewards/validator/{stash0}"),
        "/1kv/rewards/validator/nope".into(),
        format!("/1kv/rewards/validator/{stash0}/total"),
        format!("/1kv/rewards/validator/{}/total", nominator_stash()),
        format!("/1kv/rewards/validator/{stash0}/stats"),
        "/1kv/rewards/validators/total".into(),
        "/1kv/rewards/validators/total?limit=0".into(),
        "/1kv/rewards/validators/stats".into(),
        format!("/1kv/rewards/nominator/{}", nominator_stash()),
        format!("/1kv/rewards/nominator/{}/total", nominator_stash()),
        "/1kv/rewards/nominators/total".into(),
        "/subjects".into(),
        format!("/subjects/{subject}/versions"),
        "/subjects/nope/versions".into(),
        format!("/subjects/{subject}/versions/latest"),
        format!("/subjects/{subject}/versions/x"),
        format!("/subjects/{subject}/versions/1/schema"),
        format!("/schemas/ids/{id}"),
        "/schemas/ids/424242".into(),
        format!("/schemas/ids/{id}/versions"),
        "/config".into(),
    ]
    .into_iter()
    .map(|p| (Method::GET, p, None))
    .chain([
        (Method::POST, format!("/subjects/{subject}/versions"), Some(json!({"schema": schemas::registry::catalog()[0].text}))),
        (Method::POST, format!("/subjects/{subject}/versions"), Some(json!({"schema": "{\"type\":\"record\",\"name\":\"X\",\"fields\":[]}"}))),
    ])
    .collect();

    let templates: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let mut exercised = BTreeSet::new();
    let mut failures = Vec::new();
    for (method, path, body) in requests {
        let bare = path.split('?').next().unwrap();
        let template = templates.iter().find(|t| matches(t, bare)).unwrap_or_else(|| panic!("{path} is not under any documented path"));
        let m = method.as_str().to_lowercase();
        exercised.insert((template.clone(), m.clone()));
        let (status, ctype, bytes) = call(&app, method, &path, body).await;
        let ctype = ctype.unwrap_or_default();
        let checked = documented(&doc, template, &m, status, &ctype).and_then(|schema| {
            if ctype.starts_with("text/plain") || ctype.starts_with("text/html") {
                return Ok(());
            }
            let body: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
            validate(&doc, schema, &body)
        });
        if let Err(e) = checked {
            failures.push(format!("{m} {path} ({status}): {e}"));
        }
    }
    assert!(failures.is_empty(), "answers that do not match the document:\n{}", failures.join("\n"));

    // Every documented operation was exercised above (a new endpoint needs a request here) and is routed.
    for (template, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str())) {
            assert!(exercised.contains(&(template.clone(), method.clone())), "{method} {template} is documented but not exercised by this test");
        }
    }
}

/// Whether `path` is an instance of `template` (`{name}` matches one segment).
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

#[tokio::test]
async fn a_path_or_method_without_a_route_gets_a_json_error_and_docs_are_served_from_the_binary() {
    let (_dir, app, _) = app().await;
    let (status, ctype, bytes) = call(&app, Method::GET, "/candidatez", None).await;
    assert_eq!((status, ctype.as_deref()), (StatusCode::NOT_FOUND, Some("application/json")));
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"], "not_found");
    assert!(body["message"].as_str().unwrap().contains("/openapi.json"), "{body}");

    let (status, ctype, bytes) = call(&app, Method::DELETE, "/candidates", None).await;
    assert_eq!((status, ctype.as_deref()), (StatusCode::METHOD_NOT_ALLOWED, Some("application/json")));
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"], "method_not_allowed");

    // The documentation page and every asset it loads come from this process, not a CDN.
    let (status, _, page) = call(&app, Method::GET, "/docs/", None).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(page).unwrap();
    assert!(!page.contains("https://") && !page.contains("http://"), "the page loads nothing from elsewhere");
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.ends_with(".js") || s.ends_with(".css"))
        .collect();
    assert!(assets.iter().any(|a| a.ends_with(".js")), "no script in {page}");
    for asset in assets {
        let path = if asset.starts_with('/') { asset.to_string() } else { format!("/docs/{}", asset.trim_start_matches("./")) };
        let (status, _, bytes) = call(&app, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(bytes.len() > 100, "{path} is {} bytes", bytes.len());
    }
    let (status, _, init) = call(&app, Method::GET, "/docs/swagger-initializer.js", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&init).contains("/openapi.json"), "the page reads our document");
}

/// Routes are only added through `routes!` (which documents them): no
/// plain axum routing in the API's sources, apart from the router of
/// processes without an API (`process.rs`) and the documentation page itself.
#[test]
fn no_route_bypasses_the_document() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.clone()];
    let mut offenders = Vec::new();
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (n, line) in text.lines().enumerate() {
            let routing = [".route(", ".route_service(", ".nest(", ".nest_service(", ".merge("].iter().any(|m| line.contains(m));
            let allowed = p.ends_with("process.rs") || (p.ends_with("lib.rs") && line.contains("SwaggerUi::new"));
            if routing && !allowed {
                offenders.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "routes added outside routes!(), so missing from /openapi.json:\n{}", offenders.join("\n"));
}
