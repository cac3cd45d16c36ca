//! The hub's side of one WebSocket connection: the signals it queues for the socket, the
//! wake-ups it folds into one number (and drops once the socket is past them), and the reason it
//! dropped the connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use messaging_domain::accounts::SessionKey;
use messaging_domain::event::{StreamEvent, StreamSeq};
use tokio::sync::{Notify, mpsc};

/// What the hub hands a connection.
#[derive(Debug, Clone)]
pub enum Signal {
    /// A committed entry of the connection's user's stream.
    Stored(Arc<StreamEvent>),
    /// A rendered fleeting frame.
    Live(Arc<str>),
}

/// Why the hub dropped a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kick {
    /// It fell a whole queue behind (close 4008; the client resumes with `since`).
    TooSlow,
    /// Its user's account was deactivated (close 1008).
    AccountInactive,
    /// The browser session it was opened through was logged out, or the account's password
    /// changed (close 1008).
    CredentialRevoked,
}

/// The hub's side of one connection.
#[derive(Debug)]
pub struct ConnectionHandle {
    pub(super) id: u64,
    /// The browser session the connection was opened through, if any.
    pub(super) session: Option<SessionKey>,
    pub(super) queue: mpsc::Sender<Signal>,
    /// 0 while connected, else 1 + the [`Kick`] reason.
    kicked: AtomicU8,
    kick: Notify,
    /// The highest stream number announced for this user and not yet looked at (0: none).
    /// Wake-ups are folded here instead of queued, so a burst of announcements cannot fill
    /// the queue of a socket that is busy replaying.
    wake: AtomicU64,
    woken: Notify,
    /// The connection's cursor: the last stream number it handed to its client (or skipped
    /// past). A wake-up for an entry up to it is dropped: this process hands its own entries
    /// over right after their commit, and its backup wake-up a second later (the announcement
    /// it hears back) would otherwise wake every socket of every recipient for nothing, one
    /// thread switch each (about 1 000 a second at 200 sends a second to 5 devices).
    delivered: AtomicU64,
}

impl ConnectionHandle {
    pub(super) fn new(id: u64, session: Option<SessionKey>, queue: mpsc::Sender<Signal>) -> Self {
        Self {
            id,
            session,
            queue,
            kicked: AtomicU8::new(0),
            kick: Notify::new(),
            wake: AtomicU64::new(0),
            woken: Notify::new(),
            delivered: AtomicU64::new(0),
        }
    }

    /// Resolves, with the reason, once the hub dropped this connection.
    pub async fn kicked(&self) -> Kick {
        loop {
            let notified = self.kick.notified();
            match self.kicked.load(Ordering::Acquire) {
                0 => notified.await,
                1 => return Kick::TooSlow,
                2 => return Kick::AccountInactive,
                _ => return Kick::CredentialRevoked,
            }
        }
    }

    /// Resolves with the highest announced stream number once there is one to look at.
    pub async fn woken(&self) -> StreamSeq {
        loop {
            let seq = self.wake.swap(0, Ordering::AcqRel);
            if seq > 0 {
                return seq;
            }
            self.woken.notified().await;
        }
    }

    /// Records that the connection's cursor is at `seq` (see `delivered`).
    pub fn delivered(&self, seq: StreamSeq) {
        self.delivered.store(seq, Ordering::Release);
    }

    pub(super) fn wake(&self, seq: StreamSeq) {
        if seq <= self.delivered.load(Ordering::Acquire) {
            return;
        }
        self.wake.fetch_max(seq, Ordering::AcqRel);
        self.woken.notify_one();
    }

    pub(super) fn kick(&self, why: Kick) {
        let code = match why {
            Kick::TooSlow => 1,
            Kick::AccountInactive => 2,
            Kick::CredentialRevoked => 3,
        };
        self.kicked.store(code, Ordering::Release);
        self.kick.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn handle() -> ConnectionHandle {
        ConnectionHandle::new(1, None, tokio::sync::mpsc::channel(1).0)
    }

    /// The backup wake-up a second after a send finds the socket past the entry: it must not
    /// wake the socket's task (one thread switch each, for nothing); a newer entry still does.
    #[tokio::test]
    async fn a_socket_is_woken_only_for_entries_past_its_cursor() {
        let handle = handle();
        handle.wake(3);
        assert_eq!(handle.woken().await, 3, "behind: woken");
        handle.delivered(5);
        handle.wake(4);
        handle.wake(5);
        assert!(
            handle.woken().now_or_never().is_none(),
            "already sent: not woken"
        );
        handle.wake(6);
        assert_eq!(handle.woken().await, 6);
    }
}
