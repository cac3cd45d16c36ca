//! `PUT /api/me/password` `{current_password, new_password}` → 204. Every other session and every
//! refresh token of the account is revoked; a browser keeps the session it changed it from.

use actix_web::{HttpRequest, HttpResponse, put, web};
use serde::Deserialize;

use crate::auth::{AuthUser, SESSION_COOKIE, Secret, token_hash};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChangePassword {
    #[schema(value_type = String)]
    current_password: Secret,
    /// 8 to 128 characters.
    #[schema(value_type = String)]
    new_password: Secret,
}

#[utoipa::path(
    context_path = "/api",
    tag = "me",
    summary = "Change the caller's password; every other session and refresh token is revoked",
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "WRONG_PASSWORD, CSRF_FAILED, ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED (new_password: 8..=128 characters)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[put("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: web::Json<ChangePassword>,
) -> Result<HttpResponse, Problem> {
    let body = body.into_inner();
    // A bearer client keeps no session; a browser keeps the one it is using.
    let keep = req
        .cookie(SESSION_COOKIE)
        .filter(|_| req.headers().get("authorization").is_none())
        .map(|c| token_hash(c.value()));
    state
        .passwords
        .change(
            &user.actor(),
            body.current_password.expose().to_owned(),
            body.new_password.expose().to_owned(),
            keep,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
