//! The people and password ports, over whichever backend the store has.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::audit::AuditRecord;
use messaging_domain::password::PasswordStore;
use messaging_domain::people::{DirectoryScope, NameQuery, PatientSummary, People, UserFilter};
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
impl People for Store {
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

#[async_trait]
impl PasswordStore for Store {
    async fn password_hash(&self, user: UserId) -> Result<String, StoreError> {
        on_db!(self, db => db.password_hash(user).await)
    }

    async fn replace_password(
        &self,
        user: UserId,
        hash: String,
        keep_session: Option<String>,
        at: DateTime<Utc>,
        audit: AuditRecord,
    ) -> Result<(), StoreError> {
        on_db!(self, db => db.replace_password(user, hash, keep_session, at, audit).await)
    }
}
