use std::net::SocketAddr;
use std::time::Duration;

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
    /// `/ready` answers 503 for a chain ingest has not heard from this long
    /// (default 180s: ingest checks a silent chain every `[ingest] stall_after`,
    /// 60s, and records that it is merely quiet).
    #[serde(with = "humantime_serde")]
    pub ready_max_silence: Duration,
    /// `/ready` answers 503 while a folding consumer (uptime, session keys,
    /// validator sets, era points) had more than this many records of its
    /// topic left to apply when it last reported (default 10,000).
    pub ready_max_behind: u64,
    /// A request not answered within this gets 503 `timeout` (default 10 s).
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Largest request body accepted, bytes (default 64 KiB); larger gets 413.
    pub max_body_bytes: usize,
    /// Origins a browser may read the API from (CORS): none by default, `"*"` for any.
    pub cors_origins: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            ready_max_lag: 10,
            ready_max_silence: Duration::from_secs(180),
            ready_max_behind: 10_000,
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 64 * 1024,
            cors_origins: Vec::new(),
        }
    }
}

impl ApiConfig {
    /// Every problem with these settings.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.request_timeout.is_zero() {
            out.push("api.request_timeout must be above zero".into());
        }
        for o in self.cors_origins.iter().filter(|o| *o != "*") {
            if axum::http::HeaderValue::from_str(o).is_err() || !(o.starts_with("http://") || o.starts_with("https://")) {
                out.push(format!("api.cors_origins: {o:?} is not an origin (scheme://host[:port]) or \"*\""));
            }
        }
        out
    }
}
