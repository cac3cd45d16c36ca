//! One WebSocket connection, from the upgrade until it closes: replay from `since`, the live
//! stream, client frames (ping, typing, delivery receipts; fragmented ones reassembled, typing
//! and receipts held to a quota), keep-alive and the close codes.

use std::sync::Arc;
use std::time::Duration;

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, MessageStream, ProtocolError, Session};
use chrono::Utc;
use futures_util::StreamExt;
use messaging_domain::accounts::SessionKey;
use messaging_domain::event::{Replay, StreamSeq};
use messaging_domain::message::MessageId;
use messaging_domain::ports::EventLog;
use messaging_domain::user::{User, UserId};
use messaging_domain::{Actor, LiveError};
use tokio::time::Instant;

use super::frame_limit::Tripwire;
use super::frames::{self, ClientFrame};
use super::quota::{self, FrameQuota, Verdict};
use super::{ConnectionHandle, Hub, Kick, PRESENCE_STALE_SECS, Signal};
use crate::state::AppState;

/// Close code: the client was silent too long.
pub const CLOSE_IDLE: u16 = 4000;
/// Close code: the token the connection was opened with expired.
pub const CLOSE_TOKEN_EXPIRED: u16 = 4001;
/// Close code: the page's origin may not open WebSockets here.
pub const CLOSE_BAD_ORIGIN: u16 = 4003;
/// Close code: policy violation (here: the account was deactivated, or the session the socket
/// was opened through logged out, while connected).
pub const CLOSE_POLICY: u16 = 1008;
/// Close code: the server cannot serve the socket now (its database is unreachable); try again
/// later.
pub const CLOSE_TRY_AGAIN: u16 = 1013;
/// Close code: the client fell a whole queue behind; reconnect with `since`.
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// Close code: a frame or message over [`MAX_CLIENT_MESSAGE`] (RFC 6455's "message too big").
pub const CLOSE_TOO_BIG: u16 = 1009;

/// The largest frame, or message reassembled from fragments, a client may send (clients send
/// small JSON frames only).
pub const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// Entries read from the store per replay query.
const REPLAY_BATCH: u32 = 256;

/// Keep-alive timings.
#[derive(Debug, Clone, Copy)]
pub struct KeepAlive {
    /// Between the server's pings.
    pub ping_every: Duration,
    /// Silence after which the connection is closed.
    pub idle_after: Duration,
}

/// Who opened the connection, and until when their credentials hold.
#[derive(Debug)]
pub struct Opened {
    /// The user.
    pub user: User,
    /// When the credential it was opened with stops holding (an access token's expiry, a
    /// browser session's absolute lifetime).
    pub expires_at: Option<chrono::DateTime<Utc>>,
    /// The browser session it was opened through, if any: logging out of it closes the socket.
    pub session: Option<SessionKey>,
    /// The caller's address, for the audit log.
    pub client_addr: Option<String>,
    /// Replay entries after this position first.
    pub since: Option<StreamSeq>,
    /// Tells whether the frame limit ended the client's byte stream.
    pub tripwire: Tripwire,
}

/// Why a connection ends.
enum End {
    /// The client vanished.
    Gone,
    /// The client closed it: answer with a Close frame echoing its code (RFC 6455 §5.5.1).
    Answer(Option<CloseCode>),
    /// We close it with this code and reason.
    Close(u16, String),
}

/// Closes a session that was refused before it started (bad origin, bad credentials).
pub async fn refuse(session: Session, code: u16, reason: &str) {
    let _ = session
        .close(Some(CloseReason {
            code: CloseCode::from(code),
            description: Some(reason.to_owned()),
        }))
        .await;
}

struct Connection {
    state: AppState,
    hub: Hub,
    user: UserId,
    actor: Actor,
    session: Session,
    handle: Arc<ConnectionHandle>,
    /// The last stream entry handed to the session (so the client gets it before any close).
    cursor: StreamSeq,
    typing_quota: FrameQuota,
    receipt_quota: FrameQuota,
}

