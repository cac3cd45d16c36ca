//! What a login opens: browser sessions, and refresh tokens in families (one per login).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::user::UserId;

/// Browser sessions and refresh tokens, stored by hash only.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Sessions: Send + Sync + 'static {
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
