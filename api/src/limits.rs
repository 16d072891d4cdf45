//! What every request is held to: a deadline, a body size, and the origins
//! a browser may read from. Each refusal is the API's JSON error, never a
//! framework's plain-text rejection.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{ApiConfig, ApiError};

async fn deadline(timeout: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Timeout(timeout).into_response(),
    }
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new().allow_origin(allow).allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
}

/// `router` held to `cfg`'s limits.
pub fn apply(router: Router, cfg: &ApiConfig) -> Router {
    let timeout = cfg.request_timeout;
    let router = router
        .layer(middleware::from_fn(move |req: Request, next: Next| deadline(timeout, req, next)))
        .layer(DefaultBodyLimit::max(cfg.max_body_bytes));
    if cfg.cors_origins.is_empty() { router } else { router.layer(cors(&cfg.cors_origins)) }
}
