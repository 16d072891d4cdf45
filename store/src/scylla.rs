//! The production store on ScyllaDB.
//!
//! A consumer's checkpoint rows and the state rows it derives share one
//! partition (`consumer`) of one table, so a conditional batch (`IF
//! next_offset = ?`, an LWT) applies the state and the new position together
//! or not at all: CQL only allows a conditional batch within one partition of
//! one table.

mod rows;
mod schema;

use async_trait::async_trait;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::CqlValue;

use crate::{StateWrite, ChainHead, Checkpoint, CheckpointDelta, ObservedHead, Store, StoreError};
use rows::{checkpoint_key, parse_checkpoint_key};

/// A ScyllaDB-backed [`Store`].
pub struct ScyllaStore {
    session: Session,
    st: Statements,
}

/// Every statement, prepared once at connect.
struct Statements {
    positions: PreparedStatement,
    checkpoint_insert: PreparedStatement,
    checkpoint_update: PreparedStatement,
    head_upsert: PreparedStatement,
    heads: PreparedStatement,
    observed_upsert: PreparedStatement,
    observed_insert: PreparedStatement,
    observed_all: PreparedStatement,
    state_upsert: PreparedStatement,
    state_get: PreparedStatement,
    state_scan: PreparedStatement,
    state_keys: PreparedStatement,
}

fn driver(op: &'static str) -> impl FnOnce(String) -> StoreError {
    move |reason| StoreError::Scylla { op, reason }
}

impl ScyllaStore {
    /// Connect, create the keyspace and tables if missing, prepare statements.
    pub async fn connect(uri: &str, keyspace: &str, replication_factor: u32) -> Result<Self, StoreError> {
        let session = SessionBuilder::new()
            .known_node(uri)
            .build()
            .await
            .map_err(|e| driver("connect")(format!("{uri}: {e}")))?;
        schema::migrate(&session, keyspace, replication_factor).await?;
        let ks = keyspace;
        let prepare = |cql: String| {
            let session = &session;
            async move { session.prepare(cql).await.map_err(|e| driver("prepare")(e.to_string())) }
        };
        let st = Statements {
            positions: prepare(format!(
                "SELECT key, next_offset FROM {ks}.consumer_state WHERE consumer = ? AND kind = 'checkpoint'"
            ))
            .await?,
            checkpoint_insert: prepare(format!(
                "INSERT INTO {ks}.consumer_state (consumer, kind, key, next_offset) VALUES (?, 'checkpoint', ?, ?) IF NOT EXISTS"
            ))
            .await?,
            checkpoint_update: prepare(format!(
                "UPDATE {ks}.consumer_state SET next_offset = ? WHERE consumer = ? AND kind = 'checkpoint' AND key = ? IF next_offset = ?"
            ))
            .await?,
            head_upsert: prepare(format!(
                "UPDATE {ks}.consumer_state SET number = ?, hash = ?, parent_hash = ?, timestamp_ms = ?, spec_version = ?, applied_blocks = ? \
                 WHERE consumer = ? AND kind = 'head' AND key = ?"
            ))
            .await?,
            heads: prepare(format!(
                "SELECT key, number, hash, parent_hash, timestamp_ms, spec_version, applied_blocks \
                 FROM {ks}.consumer_state WHERE consumer = ? AND kind = 'head'"
            ))
            .await?,
            observed_upsert: prepare(format!(
                "UPDATE {ks}.observed_heads SET number = ?, observed_at_ms = ? WHERE chain = ? IF number < ?"
            ))
            .await?,
            observed_insert: prepare(format!(
                "INSERT INTO {ks}.observed_heads (chain, number, observed_at_ms) VALUES (?, ?, ?) IF NOT EXISTS"
            ))
            .await?,
            observed_all: prepare(format!("SELECT chain, number, observed_at_ms FROM {ks}.observed_heads")).await?,
            state_upsert: prepare(format!(
                "UPDATE {ks}.consumer_state SET payload = ? WHERE consumer = ? AND kind = 'state' AND key = ?"
            ))
            .await?,
            state_get: prepare(format!(
                "SELECT payload FROM {ks}.consumer_state WHERE consumer = ? AND kind = 'state' AND key = ?"
            ))
            .await?,
            state_scan: prepare(format!(
                "SELECT key, payload FROM {ks}.consumer_state WHERE consumer = ? AND kind = 'state' AND key >= ? AND key < ?"
            ))
            .await?,
            // writetime() is null where the payload is: the same rows as state_scan, without their payloads.
            state_keys: prepare(format!(
                "SELECT key, writetime(payload) FROM {ks}.consumer_state WHERE consumer = ? AND kind = 'state' AND key >= ? AND key < ?"
            ))
            .await?,
        };
        Ok(Self { session, st })
    }
}

