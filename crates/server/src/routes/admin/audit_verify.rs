//! `GET /api/admin/audit/verify`: recomputes every hash chain of the audit log, as
//! `cargo xtask audit verify` does, and says whether it is intact; admins only. It reads the whole
//! log, so it is for an admin's occasional look, not for polling.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditVerifyResponse {
    /// Whether every chained entry matched.
    pub intact: bool,
    /// Entries recomputed and matched, up to the first break.
    pub checked: u64,
    /// Entries written before the chain existed (it cannot vouch for them).
    pub unsealed: u64,
    /// The first entry at which a chain breaks.
    pub first_bad_id: Option<i64>,
    /// What is wrong there, in words.
    pub problem: Option<String>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Verify the audit log's hash chains",
    responses(
        (status = 200, description = "The verification result", body = AuditVerifyResponse),
        crate::problem::doc::Errors<messaging_domain::AdminError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/admin/audit/verify")]
pub async fn verify_audit(
    state: web::Data<AppState>,
    admin: AuthUser,
) -> Result<HttpResponse, Problem> {
    let result = state.admin.verify_audit_chain(&admin.actor()).await?;
    Ok(HttpResponse::Ok().json(AuditVerifyResponse {
        intact: result.is_intact(),
        checked: result.checked,
        unsealed: result.unsealed,
        first_bad_id: result.broken.map(|b| b.id()),
        problem: result.broken.map(|b| b.to_string()),
    }))
}
