/// A failure talking to a chain. None of these says anything about a
/// validator: callers turn them into "unknown", never "invalid".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// No configured endpoint answered.
    #[error("network {network}: no endpoint reachable ({tried}); check `endpoints` in its TOML and that the node is up")]
    Unreachable {
        /// Network name.
        network: String,
        /// Each endpoint with its error.
        tried: String,
    },
    /// The endpoint serves another chain than configured.
    #[error("network {network}: endpoint {endpoint} has genesis {found}, the config says {expected}; refusing to ingest another chain")]
    WrongGenesis {
        /// Network name.
        network: String,
        /// Endpoint URL.
        endpoint: String,
        /// Genesis hash served.
        found: String,
        /// Genesis hash configured.
        expected: String,
    },
    /// An RPC call failed or returned something unusable.
    #[error("network {network}: {op} failed at {endpoint}: {reason}")]
    Rpc {
        /// Network name.
        network: String,
        /// Endpoint URL.
        endpoint: String,
        /// What we asked.
        op: String,
        /// What went wrong.
        reason: String,
    },
}

impl ChainError {
    /// True when reconnecting or retrying may succeed.
    pub fn is_transient(&self) -> bool {
        !matches!(self, ChainError::WrongGenesis { .. })
    }
}
