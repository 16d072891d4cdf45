//! The nominator's read model, for the API and tests: the books of every
//! network and the nomination history, as stored.

use store::{Store, StoreError};

use crate::book::{Book, NominationRecord, history_prefix};
use crate::lease::NOMINATOR;

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt { what: "nominator rows", reason: e.to_string() }
}

/// Every network's book, by network name.
pub async fn books(store: &dyn Store) -> Result<Vec<(String, Book)>, StoreError> {
    store
        .scan_states(NOMINATOR, "book/")
        .await?
        .into_iter()
        .map(|(k, v)| Ok((k.trim_start_matches("book/").to_string(), serde_json::from_slice(&v).map_err(corrupt)?)))
        .collect()
}

/// A network's nominations, oldest era first.
pub async fn history(store: &dyn Store, network: &str) -> Result<Vec<NominationRecord>, StoreError> {
    store.scan_states(NOMINATOR, &history_prefix(network)).await?.into_iter().map(|(_, v)| serde_json::from_slice(&v).map_err(corrupt)).collect()
}
