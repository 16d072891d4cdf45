//! Conditional requests for every read endpoint: an answer that did not tag
//! itself (the kept round answers do) is tagged by its bytes here, and a
//! client that already holds it gets 304 without the body. Answers that say
//! nothing about caching must be revalidated (`no-cache`): most change with
//! every block.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::read_model::{etag_of, not_modified};

/// Largest body tagged; larger ones (none today) pass untagged rather than be held in memory twice.
const MAX_TAGGED: usize = 16 << 20;

pub(crate) async fn tag(req: Request, next: Next) -> Response {
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    let asked = req.headers().get(header::IF_NONE_MATCH).cloned();
    let mut resp = next.run(req).await;
    if !reads || resp.status() != StatusCode::OK {
        return resp;
    }
    resp.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-cache"));
    let streams = resp.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if streams || resp.headers().contains_key(header::ETAG) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_TAGGED).await {
        Ok(b) => b,
        // Too large to tag, or the body failed while being built: answer as an error, not half a body.
        Err(e) => return crate::ApiError::Internal(format!("answer body: {e}")).into_response(),
    };
    let etag = etag_of(&bytes);
    if not_modified(asked.as_ref(), &etag) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(header::ETAG, etag);
        if let Some(cc) = parts.headers.get(header::CACHE_CONTROL) {
            r.headers_mut().insert(header::CACHE_CONTROL, cc.clone());
        }
        return r;
    }
    parts.headers.insert(header::ETAG, etag);
    Response::from_parts(parts, Body::from(bytes))
}
