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
    /// Why; up to 1 000 characters, with at least one that is not white space or a control
    /// character.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"[^\s\x00-\x1f\x7f-\x9f]"
    )]
    reason: String,
}

#[utoipa::path(
    context_path = "/api",
    tag = "safety",
    summary = "Report a message to the admins",
    responses(
        (status = 201, description = "`{report_id}`", body = crate::openapi::ReportCreated),
        crate::problem::doc::Errors<messaging_domain::SafetyError>
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
