//! The default store: one redb file. redb is pure Rust (no C build, nothing to
//! link against the broker's SQLite), ACID with serializable write
//! transactions, and crash-safe without a WAL to replay, which is what "state
//! and position in one write" needs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{StateWrite, ChainHead, Checkpoint, CheckpointDelta, ObservedHead, Store, StoreError};

/// redb's page cache. Its default (1 GiB) filled with every round written:
/// `stakeflow-bench year` grew by 4 MB an era, 1.2 GB resident after 270 eras
/// of 1,000 candidates. Reads past it go to the file, which the OS caches
/// outside the process.
const CACHE_BYTES: usize = 64 << 20;

/// (consumer, topic, partition) -> next offset.
const CHECKPOINTS: TableDefinition<(&str, &str, i32), i64> = TableDefinition::new("checkpoints");
/// (consumer, chain) -> ChainHead as JSON.
const HEADS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("chain_heads");
/// chain -> ObservedHead as JSON.
const OBSERVED: TableDefinition<&str, &[u8]> = TableDefinition::new("observed_heads");
/// (consumer, key) -> state bytes.
const STATES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("consumer_states");

/// A redb-backed [`Store`].
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    path: PathBuf,
}

impl EmbeddedStore {
    /// `consumer`'s state rows whose key starts with `prefix`, in key order;
    /// their values only when `values` (redb hands values out lazily).
    async fn scan(&self, consumer: &str, prefix: &str, values: bool) -> Result<Vec<(String, Option<Vec<u8>>)>, StoreError> {
        let (consumer, prefix) = (consumer.to_string(), prefix.to_string());
        self.blocking(move |s| {
            let txn = s.db.begin_read().map_err(|e| s.err("begin read")(e.into()))?;
            let table = txn.open_table(STATES).map_err(|e| s.err("open states")(e.into()))?;
            let mut out = Vec::new();
            let from = (consumer.as_str(), prefix.as_str());
            for row in table.range(from..).map_err(|e| s.err("scan states")(e.into()))? {
                let (k, v) = row.map_err(|e| s.err("scan states")(e.into()))?;
                let (c, key) = k.value();
                if c != consumer || !key.starts_with(prefix.as_str()) {
                    break;
                }
                out.push((key.to_string(), values.then(|| v.value().to_vec())));
            }
            Ok(out)
        })
        .await
    }

