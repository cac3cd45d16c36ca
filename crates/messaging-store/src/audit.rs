//! The audit log as admins and auditors read it: filtered listings, and verification of its hash
//! chain.
//!
//! Each actor (and anonymous attempts, as one more) has a chain of its own, so that writes by
//! different users never wait for each other: one chain for everything would make every audited
//! write queue behind the previous one's commit. Every entry stores `prev_hash`, the hash of the
//! same actor's entry before it (the first one: [`GENESIS_HASH`]),
//! and `hash`, the lower-case hex SHA-256 of `prev_hash` (its 64 ASCII characters) followed by the
//! entry's fields in this order: `actor_id`, `action`, `object_type`, `object_id`, `client_addr`,
//! `at`. Each field is written as a netstring (`<byte length>:<UTF-8 bytes>,`) and an absent one as
//! `~`, so no two different entries encode alike; ids are decimal, and `at` is RFC 3339 in UTC with
//! exactly six fractional digits and a `Z` (`2026-11-21T09:30:00.000000Z`). Anyone can recompute a
//! hash from a row, so the chain shows whether an entry was changed, or removed from the middle; it
//! cannot show that the newest entries were cut off, which the database's append-only triggers
//! guard against instead.

use chrono::{DateTime, SecondsFormat, Utc};
use messaging_domain::user::UserId;
use sha2::{Digest, Sha256};

#[cfg(test)]
mod tests;

/// The `prev_hash` of the first entry of the chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub use messaging_domain::audit::{AuditEntry, AuditFilter, AuditVerification, ChainBreak};

/// The hashed fields of one entry, borrowed from a record being written or a row being checked.
pub(crate) struct ChainedFields<'a> {
    pub(crate) actor_id: Option<i64>,
    pub(crate) action: &'a str,
    pub(crate) object_type: &'a str,
    pub(crate) object_id: Option<i64>,
    pub(crate) client_addr: Option<&'a str>,
    pub(crate) at: DateTime<Utc>,
}

impl ChainedFields<'_> {
    /// The entry's hash when it follows an entry whose hash is `prev_hash` (see the module docs).
    pub(crate) fn hash(&self, prev_hash: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        put(
            &mut hasher,
            self.actor_id.map(|id| id.to_string()).as_deref(),
        );
        put(&mut hasher, Some(self.action));
        put(&mut hasher, Some(self.object_type));
        put(
            &mut hasher,
            self.object_id.map(|id| id.to_string()).as_deref(),
        );
        put(&mut hasher, self.client_addr);
        put(
            &mut hasher,
            Some(&self.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
        );
        format!("{:x}", hasher.finalize())
    }
}

/// Writes one field: a netstring, or `~` when absent.
fn put(hasher: &mut Sha256, field: Option<&str>) {
    match field {
        Some(text) => {
            hasher.update(text.len().to_string().as_bytes());
            hasher.update(b":");
            hasher.update(text.as_bytes());
            hasher.update(b",");
        }
        None => hasher.update(b"~"),
    }
}

/// The hashed fields of a stored entry.
fn chained_fields(entry: &AuditEntry) -> ChainedFields<'_> {
    ChainedFields {
        actor_id: entry.actor_id.map(|a| a.0),
        action: &entry.action,
        object_type: &entry.object_type,
        object_id: entry.object_id,
        client_addr: entry.client_addr.as_deref(),
        at: entry.at,
    }
}

/// Checks entries one at a time, in id order, remembering only each actor's last hash, so that
/// the store can feed it page by page.
#[derive(Debug, Default)]
pub(crate) struct ChainWalk {
    last_hash: std::collections::HashMap<Option<UserId>, String>,
    checked: u64,
    unsealed: u64,
}

impl ChainWalk {
    /// Checks the next entry; returns where the chain breaks when it breaks here.
    pub(crate) fn check(&mut self, entry: &AuditEntry) -> Option<ChainBreak> {
        let last = self.last_hash.get(&entry.actor_id);
        let Some(hash) = entry.hash.as_deref() else {
            // Entries without a hash predate the chain, so they can only come before its first
            // entry; one after it lost its hash.
            if last.is_none() {
                self.unsealed += 1;
                return None;
            }
            return Some(ChainBreak::Changed { id: entry.id });
        };
        let Some(prev_hash) = entry.prev_hash.as_deref() else {
            return Some(ChainBreak::Changed { id: entry.id });
        };
        // The contents are checked first: a changed entry is reported as itself, and the entry
        // after it still links to the stored hash, so one change gives one report.
        if chained_fields(entry).hash(prev_hash) != hash {
            return Some(ChainBreak::Changed { id: entry.id });
        }
        // Ids have gaps (rolled-back transactions use up sequence values), so a removal shows
        // only here, as a link to a hash that is not the previous entry's.
        if prev_hash != last.map_or(GENESIS_HASH, String::as_str) {
            return Some(ChainBreak::FollowsRemoved { id: entry.id });
        }
        self.last_hash.insert(entry.actor_id, hash.to_owned());
        self.checked += 1;
        None
    }

    /// The verdict, once the walk has stopped at a break or at the end.
    pub(crate) fn finish(self, broken: Option<ChainBreak>) -> AuditVerification {
        AuditVerification {
            checked: self.checked,
            unsealed: self.unsealed,
            broken,
        }
    }
}
