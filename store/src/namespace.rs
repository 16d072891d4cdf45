//! Scoring namespaces: a rebuild writes a second set of tables while the
//! live one serves, then a swap points everything at it. The pointer lives
//! beside the base store: a small file next to the embedded database (whose
//! file a running process holds locked), a row in the base keyspace on ScyllaDB.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::{Store, StoreConfig, StoreError};

/// Consumer name of the pointer row on ScyllaDB.
const CONTROL: &str = "stakeflow-control";
/// Key of the pointer row.
const LIVE_KEY: &str = "scoring.namespace";

/// The base store, and the namespaces opened from it in this process (an
/// embedded database can be opened once per process, so everyone shares).
pub struct Namespaces {
    base_cfg: StoreConfig,
    base: Arc<dyn Store>,
    opened: Mutex<HashMap<String, Arc<dyn Store>>>,
}

impl Namespaces {
    /// Over an opened base store.
    pub fn new(base_cfg: StoreConfig, base: Arc<dyn Store>) -> Self {
        Self { base_cfg, base, opened: Mutex::new(HashMap::new()) }
    }

    /// The base store.
    pub fn base(&self) -> Arc<dyn Store> {
        self.base.clone()
    }

    /// The name of the live namespace (`None`: the base store's own tables).
    pub async fn live_name(&self) -> Result<Option<String>, StoreError> {
        read_pointer(&self.base_cfg, Some(self.base.as_ref())).await
    }

    /// The store holding a namespace (`None`: the base store), opened once.
    pub async fn open(&self, name: Option<&str>) -> Result<Arc<dyn Store>, StoreError> {
        let Some(name) = name else { return Ok(self.base.clone()) };
        if let Some(s) = self.opened.lock().map_err(poisoned)?.get(name) {
            return Ok(s.clone());
        }
        let cfg = self.base_cfg.namespaced(name).map_err(|reason| StoreError::Corrupt { what: "namespace name", reason })?;
        let store = crate::open(&cfg).await?;
        Ok(self.opened.lock().map_err(poisoned)?.entry(name.to_string()).or_insert(store).clone())
    }

    /// The live namespace's name and store.
    pub async fn live(&self) -> Result<(Option<String>, Arc<dyn Store>), StoreError> {
        let name = self.live_name().await?;
        let store = self.open(name.as_deref()).await?;
        Ok((name, store))
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Corrupt { what: "namespace cache", reason: "a thread panicked while holding it".into() }
}

async fn read_pointer(base_cfg: &StoreConfig, base: Option<&dyn Store>) -> Result<Option<String>, StoreError> {
    match base_cfg {
        StoreConfig::Embedded { path } => {
            let file = pointer_file(path);
            match tokio::fs::read_to_string(&file).await {
                Ok(s) if s.trim().is_empty() => Ok(None),
                Ok(s) => Ok(Some(s.trim().to_string())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(StoreError::Corrupt { what: "scoring namespace pointer", reason: format!("{}: {e}", file.display()) }),
            }
        }
        StoreConfig::Scylla { .. } => {
            let opened;
            let base = match base {
                Some(b) => b,
                None => {
                    opened = crate::open(base_cfg).await?;
                    opened.as_ref()
                }
            };
            Ok(base.load_state(CONTROL, LIVE_KEY).await?.and_then(|b| String::from_utf8(b).ok()).filter(|s| !s.is_empty()))
        }
    }
}

/// The live namespace, read without opening an embedded base store (which a
/// running process may hold).
pub async fn live_namespace(base_cfg: &StoreConfig) -> Result<Option<String>, StoreError> {
    read_pointer(base_cfg, None).await
}

fn pointer_file(path: &std::path::Path) -> std::path::PathBuf {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("state");
    path.with_file_name(format!("{stem}.live"))
}

/// Whether a namespace has been written (its file or keyspace holds tables).
pub async fn namespace_exists(base_cfg: &StoreConfig, name: &str) -> Result<bool, StoreError> {
    let cfg = base_cfg.namespaced(name).map_err(|reason| StoreError::Corrupt { what: "namespace name", reason })?;
    match &cfg {
        StoreConfig::Embedded { path } => Ok(path.is_file()),
        StoreConfig::Scylla { .. } => Ok(!crate::open(&cfg).await?.scan_states("stakeflow-scorer", "").await?.is_empty()),
    }
}

/// Make `name` the live namespace (`None`: back to the base tables). Works
/// while another process serves: the pointer is not inside the locked database.
pub async fn set_live(base_cfg: &StoreConfig, name: Option<&str>) -> Result<(), StoreError> {
    if let Some(n) = name {
        base_cfg.namespaced(n).map_err(|reason| StoreError::Corrupt { what: "namespace name", reason })?;
    }
    match base_cfg {
        StoreConfig::Embedded { path } => {
            let file = pointer_file(path);
            let tmp = file.with_extension("live.tmp");
            let write = async {
                tokio::fs::write(&tmp, name.unwrap_or_default()).await?;
                // Rename is atomic: readers see the old or the new name, never half.
                tokio::fs::rename(&tmp, &file).await
            };
            write.await.map_err(|e| StoreError::Corrupt { what: "scoring namespace pointer", reason: format!("{}: {e}", file.display()) })
        }
        StoreConfig::Scylla { .. } => {
            let base = crate::open(base_cfg).await?;
            base.put_state(CONTROL, LIVE_KEY, name.unwrap_or_default().as_bytes()).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckpointDelta, StateWrite};

    #[tokio::test]
    async fn swap_points_readers_at_the_rebuilt_tables() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = StoreConfig::Embedded { path: dir.path().join("state.redb") };
        let base = crate::open(&cfg).await.unwrap();
        let ns = Namespaces::new(cfg.clone(), base);
        assert_eq!(ns.live_name().await.unwrap(), None);
        // A rebuild writes into its namespace while the base serves.
        let rebuilt = ns.open(Some("r2")).await.unwrap();
        let d = CheckpointDelta { topic: "t".into(), partition: 0, from: None, to: 1 };
        rebuilt.commit_states("scorer", &[StateWrite { key: "k".into(), value: b"new".to_vec() }], &[d]).await.unwrap();
        assert_eq!(ns.live().await.unwrap().1.load_state("scorer", "k").await.unwrap(), None);
        set_live(&cfg, Some("r2")).await.unwrap();
        let (name, live) = ns.live().await.unwrap();
        assert_eq!(name.as_deref(), Some("r2"));
        assert_eq!(live.load_state("scorer", "k").await.unwrap().as_deref(), Some(&b"new"[..]));
        set_live(&cfg, None).await.unwrap();
        assert_eq!(ns.live_name().await.unwrap(), None);
        assert!(set_live(&cfg, Some("../evil")).await.is_err());
    }
}
