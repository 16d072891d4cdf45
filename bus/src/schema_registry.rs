//! Registering our schemas with a Confluent-compatible schema registry
//! (distributed mode), so records carry the registry's ids and stock
//! deserializers resolve them there.

use std::collections::BTreeMap;

use url::Url;

use crate::BusError;

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// Register every schema of the catalog under its subject; returns catalog id
/// -> registry id. Registering a schema the registry already holds returns
/// its existing id, so every service of a deployment gets the same answer.
pub async fn register_schemas(url: &Url) -> Result<BTreeMap<u32, u32>, BusError> {
    let http = reqwest::Client::new();
    let mut ids = BTreeMap::new();
    for entry in schemas::registry::catalog() {
        let fail = |reason: String| BusError::SchemaRegistry {
            url: url.to_string(),
            subject: entry.subject.to_string(),
            reason,
        };
        let endpoint = url
            .join(&format!("subjects/{}/versions", entry.subject))
            .map_err(|e| fail(format!("bad registry url: {e}")))?;
        let resp = http
            .post(endpoint)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .json(&serde_json::json!({ "schemaType": "AVRO", "schema": entry.text }))
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.map_err(|e| fail(format!("{status}: unreadable reply: {e}")))?;
        if !status.is_success() {
            return Err(fail(format!("{status}: {body}")));
        }
        let id = body["id"].as_u64().ok_or_else(|| fail(format!("reply has no id: {body}")))? as u32;
        if let Some(previous) = ids.insert(entry.id, id)
            && previous != id
        {
            return Err(fail(format!("the same schema got ids {previous} and {id}")));
        }
        tracing::info!(subject = entry.subject, version = entry.version, id, "schema registered");
    }
    Ok(ids)
}
