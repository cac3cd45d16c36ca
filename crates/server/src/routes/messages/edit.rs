//! `PATCH /api/messages/{id}` `{message}`: the sender edits within the edit window.

use actix_web::{HttpResponse, patch, web};
use messaging_domain::message::MessageId;
use messaging_domain::text::MessageText;
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::dto::MessageResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EditRequest {
    message: String,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "Edit a message within the edit window (also under /api/v1)",
    responses(
        (status = 200, description = "The message", body = crate::dto::MessageResponse),
        (status = 400, description = "INVALID_REQUEST: unreadable JSON, query or path", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "CSRF_FAILED (cookie sessions), ACCOUNT_INACTIVE; NOT_SENDER, EDIT_WINDOW_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "MESSAGE_NOT_FOUND", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[patch("/messages/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    body: web::Json<EditRequest>,
) -> Result<HttpResponse, Problem> {
    let text = MessageText::parse(&body.message)?;
    let view = state
        .messaging
        .edit(
            &user.actor(),
            MessageId(crate::routes::positive_id(path.into_inner())?),
            text,
        )
        .await?;
    Ok(HttpResponse::Ok().json(MessageResponse::from(view)))
}
