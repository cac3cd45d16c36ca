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
    /// An active clinician.
    #[serde(deserialize_with = "crate::dto::whole_number")]
    clinician_id: i64,
    /// An active patient.
    #[serde(deserialize_with = "crate::dto::whole_number")]
    patient_id: i64,
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Assign a patient to a clinician",
    responses(
        (status = 204, description = "Assigned"),
        crate::problem::doc::Errors<messaging_domain::AdminError>
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
        crate::problem::doc::Errors<messaging_domain::AdminError>
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
