//! Registration, login and token refresh.

pub mod csrf;
pub mod login;
pub mod logout;
pub mod refresh;
pub mod register;
pub mod session;

use actix_web::HttpResponse;
use chrono::Utc;
use messaging_domain::service::accounts::Authenticated;
use serde::Serialize;

use crate::problem::Problem;
use crate::state::AppState;

/// The token pair a login or refresh returns.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u32,
}

/// The answer to a login or refresh that issued tokens: an access token carrying the account's
/// credential version, and the new refresh token (already stored, by hash, by the use case).
pub(crate) fn tokens_issued(
    state: &AppState,
    done: &Authenticated,
    refresh_token: String,
) -> Result<HttpResponse, Problem> {
    let access_token = state.tokens.issue_access(
        done.user.id,
        done.user.role,
        done.credential_version,
        Utc::now().timestamp(),
    )?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token,
        refresh_token,
        token_type: "bearer",
        expires_in: state.tokens.access_ttl_secs,
    }))
}
