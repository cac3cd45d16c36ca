//! The attachment use cases over their ports: sending a message with a file, handing out download
//! links, and scanning new files.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::TimeDelta;
use thiserror::Error;

use crate::attachment::{
    self, Attachment, AttachmentId, DownloadRefusal, FileKind, FileName, InspectedFile,
    NewAttachment, PendingUpload, ScanStatus, ScanVerdict, StorageKey,
};
use crate::audit::{AuditAction, AuditRecord};
use crate::error::StoreError;
use crate::event::{Change, DomainEvent, EventPlan};
use crate::message::{MessageId, MessageView};
use crate::ports::{
    AttachmentRepository, AttachmentStorage, AuditLog, Clock, EventPublisher, VirusScanner,
};
use crate::service::actor::Actor;
use crate::service::commands::PreparedMessage;

#[cfg(test)]
mod tests;

/// How long a download link lasts by default (System A: one hour).
pub const DEFAULT_LINK_TTL_SECS: u32 = 3_600;
/// How long an upload may stay uncommitted by default before its object is taken for abandoned
/// (15 minutes: storing a file of at most 10 MB from the local spool takes seconds).
pub const DEFAULT_ABANDON_UPLOADS_AFTER_SECS: u32 = 900;

/// Tunable rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentConfig {
    /// How long a download link stays valid, in seconds.
    pub link_ttl_secs: u32,
    /// How long after it started an upload whose message never committed is taken for
    /// abandoned and its object removed, in seconds.
    pub abandon_uploads_after_secs: u32,
}

impl Default for AttachmentConfig {
    fn default() -> Self {
        Self {
            link_ttl_secs: DEFAULT_LINK_TTL_SECS,
            abandon_uploads_after_secs: DEFAULT_ABANDON_UPLOADS_AFTER_SECS,
        }
    }
}

/// A checked upload, spooled by the caller to a file it owns (and removes afterwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpooledUpload {
    /// The verdict of the [`attachment::FileInspector`] the bytes went through.
    pub file: InspectedFile,
    /// Where the bytes are.
    pub path: PathBuf,
    /// 16 random bytes that make the storage key unique.
    pub nonce: [u8; 16],
}

/// A download link and what the client shows with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadLink {
    /// The link (absolute, or relative to the server when it starts with `/`).
    pub url: String,
    /// The display name.
    pub file_name: FileName,
    /// The size in bytes.
    pub size: u64,
    /// The MIME type.
    pub mime_type: &'static str,
    /// How long the link lasts.
    pub expires_in_seconds: u32,
}

