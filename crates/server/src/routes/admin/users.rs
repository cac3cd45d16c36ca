//! `PATCH /api/admin/users/{id}` `{is_active?, role?}` → 200 the user.

use actix_web::{HttpResponse, patch, web};
use messaging_domain::ports::AccountChange;
use messaging_domain::user::{Role, UserId};
use serde::Deserialize;

use super::AdminUser;
use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateUser {
    /// `false` deactivates the account (its sockets close at once).
    is_active: Option<bool>,
    /// The new role.
    role: Option<RoleName>,
}

/// A role, as the API names it.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Student,
    Tutor,
    Patient,
    Clinician,
    Admin,
}

impl From<RoleName> for Role {
    fn from(name: RoleName) -> Self {
        match name {
            RoleName::Student => Role::Student,
            RoleName::Tutor => Role::Tutor,
            RoleName::Patient => Role::Patient,
            RoleName::Clinician => Role::Clinician,
            RoleName::Admin => Role::Admin,
        }
    }
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Activate, deactivate or change the role of a user",
    responses(
        (status = 200, description = "The user (with email)", body = super::AdminUser),
        crate::problem::doc::Errors<messaging_domain::AdminError>
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
    let change = AccountChange {
        role: body.role.map(Role::from),
        active: body.is_active,
    };
    let user = state
        .admin
        .update_account(&admin.actor(), target, change)
        .await?;
    Ok(HttpResponse::Ok().json(AdminUser::from(user)))
}
