//! Real-time delivery: the hub that routes stream entries and fleeting events to the WebSockets
//! open on this instance, and hears other instances through PostgreSQL LISTEN/NOTIFY.
//!
//! The stored streams are the truth; everything the hub hands a connection is a hint. A
//! connection keeps its own cursor (the last `seq` it sent): an entry right after the cursor is
//! sent at once, an entry further ahead (or a wake-up naming one) makes it read the missing
//! entries from the store, and anything at or before the cursor is skipped. So entries arriving
//! twice (in-process and by NOTIFY), out of order (two workers committing close together) or not
//! at all (a lost notification, a full queue) still reach the device exactly once, in order.

mod connection;
pub mod frame_limit;
pub mod frames;
pub mod quota;
pub mod socket;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use messaging_domain::accounts::SessionKey;
use messaging_domain::event::{LiveEvent, StreamEvent, StreamSeq};
use messaging_domain::ports::{EventLog, EventPublisher};
use messaging_domain::user::UserId;
use messaging_store::Store;
use messaging_store::listen::Notice;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::accounts::StatusCache;
pub use connection::{ConnectionHandle, Kick, Signal};

/// How long an instance's presence rows count without a heartbeat: three missed beats (the
/// domain's rule, which decides who is online).
pub const PRESENCE_STALE_SECS: i64 = messaging_domain::service::presence::PRESENCE_STALE_SECS;
/// How long this instance's own change announcements wait before they wake its sockets.
const OWN_NOTICE_DELAY: Duration = Duration::from_secs(1);
/// How often each instance refreshes its presence rows.
const PRESENCE_HEARTBEAT: Duration = Duration::from_secs(30);
/// How long an instance may stay silent before its presence rows are deleted by the others (it
/// crashed, or was killed, and never cleared them). Far beyond [`PRESENCE_STALE_SECS`]: the rows
/// stopped counting long before; this only keeps them from piling up.
const PRESENCE_SWEEP_AFTER: TimeDelta = TimeDelta::hours(1);

/// A fleeting event on its way between instances.
#[derive(Debug, Serialize, Deserialize)]
struct LiveNotice {
    /// The instance that raised it (which delivered it locally already).
    origin: String,
    audience: Vec<i64>,
    frame: String,
    /// Instead of a frame: close the audience's sockets (their credentials were revoked).
    #[serde(default)]
    disconnect: bool,
    /// With `disconnect`: only those opened through this browser session (by its hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session: Option<String>,
    /// Instead of a frame: the audience's account statuses changed; forget what is cached.
    #[serde(default)]
    account_changed: bool,
}

/// Routes events to this instance's WebSockets.
#[derive(Debug, Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    instance: String,
    store: Store,
    /// Account statuses cached for authentication: a revocation drops its user's entry.
    statuses: StatusCache,
    queue_capacity: usize,
    connections: Mutex<HashMap<UserId, Vec<Arc<ConnectionHandle>>>>,
    next_id: AtomicU64,
    shutdown: watch::Sender<bool>,
    outgoing_live: mpsc::Sender<LiveNotice>,
    outgoing_live_rx: Mutex<Option<mpsc::Receiver<LiveNotice>>>,
}

/// A registered connection: its queue, and whether it is its user's first on this instance.
#[derive(Debug)]
pub struct Registration {
    /// The hub's handle (for kicks).
    pub handle: Arc<ConnectionHandle>,
    /// What the hub sends.
    pub signals: mpsc::Receiver<Signal>,
    /// The user had no other connection on this instance.
    pub first_here: bool,
}

