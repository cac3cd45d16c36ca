//! The people search port, over whichever backend the store has.

use async_trait::async_trait;
use messaging_domain::StoreError;
use messaging_domain::people::{DirectoryScope, NameQuery, PatientSummary, UserFilter};
use messaging_domain::ports::PeopleSearch;
use messaging_domain::text::Page;
use messaging_domain::user::{User, UserId, UserSummary};

use crate::{Backend, Store};

macro_rules! on_db {
    ($self:ident, $db:ident => $call:expr) => {
        match &$self.backend {
            Backend::Postgres($db) => $call,
            Backend::Sqlite($db) => $call,
        }
    };
}

#[async_trait]
impl PeopleSearch for Store {
    async fn find_people(
        &self,
        scope: DirectoryScope,
        query: Option<NameQuery>,
        limit: u32,
    ) -> Result<Vec<UserSummary>, StoreError> {
        on_db!(self, db => db.find_people(scope, query, limit).await)
    }

    async fn assigned_patients(
        &self,
        clinician: UserId,
    ) -> Result<Vec<PatientSummary>, StoreError> {
        on_db!(self, db => db.assigned_patients(clinician).await)
    }

    async fn list_users(&self, filter: UserFilter, page: Page) -> Result<Vec<User>, StoreError> {
        on_db!(self, db => db.list_users(filter, page).await)
    }
}
