//! `POST /api/messages/{id}/report` `{reason}` → 201 `{report_id}`: reports a message the caller can
//! see to the admins.

use actix_web::{HttpResponse, post, web};
use messaging_domain::message::MessageId;
use serde::Deserialize;
use serde_json::json;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReportRequest {
    reason: String,
}

#[utoipa::path(
    context_path = "/api",
    tag = "safety",
    summary = "Report a message to the admins",
    responses(
        (status = 201, description = "`{report_id}`", body = crate::openapi::ReportCreated),
        (status = 400, description = "INVALID_REQUEST: unreadable JSON, query or path", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "CSRF_FAILED (cookie sessions), ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "MESSAGE_NOT_FOUND unless the caller can see the message", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/messages/{id}/report")]
pub async fn report(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    body: web::Json<ReportRequest>,
) -> Result<HttpResponse, Problem> {
    let report = state
        .messaging
        .report(
            &user.actor(),
            MessageId(crate::routes::positive_id(path.into_inner())?),
            &body.reason,
        )
        .await?;
    Ok(HttpResponse::Created().json(json!({ "report_id": report.id })))
}
