//! The read side of the Confluent schema-registry API, for our own schemas,
//! so stock Avro deserializers work against the single-machine mode
//! (`schema.registry.url=http://<api>`). Writes are not accepted: our schemas
//! change by release, not at run time.

use axum::Json;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemas::registry::{self, COMPATIBILITY, SchemaEntry};
use serde_json::{Value, json};

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

fn reply(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], Json(body)).into_response()
}

/// Confluent's error shape and codes.
fn not_found(code: u32, message: &str) -> Response {
    reply(StatusCode::NOT_FOUND, json!({"error_code": code, "message": message}))
}

fn version_body(e: &SchemaEntry) -> Value {
    json!({"subject": e.subject, "version": e.version, "id": e.id, "schemaType": "AVRO", "schema": e.text})
}

/// `GET /subjects`
pub(crate) async fn subjects() -> Response {
    reply(StatusCode::OK, json!(registry::subjects()))
}

/// `GET /subjects/{subject}/versions`
pub(crate) async fn versions(Path(subject): Path<String>) -> Response {
    let v: Vec<u32> = registry::versions(&subject).iter().map(|e| e.version).collect();
    if v.is_empty() {
        return not_found(40401, "Subject not found.");
    }
    reply(StatusCode::OK, json!(v))
}

/// The entry a `{subject}/versions/{version}` path names, or the error reply.
fn find_version(subject: &str, version: &str) -> Result<&'static SchemaEntry, Response> {
    let all = registry::versions(subject);
    if all.is_empty() {
        return Err(not_found(40401, "Subject not found."));
    }
    let wanted = if version == "latest" || version == "-1" {
        all.last().copied()
    } else {
        match version.parse::<u32>() {
            Ok(n) => all.iter().find(|e| e.version == n).copied(),
            Err(_) => {
                return Err(reply(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"error_code": 42202, "message": "The specified version is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""}),
                ));
            }
        }
    };
    wanted.ok_or_else(|| not_found(40402, "Version not found."))
}

/// `GET /subjects/{subject}/versions/{version}` (a number or `latest`)
pub(crate) async fn version(Path((subject, version)): Path<(String, String)>) -> Response {
    match find_version(&subject, &version) {
        Ok(e) => reply(StatusCode::OK, version_body(e)),
        Err(r) => r,
    }
}

/// `GET /subjects/{subject}/versions/{version}/schema`: the schema text alone.
pub(crate) async fn version_schema(Path((subject, version)): Path<(String, String)>) -> Response {
    match find_version(&subject, &version) {
        Ok(e) => (StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], e.text).into_response(),
        Err(r) => r,
    }
}

/// `GET /schemas/ids/{id}`
pub(crate) async fn by_id(Path(id): Path<String>) -> Response {
    match id.parse::<u32>().ok().and_then(registry::by_id) {
        Some(e) => reply(StatusCode::OK, json!({"schemaType": "AVRO", "schema": e.text})),
        None => not_found(40403, "Schema not found"),
    }
}

/// `GET /schemas/ids/{id}/versions`
pub(crate) async fn id_versions(Path(id): Path<String>) -> Response {
    match id.parse::<u32>().ok().and_then(registry::by_id) {
        Some(e) => reply(StatusCode::OK, json!([{"subject": e.subject, "version": e.version}])),
        None => not_found(40403, "Schema not found"),
    }
}

/// `GET /config`: the global compatibility level.
pub(crate) async fn config() -> Response {
    reply(StatusCode::OK, json!({"compatibilityLevel": COMPATIBILITY}))
}

/// `POST /subjects/{subject}/versions`: this registry holds stakeflow's own
/// schemas only, so registering answers the id of a schema it already holds
/// under that subject (as a Confluent registry does for a known schema) and
/// refuses anything else with 409.
pub(crate) async fn register(Path(subject): Path<String>, body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return reply(StatusCode::PAYLOAD_TOO_LARGE, json!({"error_code": 413, "message": "the request body is too large"}));
        }
        Err(e) => return reply(StatusCode::BAD_REQUEST, json!({"error_code": 400, "message": e.body_text()})),
    };
    let posted = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("schema").and_then(Value::as_str).and_then(registry::canonical));
    let Some(posted) = posted else {
        return reply(StatusCode::UNPROCESSABLE_ENTITY, json!({"error_code": 42201, "message": "Invalid schema"}));
    };
    let known = registry::versions(&subject).into_iter().find(|e| registry::canonical(e.text).as_deref() == Some(posted.as_str()));
    match known {
        Some(e) => reply(StatusCode::OK, json!({"id": e.id})),
        None => reply(
            StatusCode::CONFLICT,
            json!({"error_code": 409, "message": "Schema being registered is incompatible with an earlier schema: this registry serves stakeflow's own schemas only"}),
        ),
    }
}
