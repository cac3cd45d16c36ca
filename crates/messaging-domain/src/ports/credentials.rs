//! Accounts and their credentials: creating an account, the login name and password hash it is
//! checked against, and changing the password.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::{NewAccount, SessionKey};
use crate::audit::AuditRecord;
use crate::error::StoreError;
#[cfg(doc)]
use crate::error::Unique;
use crate::user::{User, UserId};

/// Accounts and their password hashes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Credentials: Send + Sync + 'static {
    /// Creates an account and writes its audit record in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] ([`Unique::Username`] or [`Unique::Email`]) when taken,
    /// [`StoreError::Backend`] otherwise.
    async fn create_account(
        &self,
        account: NewAccount,
        audit: AuditRecord,
    ) -> Result<User, StoreError>;

    /// A user and their password hash, by login name.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError>;

    /// A user and their password hash, by id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn credentials_by_id(&self, user: UserId) -> Result<Option<(User, String)>, StoreError>;

    /// Replaces a user's password hash and, in the same transaction, raises their credential
    /// version (so every access token and ticket issued so far stops working), revokes every
    /// refresh token and every browser session but `keep`, and writes `audit`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: Option<SessionKey>,
        now: DateTime<Utc>,
        audit: AuditRecord,
    ) -> Result<(), StoreError>;
}
