//! One value standing for every admin port the store implements, for the use cases that need
//! more than [`Administration`]: each trait is answered by its own mockall mock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;

use crate::audit::{AuditEntry, AuditFilter, AuditRecord, AuditVerification};
use crate::error::StoreError;
use crate::ports::{
    AccountChange, AccountChanges, Administration, AuditTrail, MockAccountChanges,
    MockAdministration, MockAuditTrail,
};
use crate::text::Page;
use crate::user::{Booking, BookingId, BookingState, Role, User, UserId};

/// The admin ports, each a mock: a call nobody expected fails the test.
#[derive(Default)]
pub(super) struct AdminPorts {
    pub(super) admin: MockAdministration,
    pub(super) changes: MockAccountChanges,
    pub(super) trail: MockAuditTrail,
}

#[async_trait]
impl Administration for AdminPorts {
    async fn set_user_active(
        &self,
        user: UserId,
        active: bool,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        self.admin.set_user_active(user, active, audit).await
    }

    async fn set_user_role(
        &self,
        user: UserId,
        role: Role,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        self.admin.set_user_role(user, role, audit).await
    }

    async fn create_booking(
        &self,
        student: UserId,
        tutor: UserId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        self.admin
            .create_booking(student, tutor, state, audit)
            .await
    }

    async fn set_booking_state(
        &self,
        booking: BookingId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        self.admin.set_booking_state(booking, state, audit).await
    }

    async fn set_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
        assigned: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        self.admin
            .set_assignment(clinician, patient, assigned, audit)
            .await
    }
}

#[async_trait]
impl AccountChanges for AdminPorts {
    async fn change_account(
        &self,
        user: UserId,
        change: AccountChange,
        audit: Vec<AuditRecord>,
    ) -> Result<User, StoreError> {
        self.changes.change_account(user, change, audit).await
    }
}

#[async_trait]
impl AuditTrail for AdminPorts {
    async fn audit_entries(
        &self,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.trail.audit_entries(filter, page).await
    }

    async fn verify_audit_chain(&self) -> Result<AuditVerification, StoreError> {
        self.trail.verify_audit_chain().await
    }
}

pub(super) const ADMIN: UserId = UserId(1);
pub(super) const TUTOR: UserId = UserId(3);

/// A user with this id, role and state.
pub(super) fn user(id: UserId, role: Role, active: bool) -> User {
    User {
        id,
        username: format!("u{}", id.0),
        email: format!("u{}@example.com", id.0),
        first_name: String::new(),
        last_name: String::new(),
        role,
        is_active: active,
    }
}

/// An admin service over `ports` and `events`, where `ADMIN` is an active admin, `TUTOR` an
/// active tutor (`deactivated` names one who is not active) and nobody else exists.
pub(super) fn service(
    ports: AdminPorts,
    events: crate::ports::MockEventPublisher,
    deactivated: Option<UserId>,
) -> super::AdminService<
    AdminPorts,
    crate::ports::MockPeople,
    crate::ports::MockEventPublisher,
    crate::ports::MockClock,
> {
    let mut directory = crate::ports::MockPeople::new();
    directory.expect_user().returning(move |id| {
        let role = match id {
            ADMIN => Role::Admin,
            TUTOR => Role::Tutor,
            _ => return Ok(None),
        };
        Ok(Some(user(id, role, Some(id) != deactivated)))
    });
    let mut clock = crate::ports::MockClock::new();
    clock.expect_now().returning(now);
    super::AdminService::new(ports, directory, events, clock)
}

/// The instant every test runs at.
pub(super) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_767_268_800, 0).unwrap()
}

/// `id` acting from 10.0.0.1.
pub(super) fn actor(id: UserId) -> crate::service::actor::Actor {
    crate::service::actor::Actor {
        user_id: id,
        client_addr: Some("10.0.0.1".into()),
    }
}
