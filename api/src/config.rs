use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// The `[api]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Address to listen on (default 127.0.0.1:8080).
    pub listen: SocketAddr,
    /// `/ready` answers 503 while any chain's applied block is more than this
    /// many blocks behind the finalized head seen on chain (default 10).
    pub ready_max_lag: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 8080)), ready_max_lag: 10 }
    }
}
