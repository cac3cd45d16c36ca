//! The in-memory store against the storage ports' contract (the same rules SQLite and PostgreSQL
//! keep, see `messaging-contract`), and what only this store offers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use messaging_memory::MemoryStore;

mod audit_trail;
mod presence;

/// A fresh, empty store for each test.
async fn fresh() -> Option<MemoryStore> {
    Some(MemoryStore::new())
}

mod contract {
    messaging_contract::contract_suite!(super::fresh);
}
