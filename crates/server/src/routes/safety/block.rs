//! `POST /api/users/{id}/block` and `DELETE /api/users/{id}/block` → 204. A block stops messages
//! both ways; the blocked user is not told (their sends look like an unknown recipient's).

use actix_web::{HttpResponse, delete, post, web};
use messaging_domain::user::UserId;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[utoipa::path(
    context_path = "/api",
    tag = "safety",
    summary = "Block a user: messages stop both ways",
    responses(
        (status = 204, description = "Blocked"),
        crate::problem::doc::Errors<messaging_domain::SafetyError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/users/{id}/block")]
pub async fn block(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    state
        .messaging
        .set_block(
            &user.actor(),
            UserId(crate::routes::positive_id(path.into_inner())?),
            true,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    context_path = "/api",
    tag = "safety",
    summary = "Lift a block",
    responses(
        (status = 204, description = "Unblocked"),
        crate::problem::doc::Errors<messaging_domain::SafetyError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[delete("/users/{id}/block")]
pub async fn unblock(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    state
        .messaging
        .set_block(
            &user.actor(),
            UserId(crate::routes::positive_id(path.into_inner())?),
            false,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
