//! The server's adapters of the account ports: the password hasher (argon2id, off the async
//! threads) and a short-lived cache of account statuses in front of the store.
//!
//! Every authenticated request reads its account's status (active? role? credential version?).
//! The cache keeps a read for [`STATUS_TTL`] at most, so a change made on another instance reaches
//! this one within that time even if its announcement is lost; a deactivation on this instance,
//! or announced by another, drops the entry at once (see [`crate::realtime::Hub`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use messaging_domain::StoreError;
use messaging_domain::accounts::{AccountStatus, Password};
use messaging_domain::ports::{AccountStatuses, HashError, PasswordHasher};
use messaging_domain::user::UserId;
use messaging_store::Store;

use crate::auth::Secret;

/// How long a cached account status is used: well under the one second within which a
/// deactivation must hold everywhere.
pub const STATUS_TTL: Duration = Duration::from_millis(500);

/// Entries beyond this are dropped wholesale (the cache refills itself), so memory stays bounded
/// whatever the number of users.
const MAX_ENTRIES: usize = 100_000;

/// Account statuses, read through from the store and kept for [`STATUS_TTL`].
#[derive(Debug, Clone)]
pub struct StatusCache {
    store: Store,
    entries: Arc<Mutex<HashMap<UserId, (AccountStatus, Instant)>>>,
}

impl StatusCache {
    /// A cache in front of `store`.
    #[must_use]
    pub fn new(store: Store) -> Self {
        Self {
            store,
            entries: Arc::default(),
        }
    }

    /// Drops what is known of `user`, so that the next request reads their status afresh.
    pub fn forget(&self, user: UserId) {
        self.lock().remove(&user);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, (AccountStatus, Instant)>> {
        // Every change to the map is a single call: a panic elsewhere cannot leave it half done.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl AccountStatuses for StatusCache {
    async fn account_status(&self, user: UserId) -> Result<Option<AccountStatus>, StoreError> {
        if let Some((status, read_at)) = self.lock().get(&user)
            && read_at.elapsed() < STATUS_TTL
        {
            return Ok(Some(*status));
        }
        let read_at = Instant::now();
        let status = self.store.account_status(user).await?;
        let mut entries = self.lock();
        match status {
            Some(status) => {
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
                entries.insert(user, (status, read_at));
            }
            None => {
                entries.remove(&user);
            }
        }
        Ok(status)
    }
}

/// The domain's password-hashing port over the server's bounded hashing threads
/// ([`crate::passwords::PasswordHasher`]).
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    threads: crate::passwords::PasswordHasher,
    /// A hash of a random password, verified against when a login names an unknown user, so that
    /// unknown and known names take the same time to refuse.
    dummy: Arc<str>,
}

impl Argon2Hasher {
    /// A hasher over `threads`, with a fresh dummy hash.
    ///
    /// # Errors
    /// [`crate::auth::KeyError`] when there is no randomness or hashing fails.
    pub fn new(threads: crate::passwords::PasswordHasher) -> Result<Self, crate::auth::KeyError> {
        let dummy = crate::auth::hash_password(&crate::auth::random_token()?)?;
        Ok(Self {
            threads,
            dummy: dummy.into(),
        })
    }
}

fn hashing_error(err: crate::passwords::HashingError) -> HashError {
    match err {
        crate::passwords::HashingError::Busy => HashError::Busy,
        other => HashError::Failed(other.to_string()),
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: Password) -> Result<String, HashError> {
        self.threads
            .hash(Secret::new(password.expose().to_owned()))
            .await
            .map_err(hashing_error)
    }

    async fn verify(&self, password: Password, hash: Option<String>) -> Result<bool, HashError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.to_string());
        let ok = self
            .threads
            .verify(Secret::new(password.expose().to_owned()), hash)
            .await
            .map_err(hashing_error)?;
        Ok(ok && known)
    }
}