impl Hub {
    /// A hub for this instance over `store`, with `queue_capacity` signals per connection; it
    /// drops a user's entry from `statuses` whenever their credentials are revoked, here or on
    /// another instance.
    #[must_use]
    pub fn new(store: Store, queue_capacity: usize, statuses: StatusCache) -> Self {
        let (shutdown, _) = watch::channel(false);
        let (outgoing_live, outgoing_live_rx) = mpsc::channel(4096);
        Self {
            inner: Arc::new(Inner {
                // The store's id is the origin its change announcements carry.
                instance: store.instance_id().to_owned(),
                store,
                statuses,
                queue_capacity: queue_capacity.max(8),
                connections: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                shutdown,
                outgoing_live,
                outgoing_live_rx: Mutex::new(Some(outgoing_live_rx)),
            }),
        }
    }

    /// This instance's id (in presence rows and live notices).
    #[must_use]
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// The store the hub reads streams from.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Registers a connection of `user`, opened through `session` if it came from a browser
    /// session.
    #[must_use]
    pub fn register(&self, user: UserId, session: Option<SessionKey>) -> Registration {
        let (queue, signals) = mpsc::channel(self.inner.queue_capacity);
        let handle = Arc::new(ConnectionHandle::new(
            self.inner.next_id.fetch_add(1, Ordering::Relaxed),
            session,
            queue,
        ));
        let mut connections = self.lock();
        let list = connections.entry(user).or_default();
        let first_here = list.is_empty();
        list.push(Arc::clone(&handle));
        Registration {
            handle,
            signals,
            first_here,
        }
    }

    /// Forgets a connection; returns whether it was its user's last on this instance.
    pub fn unregister(&self, user: UserId, handle: &ConnectionHandle) -> bool {
        let mut connections = self.lock();
        let Some(list) = connections.get_mut(&user) else {
            return false;
        };
        list.retain(|h| h.id != handle.id);
        if list.is_empty() {
            connections.remove(&user);
            true
        } else {
            false
        }
    }

