//! `POST /api/admin/care-assignments` `{clinician_id, patient_id}` → 204, and
//! `DELETE /api/admin/care-assignments/{clinician_id}/{patient_id}` → 204.

use actix_web::{HttpResponse, delete, post, web};
use messaging_domain::user::UserId;
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    clinician_id: i64,
    patient_id: i64,
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Assign a patient to a clinician",
    responses(
        (status = 204, description = "Assigned"),
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "ADMIN_ONLY, CSRF_FAILED, ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "WRONG_ROLES", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/admin/care-assignments")]
pub async fn assign(
    state: web::Data<AppState>,
    admin: AuthUser,
    body: web::Json<Assignment>,
) -> Result<HttpResponse, Problem> {
    state
        .admin
        .set_assignment(
            &admin.actor(),
            UserId(body.clinician_id),
            UserId(body.patient_id),
            true,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Remove a care assignment",
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "ADMIN_ONLY, CSRF_FAILED, ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[delete("/admin/care-assignments/{clinician_id}/{patient_id}")]
pub async fn unassign(
    state: web::Data<AppState>,
    admin: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, Problem> {
    let (clinician, patient) = path.into_inner();
    let (clinician, patient) = (
        crate::routes::positive_id(clinician)?,
        crate::routes::positive_id(patient)?,
    );
    state
        .admin
        .set_assignment(&admin.actor(), UserId(clinician), UserId(patient), false)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
