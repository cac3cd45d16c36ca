//! `GET /ws` (also System A's `/ws/messages` and `/api/v1/ws/messages`): the WebSocket.
//!
//! Credentials, in order: `?ticket=` (from `POST /api/ws-ticket`, for browsers), System A's
//! `?token=` (an access token, kept for its clients), `Authorization: Bearer`, or the session
//! cookie. `?since=N` replays the stream after entry N before going live.
//!
//! The upgrade is always accepted and refusals are close codes, which a browser can read (an
//! HTTP error on the upgrade reaches its script as a bare failure): a page from an origin that
//! is not allowed gets 4003, bad or missing credentials 1008. The query string holds tokens and
//! tickets: nothing here logs it (the request log shows the route pattern only).
//!
//! What the client sends passes [`frame_limit`](crate::realtime::frame_limit) before actix-ws
//! decodes it, so a frame or fragmented message over the limit is refused (1009) from its header.

use std::collections::HashMap;

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use messaging_domain::event::StreamSeq;
use messaging_domain::user::User;

use crate::auth::{SESSION_COOKIE, client_addr, session_user, token_hash};
use crate::problem::Problem;
use crate::realtime::frame_limit;
use crate::realtime::socket::{self, CLOSE_BAD_ORIGIN, CLOSE_POLICY, MAX_CLIENT_MESSAGE, Opened};
use crate::state::AppState;

/// The upgrade handler, for every WebSocket path.
///
/// # Errors
/// A 400 problem when the request is not a WebSocket upgrade.
pub async fn ws(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let (mut guarded, tripwire) = frame_limit::guard(body, MAX_CLIENT_MESSAGE);
    let body = web::Payload::from_request(&req, &mut guarded)
        .await
        .map_err(|_| Problem::invalid_request("The request body cannot be read"))?;
    let (response, session, stream) = actix_ws::handle(&req, body).map_err(|_| {
        Problem::invalid_request(
            "Expected a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)",
        )
    })?;
    let state = state.get_ref().clone();
    let origin_ok = origin_allowed(&req, &state.realtime.allowed_origins);
    let credentials = Credentials::from_request(&req, &query);
    let since = query.get("since").map(|s| s.parse::<StreamSeq>());
    let addr = client_addr(&req);
    actix_web::rt::spawn(async move {
        if !origin_ok {
            socket::refuse(session, CLOSE_BAD_ORIGIN, "origin not allowed").await;
            return;
        }
        let since = match since.transpose() {
            Ok(since) => since,
            Err(_) => {
                socket::refuse(session, CLOSE_POLICY, "since must be a stream position").await;
                return;
            }
        };
        let (user, expires_at) = match credentials.authenticate(&state).await {
            Ok(found) => found,
            Err(reason) => {
                socket::refuse(session, CLOSE_POLICY, reason).await;
                return;
            }
        };
        let keep_alive = state.realtime.keep_alive;
        let opened = Opened {
            user,
            expires_at,
            client_addr: addr,
            since,
            tripwire,
        };
        socket::serve(state, session, stream, opened, keep_alive).await;
    });
    Ok(response)
}

/// Browsers always send `Origin` on a WebSocket upgrade; a page may connect when it is this
/// server's own or an allowed one. Clients that send none are not browsers (no cross-site risk).
fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    let Some(origin) = req.headers().get("origin") else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    origin == own || allowed.iter().any(|a| a == origin)
}

/// What the client presented.
enum Credentials {
    Ticket(String),
    Token(String),
    Session(String),
    None,
}

impl Credentials {
    fn from_request(req: &HttpRequest, query: &HashMap<String, String>) -> Self {
        if let Some(ticket) = query.get("ticket") {
            return Self::Ticket(ticket.clone());
        }
        if let Some(token) = query.get("token") {
            return Self::Token(token.clone());
        }
        if let Some(token) = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return Self::Token(token.trim().to_owned());
        }
        if let Some(cookie) = req.cookie(SESSION_COOKIE) {
            return Self::Session(cookie.value().to_owned());
        }
        Self::None
    }

    /// The active user behind the credentials, and when they stop holding.
    async fn authenticate(
        self,
        state: &AppState,
    ) -> Result<(User, Option<DateTime<Utc>>), &'static str> {
        let (user_id, expires_at) = match self {
            Self::None => return Err("credentials required"),
            Self::Ticket(ticket) => {
                let user = state
                    .store
                    .redeem_ws_ticket(token_hash(&ticket), Utc::now())
                    .await
                    .map_err(|err| {
                        tracing::error!(error = %err, "cannot redeem a ticket");
                        "server error"
                    })?
                    .ok_or("invalid ticket")?;
                (user, None)
            }
            Self::Token(token) => {
                let claims = state
                    .tokens
                    .verify_access(&token)
                    .map_err(|_| "invalid token")?;
                let expires = DateTime::from_timestamp(claims.exp, 0).ok_or("invalid token")?;
                (messaging_domain::user::UserId(claims.sub), Some(expires))
            }
            Self::Session(session) => {
                let user = session_user(state, &session)
                    .await
                    .map_err(|_| "invalid session")?;
                return Ok((user, None));
            }
        };
        use messaging_domain::ports::Directory;
        let user = state
            .store
            .user(user_id)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "cannot load the connecting user");
                "server error"
            })?
            .filter(|u| u.is_active)
            .ok_or("invalid credentials")?;
        Ok((user, expires_at))
    }
}
