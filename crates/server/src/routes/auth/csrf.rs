//! `GET /api/csrf-token` → `{csrf_token}` for the caller's browser session (System B's route). The
//! token is an HMAC of the session id: it works for that session only.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde_json::json;

use messaging_domain::accounts::Credential;

use crate::auth::{SESSION_COOKIE, session_key};
use crate::problem::Problem;
use crate::state::AppState;

#[utoipa::path(
    context_path = "/api",
    tag = "auth",
    summary = "The CSRF token of the caller's session cookie",
    responses(
        (status = 200, description = "`{csrf_token}`", body = crate::openapi::CsrfTokenResponse),
        crate::problem::doc::Errors<NoSession>
    )
)]
#[get("/csrf-token")]
pub async fn csrf_token(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Err(Problem::unauthenticated(
            "No session: log in with cookie: true first (bearer requests need no CSRF token)",
        ));
    };
    state
        .accounts
        .authenticate(Credential::Session(session_key(cookie.value())))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "csrf_token": state.tokens.csrf_token(cookie.value()) })))
}

/// No session cookie, or an unusable one.
#[derive(Debug)]
pub struct NoSession;

impl crate::problem::doc::Documented for NoSession {
    fn problems() -> Vec<Problem> {
        crate::auth::UNAUTHENTICATED_CODES
            .into_iter()
            .map(|code| crate::problem::doc::named(actix_web::http::StatusCode::UNAUTHORIZED, code))
            .collect()
    }
}