/// Serves one connection until it ends.
pub async fn serve(
    state: AppState,
    session: Session,
    stream: MessageStream,
    opened: Opened,
    keep_alive: KeepAlive,
) {
    let hub = state.hub.clone();
    let user = opened.user.id;
    let mut registration = hub.register(user, opened.session.clone());
    let mut shutdown = hub.shutting_down();
    if registration.first_here {
        came_online(&state, &hub, user).await;
    }
    let mut conn = Connection {
        actor: Actor {
            user_id: user,
            client_addr: opened.client_addr,
        },
        state,
        hub: hub.clone(),
        user,
        session,
        handle: Arc::clone(&registration.handle),
        cursor: 0,
        typing_quota: FrameQuota::new(quota::TYPING, std::time::Instant::now()),
        receipt_quota: FrameQuota::new(quota::RECEIPTS, std::time::Instant::now()),
    };
    // Nothing over the limit gets this far (the frame limit cuts the byte stream at its
    // header); the codec's and the aggregator's own limits are the same, as a second line.
    let mut stream = stream
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_CLIENT_MESSAGE);
    let tripwire = opened.tripwire;
    let end = async {
        let latest = event_log_latest(&conn).await?;
        conn.advance(opened.since.unwrap_or(latest));
        conn.send(frames::connected(opened.user.summary(), latest, opened.since))
            .await?;
        if opened.since.is_some() {
            conn.catch_up().await?;
        }
        let expiry = opened.expires_at.map(|at| {
            let left = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            Instant::now() + left
        });
        let mut ping = tokio::time::interval_at(
            Instant::now() + keep_alive.ping_every,
            keep_alive.ping_every,
        );
        let mut last_heard = Instant::now();
        let handle = Arc::clone(&conn.handle);
        loop {
            tokio::select! {
                signal = registration.signals.recv() => match signal {
                    Some(signal) => conn.on_signal(signal).await?,
                    None => return Err(conn.too_slow()),
                },
                why = handle.kicked() => return Err(conn.kicked(why)),
                seq = handle.woken() => {
                    if seq > conn.cursor {
                        conn.catch_up().await?;
                    }
                }
                message = stream.next() => {
                    last_heard = Instant::now();
                    match message {
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            conn.on_client_frame(&text).await?;
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            conn.session.pong(&bytes).await.map_err(|_| End::Gone)?;
                        }
                        Some(Ok(AggregatedMessage::Close(reason))) => {
                            return Err(End::Answer(reason.map(|r| r.code)));
                        }
                        None if tripwire.tripped() => return Err(too_big()),
                        None => return Err(End::Gone),
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            conn.send(frames::error("BAD_FRAME", "Frames are JSON text")).await?;
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Err(ProtocolError::Overflow)) => return Err(too_big()),
                        Some(Err(_)) => {
                            return Err(End::Close(
                                u16::from(CloseCode::Protocol),
                                "protocol error".into(),
                            ));
                        }
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() >= keep_alive.idle_after {
                        return Err(End::Close(CLOSE_IDLE, "idle".into()));
                    }
                    conn.session.ping(b"").await.map_err(|_| End::Gone)?;
                }
                () = sleep_until(expiry) => {
                    conn.send(frames::token_expired()).await?;
                    return Err(End::Close(CLOSE_TOKEN_EXPIRED, "token expired".into()));
                }
                _ = shutdown.changed() => {
                    return Err(End::Close(u16::from(CloseCode::Away), "server shutting down".into()));
                }
            }
        }
        #[allow(unreachable_code)]
        Ok::<(), End>(())
    }
    .await;
    let last_here = hub.unregister(user, &conn.handle);
    match end {
        Err(End::Close(code, reason)) => refuse(conn.session, code, &reason).await,
        Err(End::Answer(code)) => {
            let reason = code.map(|code| CloseReason {
                code,
                description: None,
            });
            let _ = conn.session.close(reason).await;
        }
        Err(End::Gone) | Ok(()) => {}
    }
    if last_here {
        went_offline(&conn.state, &hub, user).await;
    }
}

fn too_big() -> End {
    End::Close(CLOSE_TOO_BIG, "message too big".into())
}

async fn event_log_latest(conn: &Connection) -> Result<StreamSeq, End> {
    super::event_log(&conn.hub)
        .latest_seq(conn.user)
        .await
        .map_err(store_failed)
}

