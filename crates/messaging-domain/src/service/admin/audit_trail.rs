//! The audit log as admins read it: one page of entries, and verification of the hash chains.

use thiserror::Error;

use super::{AdminError, AdminService};
use crate::audit::{AuditEntry, AuditQuery, AuditVerification};
use crate::error::{StoreError, ValidationError};
use crate::ports::{Administration, AuditTrail, Clock, EventPublisher, People};
use crate::service::actor::Actor;
use crate::text::Page;

#[cfg(test)]
mod tests;

/// Why a page of the audit log was not listed.
#[derive(Debug, Error)]
pub enum AuditReadError {
    /// The actor is not an active admin.
    #[error("admins only")]
    NotAdmin,
    /// A filter or page parameter cannot be read.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AdminError> for AuditReadError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Store(err) => Self::Store(err),
            // `require_admin` answers nothing else; a non-admin is what any other refusal means
            // here.
            AdminError::NotAdmin
            | AdminError::NotFound
            | AdminError::WrongRoles(_)
            | AdminError::SelfChange => Self::NotAdmin,
        }
    }
}

impl<A, P, E, C> AdminService<A, P, E, C>
where
    A: Administration + AuditTrail,
    P: People,
    E: EventPublisher,
    C: Clock,
{
    /// One page of the audit log, newest first, with the page it is. The caller must be an active
    /// admin, checked before the request is read, so that nobody else learns anything from how
    /// their filters are judged.
    ///
    /// # Errors
    /// [`AuditReadError::NotAdmin`], then [`AuditReadError::Validation`] for a parameter that
    /// cannot be read.
    pub async fn audit_entries(
        &self,
        actor: &Actor,
        query: AuditQuery,
    ) -> Result<(Vec<AuditEntry>, Page), AuditReadError> {
        self.require_admin(actor).await?;
        let (filter, page) = query.parse()?;
        Ok((self.admin.audit_entries(filter, page).await?, page))
    }

    /// Recomputes every hash chain of the audit log and says where it first breaks, if it does.
    /// It reads the whole log: for an admin's occasional look, not for polling.
    ///
    /// # Errors
    /// [`AdminError::NotAdmin`] unless the caller is an active admin.
    pub async fn verify_audit_chain(&self, actor: &Actor) -> Result<AuditVerification, AdminError> {
        self.require_admin(actor).await?;
        Ok(self.admin.verify_audit_chain().await?)
    }
}
