//! The account status every authenticated request reads.

use async_trait::async_trait;

use crate::accounts::AccountStatus;
use crate::error::StoreError;
use crate::user::UserId;

/// The one read every authenticated request makes: whether an account may act, in what role, and
/// which credentials still hold. An adapter may cache it briefly, but a change (deactivation, a
/// role change, a password change) must reach every reader within a second.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AccountStatuses: Send + Sync + 'static {
    /// The account's status, or `None` when there is no such user.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn account_status(&self, user: UserId) -> Result<Option<AccountStatus>, StoreError>;
}
