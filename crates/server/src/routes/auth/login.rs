//! `POST /api/auth/login` `{username, password, cookie?}`: tokens, or with `cookie: true` a
//! browser session cookie and its CSRF token.

use actix_web::{HttpRequest, HttpResponse, post, web};
use messaging_domain::service::accounts::Grant;
use serde::Deserialize;

use crate::auth::{Secret, client_addr, random_token, session_key, token_hash};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    username: String,
    #[schema(value_type = String)]
    password: Secret,
    /// Browsers ask for a session cookie instead of tokens.
    #[serde(default)]
    cookie: bool,
}

#[utoipa::path(
    context_path = "/api",
    tag = "auth",
    summary = "Log in: a token pair, or with `cookie: true` a session cookie and its CSRF token",
    responses(
        (status = 200, description = r#"Tokens (or `{token_type: "cookie", csrf_token, idle_timeout_seconds}` with `cookie: true`)"#, body = super::TokenResponse),
        crate::problem::doc::Errors<(crate::problem::doc::RateLimited, messaging_domain::service::accounts::LoginError)>
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, Problem> {
    let body = body.into_inner();
    // Before the account lookup and the password check: a refused attempt costs no hashing and
    // tells a guesser nothing.
    state
        .rate_limits
        .check_login(client_addr(&req).as_deref(), &body.username)
        .await?;
    let password = body.password.expose().to_owned();
    if body.cookie {
        let session_id = random_token().map_err(|e| Problem::internal(&e))?;
        let grant = Grant::Session(session_key(&session_id));
        state
            .accounts
            .login(&body.username, password, grant, client_addr(&req))
            .await?;
        return Ok(super::session::session_opened(&state, &req, session_id));
    }
    let refresh_token = random_token().map_err(|e| Problem::internal(&e))?;
    let grant = Grant::Tokens {
        refresh_hash: token_hash(&refresh_token),
        family: random_token().map_err(|e| Problem::internal(&e))?,
    };
    let done = state
        .accounts
        .login(&body.username, password, grant, client_addr(&req))
        .await?;
    super::tokens_issued(&state, &done, refresh_token)
}
