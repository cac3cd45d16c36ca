//! Users and what relates them for the contact rules: bookings, care assignments and shared
//! conversations. These are reads; admins change them through
//! [`Administration`](super::Administration).

use async_trait::async_trait;

use crate::error::StoreError;
use crate::user::{Booking, BookingId, CareAssignment, User, UserId};

/// Users, bookings, care assignments and conversation partners, by id.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait People: Send + Sync + 'static {
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

    /// Everyone `user` shares a conversation with and has no block with (in either direction).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn conversation_partners(&self, user: UserId) -> Result<Vec<UserId>, StoreError>;
}