    /// How many connections are open here.
    #[must_use]
    pub fn connection_count(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// Whether `user` has a connection on this instance.
    #[must_use]
    pub fn is_connected_here(&self, user: UserId) -> bool {
        self.lock().contains_key(&user)
    }

    /// Resolves once the server starts shutting down.
    pub fn shutting_down(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Tells every connection to close (1001) and stops taking new ones.
    pub fn shut_down(&self) {
        let _ = self.inner.shutdown.send(true);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Vec<Arc<ConnectionHandle>>>> {
        // A panic while holding the map cannot leave it inconsistent (every change is one call).
        self.inner
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands `signal` to every connection of `user` here; a connection whose queue is full is
    /// kicked (it resumes from its cursor when it reconnects) and forgotten.
    fn offer(&self, user: UserId, signal: &Signal) {
        let mut connections = self.lock();
        let Some(list) = connections.get_mut(&user) else {
            return;
        };
        list.retain(|handle| match handle.queue.try_send(signal.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                handle.kick(Kick::TooSlow);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if list.is_empty() {
            connections.remove(&user);
        }
    }

    /// Closes the sockets of `user` on this instance: all of them, or those opened through
    /// `session`; and forgets the user's cached account status.
    fn close_local(&self, user: UserId, session: Option<&SessionKey>) {
        self.inner.statuses.forget(user);
        let mut connections = self.lock();
        let Some(list) = connections.get_mut(&user) else {
            return;
        };
        let why = match session {
            None => Kick::AccountInactive,
            Some(_) => Kick::CredentialRevoked,
        };
        list.retain(|handle| {
            let hit = session.is_none_or(|s| handle.session.as_ref() == Some(s));
            if hit {
                handle.kick(why);
            }
            !hit
        });
        if list.is_empty() {
            connections.remove(&user);
        }
    }

    /// Tells every socket of `user` here that the stream reached `seq` (it reads what it misses).
    fn wake(&self, user: UserId, seq: StreamSeq) {
        if let Some(list) = self.lock().get(&user) {
            for handle in list {
                handle.wake(seq);
            }
        }
    }

    fn deliver_live(&self, audience: &[UserId], frame: &Arc<str>) {
        let signal = Signal::Live(Arc::clone(frame));
        for user in audience {
            self.offer(*user, &signal);
        }
    }

    fn handle_notice(&self, notice: Notice) {
        match notice {
            Notice::Appended { origin, positions } if origin == self.inner.instance => {
                // This process's own change, already handed over in-process right after its
                // commit. The announcement only backs that up (a request cancelled between its
                // commit and its hand-over), so it is acted on a little later, when it normally
                // finds every socket past it and costs no read.
                let hub = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(OWN_NOTICE_DELAY).await;
                    for (user, seq) in positions {
                        hub.wake(user, seq);
                    }
                });
            }
            Notice::Appended { positions, .. } => {
                for (user, seq) in positions {
                    self.wake(user, seq);
                }
            }
            Notice::Live(payload) => {
                let Ok(live) = serde_json::from_str::<LiveNotice>(&payload) else {
                    tracing::warn!("unreadable live notification ignored");
                    return;
                };
                if live.origin == self.inner.instance {
                    return;
                }
                let audience: Vec<UserId> = live.audience.into_iter().map(UserId).collect();
                if live.account_changed {
                    for user in audience {
                        self.inner.statuses.forget(user);
                    }
                } else if live.disconnect {
                    let session = live.session.map(SessionKey);
                    for user in audience {
                        self.close_local(user, session.as_ref());
                    }
                } else {
                    self.deliver_live(&audience, &Arc::from(live.frame));
                }
            }
        }
    }

    /// Wakes the connections here whose streams moved while nobody listened (after the listener
    /// reconnected, when notifications may have been missed). One read of the stream heads for
    /// all of them; a socket that is already there does nothing, so a reconnect with thousands
    /// of sockets open costs a few queries, not one per socket.
    async fn wake_all(&self) {
        let users: Vec<UserId> = self.lock().keys().copied().collect();
        match self.inner.store.latest_seqs(&users).await {
            Ok(heads) => {
                for (user, seq) in heads {
                    self.wake(user, seq);
                }
            }
            Err(err) => {
                crate::problem::warn_unless_outage(
                    &err,
                    "cannot read stream heads; waking every socket",
                );
                for user in users {
                    self.wake(user, StreamSeq::MAX);
                }
            }
        }
    }

    /// Starts the background tasks: listening to other instances (PostgreSQL), forwarding this
    /// instance's fleeting events to them, the presence heartbeat and stream pruning.
    pub fn start(&self, retention: TimeDelta) {
        let hub = self.clone();
        tokio::spawn(async move { hub.listen_forever().await });
        if let Some(rx) = self
            .inner
            .outgoing_live_rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let hub = self.clone();
            tokio::spawn(async move { hub.forward_live(rx).await });
        }
        let hub = self.clone();
        tokio::spawn(async move { hub.heartbeat_forever().await });
        let hub = self.clone();
        tokio::spawn(async move { hub.prune_forever(retention).await });
    }

    async fn listen_forever(&self) {
        let mut shutdown = self.shutting_down();
        // Retries come every second while the database is away: the first failure is logged, the
        // rest are not until listening works again.
        let mut failing = false;
        loop {
            match self.inner.store.listen().await {
                Ok(None) => return, // SQLite: one process, in-process delivery only.
                Ok(Some(mut notices)) => {
                    failing = false;
                    tracing::info!("listening for other instances' events");
                    self.wake_all().await;
                    loop {
                        tokio::select! {
                            notice = notices.recv() => match notice {
                                Some(notice) => self.handle_notice(notice),
                                None => break,
                            },
                            _ = shutdown.changed() => return,
                        }
                    }
                    tracing::warn!("lost the event listener connection; reconnecting");
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(
                            error = %crate::problem::error_chain(&err),
                            "cannot listen for events; retrying every second"
                        );
                    }
                    failing = true;
                }
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn forward_live(&self, mut rx: mpsc::Receiver<LiveNotice>) {
        while let Some(notice) = rx.recv().await {
            let Ok(payload) = serde_json::to_string(&notice) else {
                continue;
            };
            // Fleeting by nature: a failure costs one typing indicator, not data.
            if let Err(err) = self.inner.store.notify_live(&payload).await {
                crate::problem::warn_unless_outage(&err, "cannot forward a live event");
            }
        }
    }

    async fn heartbeat_forever(&self) {
        let mut shutdown = self.shutting_down();
        let mut tick = tokio::time::interval(PRESENCE_HEARTBEAT);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => break,
            }
            let users: Vec<UserId> = self.lock().keys().copied().collect();
            if let Err(err) = self
                .inner
                .store
                .presence_touch(&self.inner.instance, &users, Utc::now())
                .await
            {
                crate::problem::warn_unless_outage(&err, "presence heartbeat failed");
            }
        }
        if let Err(err) = self
            .inner
            .store
            .presence_leave(&self.inner.instance, None)
            .await
        {
            tracing::warn!(error = %err, "cannot clear presence at shutdown");
        }
    }

    async fn prune_forever(&self, retention: TimeDelta) {
        let mut shutdown = self.shutting_down();
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            match self.inner.store.prune_events(Utc::now() - retention).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "pruned old stream entries"),
                Err(err) => crate::problem::warn_unless_outage(&err, "cannot prune stream entries"),
            }
            match self
                .inner
                .store
                .presence_sweep(Utc::now() - PRESENCE_SWEEP_AFTER)
                .await
            {
                Ok(0) => {}
                Ok(instances) => tracing::info!(instances, "removed silent instances' presence"),
                Err(err) => crate::problem::warn_unless_outage(&err, "cannot sweep presence"),
            }
        }
    }
}