/// Why a download link was not given.
#[derive(Debug, Error)]
pub enum DownloadError {
    /// The rules refuse it.
    #[error(transparent)]
    Refused(#[from] DownloadRefusal),
    /// The store or the storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one scanning round did.
#[derive(Debug, Default)]
pub struct ScanRound {
    /// Files the scanner decided about.
    pub decided: usize,
    /// Files that stay pending because reading or scanning them failed, with the cause (for the
    /// logs); each waits longer before its next scan ([`attachment::scan_retry_delay`]).
    pub failures: Vec<(AttachmentId, StoreError)>,
}

impl ScanRound {
    /// How many waiting files the round took up, decided or not.
    pub fn taken(&self) -> usize {
        self.decided + self.failures.len()
    }
}

/// What one sweep of abandoned uploads did.
#[derive(Debug, Default)]
pub struct SweepRound {
    /// Objects removed (with their pending uploads).
    pub removed: usize,
    /// Objects the storage failed to remove, with the cause (for the logs); they are tried again
    /// by the next sweep.
    pub failures: Vec<(StorageKey, StoreError)>,
}

/// The attachment use cases over their ports.
#[derive(Debug)]
pub struct AttachmentService<R, S, V, E, A, C> {
    repo: R,
    storage: Arc<S>,
    scanner: Option<V>,
    events: E,
    audit_log: A,
    clock: C,
    config: AttachmentConfig,
}

impl<R, S, V, E, A, C> AttachmentService<R, S, V, E, A, C>
where
    R: AttachmentRepository,
    S: AttachmentStorage,
    V: VirusScanner,
    E: EventPublisher,
    A: AuditLog,
    C: Clock,
{
    /// Builds the service. Without a scanner, files are stored `not_scanned` and may be
    /// downloaded at once.
    pub fn new(
        repo: R,
        storage: Arc<S>,
        scanner: Option<V>,
        events: E,
        audit_log: A,
        clock: C,
        config: AttachmentConfig,
    ) -> Self {
        Self {
            repo,
            storage,
            scanner,
            events,
            audit_log,
            clock,
            config,
        }
    }

    /// Whether a virus scanner is configured.
    pub fn scanner_configured(&self) -> bool {
        self.scanner.is_some()
    }

    /// The rules in force.
    pub fn config(&self) -> &AttachmentConfig {
        &self.config
    }

    /// Stores a message that passed the send rules together with its file: the message, the
    /// object and the attachment row exist afterwards, or none of them does (an object left by a
    /// process that died in between is removed by [`Self::sweep_abandoned_uploads`]).
    ///
    /// The object is stored first, outside any database transaction (the upload may be slow, and
    /// a transaction held meanwhile would hold up other requests: all of them on SQLite), under a
    /// key recorded as a pending upload beforehand; then the message and its attachment row are
    /// committed in one short transaction that also ends the pending upload.
    ///
    /// # Errors
    /// [`StoreError`] when the database or the storage fails; nothing is kept then.
    /// [`StoreError::Duplicate`] ([`Unique::ClientMessageId`](crate::error::Unique)) when the same request, sent twice at once,
    /// stored its message first: this copy's object is taken down again.
    pub async fn send_with_attachment(
        &self,
        actor: &Actor,
        prepared: PreparedMessage,
        upload: SpooledUpload,
    ) -> Result<(MessageView, Attachment), StoreError> {
        let now = prepared.message.created_at;
        let uploader = prepared.message.sender_id;
        let kind: FileKind = upload.file.kind;
        let key = StorageKey::new(uploader, upload.nonce, kind);
        self.repo
            .begin_upload(PendingUpload {
                key: key.clone(),
                uploader,
                started_at: now,
            })
            .await?;
        if let Err(err) = self
            .storage
            .put_file(key.clone(), kind.mime_type(), upload.path, upload.file.size)
            .await
        {
            self.discard(key).await;
            return Err(err);
        }
        let attachment = NewAttachment {
            // The name as the recipient will read it, masked with the body where the pair's
            // rules say so.
            file: InspectedFile {
                name: prepared.file_name.clone(),
                ..upload.file
            },
            storage_key: key.clone(),
            scan_status: ScanStatus::initial(self.scanner.is_some()),
            created_at: now,
        };
        let echo = prepared.message.client_message_id.clone();
        let stored = self
            .repo
            .insert_message_with_attachment(
                prepared.message,
                attachment,
                Change::new(
                    audit(actor, AuditAction::MessageSent, "message", None, now),
                    crate::service::send::sent_plan(
                        prepared.sender.clone(),
                        prepared.recipient.clone(),
                        echo,
                    ),
                ),
                audit(
                    actor,
                    AuditAction::AttachmentUploaded,
                    "attachment",
                    None,
                    now,
                ),
            )
            .await;
        let recorded = match stored {
            Ok(stored) => stored,
            Err(err) => {
                // The object went up but its message did not commit: take it down again so
                // nothing of the refused message is left.
                self.discard(key).await;
                return Err(err);
            }
        };
        let (message, attachment) = recorded.value;
        let view = MessageView {
            message,
            sender: prepared.sender,
            recipient: prepared.recipient,
        };
        self.events.publish(recorded.events);
        Ok((view.seen_by(actor.user_id), attachment))
    }

    /// Removes the objects of uploads that started more than the configured time ago and whose
    /// message never committed (the process stopped between the upload and the commit), up to
    /// `batch` of them.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; objects the storage fails to remove are reported in
    /// the round and tried again next time.
    pub async fn sweep_abandoned_uploads(&self, batch: u32) -> Result<SweepRound, StoreError> {
        let age = TimeDelta::seconds(i64::from(self.config.abandon_uploads_after_secs));
        let started_before = self.clock.now() - age;
        let mut round = SweepRound::default();
        for key in self.repo.abandon_uploads(started_before, batch).await? {
            match self.storage.delete(key.clone()).await {
                Ok(()) => {
                    self.repo.forget_upload(key).await?;
                    round.removed += 1;
                }
                Err(err) => round.failures.push((key, err)),
            }
        }
        Ok(round)
    }

    /// Removes an object whose message will not be stored, then its pending upload. If either
    /// step fails the pending upload stays, and the sweep removes the object later.
    async fn discard(&self, key: StorageKey) {
        if self.storage.delete(key.clone()).await.is_ok() {
            let _ = self.repo.forget_upload(key).await;
        }
    }

    /// A download link for an attachment, for one of the two participants of its message.
    ///
    /// # Errors
    /// [`DownloadError::Refused`] when the rules refuse it, [`DownloadError::Store`] on a fault.
    pub async fn download(
        &self,
        actor: &Actor,
        id: AttachmentId,
    ) -> Result<DownloadLink, DownloadError> {
        let (attachment, message) = self
            .repo
            .attachment(id)
            .await?
            .ok_or(DownloadRefusal::NotFound)?;
        attachment::check_download(&attachment, &message, actor.user_id, self.scanner.is_some())?;
        let ttl = self.config.link_ttl_secs;
        let url = self
            .storage
            .download_url(
                attachment.storage_key.clone(),
                attachment.file_name.clone(),
                attachment.kind.mime_type(),
                ttl,
            )
            .await?;
        let now = self.clock.now();
        self.audit_log
            .record(audit(
                actor,
                AuditAction::AttachmentDownloaded,
                "attachment",
                Some(attachment.id.0),
                now,
            ))
            .await?;
        Ok(DownloadLink {
            url,
            file_name: attachment.file_name,
            size: attachment.size,
            mime_type: attachment.kind.mime_type(),
            expires_in_seconds: ttl,
        })
    }

    /// The attachments of messages, for showing them with the messages.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn attachments_of(
        &self,
        messages: Vec<MessageId>,
    ) -> Result<Vec<Attachment>, StoreError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        self.repo.attachments_of(messages).await
    }

