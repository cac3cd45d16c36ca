//! What admins change: accounts, bookings and care assignments.

use async_trait::async_trait;

use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::user::{Booking, BookingId, BookingState, Role, User, UserId};

/// What admins change: accounts, bookings and care assignments. Each change is written with its
/// audit record in one transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Administration: Send + Sync + 'static {
    /// Activates or deactivates an account. Deactivating also, in the same transaction, raises the
    /// account's credential version and revokes every session, refresh token and unredeemed
    /// ticket of it, so that nothing issued before works again, even after a reactivation.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_user_active(
        &self,
        user: UserId,
        active: bool,
        audit: AuditRecord,
    ) -> Result<User, StoreError>;

    /// Changes an account's role.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_user_role(
        &self,
        user: UserId,
        role: Role,
        audit: AuditRecord,
    ) -> Result<User, StoreError>;

    /// Creates a booking.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn create_booking(
        &self,
        student: UserId,
        tutor: UserId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError>;

    /// Moves a booking to another state.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown booking.
    async fn set_booking_state(
        &self,
        booking: BookingId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError>;

    /// Assigns (`assigned = true`) or unassigns a patient to or from a clinician; returns whether
    /// anything changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn set_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
        assigned: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError>;
}