impl EventPublisher for Hub {
    fn publish(&self, events: Vec<StreamEvent>) {
        for event in events {
            let user = event.user_id;
            self.offer(user, &Signal::Stored(Arc::new(event)));
        }
    }

    fn publish_live(&self, event: LiveEvent) {
        let audience = event.audience();
        let frame: Arc<str> = Arc::from(frames::live(&event));
        self.deliver_live(&audience, &frame);
        if self.inner.store.kind() == messaging_store::DatabaseKind::Postgres {
            let notice = LiveNotice {
                origin: self.inner.instance.clone(),
                audience: audience.iter().map(|u| u.0).collect(),
                frame: frame.to_string(),
                disconnect: false,
                session: None,
                account_changed: false,
            };
            if self.inner.outgoing_live.try_send(notice).is_err() {
                tracing::warn!("live event queue full; dropped one fleeting event");
            }
        }
    }

    fn account_changed(&self, user: UserId) {
        self.inner.statuses.forget(user);
        if self.inner.store.kind() == messaging_store::DatabaseKind::Postgres {
            let notice = LiveNotice {
                origin: self.inner.instance.clone(),
                audience: vec![user.0],
                frame: String::new(),
                disconnect: false,
                session: None,
                account_changed: true,
            };
            // Should the queue be full, other instances read the status afresh within the status
            // cache's lifetime anyway.
            if self.inner.outgoing_live.try_send(notice).is_err() {
                tracing::warn!(
                    "live event queue full; other instances keep a stale status briefly"
                );
            }
        }
    }

    fn disconnect(&self, user: UserId, session: Option<SessionKey>) {
        self.close_local(user, session.as_ref());
        if self.inner.store.kind() == messaging_store::DatabaseKind::Postgres {
            let notice = LiveNotice {
                origin: self.inner.instance.clone(),
                audience: vec![user.0],
                frame: String::new(),
                disconnect: true,
                session: session.map(|s| s.0),
                account_changed: false,
            };
            // Should the queue be full, other instances still refuse the revoked credential
            // within the status cache's lifetime; only sockets already open there linger.
            if self.inner.outgoing_live.try_send(notice).is_err() {
                tracing::warn!("live event queue full; other instances keep revoked sockets open");
            }
        }
    }
}

/// The hub's store as the event log connections replay from.
pub(crate) fn event_log(hub: &Hub) -> &impl EventLog {
    &hub.inner.store
}
