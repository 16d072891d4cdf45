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
        // The registry URL may carry credentials: shown redacted, and scrubbed from reasons.
        let fail = |reason: String| BusError::SchemaRegistry {
            url: redact::redact(url),
            subject: entry.subject.to_string(),
            reason: redact::scrub(&reason, url),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn credentials_in_the_registry_url_are_never_shown() {
        let url: Url = "http://registry-user:pa55word-x@127.0.0.1:9/ctx/apikey-12345/".parse().unwrap();
        let err = register_schemas(&url).await.expect_err("nothing listens on port 9").to_string();
        for secret in ["pa55word-x", "registry-user", "apikey-12345"] {
            assert!(!err.contains(secret), "{secret} in {err}");
        }
        assert!(err.contains("127.0.0.1:9"), "{err}");
    }
}
