//! `POST /api/ws-ticket` → `{ticket, expires_in_seconds}`: a short-lived, single-use ticket a
//! browser puts in the WebSocket URL (`/ws?ticket=...`), since browsers cannot set headers on a
//! WebSocket. The store keeps only its hash; any instance can redeem it, once.

use actix_web::{HttpResponse, post, web};
use chrono::{TimeDelta, Utc};
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
    let ttl = state.realtime.ticket_secs;
    state
        .store
        .insert_ws_ticket(
            token_hash(&ticket),
            user.id,
            Utc::now() + TimeDelta::seconds(i64::from(ttl)),
        )
        .await?;
    Ok(HttpResponse::Created().json(TicketResponse {
        ticket,
        expires_in_seconds: ttl,
    }))
}
