//! Accounts and their credentials: the stored accounts, sessions, refresh tokens and WebSocket
//! tickets, and the status read every authenticated request makes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::{AccountStatus, NewAccount, SessionKey, TicketRecord};
use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::user::{User, UserId};

/// Accounts and their credentials, for the server's authentication.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates an account and writes its audit record in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] (`username` or `email`) when taken, [`StoreError::Backend`] otherwise.
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

    /// Stores a new refresh token, by its hash only, in a token family.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError>;

    /// Consumes a refresh token by hash at `now`: marks it used and says what it was. A token
    /// presented a second time revokes its whole family.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn consume_refresh_token(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError>;

    /// Revokes every refresh token of the family the token (by hash) belongs to; returns whether
    /// one was found.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn revoke_refresh_family(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Stores a new browser session.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError>;

    /// A session by the hash of its id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn session(&self, id_hash: String) -> Result<Option<SessionRecord>, StoreError>;

    /// Records that a session was used at `now`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn touch_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Closes a session.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn revoke_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError>;

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

    /// Stores a WebSocket ticket (by hash).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn insert_ws_ticket(&self, ticket: TicketRecord) -> Result<(), StoreError>;

    /// Redeems a ticket by hash at `now`, once: the first caller gets it, any later one (or one
    /// after its expiry) `None`, even when two redeem it at the same time.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn redeem_ws_ticket(
        &self,
        ticket_hash: String,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketRecord>, StoreError>;
}

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

/// A browser session as stored: the hash of its id, never the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session id, hex.
    pub id_hash: String,
    /// Whose session it is.
    pub user_id: UserId,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_seen_at: DateTime<Utc>,
    /// When it was closed (logout), if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A refresh token as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Whose token it is.
    pub user_id: UserId,
    /// The family of tokens descended from one login.
    pub family: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was valid and is now used up; issue a new one in the same family.
    Valid {
        /// Whose token it was.
        user_id: UserId,
        /// Its family.
        family: String,
    },
    /// The token had already been used: the family is now revoked.
    Reused {
        /// Whose token it was.
        user_id: UserId,
    },
    /// Unknown, expired or revoked.
    Invalid,
}
