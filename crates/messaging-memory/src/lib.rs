//! In-memory adapters of every port of `messaging-domain`: a [`MemoryStore`] that implements the
//! storage ports (messages, people, accounts, sessions, tickets, streams, attachments, audit,
//! presence) the way the SQL store does, and small adapters of the others ([`ManualClock`],
//! [`RecordingPublisher`], [`MemoryStorage`], [`EicarScanner`]).
//!
//! It is for tests and for services that embed the domain without a database. Every store call
//! runs under one lock, so each is one transaction: a refused write changes nothing, an event plan
//! runs once and only when something changed, and stream numbers are gap-free per user. The
//! contract suite (`messaging-contract`) runs the same rules against this store, SQLite and
//! PostgreSQL. Nothing is persisted: dropping the last clone of a store drops its data.

mod accounts;
mod adapters;
mod admin;
mod attachments;
mod listings;
mod messages;
mod people;
mod ports;
mod state;
mod streams;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use messaging_domain::audit::AuditRecord;
use messaging_domain::{StoreError, Unique};

pub use adapters::{EicarScanner, ManualClock, MemoryStorage, Published, RecordingPublisher};

use state::State;

/// Every storage port over data held in memory. Clones share the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The audit records written so far, oldest first.
    #[must_use]
    pub fn audit_records(&self) -> Vec<AuditRecord> {
        self.lock().audit.clone()
    }

    /// The store's data, for one call. Every call holds the lock from its first read to its last
    /// write, which is what makes it a transaction.
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held can only come from a bug in this crate; the writes of
        // one call are made after its checks, so what it left is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The uniqueness rules the store keeps.
#[derive(Debug, Clone, Copy)]
enum Duplicate {
    ClientMessageId,
    Username,
    Email,
    StorageKey,
}

/// The error a broken uniqueness rule is, as the SQL store reports it.
fn duplicate(which: Duplicate) -> StoreError {
    StoreError::Duplicate(match which {
        Duplicate::ClientMessageId => Unique::ClientMessageId,
        Duplicate::Username => Unique::Username,
        Duplicate::Email => Unique::Email,
        Duplicate::StorageKey => Unique::StorageKey,
    })
}
