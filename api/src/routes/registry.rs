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
use utoipa::ToSchema;

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

// The registry's answers, as documented (Confluent's shapes and field names).

/// Confluent's error shape.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct RegistryError {
    /// 40401 subject, 40402 version, 40403 schema not found; 42201 invalid schema; 42202 invalid version; 409 incompatible.
    error_code: u32,
    message: String,
}

/// A subject's version.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub(crate) struct SchemaVersion {
    subject: String,
    version: u32,
    id: u32,
    #[schema(example = "AVRO")]
    schemaType: String,
    /// The Avro schema, as JSON text.
    schema: String,
}

/// A schema by id.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub(crate) struct SchemaById {
    #[schema(example = "AVRO")]
    schemaType: String,
    schema: String,
}

/// Where a schema id is used.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct SubjectVersion {
    subject: String,
    version: u32,
}

/// The global compatibility level.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub(crate) struct Compatibility {
    #[schema(example = "BACKWARD_TRANSITIVE")]
    compatibilityLevel: String,
}

/// A registered schema's id.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Registered {
    id: u32,
}

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

/// Every subject (`<topic>-value`).
#[utoipa::path(get, path = "/subjects", tag = "schema registry", responses((status = 200, description = "Subjects", body = Vec<String>, content_type = "application/vnd.schemaregistry.v1+json")))]
pub(crate) async fn subjects() -> Response {
    reply(StatusCode::OK, json!(registry::subjects()))
}

/// A subject's versions.
#[utoipa::path(get, path = "/subjects/{subject}/versions", tag = "schema registry", params(("subject" = String, Path)), responses(
    (status = 200, description = "Version numbers", body = Vec<u32>, content_type = "application/vnd.schemaregistry.v1+json"),
    (status = 404, description = "No such subject", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
))]
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

/// One version of a subject (a number or `latest`).
#[utoipa::path(get, path = "/subjects/{subject}/versions/{version}", tag = "schema registry", params(("subject" = String, Path), ("version" = String, Path, description = "A number, or `latest`")), responses(
    (status = 200, description = "The version", body = SchemaVersion, content_type = "application/vnd.schemaregistry.v1+json"),
    (status = 404, description = "No such subject or version", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
    (status = 422, description = "Not a version", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
))]
pub(crate) async fn version(Path((subject, version)): Path<(String, String)>) -> Response {
    match find_version(&subject, &version) {
        Ok(e) => reply(StatusCode::OK, version_body(e)),
        Err(r) => r,
    }
}

/// The schema text alone.
#[utoipa::path(get, path = "/subjects/{subject}/versions/{version}/schema", tag = "schema registry", params(("subject" = String, Path), ("version" = String, Path, description = "A number, or `latest`")), responses(
    (status = 200, description = "The Avro schema", body = Object, content_type = "application/vnd.schemaregistry.v1+json"),
    (status = 404, description = "No such subject or version", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
    (status = 422, description = "Not a version", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
))]
pub(crate) async fn version_schema(Path((subject, version)): Path<(String, String)>) -> Response {
    match find_version(&subject, &version) {
        Ok(e) => (StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], e.text).into_response(),
        Err(r) => r,
    }
}

/// A schema by its id.
#[utoipa::path(get, path = "/schemas/ids/{id}", tag = "schema registry", params(("id" = String, Path)), responses(
    (status = 200, description = "The schema", body = SchemaById, content_type = "application/vnd.schemaregistry.v1+json"),
    (status = 404, description = "No such schema", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
))]
pub(crate) async fn by_id(Path(id): Path<String>) -> Response {
    match id.parse::<u32>().ok().and_then(registry::by_id) {
        Some(e) => reply(StatusCode::OK, json!({"schemaType": "AVRO", "schema": e.text})),
        None => not_found(40403, "Schema not found"),
    }
}

/// The subjects and versions a schema id is.
#[utoipa::path(get, path = "/schemas/ids/{id}/versions", tag = "schema registry", params(("id" = String, Path)), responses(
    (status = 200, description = "Subject and version", body = Vec<SubjectVersion>, content_type = "application/vnd.schemaregistry.v1+json"),
    (status = 404, description = "No such schema", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
))]
pub(crate) async fn id_versions(Path(id): Path<String>) -> Response {
    match id.parse::<u32>().ok().and_then(registry::by_id) {
        Some(e) => reply(StatusCode::OK, json!([{"subject": e.subject, "version": e.version}])),
        None => not_found(40403, "Schema not found"),
    }
}

/// The global compatibility level.
#[utoipa::path(get, path = "/config", tag = "schema registry", responses((status = 200, description = "The level", body = Compatibility, content_type = "application/vnd.schemaregistry.v1+json")))]
pub(crate) async fn config() -> Response {
    reply(StatusCode::OK, json!({"compatibilityLevel": COMPATIBILITY}))
}

/// Register a schema: this registry holds stakeflow's own schemas only, so
/// registering answers the id of a schema it already holds under that
/// subject (as a Confluent registry does for a known schema) and refuses
/// anything else with 409.
#[utoipa::path(post, path = "/subjects/{subject}/versions", tag = "schema registry", params(("subject" = String, Path)),
    request_body(content = Object, description = "`{\"schema\": \"<Avro schema as JSON text>\"}`", content_type = "application/vnd.schemaregistry.v1+json"),
    responses(
        (status = 200, description = "The schema is ours: its id", body = Registered, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 409, description = "Not one of stakeflow's schemas", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 413, description = "Body too large", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 422, description = "Not a schema", body = RegistryError, content_type = "application/vnd.schemaregistry.v1+json"),
))]
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
