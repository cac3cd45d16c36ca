//! Events: users' stored streams, replayed to a device that reconnects, and the publisher that
//! delivers events after their change is stored.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::SessionKey;
use crate::error::StoreError;
use crate::event::{LiveEvent, Replay, StreamEvent, StreamSeq};
use crate::user::UserId;

/// Users' event streams as stored: what real-time delivery replays to a device that reconnects.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Up to `limit` entries of `user`'s stream after `after`, oldest first; or
    /// [`Replay::Resync`] when entries after `after` are no longer kept (or `after` is beyond the
    /// newest entry).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn events_after(
        &self,
        user: UserId,
        after: StreamSeq,
        limit: u32,
    ) -> Result<Replay, StoreError>;

    /// The number of the newest entry of `user`'s stream, 0 when it is empty.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn latest_seq(&self, user: UserId) -> Result<StreamSeq, StoreError>;

    /// Forgets entries appended before `before`; returns how many. Streams keep their numbering.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// Delivers events to the users concerned after their change is stored.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait EventPublisher: Send + Sync + 'static {
    /// Hands stored stream entries over for delivery, after their transaction committed. It must
    /// not block; a lost hand-over costs latency only, since devices catch up from the stream.
    fn publish(&self, events: Vec<StreamEvent>);

    /// Hands a fleeting event over for delivery to whoever is connected now. It must not block.
    fn publish_live(&self, event: LiveEvent);

    /// Closes, on every instance, the user's open connections: all of them (`session: None`, the
    /// account was deactivated) or those opened through one browser session (it was logged out).
    /// A connection outlives the credential it was opened with, so ending a credential must reach
    /// it. It must not block.
    fn disconnect(&self, user: UserId, session: Option<SessionKey>);

    /// The account's status changed (activated, deactivated, a new role): whatever is cached of
    /// it, on any instance, must be read afresh. It must not block.
    fn account_changed(&self, user: UserId);
}
