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
        crate::problem::doc::Errors<messaging_domain::service::accounts::RefreshError>
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
