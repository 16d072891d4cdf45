//! CQL schema, applied with `IF NOT EXISTS` at every connect.

use scylla::client::session::Session;

use crate::StoreError;

/// Create the keyspace and tables if they are missing.
pub(super) async fn migrate(session: &Session, keyspace: &str, replication_factor: u32) -> Result<(), StoreError> {
    if !keyspace.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || keyspace.is_empty() {
        return Err(StoreError::Scylla {
            op: "migrate",
            reason: format!("keyspace name {keyspace:?} must be letters, digits and underscores"),
        });
    }
    // Tablets (the default for new keyspaces since ScyllaDB 6) do not serve
    // the lightweight transactions our checkpoints rely on everywhere yet, so
    // ask for vnodes; servers that do not know the option get the plain form.
    let keyspace_ddl = format!(
        "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = \
         {{'class': 'NetworkTopologyStrategy', 'replication_factor': {replication_factor}}}"
    );
    let with_vnodes = format!("{keyspace_ddl} AND tablets = {{'enabled': false}}");
    if let Err(first) = session.query_unpaged(with_vnodes.as_str(), ()).await {
        tracing::debug!(error = %first, "keyspace with tablets disabled refused; creating it plainly");
        session
            .query_unpaged(keyspace_ddl.as_str(), ())
            .await
            .map_err(|e| StoreError::Scylla { op: "migrate", reason: format!("{e} (statement: {keyspace_ddl})") })?;
    }
    let ddl = [
        // Checkpoints and the state derived with them share the `consumer`
        // partition so one conditional batch covers both.
        format!(
            "CREATE TABLE IF NOT EXISTS {keyspace}.consumer_state (\
               consumer text, kind text, key text, \
               next_offset bigint, \
               number bigint, hash text, parent_hash text, timestamp_ms bigint, spec_version int, applied_blocks bigint, \
               payload blob, \
               PRIMARY KEY ((consumer), kind, key))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {keyspace}.observed_heads (\
               chain text PRIMARY KEY, number bigint, observed_at_ms bigint)"
        ),
    ];
    for stmt in ddl {
        session
            .query_unpaged(stmt.as_str(), ())
            .await
            .map_err(|e| StoreError::Scylla { op: "migrate", reason: format!("{e} (statement: {stmt})") })?;
    }
    session
        .await_schema_agreement()
        .await
        .map_err(|e| StoreError::Scylla { op: "schema agreement", reason: e.to_string() })?;
    Ok(())
}
