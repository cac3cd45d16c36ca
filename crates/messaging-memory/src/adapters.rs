//! In-memory adapters of the ports that are not storage of records: a clock that only moves
//! when told, a publisher that keeps what it was handed, object storage in a map, and a virus
//! scanner that knows one signature.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use messaging_domain::StoreError;
use messaging_domain::accounts::SessionKey;
use messaging_domain::attachment::{FileName, ScanVerdict, StorageKey};
use messaging_domain::event::{LiveEvent, StreamEvent};
use messaging_domain::ports::{AttachmentStorage, Clock, EventPublisher, VirusScanner};
use messaging_domain::user::UserId;

/// Locks a mutex, carrying on after a panic elsewhere: every value kept here stays consistent
/// between statements, so a poisoned lock holds nothing half-written.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A clock that stands still until it is set or advanced, so that tests (and embedders' tests)
/// decide what time it is.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock showing `now`.
    #[must_use]
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: DateTime<Utc>) {
        *lock(&self.now) = now;
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: TimeDelta) {
        let mut now = lock(&self.now);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.now)
    }
}

/// Something handed to an [`EventPublisher`], in the order it was handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// Stored stream entries.
    Stream(Vec<StreamEvent>),
    /// A fleeting event.
    Live(LiveEvent),
    /// A request to close a user's connections (all of them, or one session's).
    Disconnect(UserId, Option<SessionKey>),
    /// A user's account status changed.
    AccountChanged(UserId),
}

/// An [`EventPublisher`] that delivers nothing and keeps everything it is handed, to be read
/// back with [`RecordingPublisher::take`].
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    handed: Mutex<Vec<Published>>,
}

impl RecordingPublisher {
    /// A publisher that has been handed nothing yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything handed over since the last call, oldest first.
    pub fn take(&self) -> Vec<Published> {
        std::mem::take(&mut *lock(&self.handed))
    }
}

impl EventPublisher for RecordingPublisher {
    fn publish(&self, events: Vec<StreamEvent>) {
        lock(&self.handed).push(Published::Stream(events));
    }

    fn publish_live(&self, event: LiveEvent) {
        lock(&self.handed).push(Published::Live(event));
    }

    fn disconnect(&self, user: UserId, session: Option<SessionKey>) {
        lock(&self.handed).push(Published::Disconnect(user, session));
    }

    fn account_changed(&self, user: UserId) {
        lock(&self.handed).push(Published::AccountChanged(user));
    }
}

/// Object storage in a map: each key holds its bytes and content type.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    objects: Mutex<HashMap<StorageKey, (&'static str, Vec<u8>)>>,
}

impl MemoryStorage {
    /// An empty storage.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many objects are stored.
    #[must_use]
    pub fn len(&self) -> usize {
        lock(&self.objects).len()
    }

    /// Whether nothing is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl AttachmentStorage for MemoryStorage {
    async fn put_file(
        &self,
        key: StorageKey,
        content_type: &'static str,
        path: std::path::PathBuf,
        size: u64,
    ) -> Result<(), StoreError> {
        // Spooled uploads are small (the domain caps them at a few MiB); reading one in a single
        // blocking call is what an in-memory storage can honestly do.
        let bytes = std::fs::read(&path).map_err(StoreError::backend)?;
        if u64::try_from(bytes.len()).ok() != Some(size) {
            return Err(StoreError::backend(std::io::Error::other(
                "the spooled file is not the announced size",
            )));
        }
        lock(&self.objects).insert(key, (content_type, bytes));
        Ok(())
    }

    async fn put_bytes(
        &self,
        key: StorageKey,
        content_type: &'static str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        lock(&self.objects).insert(key, (content_type, bytes));
        Ok(())
    }

    async fn get(&self, key: StorageKey) -> Result<Vec<u8>, StoreError> {
        lock(&self.objects)
            .get(&key)
            .map(|(_, bytes)| bytes.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn download_url(
        &self,
        key: StorageKey,
        _file_name: FileName,
        _content_type: &'static str,
        _expires_in_seconds: u32,
    ) -> Result<String, StoreError> {
        // There is no server in front of a map: the link names the object, relative to the
        // embedding service, which serves it as it sees fit.
        Ok(format!("/files/{}", key.as_str()))
    }

    async fn delete(&self, key: StorageKey) -> Result<(), StoreError> {
        lock(&self.objects).remove(&key);
        Ok(())
    }
}

/// A virus scanner that knows one signature: the EICAR test string, which every real scanner
/// detects, so tests can play an infected upload.
#[derive(Debug, Default, Clone, Copy)]
pub struct EicarScanner;

/// The EICAR test string's distinctive part.
const EICAR: &[u8] = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE";

#[async_trait]
impl VirusScanner for EicarScanner {
    async fn scan(&self, bytes: Vec<u8>) -> Result<ScanVerdict, StoreError> {
        let infected = bytes.windows(EICAR.len()).any(|w| w == EICAR);
        Ok(if infected {
            ScanVerdict::Infected("Eicar-Test-Signature".to_owned())
        } else {
            ScanVerdict::Clean
        })
    }
}
