//! `POST /api/auth/refresh`: exchanges a refresh token for a new pair. Each refresh token works
//! once; presenting a used one revokes every token descended from the same login.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::ports::{Accounts, AuditLog, Directory, RefreshOutcome};
use serde::Deserialize;

use super::issue_tokens;
use crate::auth::{Secret, client_addr, token_hash};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    refresh_token: Secret,
}

fn invalid() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "INVALID_REFRESH_TOKEN",
        "Invalid refresh token",
        "The refresh token is not valid",
    )
}

#[utoipa::path(
    context_path = "/api",
    tag = "auth",
    summary = "Exchange a refresh token for a new pair",
    responses(
        (status = 200, description = "A new token pair", body = super::TokenResponse),
        crate::problem::doc::Errors<RefreshRefused>
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, Problem> {
    let now = Utc::now();
    let hash = token_hash(body.refresh_token.expose());
    let outcome = state.store.consume_refresh_token(hash, now).await?;
    let audit = |action, user: messaging_domain::user::UserId| AuditRecord {
        actor: Some(user),
        action,
        object_type: "user",
        object_id: Some(user.0),
        at: now,
        client_addr: client_addr(&req),
    };
    match outcome {
        RefreshOutcome::Valid { user_id, family } => {
            let user = state
                .store
                .user(user_id)
                .await?
                .filter(|u| u.is_active)
                .ok_or_else(invalid)?;
            state
                .store
                .record(audit(AuditAction::TokenRefreshed, user.id))
                .await?;
            issue_tokens(&state, user.id, user.role, Some(family)).await
        }
        RefreshOutcome::Reused { user_id } => {
            state
                .store
                .record(audit(AuditAction::RefreshTokenReused, user_id))
                .await?;
            Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "REFRESH_TOKEN_REUSED",
                "Refresh token reused",
                "This refresh token was already used; every session from that login is revoked",
            ))
        }
        RefreshOutcome::Invalid => Err(invalid()),
    }
}

/// The refusals of a refresh.
#[derive(Debug)]
pub struct RefreshRefused;

impl crate::problem::doc::Documented for RefreshRefused {
    fn problems() -> Vec<Problem> {
        vec![
            invalid(),
            crate::problem::doc::named(StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_REUSED"),
        ]
    }
}
