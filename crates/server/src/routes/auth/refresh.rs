//! `POST /api/auth/refresh`: exchanges a refresh token for a new pair. Each refresh token works
//! once; presenting a used one revokes every token descended from the same login.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;

use crate::auth::{Secret, client_addr, random_token, token_hash};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    refresh_token: Secret,
}

#[utoipa::path(
    context_path = "/api",
    tag = "auth",
    summary = "Exchange a refresh token for a new pair",
    responses(
        (status = 200, description = "A new token pair", body = super::TokenResponse),
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "INVALID_REFRESH_TOKEN, REFRESH_TOKEN_REUSED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, Problem> {
    let next = random_token().map_err(|e| Problem::internal(&e))?;
    let done = state
        .accounts
        .refresh(
            token_hash(body.refresh_token.expose()),
            token_hash(&next),
            client_addr(&req),
        )
        .await?;
    super::tokens_issued(&state, &done, next)
}