    /// Open (or create) the database file and its tables.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(path))
            .await
            .map_err(|e| StoreError::Corrupt { what: "open task", reason: e.to_string() })?
    }

    fn open_blocking(path: PathBuf) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Embedded {
                path: path.display().to_string(),
                op: "create directory",
                source: Box::new(redb::Error::Io(e)),
            })?;
        }
        let err = |op| {
            let path = path.display().to_string();
            move |e: redb::Error| StoreError::Embedded { path, op, source: Box::new(e) }
        };
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| err("open database")(e.into()))?;
        let txn = db.begin_write().map_err(|e| err("begin")(e.into()))?;
        txn.open_table(CHECKPOINTS).map_err(|e| err("create tables")(e.into()))?;
        txn.open_table(HEADS).map_err(|e| err("create tables")(e.into()))?;
        txn.open_table(OBSERVED).map_err(|e| err("create tables")(e.into()))?;
        txn.open_table(STATES).map_err(|e| err("create tables")(e.into()))?;
        txn.commit().map_err(|e| err("commit")(e.into()))?;
        Ok(Self { db: Arc::new(db), path })
    }

    fn err(&self, op: &'static str) -> impl FnOnce(redb::Error) -> StoreError + '_ {
        move |e| StoreError::Embedded { path: self.path.display().to_string(), op, source: Box::new(e) }
    }

    /// Move a consumer's position inside `txn`, refusing a stale `from`
    /// (the caller then drops the transaction, which aborts it).
    fn move_checkpoint(&self, txn: &redb::WriteTransaction, consumer: &str, delta: &CheckpointDelta) -> Result<(), StoreError> {
        let mut cps = txn.open_table(CHECKPOINTS).map_err(|e| self.err("open checkpoints")(e.into()))?;
        let key = (consumer, delta.topic.as_str(), delta.partition);
        let stored = cps.get(key).map_err(|e| self.err("read checkpoint")(e.into()))?.map(|v| v.value());
        if stored != delta.from {
            return Err(StoreError::stale(consumer, delta, stored));
        }
        cps.insert(key, delta.to).map_err(|e| self.err("write checkpoint")(e.into()))?;
        Ok(())
    }

    /// State values and positions in one transaction of `durability`.
    async fn write_states(
        &self,
        consumer: &str,
        writes: Vec<StateWrite>,
        deltas: Vec<CheckpointDelta>,
        durability: redb::Durability,
    ) -> Result<(), StoreError> {
        let consumer = consumer.to_string();
        self.blocking(move |s| {
            let mut txn = s.db.begin_write().map_err(|e| s.err("begin write")(e.into()))?;
            txn.set_durability(durability).map_err(|e| s.err("set durability")(e.into()))?;
            {
                for delta in &deltas {
                    s.move_checkpoint(&txn, &consumer, delta)?;
                }
                let mut table = txn.open_table(STATES).map_err(|e| s.err("open states")(e.into()))?;
                for w in &writes {
                    table
                        .insert((consumer.as_str(), w.key.as_str()), w.value.as_slice())
                        .map_err(|e| s.err("write state")(e.into()))?;
                }
            }
            txn.commit().map_err(|e| s.err("commit")(e.into()))
        })
        .await
    }

    /// Run blocking redb work off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&EmbeddedStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || f(&this))
            .await
            .map_err(|e| StoreError::Corrupt { what: "store task", reason: e.to_string() })?
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    // Serializing our own plain structs to JSON cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}

fn from_json<T: serde::de::DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { what, reason: e.to_string() })
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn positions(&self, consumer: &str, topic: &str) -> Result<Vec<Checkpoint>, StoreError> {
        let (consumer, topic) = (consumer.to_string(), topic.to_string());
        self.blocking(move |s| {
            let txn = s.db.begin_read().map_err(|e| s.err("begin read")(e.into()))?;
            let table = txn.open_table(CHECKPOINTS).map_err(|e| s.err("open checkpoints")(e.into()))?;
            let mut out = Vec::new();
            for row in table.iter().map_err(|e| s.err("scan checkpoints")(e.into()))? {
                let (k, v) = row.map_err(|e| s.err("scan checkpoints")(e.into()))?;
                let (c, t, p) = k.value();
                if c == consumer && t == topic {
                    out.push(Checkpoint { topic: t.to_string(), partition: p, next_offset: v.value() });
                }
            }
            Ok(out)
        })
        .await
    }

    async fn commit_heads(
        &self,
        consumer: &str,
        heads: &[ChainHead],
        delta: &CheckpointDelta,
    ) -> Result<(), StoreError> {
        let (consumer, heads, delta) = (consumer.to_string(), heads.to_vec(), delta.clone());
        self.blocking(move |s| {
            let txn = s.db.begin_write().map_err(|e| s.err("begin write")(e.into()))?;
            {
                s.move_checkpoint(&txn, &consumer, &delta)?;
                let mut table = txn.open_table(HEADS).map_err(|e| s.err("open chain heads")(e.into()))?;
                for head in &heads {
                    table
                        .insert((consumer.as_str(), head.chain.as_str()), to_json(head).as_slice())
                        .map_err(|e| s.err("write chain head")(e.into()))?;
                }
            }
            txn.commit().map_err(|e| s.err("commit")(e.into()))
        })
        .await
    }

    async fn load_state(&self, consumer: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (consumer, key) = (consumer.to_string(), key.to_string());
        self.blocking(move |s| {
            let txn = s.db.begin_read().map_err(|e| s.err("begin read")(e.into()))?;
            let table = txn.open_table(STATES).map_err(|e| s.err("open states")(e.into()))?;
            let v = table.get((consumer.as_str(), key.as_str())).map_err(|e| s.err("read state")(e.into()))?;
            Ok(v.map(|v| v.value().to_vec()))
        })
        .await
    }

    async fn commit_states(&self, consumer: &str, writes: &[StateWrite], deltas: &[CheckpointDelta]) -> Result<(), StoreError> {
        self.write_states(consumer, writes.to_vec(), deltas.to_vec(), redb::Durability::Immediate).await
    }

    async fn scan_states(&self, consumer: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let rows = self.scan(consumer, prefix, true).await?;
        Ok(rows.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
    }

    async fn scan_keys(&self, consumer: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.scan(consumer, prefix, false).await?.into_iter().map(|(k, _)| k).collect())
    }

    fn single_process(&self) -> bool {
        // redb locks the file: no other process has it open.
        true
    }

    async fn put_state(&self, consumer: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let (consumer, key, value) = (consumer.to_string(), key.to_string(), value.to_vec());
        self.blocking(move |s| {
            let txn = s.db.begin_write().map_err(|e| s.err("begin write")(e.into()))?;
            {
                let mut table = txn.open_table(STATES).map_err(|e| s.err("open states")(e.into()))?;
                table.insert((consumer.as_str(), key.as_str()), value.as_slice()).map_err(|e| s.err("write state")(e.into()))?;
            }
            txn.commit().map_err(|e| s.err("commit")(e.into()))
        })
        .await
    }

    async fn commit_redoable(&self, consumer: &str, writes: Vec<StateWrite>) -> Result<(), StoreError> {
        // No fsync: a crash before the next durable commit loses these
        // writes whole, which their writer redoes.
        self.write_states(consumer, writes, Vec::new(), redb::Durability::None).await
    }

    async fn chain_heads(&self, consumer: &str) -> Result<Vec<ChainHead>, StoreError> {
        let consumer = consumer.to_string();
        self.blocking(move |s| {
            let txn = s.db.begin_read().map_err(|e| s.err("begin read")(e.into()))?;
            let table = txn.open_table(HEADS).map_err(|e| s.err("open chain heads")(e.into()))?;
            let mut out = Vec::new();
            for row in table.iter().map_err(|e| s.err("scan chain heads")(e.into()))? {
                let (k, v) = row.map_err(|e| s.err("scan chain heads")(e.into()))?;
                if k.value().0 == consumer {
                    out.push(from_json("chain head", v.value())?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn record_observed(&self, head: &ObservedHead) -> Result<(), StoreError> {
        let head = head.clone();
        self.blocking(move |s| {
            let txn = s.db.begin_write().map_err(|e| s.err("begin write")(e.into()))?;
            {
                let mut table = txn.open_table(OBSERVED).map_err(|e| s.err("open observed heads")(e.into()))?;
                let current: Option<ObservedHead> = match table
                    .get(head.chain.as_str())
                    .map_err(|e| s.err("read observed head")(e.into()))?
                {
                    Some(v) => Some(from_json("observed head", v.value())?),
                    None => None,
                };
                if current.is_none_or(|c| c.number <= head.number) {
                    table
                        .insert(head.chain.as_str(), to_json(&head).as_slice())
                        .map_err(|e| s.err("write observed head")(e.into()))?;
                }
            }
            txn.commit().map_err(|e| s.err("commit")(e.into()))
        })
        .await
    }

    async fn observed_heads(&self) -> Result<Vec<ObservedHead>, StoreError> {
        self.blocking(move |s| {
            let txn = s.db.begin_read().map_err(|e| s.err("begin read")(e.into()))?;
            let table = txn.open_table(OBSERVED).map_err(|e| s.err("open observed heads")(e.into()))?;
            let mut out = Vec::new();
            for row in table.iter().map_err(|e| s.err("scan observed heads")(e.into()))? {
                let (_, v) = row.map_err(|e| s.err("scan observed heads")(e.into()))?;
                out.push(from_json("observed head", v.value())?);
            }
            Ok(out)
        })
        .await
    }
}
