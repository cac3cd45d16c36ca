//! Browser sessions: an opaque id in an HttpOnly, SameSite=Strict cookie (Secure over TLS), stored
//! by hash, with a CSRF token that is an HMAC of the id.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use crate::auth::SESSION_COOKIE;
use crate::state::AppState;

/// The answer to a login that opened a session: its cookie and CSRF token.
pub(crate) fn session_opened(
    state: &AppState,
    req: &HttpRequest,
    session_id: String,
) -> HttpResponse {
    let csrf_token = state.tokens.csrf_token(&session_id);
    let cookie = Cookie::build(SESSION_COOKIE, session_id)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(crate::forwarded::request_origin(req).scheme == "https")
        .finish();
    HttpResponse::Ok().cookie(cookie).json(json!({
        "token_type": "cookie",
        "csrf_token": csrf_token,
        "idle_timeout_seconds": state.accounts.policy().session_idle.num_seconds(),
        "max_age_seconds": state.accounts.policy().session_max_age.num_seconds(),
    }))
}

/// A cookie that removes the session cookie.
pub(crate) fn clear_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    cookie
}
