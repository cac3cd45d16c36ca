//! `POST /api/auth/logout` → 204. A browser session is closed and its cookie cleared (the CSRF
//! checks apply, as to any state-changing request); a token client passes `{refresh_token}` and
//! every token descended from that login is revoked.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;

use super::session::clear_cookie;
use crate::auth::{AuthUser, SESSION_COOKIE, Secret, token_hash};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct LogoutRequest {
    #[schema(value_type = Option<String>)]
    refresh_token: Option<Secret>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "auth",
    summary = "Log out: close the cookie session and revoke the given refresh token family",
    request_body(content = Option<LogoutRequest>, description = "Optional `{refresh_token}`"),
    responses(
        (status = 204, description = "Logged out")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    // The body is optional (a browser logs out with none, a generated client may send `null`),
    // but one that is there must be right.
    let body: LogoutRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutRequest::default()
    } else {
        serde_json::from_slice::<Option<LogoutRequest>>(&body)
            .map_err(|e| Problem::invalid_request(format!("Invalid JSON body: {e}")))?
            .unwrap_or_default()
    };
    state
        .accounts
        .logout(
            &user.principal,
            body.refresh_token.map(|t| token_hash(t.expose())),
            user.client_addr.clone(),
        )
        .await?;
    let mut response = HttpResponse::NoContent();
    if req.cookie(SESSION_COOKIE).is_some() {
        response.cookie(clear_cookie());
    }
    Ok(response.finish())
}
