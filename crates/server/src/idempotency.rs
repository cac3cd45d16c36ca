//! The client's own id for a send: the `Idempotency-Key` header, or a `client_message_id` field in
//! the body. A retry with the same id returns the message the first attempt created.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use messaging_domain::ValidationError;
use messaging_domain::text::ClientMessageId;

use crate::problem::Problem;

/// The header clients retry with.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// Reads the client id from the header or the body field; when both are given they must agree.
///
/// # Errors
/// 422 for a malformed id; 409 `IDEMPOTENCY_KEY_MISMATCH` for a header and a field that differ
/// (each is well formed on its own, so the request's shape is not what is wrong).
pub fn client_message_id(
    req: &HttpRequest,
    field: Option<&str>,
) -> Result<Option<ClientMessageId>, Problem> {
    let header = match req.headers().get(IDEMPOTENCY_KEY) {
        Some(value) => Some(value.to_str().map_err(|_| ValidationError::Malformed {
            field: "Idempotency-Key",
            reason: "letters, digits, '.', '_', ':' and '-' only",
        })?),
        None => None,
    };
    match (header, field) {
        (Some(h), Some(f)) if h != f => Err(key_mismatch()),
        (Some(id), _) | (None, Some(id)) => Ok(Some(ClientMessageId::parse(id)?)),
        (None, None) => Ok(None),
    }
}

fn key_mismatch() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "IDEMPOTENCY_KEY_MISMATCH",
        "Idempotency key mismatch",
        "client_message_id differs from the Idempotency-Key header",
    )
    .with("field", "client_message_id")
}

/// What reading the client's id can answer, for the OpenAPI document.
#[derive(Debug)]
pub struct ClientIdProblems;

impl crate::problem::doc::Documented for ClientIdProblems {
    fn problems() -> Vec<Problem> {
        let mut all = vec![key_mismatch()];
        all.extend(<ValidationError as crate::problem::doc::Documented>::problems());
        all
    }
}
