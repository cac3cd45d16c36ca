//! Every JSON request body this API takes is an object, as the OpenAPI document says. serde's
//! derived `Deserialize` would also read a struct from an array of its fields in order
//! (`[null, null]` as `{is_active, role}`), so a body whose JSON starts as an array is refused
//! here, for every route at once, before any handler reads it.

use std::pin::Pin;

use actix_web::Error;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};

use crate::problem::Problem;

/// How much of a body is read to find its first character; the JSON extractor's own limit
/// applies to the rest.
const HEAD_LIMIT: usize = 64 * 1024;

/// Refuses a JSON request body that is an array (400 `INVALID_REQUEST`); passes everything
/// else on, the body unchanged.
///
/// # Errors
/// The problem, or the payload's own error.
pub async fn bodies_are_objects(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .is_some_and(|ct| ct.starts_with("application/json"));
    if json {
        let mut payload = req.take_payload();
        let mut head: Vec<u8> = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk: Bytes = chunk?;
            head.extend_from_slice(&chunk);
            if head.iter().any(|b| !b.is_ascii_whitespace()) || head.len() > HEAD_LIMIT {
                break;
            }
        }
        if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(Problem::invalid_request("The request body must be a JSON object").into());
        }
        let head = futures_util::stream::once(async move { Ok(Bytes::from(head)) });
        let body: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(head.chain(payload));
        req.set_payload(Payload::from(body));
    }
    next.call(req).await
}
