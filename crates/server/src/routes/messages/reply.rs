//! System B's `POST /api/messages/{id}/reply` `{content}`: a reply to the other party of a message
//! the caller can see, subject `"Re: ..."`, in the same conversation.

use actix_web::{HttpRequest, HttpResponse, post, web};
use messaging_domain::message::MessageId;
use messaging_domain::text::MessageText;
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::dto::SentResponse;
use crate::idempotency::client_message_id;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReplyRequest {
    content: String,
    client_message_id: Option<String>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System B)",
    summary = r#"Reply in the same conversation; subject `"Re: " + subject`"#,
    params(("Idempotency-Key" = Option<String>, Header, description = "1..=128 of letters, digits, `.`, `_`, `:`, `-`; must equal `client_message_id` when both are given")),
    responses(
        (status = 201, description = "Sent", body = crate::dto::SentResponse),
        (status = 400, description = "INVALID_REQUEST; RECIPIENT_UNAVAILABLE (unknown, inactive, self or blocking recipient, or one the sender may not reach and does not know: the other side of the service, a stranger clinician or patient)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "RECIPIENT_BLOCKED, NOT_ASSIGNED, PATIENT_CANNOT_INITIATE, CSRF_FAILED, ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "BOOKING_NOT_FOUND; MESSAGE_NOT_FOUND", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "IDEMPOTENCY_KEY_REUSED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "RATE_LIMITED (with Retry-After)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/messages/{id}/reply")]
pub async fn reply(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    req: HttpRequest,
    body: web::Json<ReplyRequest>,
) -> Result<HttpResponse, Problem> {
    state.rate_limits.check_send(user.id).await?;
    let text = MessageText::parse_field(&body.content, "content")?;
    let view = state
        .messaging
        .reply(
            &user.actor(),
            MessageId(crate::routes::positive_id(path.into_inner())?),
            text,
            client_message_id(&req, body.client_message_id.as_deref())?,
        )
        .await?;
    Ok(HttpResponse::Created().json(SentResponse::from(view)))
}
