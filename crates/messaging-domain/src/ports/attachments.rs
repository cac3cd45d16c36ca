//! Attachments: their records, the object storage that holds their bytes, and the virus
//! scanner.

use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::attachment::{
    Attachment, AttachmentId, FileName, NewAttachment, PendingUpload, QueuedScan, ScanStatus,
    ScanVerdict, StorageKey,
};
use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::event::{Change, Recorded};
use crate::message::{Message, MessageId, NewMessage};

/// Attachments, and messages that carry one.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AttachmentRepository: Send + Sync + 'static {
    /// Records that an object is about to be stored under `upload.key`, before the upload
    /// starts, so that it can be found and removed if its message never commits.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] ([`Unique::StorageKey`](crate::error::Unique)) when the key is
    /// recorded already, [`StoreError::Backend`] when the store fails.
    async fn begin_upload(&self, upload: PendingUpload) -> Result<(), StoreError>;

    /// Stores a message with its attachment (whose object is already in the storage, recorded by
    /// [`AttachmentRepository::begin_upload`]) in one short transaction, like
    /// [`Messages::insert_message`](super::Messages::insert_message): the message, the attachment
    /// row, the end of the pending upload, the message's audit record and `attachment_audit`
    /// (their object ids filled in), then the events the change's plan decides. If any step
    /// fails, nothing is stored.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the pending upload is no longer there (it was taken for
    /// abandoned and its object is being removed), [`StoreError::Backend`] when the store fails.
    async fn insert_message_with_attachment(
        &self,
        message: NewMessage,
        attachment: NewAttachment,
        change: Change<Message>,
        attachment_audit: AuditRecord,
    ) -> Result<Recorded<(Message, Attachment)>, StoreError>;

    /// Takes up to `limit` pending uploads started before `started_before` for abandoned and
    /// returns their keys: from then on no message can be stored with them, so their objects
    /// may be removed. Uploads taken before and not yet forgotten are returned again.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn abandon_uploads(
        &self,
        started_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StorageKey>, StoreError>;

    /// Forgets a pending upload whose object is gone (or was never stored); forgetting an
    /// unknown key succeeds.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn forget_upload(&self, key: StorageKey) -> Result<(), StoreError>;

    /// One attachment with its message.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn attachment(
        &self,
        id: AttachmentId,
    ) -> Result<Option<(Attachment, Message)>, StoreError>;

    /// The attachments of some messages, in id order.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn attachments_of(&self, messages: Vec<MessageId>)
    -> Result<Vec<Attachment>, StoreError>;

    /// Up to `limit` attachments waiting for the scanner (`pending` or `not_scanned`) and due at
    /// `now` (never deferred, or deferred until `now` or earlier), oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn unscanned(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueuedScan>, StoreError>;

    /// Records that scanning a file failed for the `failures`-th time in a row, and leaves it out
    /// of [`AttachmentRepository::unscanned`] until `retry_at`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown attachment, [`StoreError::Backend`] when the store
    /// fails.
    async fn defer_scan(
        &self,
        id: AttachmentId,
        failures: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records the scanner's decision, with the change's audit record and events.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown attachment, [`StoreError::Backend`] when the store
    /// fails.
    async fn set_scan_status(
        &self,
        id: AttachmentId,
        status: ScanStatus,
        at: DateTime<Utc>,
        change: Change<Attachment>,
    ) -> Result<Recorded<Attachment>, StoreError>;
}

/// Object storage for attachments: files are written under a key and read back through an expiring
/// link. Keys are always [`StorageKey`]s, so an adapter never sees a client's file name as a path.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AttachmentStorage: Send + Sync + 'static {
    /// Stores the file at `path` (a spooled upload of `size` bytes) under `key`, streaming it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the storage fails; nothing is left under `key` then.
    async fn put_file(
        &self,
        key: StorageKey,
        content_type: &'static str,
        path: PathBuf,
        size: u64,
    ) -> Result<(), StoreError>;

    /// Stores `bytes` under `key`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the storage fails.
    async fn put_bytes(
        &self,
        key: StorageKey,
        content_type: &'static str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError>;

    /// The stored bytes (files are at most [`crate::attachment::MAX_DOCUMENT_BYTES`]).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when nothing is stored under `key`, [`StoreError::Backend`] when
    /// the storage fails.
    async fn get(&self, key: StorageKey) -> Result<Vec<u8>, StoreError>;

    /// A link that downloads `key` as `file_name` with `content_type` (and, where the storage can,
    /// `X-Content-Type-Options: nosniff`) until `expires_in_seconds` from now. A link that starts
    /// with `/` is relative to the server's own address.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the storage fails.
    async fn download_url(
        &self,
        key: StorageKey,
        file_name: FileName,
        content_type: &'static str,
        expires_in_seconds: u32,
    ) -> Result<String, StoreError>;

    /// Removes `key`; removing a missing key succeeds.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the storage fails.
    async fn delete(&self, key: StorageKey) -> Result<(), StoreError>;
}

/// A virus scanner.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VirusScanner: Send + Sync + 'static {
    /// Scans a file's bytes.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the scanner cannot be reached or cannot decide; the file then
    /// stays pending.
    async fn scan(&self, bytes: Vec<u8>) -> Result<ScanVerdict, StoreError>;
}
