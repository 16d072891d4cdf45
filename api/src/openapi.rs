//! The API's OpenAPI 3.1 document, generated from the handlers and their
//! types (`utoipa`): every route is registered through `routes!`, which
//! files it in the document too, so the two cannot diverge. Served at
//! `/openapi.json`, and read by Swagger UI at `/docs` (its assets are built
//! into the binary from a crate: the page works offline).

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

/// Every error the API answers: a code and a message for people.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// `bad_query`, `not_found`, `store_unavailable`, `timeout`, `internal`, ...
    #[schema(example = "not_found")]
    pub error: String,
    /// What went wrong, and what to do about it where that is known.
    pub message: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "stakeflow",
        description = "A validator nomination programme: candidates with every check and its evidence, \
            scores field by field, rounds, nominations, telemetry nodes, readiness. Errors are always \
            `{\"error\", \"message\"}` with 400, 404 or 503. Read endpoints answer `ETag` and honour \
            `If-None-Match`. Addresses are accepted in any SS58 encoding or as 0x hex."
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "health", description = "Liveness, readiness and metrics"),
        (name = "candidates", description = "The programme's candidates, round by round"),
        (name = "rounds", description = "Scoring rounds"),
        (name = "nominators", description = "Nominator accounts and their nominations"),
        (name = "nodes", description = "Telemetry"),
        (name = "events", description = "The live stream (server-sent events), resumable with `Last-Event-ID`"),
        (name = "1kv", description = "1KV's API at 1KV's paths and field names: point a 1KV front end's base URL at `/1kv`. Lists are paged (`limit` ≤ 1000, `offset`; `X-Total-Count`, `Link`)"),
        (name = "schema registry", description = "The read side of the Confluent schema-registry API, for our Avro schemas"),
    )
)]
pub(crate) struct ApiDoc;
