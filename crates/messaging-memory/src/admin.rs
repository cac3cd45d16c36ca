//! The admins' ports over [`MemoryStore`]: an admin's change to an account ([`AccountChanges`]),
//! the audit log as admins read it ([`AuditTrail`]) and who is connected ([`PresenceStatus`]),
//! with the presence records the instances' hubs would write.

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use messaging_domain::StoreError;
use messaging_domain::audit::{AuditEntry, AuditFilter, AuditRecord, AuditVerification};
use messaging_domain::ports::{AccountChange, AccountChanges, AuditTrail, PresenceStatus};
use messaging_domain::text::Page;
use messaging_domain::user::{User, UserId};

use crate::MemoryStore;
use crate::state::State;

impl MemoryStore {
    /// Records that `instance` is alive as of `at` and holds sockets of `users`, as a socket
    /// opening or an instance's heartbeat does in the SQL store (`presence_touch`). No domain
    /// port writes presence, so tests and embedding services call this to make
    /// [`PresenceStatus::online_since`] see a connection.
    pub fn presence_touch(&self, instance: &str, users: &[UserId], at: DateTime<Utc>) {
        if users.is_empty() {
            return;
        }
        let mut state = self.lock();
        state.presence_instances.insert(instance.to_owned(), at);
        for user in users {
            state
                .presence_connections
                .insert((*user, instance.to_owned()));
        }
    }

    /// Forgets that `users` (all of them when `None`) are connected to `instance`, as a closed
    /// socket or a stopped instance does.
    pub fn presence_leave(&self, instance: &str, users: Option<&[UserId]>) {
        let mut state = self.lock();
        state.presence_connections.retain(|(user, on)| {
            on != instance || users.is_some_and(|users| !users.contains(user))
        });
        if users.is_none() {
            state.presence_instances.remove(instance);
        }
    }

    /// Forgets instances silent since before `before` and their sockets, as the SQL store's
    /// `presence_sweep` does; returns how many instances were forgotten.
    pub fn presence_sweep(&self, before: DateTime<Utc>) -> u64 {
        let mut state = self.lock();
        let count = state.presence_instances.len();
        state.presence_instances.retain(|_, seen| *seen >= before);
        let removed = count - state.presence_instances.len();
        let State {
            presence_instances,
            presence_connections,
            ..
        } = &mut *state;
        presence_connections.retain(|(_, on)| presence_instances.contains_key(on));
        removed as u64
    }
}

impl State {
    /// Applies every field of `change` and appends every record of `audit`, or, for an unknown
    /// user, nothing at all.
    fn change_account(
        &mut self,
        user: UserId,
        change: AccountChange,
        audit: Vec<AuditRecord>,
    ) -> Result<User, StoreError> {
        let account = self.users.get_mut(&user).ok_or(StoreError::NotFound)?;
        if let Some(role) = change.role {
            account.user.role = role;
        }
        if let Some(active) = change.active {
            account.user.is_active = active;
            if !active {
                // Nothing issued before a deactivation may work again, not even after a
                // reactivation.
                account.credential_version += 1;
            }
        }
        let changed = account.user.clone();
        if change.active == Some(false) {
            // The SQL store revokes at the first record's time, and at the current time when the
            // change comes without one.
            let at = audit.first().map_or_else(Utc::now, |record| record.at);
            self.revoke_credentials(user, None, at);
        }
        for record in audit {
            self.audit(record);
        }
        Ok(changed)
    }

    /// The log as entries: ids number the records from 1 in the order they were written, and
    /// times are kept to the microsecond, as both databases keep them. The records carry no
    /// hashes (see [`AuditTrail::verify_audit_chain`] below), so neither do the entries.
    fn audit_entries(&self) -> impl DoubleEndedIterator<Item = AuditEntry> + '_ {
        self.audit
            .iter()
            .enumerate()
            .map(|(index, record)| AuditEntry {
                id: i64::try_from(index).map_or(i64::MAX, |index| index + 1),
                actor_id: record.actor,
                action: record.action.as_str().to_owned(),
                object_type: record.object_type.to_owned(),
                object_id: record.object_id,
                client_addr: record.client_addr.clone(),
                at: record.at.trunc_subsecs(6),
                prev_hash: None,
                hash: None,
            })
    }
}

/// Whether `entry` is one `filter` lists.
fn matches(filter: &AuditFilter, entry: &AuditEntry) -> bool {
    filter
        .actor_id
        .is_none_or(|actor| entry.actor_id == Some(actor))
        && filter.action.as_ref().is_none_or(|a| *a == entry.action)
        && filter
            .object_type
            .as_ref()
            .is_none_or(|t| *t == entry.object_type)
        && filter
            .object_id
            .is_none_or(|id| entry.object_id == Some(id))
        && filter.since.is_none_or(|since| entry.at >= since)
        && filter.until.is_none_or(|until| entry.at < until)
}

#[async_trait]
impl AccountChanges for MemoryStore {
    async fn change_account(
        &self,
        user: UserId,
        change: AccountChange,
        audit: Vec<AuditRecord>,
    ) -> Result<User, StoreError> {
        self.lock().change_account(user, change, audit)
    }
}

#[async_trait]
impl AuditTrail for MemoryStore {
    async fn audit_entries(
        &self,
        filter: AuditFilter,
        page: Page,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit()).unwrap_or(usize::MAX);
        Ok(self
            .lock()
            .audit_entries()
            .rev()
            .filter(|entry| matches(&filter, entry))
            .skip(offset)
            .take(limit)
            .collect())
    }

    /// Every entry counts as checked and the chain as intact. The SQL store chains SHA-256
    /// hashes per actor to show that a row was changed or removed behind its back; this store
    /// keeps its records in a `Vec` that only its own calls append to, so there is no row to
    /// tamper with, and hashing would cost a dependency for a check that cannot fail.
    async fn verify_audit_chain(&self) -> Result<AuditVerification, StoreError> {
        let checked = u64::try_from(self.lock().audit.len()).unwrap_or(u64::MAX);
        Ok(AuditVerification {
            checked,
            unsealed: 0,
            broken: None,
        })
    }
}

#[async_trait]
impl PresenceStatus for MemoryStore {
    async fn online_since(&self, user: UserId, since: DateTime<Utc>) -> Result<bool, StoreError> {
        let state = self.lock();
        Ok(state.presence_connections.iter().any(|(connected, on)| {
            *connected == user
                && state
                    .presence_instances
                    .get(on)
                    .is_some_and(|seen_at| *seen_at >= since)
        }))
    }
}
