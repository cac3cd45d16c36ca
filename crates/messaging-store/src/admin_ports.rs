//! The admin ports beyond [`Administration`](messaging_domain::ports::Administration): an
//! account's role and state changed together, the audit log's reads, and who is online, over
//! whichever backend the store has.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::audit::{AuditEntry, AuditFilter, AuditRecord, AuditVerification};
use messaging_domain::ports::{AccountChange, AccountChanges, AuditTrail, PresenceStatus};
use messaging_domain::text::Page;
use messaging_domain::user::{User, UserId};

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
impl AccountChanges for Store {
    async fn change_account(
        &self,
        user: UserId,
        change: AccountChange,
        audit: Vec<AuditRecord>,
    ) -> Result<User, StoreError> {
        on_db!(self, db => db.change_account(user, change, audit).await)
    }
}

#[async_trait]
impl AuditTrail for Store {
    async fn audit_entries(
        &self,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        on_db!(self, db => db.audit_entries(filter, page).await)
    }

    async fn verify_audit_chain(&self) -> Result<AuditVerification, StoreError> {
        on_db!(self, db => db.verify_audit_chain().await)
    }
}

#[async_trait]
impl PresenceStatus for Store {
    async fn online_since(&self, user: UserId, since: DateTime<Utc>) -> Result<bool, StoreError> {
        on_db!(self, db => db.presence_online(user, since).await)
    }
}