impl ScyllaStore {
    /// One conditional batch: the position moves from `delta.from` to
    /// `delta.to` and `writes` apply, or nothing does.
    async fn commit_with_checkpoint(
        &self,
        consumer: &str,
        delta: &CheckpointDelta,
        writes: Vec<(PreparedStatement, Vec<Option<CqlValue>>)>,
    ) -> Result<(), StoreError> {
        self.commit_with_checkpoints(consumer, std::slice::from_ref(delta), writes).await
    }

    /// One conditional batch over one partition: every position moves from
    /// its `from` to its `to` and `writes` apply, or nothing does.
    async fn commit_with_checkpoints(
        &self,
        consumer: &str,
        deltas: &[CheckpointDelta],
        writes: Vec<(PreparedStatement, Vec<Option<CqlValue>>)>,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::new(BatchType::Logged);
        let mut values: Vec<Vec<Option<CqlValue>>> = Vec::with_capacity(writes.len() + deltas.len());
        for delta in deltas {
            let key = checkpoint_key(&delta.topic, delta.partition);
            match delta.from {
                None => {
                    batch.append_statement(self.st.checkpoint_insert.clone());
                    values.push(vec![
                        Some(CqlValue::Text(consumer.to_string())),
                        Some(CqlValue::Text(key)),
                        Some(CqlValue::BigInt(delta.to)),
                    ]);
                }
                Some(from) => {
                    batch.append_statement(self.st.checkpoint_update.clone());
                    values.push(vec![
                        Some(CqlValue::BigInt(delta.to)),
                        Some(CqlValue::Text(consumer.to_string())),
                        Some(CqlValue::Text(key)),
                        Some(CqlValue::BigInt(from)),
                    ]);
                }
            }
        }
        for (statement, v) in writes {
            batch.append_statement(statement);
            values.push(v);
        }
        let result = self
            .session
            .batch(&batch, values)
            .await
            .map_err(|e| driver("commit with checkpoint")(e.to_string()))?;
        if applied(result)? {
            return Ok(());
        }
        // Name the first position that was not what the writer expected.
        for delta in deltas {
            let stored = self
                .positions(consumer, &delta.topic)
                .await?
                .into_iter()
                .find(|c| c.partition == delta.partition)
                .map(|c| c.next_offset);
            if stored != delta.from || deltas.len() == 1 {
                return Err(StoreError::stale(consumer, delta, stored));
            }
        }
        Err(StoreError::Scylla { op: "commit with checkpoint", reason: "conditional batch not applied".into() })
    }
}

/// The `[applied]` column of an LWT result.
fn applied(result: scylla::response::query_result::QueryResult) -> Result<bool, StoreError> {
    let rows = result.into_rows_result().map_err(|e| driver("read lwt result")(e.to_string()))?;
    let row = rows
        .maybe_first_row::<scylla::value::Row>()
        .map_err(|e| driver("read lwt result")(e.to_string()))?;
    Ok(row
        .and_then(|r| r.columns.into_iter().next().flatten())
        .and_then(|v| v.as_boolean())
        .unwrap_or(false))
}

#[async_trait]
impl Store for ScyllaStore {
    async fn positions(&self, consumer: &str, topic: &str) -> Result<Vec<Checkpoint>, StoreError> {
        let result = self
            .session
            .execute_unpaged(&self.st.positions, (consumer,))
            .await
            .map_err(|e| driver("read positions")(e.to_string()))?;
        let rows = result.into_rows_result().map_err(|e| driver("read positions")(e.to_string()))?;
        let mut out = Vec::new();
        for row in rows.rows::<(String, Option<i64>)>().map_err(|e| driver("read positions")(e.to_string()))? {
            let (key, next_offset) = row.map_err(|e| driver("read positions")(e.to_string()))?;
            if let (Some((t, partition)), Some(next_offset)) = (parse_checkpoint_key(&key), next_offset)
                && t == topic
            {
                out.push(Checkpoint { topic: t.to_string(), partition, next_offset });
            }
        }
        Ok(out)
    }

    async fn commit_heads(
        &self,
        consumer: &str,
        heads: &[ChainHead],
        delta: &CheckpointDelta,
    ) -> Result<(), StoreError> {
        let writes = heads.iter().map(|h| (self.st.head_upsert.clone(), rows::head_values(consumer, h))).collect();
        self.commit_with_checkpoint(consumer, delta, writes).await
    }

    async fn load_state(&self, consumer: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let result = self
            .session
            .execute_unpaged(&self.st.state_get, (consumer, key))
            .await
            .map_err(|e| driver("read state")(e.to_string()))?;
        let rows = result.into_rows_result().map_err(|e| driver("read state")(e.to_string()))?;
        let row = rows.maybe_first_row::<(Option<Vec<u8>>,)>().map_err(|e| driver("read state")(e.to_string()))?;
        Ok(row.and_then(|(p,)| p))
    }

    async fn commit_states(&self, consumer: &str, writes: &[StateWrite], deltas: &[CheckpointDelta]) -> Result<(), StoreError> {
        let writes = writes
            .iter()
            .map(|w| {
                let values = vec![
                    Some(CqlValue::Blob(w.value.clone())),
                    Some(CqlValue::Text(consumer.to_string())),
                    Some(CqlValue::Text(w.key.clone())),
                ];
                (self.st.state_upsert.clone(), values)
            })
            .collect();
        if deltas.is_empty() {
            return Err(StoreError::Scylla { op: "commit states", reason: "no position to guard the write".into() });
        }
        self.commit_with_checkpoints(consumer, deltas, writes).await
    }

