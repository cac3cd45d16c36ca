//! `POST /api/ws-ticket` → `{ticket, expires_in_seconds}`: a short-lived, single-use ticket a
//! browser puts in the WebSocket URL (`/ws?ticket=...`), since browsers cannot set headers on a
//! WebSocket. The store keeps only its hash; any instance can redeem it, once.

use actix_web::{HttpResponse, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{AuthUser, random_token, token_hash};
use crate::problem::Problem;
use crate::state::AppState;

/// A WebSocket ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketResponse {
    /// Put it in the URL: `/ws?ticket=...`.
    pub ticket: String,
    /// How long it can be redeemed.
    pub expires_in_seconds: u32,
}

#[utoipa::path(
    context_path = "/api",
    tag = "realtime",
    summary = "A single-use ticket for opening a WebSocket from a browser",
    responses(
        (status = 201, description = "The ticket", body = TicketResponse)
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/ws-ticket")]
pub async fn ws_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, Problem> {
    let ticket = random_token().map_err(|e| Problem::internal(&e))?;
    state
        .accounts
        .mint_ticket(&user.principal, token_hash(&ticket))
        .await?;
    Ok(HttpResponse::Created().json(TicketResponse {
        ticket,
        expires_in_seconds: u32::try_from(state.accounts.policy().ticket_ttl.num_seconds())
            .unwrap_or(u32::MAX),
    }))
}
