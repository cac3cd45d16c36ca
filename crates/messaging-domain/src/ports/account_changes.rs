//! Changes to an account made by an admin in one go.

use async_trait::async_trait;

use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::user::{Role, User, UserId};

/// What an admin changes about an account at once; `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountChange {
    /// The new role.
    pub role: Option<Role>,
    /// Active or not. Deactivating raises the credential version and revokes every credential
    /// the account held.
    pub active: Option<bool>,
}

/// Account changes that must commit together.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AccountChanges: Send + Sync + 'static {
    /// Applies `change` to `user` and appends `audit` (one record per field changed), all in one
    /// transaction; returns the account as it is afterwards.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user; [`StoreError::Backend`] when the store fails
    /// (nothing is changed then).
    async fn change_account(
        &self,
        user: UserId,
        change: AccountChange,
        audit: Vec<AuditRecord>,
    ) -> Result<User, StoreError>;
}
