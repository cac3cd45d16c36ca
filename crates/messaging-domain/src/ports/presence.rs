//! Who hides their presence from their conversation partners.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::user::UserId;

/// Each user's presence setting.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PresenceSettings: Send + Sync + 'static {
    /// Whether `user` hides their presence.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn presence_hidden(&self, user: UserId) -> Result<bool, StoreError>;

    /// Hides or shows `user`'s presence; returns whether anything changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn set_presence_hidden(&self, user: UserId, hidden: bool) -> Result<bool, StoreError>;
}
