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
use messaging_domain::accounts::{Credential, Principal};
use messaging_domain::event::StreamSeq;
use messaging_domain::ports::People;
use messaging_domain::service::accounts::AuthError;
use messaging_domain::user::{User, UserId};

use crate::auth::{SESSION_COOKIE, client_addr, session_key, token_hash};
use crate::problem::Problem;
use crate::realtime::frame_limit;
use crate::realtime::socket::{
    self, CLOSE_BAD_ORIGIN, CLOSE_POLICY, CLOSE_TRY_AGAIN, MAX_CLIENT_MESSAGE, Opened,
};
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
        let opened = match credentials.authenticate(&state).await {
            Ok((user, principal, token_expiry)) => Opened {
                user,
                expires_at: earliest(token_expiry, principal.valid_until),
                session: principal.session,
                client_addr: addr,
                since,
                tripwire,
            },
            Err((code, reason)) => {
                socket::refuse(session, code, reason).await;
                return;
            }
        };
        let keep_alive = state.realtime.keep_alive;
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
    let own = crate::forwarded::request_origin(req).origin();
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

    /// The active user behind the credentials, as the domain decides for every request, and
    /// when an access token expires. A refusal is a close code: 1008 for credentials that do not
    /// hold, 1013 (try again later) when the store cannot answer.
    async fn authenticate(
        self,
        state: &AppState,
    ) -> Result<(User, Principal, Option<DateTime<Utc>>), (u16, &'static str)> {
        let (credential, token_expiry) = match self {
            Self::None => return Err((CLOSE_POLICY, "credentials required")),
            Self::Ticket(ticket) => (Credential::Ticket(token_hash(&ticket)), None),
            Self::Token(token) => {
                let claims = state
                    .tokens
                    .verify_access(&token)
                    .map_err(|_| (CLOSE_POLICY, "invalid token"))?;
                let expires = DateTime::from_timestamp(claims.exp, 0)
                    .ok_or((CLOSE_POLICY, "invalid token"))?;
                let credential = Credential::AccessToken {
                    user_id: UserId(claims.sub),
                    version: claims.ver,
                };
                (credential, Some(expires))
            }
            Self::Session(session) => (Credential::Session(session_key(&session)), None),
        };
        let principal = state
            .accounts
            .authenticate(credential)
            .await
            .map_err(|err| match err {
                AuthError::Store(messaging_domain::StoreError::Unavailable(_)) => {
                    (CLOSE_TRY_AGAIN, "try again later")
                }
                AuthError::Store(err) => {
                    tracing::error!(
                        error = %crate::problem::error_chain(&err),
                        "cannot check a connecting socket's credentials"
                    );
                    (CLOSE_TRY_AGAIN, "try again later")
                }
                AuthError::AccountInactive => (CLOSE_POLICY, "account inactive"),
                AuthError::Unauthenticated | AuthError::SessionExpired => {
                    (CLOSE_POLICY, "invalid credentials")
                }
            })?;
        let user = state
            .store
            .user(principal.user_id)
            .await
            .map_err(|err| {
                if !matches!(err, messaging_domain::StoreError::Unavailable(_)) {
                    tracing::error!(
                        error = %crate::problem::error_chain(&err),
                        "cannot load the connecting user"
                    );
                }
                (CLOSE_TRY_AGAIN, "try again later")
            })?
            .ok_or((CLOSE_POLICY, "invalid credentials"))?;
        Ok((user, principal, token_expiry))
    }
}

/// The earlier of two optional instants.
fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
