//! Registration, login and token refresh.

pub mod csrf;
pub mod login;
pub mod logout;
pub mod refresh;
pub mod register;
pub mod session;

use actix_web::HttpResponse;
use chrono::{TimeDelta, Utc};
use messaging_domain::ports::{Accounts, RefreshTokenRecord};
use messaging_domain::user::{Role, UserId};
use serde::Serialize;

use crate::auth::{random_token, token_hash};
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

/// Issues an access token and a refresh token in `family` (a new family on login).
pub(crate) async fn issue_tokens(
    state: &AppState,
    user: UserId,
    role: Role,
    family: Option<String>,
) -> Result<HttpResponse, Problem> {
    let now = Utc::now();
    let access_token = state.tokens.issue_access(user, role, now.timestamp())?;
    let refresh_token = random_token().map_err(|e| Problem::internal(&e))?;
    let family = match family {
        Some(f) => f,
        None => random_token().map_err(|e| Problem::internal(&e))?,
    };
    state
        .store
        .insert_refresh_token(RefreshTokenRecord {
            token_hash: token_hash(&refresh_token),
            user_id: user,
            family,
            issued_at: now,
            expires_at: now + TimeDelta::seconds(i64::from(state.tokens.refresh_ttl_secs)),
        })
        .await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token,
        refresh_token,
        token_type: "bearer",
        expires_in: state.tokens.access_ttl_secs,
    }))
}
