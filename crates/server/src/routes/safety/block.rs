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
        (status = 400, description = "INVALID_REQUEST: unreadable JSON, query or path", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "CSRF_FAILED (cookie sessions), ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND (unknown user)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "CANNOT_BLOCK_SELF", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
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
        (status = 400, description = "INVALID_REQUEST: unreadable JSON, query or path", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "CSRF_FAILED (cookie sessions), ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
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
