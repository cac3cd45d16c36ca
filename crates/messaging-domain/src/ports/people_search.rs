//! Finding people: the queries behind the directory, a clinician's patient list and the admins'
//! user list.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::people::{DirectoryScope, NameQuery, PatientSummary, UserFilter};
use crate::text::Page;
use crate::user::{User, UserId, UserSummary};

/// The queries behind the directory, the patient list and the user list.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PeopleSearch: Send + Sync + 'static {
    /// Active users within `scope` whose user name or name contains `query`, by name, at most
    /// `limit`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn find_people(
        &self,
        scope: DirectoryScope,
        query: Option<NameQuery>,
        limit: u32,
    ) -> Result<Vec<UserSummary>, StoreError>;

    /// The active patients assigned to `clinician`, each with the newest message of their
    /// conversation that the clinician can see and the clinician's unread count, in one query.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn assigned_patients(&self, clinician: UserId)
    -> Result<Vec<PatientSummary>, StoreError>;

    /// One page of every user (active or not) matching `filter`, by id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn list_users(&self, filter: UserFilter, page: Page) -> Result<Vec<User>, StoreError>;
}
