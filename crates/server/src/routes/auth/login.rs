//! `POST /api/auth/login` `{username, password, cookie?}`: tokens, or with `cookie: true` a
//! browser session cookie and its CSRF token.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use messaging_domain::accounts::Username;
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::ports::{Accounts, AuditLog};
use serde::Deserialize;

use super::issue_tokens;
use crate::auth::{Secret, client_addr};
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
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "INVALID_CREDENTIALS (same for unknown users)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "RATE_LIMITED (with Retry-After)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "SERVER_BUSY: every password hashing thread is busy and the queue is full (with Retry-After)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
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
        .check_login(client_addr(&req).as_deref(), &body.username)?;
    // A name that cannot be a user name (control characters, ...) is an unknown user: it never
    // reaches the database.
    let found = match Username::parse(&body.username) {
        Ok(name) => state.store.credentials(name.as_str()).await?,
        Err(_) => None,
    };
    // Unknown users are checked against a dummy hash, so both failures take as long.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, state.tokens.dummy_hash().to_owned()),
    };
    let password_ok = state.passwords.verify(body.password, hash).await?;
    let user = user.filter(|u| password_ok && u.is_active);
    let audit = AuditRecord {
        actor: user.as_ref().map(|u| u.id),
        action: if user.is_some() {
            AuditAction::LoginSucceeded
        } else {
            AuditAction::LoginFailed
        },
        object_type: "user",
        object_id: user.as_ref().map(|u| u.id.0),
        at: Utc::now(),
        client_addr: client_addr(&req),
    };
    state.store.record(audit).await?;
    let Some(user) = user else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
            "Invalid credentials",
            "Incorrect username or password",
        ));
    };
    if body.cookie {
        return super::session::open_session(&state, &req, user.id).await;
    }
    issue_tokens(&state, user.id, user.role, None).await
}
