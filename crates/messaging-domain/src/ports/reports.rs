//! Reports of messages, filed by their recipients for the admins.

use async_trait::async_trait;

use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::message::{NewReport, Report};
use crate::text::Page;

/// Reports of messages.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Reports: Send + Sync + 'static {
    /// Stores a report with its audit record.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn insert_report(
        &self,
        report: NewReport,
        audit: AuditRecord,
    ) -> Result<Report, StoreError>;

    /// Reports, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn reports(&self, page: Page) -> Result<Vec<Report>, StoreError>;
}
