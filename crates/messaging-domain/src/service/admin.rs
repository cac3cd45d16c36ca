//! What admins may change: accounts (active flag, role), bookings and care assignments. Every
//! change is audited in the same transaction.

use thiserror::Error;

use crate::audit::{AuditAction, AuditRecord};
use crate::error::StoreError;
use crate::ports::{Administration, Clock, EventPublisher, People};
use crate::service::actor::Actor;
use crate::user::{Booking, BookingId, BookingState, Role, User, UserId};

#[cfg(test)]
mod tests;

/// Why an admin action failed.
#[derive(Debug, Error)]
pub enum AdminError {
    /// The actor is not an active admin.
    #[error("admins only")]
    NotAdmin,
    /// The user or booking does not exist.
    #[error("not found")]
    NotFound,
    /// The users named do not have the roles the action needs (a student and a tutor for a
    /// booking, a clinician and a patient for an assignment).
    #[error("{0}")]
    WrongRoles(&'static str),
    /// Admins may not deactivate or demote themselves, so that no one locks the last admin out.
    #[error("admins cannot deactivate or demote themselves")]
    SelfChange,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The admin use cases.
#[derive(Debug)]
pub struct AdminService<A, P, E, C> {
    admin: A,
    people: P,
    events: E,
    clock: C,
}

impl<A, P, E, C> AdminService<A, P, E, C>
where
    A: Administration,
    P: People,
    E: EventPublisher,
    C: Clock,
{
    /// Builds the service over its ports.
    pub fn new(admin: A, people: P, events: E, clock: C) -> Self {
        Self {
            admin,
            people,
            events,
            clock,
        }
    }

    /// An account as it is (what a change that changes nothing answers).
    ///
    /// # Errors
    /// [`AdminError::NotAdmin`], or [`AdminError::NotFound`] for an unknown user.
    pub async fn user(&self, actor: &Actor, user: UserId) -> Result<User, AdminError> {
        self.require_admin(actor).await?;
        self.people.user(user).await?.ok_or(AdminError::NotFound)
    }

    /// Activates or deactivates an account. A deactivated account is locked out at once: every
    /// credential it held is revoked and its open sockets are closed.
    ///
    /// # Errors
    /// [`AdminError`] naming the rule that stopped it.
    pub async fn set_active(
        &self,
        actor: &Actor,
        user: UserId,
        active: bool,
    ) -> Result<User, AdminError> {
        self.require_admin(actor).await?;
        if user == actor.user_id && !active {
            return Err(AdminError::SelfChange);
        }
        let action = if active {
            AuditAction::UserActivated
        } else {
            AuditAction::UserDeactivated
        };
        let audit = self.audit(actor, action, "user", user.0);
        let changed = self
            .admin
            .set_user_active(user, active, audit)
            .await
            .map_err(not_found)?;
        self.events.account_changed(user);
        if !active {
            // The store revoked every credential; open sockets outlive the credential they were
            // opened with, so they are closed too, on every instance.
            self.events.disconnect(user, None);
        }
        Ok(changed)
    }

    /// Changes an account's role.
    ///
    /// # Errors
    /// [`AdminError`] naming the rule that stopped it.
    pub async fn set_role(
        &self,
        actor: &Actor,
        user: UserId,
        role: Role,
    ) -> Result<User, AdminError> {
        self.require_admin(actor).await?;
        if user == actor.user_id && role != Role::Admin {
            return Err(AdminError::SelfChange);
        }
        let audit = self.audit(actor, AuditAction::RoleChanged, "user", user.0);
        let changed = self
            .admin
            .set_user_role(user, role, audit)
            .await
            .map_err(not_found)?;
        self.events.account_changed(user);
        Ok(changed)
    }

    /// Creates a booking between an active student and an active tutor.
    ///
    /// # Errors
    /// [`AdminError::WrongRoles`] when they are not.
    pub async fn create_booking(
        &self,
        actor: &Actor,
        student: UserId,
        tutor: UserId,
        state: BookingState,
    ) -> Result<Booking, AdminError> {
        self.require_admin(actor).await?;
        self.require_role(
            student,
            Role::Student,
            "student_id must be an active student",
        )
        .await?;
        self.require_role(tutor, Role::Tutor, "tutor_id must be an active tutor")
            .await?;
        let audit = self.audit(actor, AuditAction::BookingCreated, "booking", 0);
        Ok(self
            .admin
            .create_booking(student, tutor, state, audit)
            .await?)
    }

    /// Moves a booking to another state.
    ///
    /// # Errors
    /// [`AdminError::NotFound`] for an unknown booking.
    pub async fn set_booking_state(
        &self,
        actor: &Actor,
        booking: BookingId,
        state: BookingState,
    ) -> Result<Booking, AdminError> {
        self.require_admin(actor).await?;
        let audit = self.audit(
            actor,
            AuditAction::BookingStateChanged,
            "booking",
            booking.0,
        );
        self.admin
            .set_booking_state(booking, state, audit)
            .await
            .map_err(not_found)
    }

    /// Assigns or unassigns a patient to or from a clinician; returns whether anything changed.
    ///
    /// # Errors
    /// [`AdminError::WrongRoles`] unless they are an active clinician and an active patient.
    pub async fn set_assignment(
        &self,
        actor: &Actor,
        clinician: UserId,
        patient: UserId,
        assigned: bool,
    ) -> Result<bool, AdminError> {
        self.require_admin(actor).await?;
        self.require_role(
            clinician,
            Role::Clinician,
            "clinician_id must be an active clinician",
        )
        .await?;
        self.require_role(
            patient,
            Role::Patient,
            "patient_id must be an active patient",
        )
        .await?;
        let action = if assigned {
            AuditAction::CareAssigned
        } else {
            AuditAction::CareUnassigned
        };
        let audit = self.audit(actor, action, "user", patient.0);
        Ok(self
            .admin
            .set_assignment(clinician, patient, assigned, audit)
            .await?)
    }

    /// Checks that `actor` is an active admin, for admin reads that have no use case of their own
    /// (the audit log): the role in the directory decides, not the one in the caller's token.
    ///
    /// # Errors
    /// [`AdminError::NotAdmin`] when they are not; [`AdminError::Store`] when the directory fails.
    pub async fn require_admin_actor(&self, actor: &Actor) -> Result<(), AdminError> {
        self.require_admin(actor).await
    }

    async fn require_admin(&self, actor: &Actor) -> Result<(), AdminError> {
        match self.people.user(actor.user_id).await? {
            Some(u) if u.is_active && u.role == Role::Admin => Ok(()),
            _ => Err(AdminError::NotAdmin),
        }
    }

    async fn require_role(
        &self,
        user: UserId,
        role: Role,
        message: &'static str,
    ) -> Result<(), AdminError> {
        match self.people.user(user).await? {
            Some(u) if u.is_active && u.role == role => Ok(()),
            _ => Err(AdminError::WrongRoles(message)),
        }
    }

    fn audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        object_type: &'static str,
        id: i64,
    ) -> AuditRecord {
        AuditRecord {
            actor: Some(actor.user_id),
            action,
            object_type,
            object_id: (id != 0).then_some(id),
            at: self.clock.now(),
            client_addr: actor.client_addr.clone(),
        }
    }
}

fn not_found(err: StoreError) -> AdminError {
    match err {
        StoreError::NotFound => AdminError::NotFound,
        other => AdminError::Store(other),
    }
}
