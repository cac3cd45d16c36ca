//! The append-only audit log, for what is not part of a message change.

use async_trait::async_trait;

use crate::audit::AuditRecord;
use crate::error::StoreError;

/// The append-only audit log, for events that are not part of a message change (logins, ...).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends one record.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails; the caller must fail its action too.
    async fn record(&self, record: AuditRecord) -> Result<(), StoreError>;
}
