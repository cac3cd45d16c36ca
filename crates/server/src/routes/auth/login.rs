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
use crate::auth::{Secret, client_addr, verify_password_off_thread};
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
        crate::problem::doc::Errors<(crate::problem::doc::RateLimited, InvalidCredentials)>
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
    let password_ok = verify_password_off_thread(body.password, hash).await?;
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

/// `INVALID_CREDENTIALS`, the same for unknown users and wrong passwords.
#[derive(Debug)]
pub struct InvalidCredentials;

impl crate::problem::doc::Documented for InvalidCredentials {
    fn problems() -> Vec<Problem> {
        vec![crate::problem::doc::named(
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )]
    }
}
