//! The client's own id for a send: the `Idempotency-Key` header, or a `client_message_id` field in
//! the body. A retry with the same id returns the message the first attempt created.

use actix_web::HttpRequest;
use messaging_domain::ValidationError;
use messaging_domain::text::ClientMessageId;

/// The header clients retry with.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// Reads the client id from the header or the body field; when both are given they must agree.
///
/// # Errors
/// [`ValidationError`] for a malformed id, or for a header and a field that differ.
pub fn client_message_id(
    req: &HttpRequest,
    field: Option<&str>,
) -> Result<Option<ClientMessageId>, ValidationError> {
    let header = match req.headers().get(IDEMPOTENCY_KEY) {
        Some(value) => Some(value.to_str().map_err(|_| ValidationError::Malformed {
            field: "Idempotency-Key",
            reason: "letters, digits, '.', '_', ':' and '-' only",
        })?),
        None => None,
    };
    match (header, field) {
        (Some(h), Some(f)) if h != f => Err(ValidationError::Malformed {
            field: "client_message_id",
            reason: "differs from the Idempotency-Key header",
        }),
        (Some(id), _) | (None, Some(id)) => ClientMessageId::parse(id).map(Some),
        (None, None) => Ok(None),
    }
}
