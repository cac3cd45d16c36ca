//! The audit log as admins read it: listings and verification of its hash chains.

use async_trait::async_trait;

use crate::audit::{AuditEntry, AuditFilter, AuditVerification};
use crate::error::StoreError;
use crate::text::Page;

/// Reads of the audit log, for admins.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditTrail: Send + Sync + 'static {
    /// One page of the audit log, newest first, narrowed by `filter`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn audit_entries(
        &self,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Walks the whole log in id order, recomputing each entry's hash, and reports the first
    /// entry that was changed or that follows a removed one. A broken chain is a result, not an
    /// error.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn verify_audit_chain(&self) -> Result<AuditVerification, StoreError>;
}
