//! Users and what relates them: bookings, care assignments, blocks, conversation partners and
//! who hides their presence.

use async_trait::async_trait;

use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::user::{BlockState, Booking, BookingId, CareAssignment, User, UserId};

/// Users and what relates them: bookings, care assignments and blocks.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Directory: Send + Sync + 'static {
    /// One user by id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// One user by login name (exact match).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// Several users by id, in no particular order; unknown ids are left out.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn users(&self, ids: Vec<UserId>) -> Result<Vec<User>, StoreError>;

    /// One booking by id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError>;

    /// Every booking between two users, in either role.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn bookings_between(&self, a: UserId, b: UserId) -> Result<Vec<Booking>, StoreError>;

    /// Whether `patient` is assigned to `clinician` now, was once, or never was.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn care_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
    ) -> Result<CareAssignment, StoreError>;

    /// Who has blocked whom between `first` and `second`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn blocks_between(&self, first: UserId, second: UserId)
    -> Result<BlockState, StoreError>;

    /// Records (`blocked = true`) or lifts a block by `blocker` on `blocked`, with its audit
    /// record; returns whether anything changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn set_block(
        &self,
        blocker: UserId,
        blocked: UserId,
        on: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError>;

    /// Everyone `user` shares a conversation with and has no block with (in either direction).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn conversation_partners(&self, user: UserId) -> Result<Vec<UserId>, StoreError>;

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
