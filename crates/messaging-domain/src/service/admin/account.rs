//! An admin's change to an account: its role and whether it is active, in one go.

use super::{AdminError, AdminService, not_found};
use crate::audit::{AuditAction, AuditRecord};
use crate::ports::{AccountChange, AccountChanges, Administration, Clock, EventPublisher, People};
use crate::service::actor::Actor;
use crate::user::{Role, User, UserId};

#[cfg(test)]
mod tests;

impl<A, P, E, C> AdminService<A, P, E, C>
where
    A: Administration + AccountChanges,
    P: People,
    E: EventPublisher,
    C: Clock,
{
    /// Changes an account's role, its active flag, or both, in one transaction audited once per
    /// field; a change that names neither answers the account as it is. A deactivated account is
    /// locked out at once: the store revokes every credential it held, and its open sockets are
    /// closed on every instance.
    ///
    /// # Errors
    /// [`AdminError::NotAdmin`]; [`AdminError::SelfChange`] when admins would deactivate or demote
    /// themselves (nothing changes then, not even the other field); [`AdminError::NotFound`] for
    /// an unknown user.
    pub async fn update_account(
        &self,
        actor: &Actor,
        user: UserId,
        change: AccountChange,
    ) -> Result<User, AdminError> {
        self.require_admin(actor).await?;
        if change.role.is_none() && change.active.is_none() {
            return self.people.user(user).await?.ok_or(AdminError::NotFound);
        }
        let demotes = change.role.is_some_and(|role| role != Role::Admin);
        let deactivates = change.active == Some(false);
        if user == actor.user_id && (demotes || deactivates) {
            return Err(AdminError::SelfChange);
        }
        let mut audit: Vec<AuditRecord> = Vec::new();
        if change.role.is_some() {
            audit.push(self.audit(actor, AuditAction::RoleChanged, "user", user.0));
        }
        if let Some(active) = change.active {
            let action = if active {
                AuditAction::UserActivated
            } else {
                AuditAction::UserDeactivated
            };
            audit.push(self.audit(actor, action, "user", user.0));
        }
        let changed = self
            .admin
            .change_account(user, change, audit)
            .await
            .map_err(not_found)?;
        self.events.account_changed(user);
        if deactivates {
            // The store revoked every credential; open sockets outlive the credential they were
            // opened with, so they are closed too, on every instance.
            self.events.disconnect(user, None);
        }
        Ok(changed)
    }
}
