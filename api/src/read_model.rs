//! Rounds as the API answers them. A round is parsed once per process and
//! every answer built from it is kept with it, so a request costs one small
//! store read (the latest round's stamp) and a map lookup, not the parse of a
//! whole round (1KV read four documents per candidate for each `/candidates`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blake2::digest::consts::U16;
use blake2::{Blake2b, Digest};
use rules::RoundSnapshot;
use serde::Serialize;
use store::Store;

use crate::{ApiError, AppState};

/// Distinct answers kept per round; past it they are built again (bounded
/// memory whatever the queries).
const ANSWERS_PER_ROUND: usize = 1024;
/// Rounds asked for by number kept parsed, beside each network's latest.
const FIXED_ROUNDS: usize = 8;

/// An answer built once: its body and entity tag.
pub(crate) struct Answer {
    body: Bytes,
    etag: HeaderValue,
}

impl Answer {
    /// `value` as JSON, tagged by its bytes.
    pub(crate) fn json(value: &impl Serialize) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(value).map_err(|e| ApiError::Internal(format!("encoding an answer: {e}")))?;
        let etag = etag_of(&body);
        Ok(Self { body: body.into(), etag })
    }
}

/// A strong entity tag for `bytes`.
pub(crate) fn etag_of(bytes: &[u8]) -> HeaderValue {
    let tag = format!("\"{}\"", hex::encode(Blake2b::<U16>::digest(bytes)));
    HeaderValue::from_str(&tag).expect("hex in quotes is a valid header value")
}

/// Whether an `If-None-Match` value names `etag` (or `*`).
pub(crate) fn not_modified(if_none_match: Option<&HeaderValue>, etag: &HeaderValue) -> bool {
    let Some(asked) = if_none_match.and_then(|v| v.to_str().ok()) else { return false };
    let ours = etag.to_str().unwrap_or_default();
    asked.split(',').map(str::trim).any(|t| t == "*" || t == ours || t.strip_prefix("W/") == Some(ours))
}

/// How long a client may keep an answer without asking again.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Freshness {
    /// About the latest round: changes at the next session.
    Latest,
    /// About a round named by number: changes only if the programme is rescored.
    Fixed,
}

impl Freshness {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Freshness::Latest => "public, max-age=10",
            Freshness::Fixed => "public, max-age=3600",
        })
    }
}

/// `answer` as a response: 304 when the client holds it already.
pub(crate) fn respond(answer: &Answer, request: &HeaderMap, freshness: Freshness) -> Response {
    let mut resp = if not_modified(request.get(header::IF_NONE_MATCH), &answer.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(answer.body.clone()));
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    };
    resp.headers_mut().insert(header::ETAG, answer.etag.clone());
    resp.headers_mut().insert(header::CACHE_CONTROL, freshness.header());
    resp
}

/// One round, parsed, with the answers built from it.
pub(crate) struct RoundView {
    /// The round.
    pub round: RoundSnapshot,
    /// Whether it is a network's latest (as opposed to one asked for by number).
    pub freshness: Freshness,
    answers: Mutex<HashMap<String, Arc<Answer>>>,
}

impl RoundView {
    fn new(round: RoundSnapshot, freshness: Freshness) -> Arc<Self> {
        Arc::new(Self { round, freshness, answers: Mutex::new(HashMap::new()) })
    }

    /// The answer kept under `key`, built by `build` the first time.
    pub(crate) fn answer(&self, key: &str, build: impl FnOnce(&RoundSnapshot) -> Result<Answer, ApiError>) -> Result<Arc<Answer>, ApiError> {
        if let Some(a) = self.answers.lock().unwrap_or_else(PoisonError::into_inner).get(key) {
            return Ok(a.clone());
        }
        let built = Arc::new(build(&self.round)?);
        let mut kept = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= ANSWERS_PER_ROUND {
            kept.clear();
        }
        Ok(kept.entry(key.to_string()).or_insert(built).clone())
    }
}

/// How long a latest round (and the live namespace) is served without asking
/// the store whether it is still the latest: a new round shows within this,
/// far inside the `max-age` answers carry, and requests between cost no
/// store read.
pub(crate) const REVALIDATE: Duration = Duration::from_millis(200);

/// (scoring namespace, network).
type Key = (Option<String>, String);

/// When the live namespace was read, its name and its store.
type LiveRead = (Instant, Option<String>, Arc<dyn Store>);

/// A network's latest round as last checked.
struct Held {
    namespace: Option<String>,
    /// The stamp it was stored with (`None`: a store from before stamps; read again at each check).
    stamp: Option<String>,
    view: Arc<RoundView>,
    checked: Instant,
}