/// The close for a store failure: 1013 (try again later) while the database is out of reach,
/// which the store logs once per outage; 1011 with the cause logged otherwise.
fn store_failed(err: messaging_domain::StoreError) -> End {
    match err {
        messaging_domain::StoreError::Unavailable(_) => {
            End::Close(CLOSE_TRY_AGAIN, "try again later".into())
        }
        other => {
            tracing::error!(error = %crate::problem::error_chain(&other), "cannot read the event stream");
            End::Close(u16::from(CloseCode::Error), "server error".into())
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Connection {
    /// Sends a text frame, giving up if the hub kicks the connection meanwhile (a client that
    /// stopped reading blocks the send).
    async fn send(&mut self, text: String) -> Result<(), End> {
        let handle = Arc::clone(&self.handle);
        tokio::select! {
            sent = self.session.text(text) => sent.map_err(|_| End::Gone),
            why = handle.kicked() => Err(self.kicked(why)),
        }
    }

    fn kicked(&self, why: Kick) -> End {
        match why {
            Kick::TooSlow => self.too_slow(),
            Kick::AccountInactive => End::Close(CLOSE_POLICY, "account inactive".into()),
            Kick::CredentialRevoked => End::Close(CLOSE_POLICY, "credentials revoked".into()),
        }
    }

    /// Moves the cursor to `seq`, and tells the hub, whose wake-ups for entries up to it are
    /// then skipped instead of waking this task for nothing.
    fn advance(&mut self, seq: StreamSeq) {
        self.cursor = seq;
        self.handle.delivered(seq);
    }

    fn too_slow(&self) -> End {
        End::Close(
            CLOSE_TOO_SLOW,
            format!("too slow; reconnect with since={}", self.cursor),
        )
    }

    async fn on_signal(&mut self, signal: Signal) -> Result<(), End> {
        match signal {
            Signal::Stored(entry) if entry.seq == self.cursor + 1 => {
                self.send(frames::stored(&entry)).await?;
                self.advance(entry.seq);
                Ok(())
            }
            Signal::Stored(entry) if entry.seq > self.cursor => self.catch_up().await,
            Signal::Stored(_) => Ok(()),
            Signal::Live(frame) => self.send(frame.to_string()).await,
        }
    }

    /// Sends every stored entry after the cursor, oldest first.
    async fn catch_up(&mut self) -> Result<(), End> {
        loop {
            let replay = super::event_log(&self.hub)
                .events_after(self.user, self.cursor, REPLAY_BATCH)
                .await
                .map_err(store_failed)?;
            match replay {
                Replay::Events(entries) => {
                    let full = entries.len() == REPLAY_BATCH as usize;
                    for entry in entries {
                        self.send(frames::stored(&entry)).await?;
                        self.advance(entry.seq);
                    }
                    if !full {
                        return Ok(());
                    }
                }
                Replay::Resync { latest } => {
                    self.send(frames::resync(latest)).await?;
                    self.advance(latest);
                    return Ok(());
                }
            }
        }
    }

    async fn on_client_frame(&mut self, text: &str) -> Result<(), End> {
        let Ok(frame) = serde_json::from_str::<ClientFrame>(text) else {
            return self
                .send(frames::error(
                    "BAD_FRAME",
                    "Expected {\"type\": \"ping\" | \"typing\" | \"delivery_receipt\", ...}",
                ))
                .await;
        };
        match frame {
            ClientFrame::Ping => self.send(frames::pong()).await,
            ClientFrame::Typing {
                recipient_id,
                is_typing,
            } => {
                match self.typing_quota.take(std::time::Instant::now()) {
                    Verdict::Allow => {}
                    Verdict::Drop => return Ok(()),
                    Verdict::DropAndWarn => return self.send(rate_limited()).await,
                }
                match self
                    .state
                    .messaging
                    .typing(&self.actor, UserId(recipient_id), is_typing)
                    .await
                {
                    Ok(()) => Ok(()),
                    Err(LiveError::NotFound) => {
                        self.send(frames::error(
                            "USER_NOT_FOUND",
                            "No conversation with that user",
                        ))
                        .await
                    }
                    Err(LiveError::Store(err)) => {
                        tracing::error!(error = %err, "typing failed");
                        self.send(frames::error("INTERNAL", "Internal error")).await
                    }
                }
            }
            ClientFrame::DeliveryReceipt { message_id } => {
                match self.receipt_quota.take(std::time::Instant::now()) {
                    Verdict::Allow => {}
                    Verdict::Drop => return Ok(()),
                    Verdict::DropAndWarn => return self.send(rate_limited()).await,
                }
                match self
                    .state
                    .messaging
                    .mark_delivered(&self.actor, MessageId(message_id))
                    .await
                {
                    Ok(()) => Ok(()),
                    Err(messaging_domain::ReadError::NotFound) => {
                        self.send(frames::error("MESSAGE_NOT_FOUND", "No such message"))
                            .await
                    }
                    Err(messaging_domain::ReadError::Store(err)) => {
                        tracing::error!(error = %err, "delivery receipt failed");
                        self.send(frames::error("INTERNAL", "Internal error")).await
                    }
                }
            }
        }
    }
}

/// The answer to the first of a run of frames over their quota.
fn rate_limited() -> String {
    frames::error(
        "RATE_LIMITED",
        "Too many typing or delivery_receipt frames; the excess is dropped",
    )
}

/// The user's first connection here: mark them present, and tell their partners if no other
/// instance had them already.
async fn came_online(state: &AppState, hub: &Hub, user: UserId) {
    let now = Utc::now();
    let since = now - chrono::TimeDelta::seconds(PRESENCE_STALE_SECS);
    let result = async {
        let elsewhere = hub.store().presence_online(user, since).await?;
        hub.store()
            .presence_touch(hub.instance(), &[user], now)
            .await?;
        if !elsewhere {
            state.presence.announce(user, true).await?;
        }
        Ok::<(), messaging_domain::StoreError>(())
    }
    .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, "presence update failed");
    }
}

/// The user's last connection here closed: forget it, and tell their partners if no other
/// instance has them.
async fn went_offline(state: &AppState, hub: &Hub, user: UserId) {
    let since = Utc::now() - chrono::TimeDelta::seconds(PRESENCE_STALE_SECS);
    let result = async {
        hub.store()
            .presence_leave(hub.instance(), Some(&[user]))
            .await?;
        // A new connection may have arrived meanwhile.
        if !hub.is_connected_here(user) && !hub.store().presence_online(user, since).await? {
            state.presence.announce(user, false).await?;
        }
        Ok::<(), messaging_domain::StoreError>(())
    }
    .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, "presence update failed");
    }
}
