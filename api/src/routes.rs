//! Route table: one module per resource.

mod health;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/health", get(health::health)).route("/ready", get(health::ready))
}
