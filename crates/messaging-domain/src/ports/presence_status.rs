//! Who is connected: presence as the instances holding users' sockets record it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::user::UserId;

/// Which users have an open connection on some instance.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PresenceStatus: Send + Sync + 'static {
    /// Whether some instance recorded a connection of `user` at or after `since` (instances
    /// refresh their records while the connection stays open, so an older record is stale).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn online_since(&self, user: UserId, since: DateTime<Utc>) -> Result<bool, StoreError>;
}