    /// Scans up to `batch` waiting files, records each verdict and tells each uploader. A file
    /// that cannot be read or scanned stays pending and is left out of the rounds for a while,
    /// longer after each failure ([`attachment::scan_retry_delay`]), so that files that keep
    /// failing never take the place of the others. Without a scanner it does nothing.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn scan_waiting(&self, batch: u32) -> Result<ScanRound, StoreError> {
        let Some(scanner) = &self.scanner else {
            return Ok(ScanRound::default());
        };
        let mut round = ScanRound::default();
        for queued in self.repo.unscanned(self.clock.now(), batch).await? {
            let waiting = queued.attachment;
            let verdict = match self.storage.get(waiting.storage_key.clone()).await {
                Ok(bytes) => scanner.scan(bytes).await,
                Err(err) => Err(err),
            };
            let status = match verdict {
                Ok(ScanVerdict::Clean) => ScanStatus::Clean,
                Ok(ScanVerdict::Infected(_)) => ScanStatus::Infected,
                Err(err) => {
                    let failures = queued.failures.saturating_add(1);
                    let retry_at = self.clock.now() + attachment::scan_retry_delay(failures);
                    self.repo.defer_scan(waiting.id, failures, retry_at).await?;
                    round.failures.push((waiting.id, err));
                    continue;
                }
            };
            let now = self.clock.now();
            let record = AuditRecord {
                actor: None,
                action: AuditAction::AttachmentScanned,
                object_type: "attachment",
                object_id: Some(waiting.id.0),
                at: now,
                client_addr: None,
            };
            let plan: EventPlan<Attachment> = Box::new(move |a: &Attachment| {
                vec![
                    DomainEvent::AttachmentScanned {
                        attachment_id: a.id,
                        message_id: a.message_id,
                        sender_id: a.uploader_id,
                        status,
                    }
                    .addressed(None),
                ]
            });
            let updated = self
                .repo
                .set_scan_status(waiting.id, status, now, Change::new(record, plan))
                .await?;
            round.decided += 1;
            self.events.publish(updated.events);
        }
        Ok(round)
    }
}

fn audit(
    actor: &Actor,
    action: AuditAction,
    object_type: &'static str,
    object_id: Option<i64>,
    at: chrono::DateTime<chrono::Utc>,
) -> AuditRecord {
    AuditRecord {
        actor: Some(actor.user_id),
        action,
        object_type,
        object_id,
        at,
        client_addr: actor.client_addr.clone(),
    }
}
