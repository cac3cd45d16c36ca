//! System B's `POST /api/messages/send` `{recipient (username), subject?, content}` → 201
//! `{message_id, conversation_id, status: "sent", recipient, subject, timestamp}`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use messaging_domain::ValidationError;
use messaging_domain::service::{RecipientRef, SendCommand, SendRoute};
use messaging_domain::text::{MessageText, Subject};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::dto::SentResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SendByUsernameRequest {
    recipient: String,
    subject: Option<String>,
    content: String,
    client_message_id: Option<String>,
}

impl TryFrom<SendByUsernameRequest> for SendCommand {
    type Error = ValidationError;

    fn try_from(req: SendByUsernameRequest) -> Result<Self, Self::Error> {
        Ok(SendCommand {
            recipient: RecipientRef::Username(req.recipient.trim().to_owned()),
            body: MessageText::parse_field(&req.content, "content")?,
            subject: Subject::parse(req.subject.as_deref().unwrap_or(""))?,
            booking_id: None,
            via: SendRoute::Direct,
            client_message_id: None,
        })
    }
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System B)",
    summary = "Send a message to a user by username",
    params(("Idempotency-Key" = Option<String>, Header, description = "1..=128 of letters, digits, `.`, `_`, `:`, `-`; must equal `client_message_id` when both are given")),
    responses(
        (status = 201, description = "Sent", body = crate::dto::SentResponse),
        (status = 400, description = "INVALID_REQUEST; RECIPIENT_UNAVAILABLE (unknown, inactive, self or blocking recipient, or one the sender may not reach and does not know: the other side of the service, a stranger clinician or patient)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "RECIPIENT_BLOCKED, NOT_ASSIGNED, PATIENT_CANNOT_INITIATE, CSRF_FAILED, ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "BOOKING_NOT_FOUND", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "IDEMPOTENCY_KEY_REUSED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "RATE_LIMITED (with Retry-After)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/messages/send")]
pub async fn send_by_username(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: web::Json<SendByUsernameRequest>,
) -> Result<HttpResponse, Problem> {
    let mut body = body.into_inner();
    let client_field = body.client_message_id.take();
    let view =
        crate::routes::messages::send_command(&state, &user, &req, client_field, body).await?;
    Ok(HttpResponse::Created().json(SentResponse::from(view)))
}