    async fn scan_states(&self, consumer: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // Keys are ASCII, so every key with the prefix sorts below prefix + DEL.
        let upper = format!("{prefix}\u{7f}");
        let mut out = Vec::new();
        let mut paging = scylla::response::PagingState::start();
        loop {
            let (result, next) = self
                .session
                .execute_single_page(&self.st.state_scan, (consumer, prefix, upper.as_str()), paging)
                .await
                .map_err(|e| driver("scan states")(e.to_string()))?;
            let rows = result.into_rows_result().map_err(|e| driver("scan states")(e.to_string()))?;
            for row in rows.rows::<(String, Option<Vec<u8>>)>().map_err(|e| driver("scan states")(e.to_string()))? {
                let (key, payload) = row.map_err(|e| driver("scan states")(e.to_string()))?;
                if let Some(payload) = payload {
                    out.push((key, payload));
                }
            }
            match next.into_paging_control_flow() {
                std::ops::ControlFlow::Break(()) => break,
                std::ops::ControlFlow::Continue(p) => paging = p,
            }
        }
        Ok(out)
    }

    async fn scan_keys(&self, consumer: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let upper = format!("{prefix}\u{7f}");
        let mut out = Vec::new();
        let mut paging = scylla::response::PagingState::start();
        loop {
            let (result, next) = self
                .session
                .execute_single_page(&self.st.state_keys, (consumer, prefix, upper.as_str()), paging)
                .await
                .map_err(|e| driver("scan keys")(e.to_string()))?;
            let rows = result.into_rows_result().map_err(|e| driver("scan keys")(e.to_string()))?;
            for row in rows.rows::<(String, Option<i64>)>().map_err(|e| driver("scan keys")(e.to_string()))? {
                let (key, written) = row.map_err(|e| driver("scan keys")(e.to_string()))?;
                if written.is_some() {
                    out.push(key);
                }
            }
            match next.into_paging_control_flow() {
                std::ops::ControlFlow::Break(()) => break,
                std::ops::ControlFlow::Continue(p) => paging = p,
            }
        }
        Ok(out)
    }

    async fn put_state(&self, consumer: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.session
            .execute_unpaged(&self.st.state_upsert, (value, consumer, key))
            .await
            .map_err(|e| driver("put state")(e.to_string()))?;
        Ok(())
    }

    async fn chain_heads(&self, consumer: &str) -> Result<Vec<ChainHead>, StoreError> {
        let result = self
            .session
            .execute_unpaged(&self.st.heads, (consumer,))
            .await
            .map_err(|e| driver("read chain heads")(e.to_string()))?;
        let rows = result.into_rows_result().map_err(|e| driver("read chain heads")(e.to_string()))?;
        let mut out = Vec::new();
        for row in rows.rows::<rows::HeadRow>().map_err(|e| driver("read chain heads")(e.to_string()))? {
            let row = row.map_err(|e| driver("read chain heads")(e.to_string()))?;
            out.push(row.into_head()?);
        }
        Ok(out)
    }

    async fn record_observed(&self, head: &ObservedHead) -> Result<(), StoreError> {
        let number = i64::try_from(head.number).map_err(|e| driver("record observed head")(e.to_string()))?;
        // `IF number < ?` is false on a missing row, so try an insert first.
        let result = self
            .session
            .execute_unpaged(&self.st.observed_upsert, (number, head.observed_at_ms, head.chain.as_str(), number))
            .await
            .map_err(|e| driver("record observed head")(e.to_string()))?;
        if applied(result)? {
            return Ok(());
        }
        let existing = self.observed_heads().await?.into_iter().find(|h| h.chain == head.chain);
        if existing.is_none() {
            self.session
                .execute_unpaged(&self.st.observed_insert, (head.chain.as_str(), number, head.observed_at_ms))
                .await
                .map_err(|e| driver("record observed head")(e.to_string()))?;
        }
        Ok(())
    }

    async fn observed_heads(&self) -> Result<Vec<ObservedHead>, StoreError> {
        let result = self
            .session
            .execute_unpaged(&self.st.observed_all, ())
            .await
            .map_err(|e| driver("read observed heads")(e.to_string()))?;
        let rows = result.into_rows_result().map_err(|e| driver("read observed heads")(e.to_string()))?;
        let mut out = Vec::new();
        for row in rows.rows::<(String, i64, i64)>().map_err(|e| driver("read observed heads")(e.to_string()))? {
            let (chain, number, observed_at_ms) = row.map_err(|e| driver("read observed heads")(e.to_string()))?;
            out.push(ObservedHead { chain, number: number.max(0) as u64, observed_at_ms });
        }
        Ok(out)
    }
}