/// The rounds this process has parsed.
#[derive(Default)]
pub(crate) struct ReadModel {
    /// Each network's latest round.
    latest: RwLock<HashMap<String, Held>>,
    /// Rounds asked for by number, most recent use last.
    fixed: Mutex<VecDeque<(Key, u64, Arc<RoundView>)>>,
    /// The live scoring namespace and its store, as last read.
    live: Mutex<Option<LiveRead>>,
    /// One parse at a time: a new round asked for by many clients at once is parsed once.
    loading: tokio::sync::Mutex<()>,
}

impl ReadModel {
    /// `network`'s round `round` (default: the latest), parsed once.
    pub(crate) async fn round(&self, state: &AppState, network: &str, round: Option<u64>) -> Result<Arc<RoundView>, ApiError> {
        match round {
            None => self.latest(state, network).await,
            Some(n) => {
                let (namespace, store) = self.live(state).await?;
                self.fixed(store.as_ref(), (namespace, network.to_string()), n).await
            }
        }
    }

    /// The live namespace, read again after [`REVALIDATE`].
    async fn live(&self, state: &AppState) -> Result<(Option<String>, Arc<dyn Store>), ApiError> {
        if let Some((_, ns, store)) = self.live.lock().unwrap_or_else(PoisonError::into_inner).as_ref().filter(|(at, ..)| at.elapsed() < REVALIDATE) {
            return Ok((ns.clone(), store.clone()));
        }
        let (ns, store) = state.scoring_namespace().await?;
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), ns.clone(), store.clone()));
        Ok((ns, store))
    }

    fn held(&self, network: &str, fresh: impl Fn(&Held) -> bool) -> Option<Arc<RoundView>> {
        let latest = self.latest.read().unwrap_or_else(PoisonError::into_inner);
        latest.get(network).filter(|h| fresh(h)).map(|h| h.view.clone())
    }

    async fn latest(&self, state: &AppState, network: &str) -> Result<Arc<RoundView>, ApiError> {
        if let Some(view) = self.held(network, |h| h.checked.elapsed() < REVALIDATE) {
            return Ok(view);
        }
        let (namespace, store) = self.live(state).await?;
        let stamp = scoring::scorer::latest_stamp(store.as_ref(), network).await.map_err(internal)?;
        let same = |h: &Held| h.namespace == namespace && h.stamp.is_some() && h.stamp == stamp;
        if self.held(network, same).is_some() {
            let mut latest = self.latest.write().unwrap_or_else(PoisonError::into_inner);
            if let Some(h) = latest.get_mut(network).filter(|h| same(h)) {
                h.checked = Instant::now();
                return Ok(h.view.clone());
            }
        }
        let _one = self.loading.lock().await;
        if let Some(view) = self.held(network, same) {
            return Ok(view);
        }
        let Some(bytes) = scoring::scorer::stamped_round_bytes(store.as_ref(), network, stamp.as_deref()).await.map_err(internal)? else {
            return Err(ApiError::NotFound(format!("no round of {network} has been scored yet")));
        };
        let round: RoundSnapshot = serde_json::from_slice(&bytes).map_err(|e| internal(format!("stored latest round of {network}: {e}")))?;
        // The bytes are those of the round the stamp names, so they are held under it.
        let view = RoundView::new(round, Freshness::Latest);
        let held = Held { namespace, stamp, view: view.clone(), checked: Instant::now() };
        self.latest.write().unwrap_or_else(PoisonError::into_inner).insert(network.to_string(), held);
        Ok(view)
    }

    async fn fixed(&self, store: &dyn Store, key: Key, n: u64) -> Result<Arc<RoundView>, ApiError> {
        let held = || {
            let mut fixed = self.fixed.lock().unwrap_or_else(PoisonError::into_inner);
            let at = fixed.iter().position(|(k, r, _)| *k == key && *r == n)?;
            let entry = fixed.remove(at)?;
            let view = entry.2.clone();
            fixed.push_back(entry);
            Some(view)
        };
        if let Some(view) = held() {
            return Ok(view);
        }
        let _one = self.loading.lock().await;
        if let Some(view) = held() {
            return Ok(view);
        }
        let round = scoring::scorer::stored_round(store, &key.1, n)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::NotFound(format!("no round {n} of {}", key.1)))?;
        let view = RoundView::new(round, Freshness::Fixed);
        let mut fixed = self.fixed.lock().unwrap_or_else(PoisonError::into_inner);
        if fixed.len() >= FIXED_ROUNDS {
            fixed.pop_front();
        }
        fixed.push_back((key, n, view.clone()));
        Ok(view)
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}
