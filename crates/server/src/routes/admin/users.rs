//! `PATCH /api/admin/users/{id}` `{is_active?, role?}` → 200 the user.

use actix_web::{HttpResponse, patch, web};
use messaging_domain::ValidationError;
use messaging_domain::user::{Role, UserId};
use serde::Deserialize;

use super::AdminUser;
use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateUser {
    is_active: Option<bool>,
    role: Option<String>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Activate, deactivate or change the role of a user",
    responses(
        (status = 200, description = "The user (with email)", body = super::AdminUser),
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "ADMIN_ONLY, CSRF_FAILED, ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "SELF_CHANGE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[patch("/admin/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    admin: AuthUser,
    path: web::Path<i64>,
    body: web::Json<UpdateUser>,
) -> Result<HttpResponse, Problem> {
    let target = UserId(crate::routes::positive_id(path.into_inner())?);
    let role = match body.role.as_deref() {
        Some(name) => Some(Role::parse(name).ok_or(ValidationError::Malformed {
            field: "role",
            reason: "one of student, tutor, patient, clinician, admin",
        })?),
        None => None,
    };
    if body.is_active.is_none() && role.is_none() {
        return Err(ValidationError::Empty {
            field: "is_active or role",
        }
        .into());
    }
    let actor = admin.actor();
    let mut user = None;
    if let Some(role) = role {
        user = Some(state.admin.set_role(&actor, target, role).await?);
    }
    if let Some(active) = body.is_active {
        user = Some(state.admin.set_active(&actor, target, active).await?);
    }
    match user {
        Some(user) => Ok(HttpResponse::Ok().json(AdminUser::from(user))),
        None => Err(Problem::invalid_request("nothing to change")),
    }
}
