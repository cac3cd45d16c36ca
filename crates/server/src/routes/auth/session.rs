//! Browser sessions: an opaque id in an HttpOnly, SameSite=Strict cookie (Secure over TLS), stored
//! by hash, with a CSRF token that is an HMAC of the id.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use messaging_domain::ports::{Accounts, SessionRecord};
use messaging_domain::user::UserId;
use serde_json::json;

use crate::auth::{SESSION_COOKIE, random_token, token_hash};
use crate::problem::Problem;
use crate::state::AppState;

/// Opens a session for `user` and answers with its cookie and CSRF token.
pub(crate) async fn open_session(
    state: &AppState,
    req: &HttpRequest,
    user: UserId,
) -> Result<HttpResponse, Problem> {
    let session_id = random_token().map_err(|e| Problem::internal(&e))?;
    let now = Utc::now();
    state
        .store
        .insert_session(SessionRecord {
            id_hash: token_hash(&session_id),
            user_id: user,
            created_at: now,
            last_seen_at: now,
            revoked_at: None,
        })
        .await?;
    let csrf_token = state.tokens.csrf_token(&session_id);
    let cookie = Cookie::build(SESSION_COOKIE, session_id)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .finish();
    Ok(HttpResponse::Ok().cookie(cookie).json(json!({
        "token_type": "cookie",
        "csrf_token": csrf_token,
        "idle_timeout_seconds": state.tokens.session_idle_secs,
    })))
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
