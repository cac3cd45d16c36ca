//! Attachments: uploads begun, the message and attachment stored together, the sweep of
//! abandoned uploads, and the scan queue.

use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::attachment::{
    Attachment, AttachmentId, NewAttachment, PendingUpload, QueuedScan, ScanStatus, StorageKey,
};
use messaging_domain::audit::AuditRecord;
use messaging_domain::event::{EventPlan, Recorded};
use messaging_domain::message::{Message, MessageId, NewMessage};

use crate::state::{AttachmentRow, PendingRow, State};
use crate::{Duplicate, duplicate};

impl State {
    /// Records an upload about to start under its key.
    pub(crate) fn begin_upload(&mut self, upload: PendingUpload) -> Result<(), StoreError> {
        let key = upload.key.as_str().to_owned();
        if self.pending_uploads.contains_key(&key) {
            return Err(duplicate(Duplicate::StorageKey));
        }
        self.pending_uploads.insert(
            key,
            PendingRow {
                upload,
                abandoned: false,
            },
        );
        Ok(())
    }

    /// Stores a message with its attachment, ending its pending upload; nothing is stored when
    /// the upload was abandoned (or never begun).
    pub(crate) fn insert_message_with_attachment(
        &mut self,
        new: NewMessage,
        attachment: NewAttachment,
        message_audit: AuditRecord,
        attachment_audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<(Message, Attachment)>, StoreError> {
        let key = attachment.storage_key.as_str().to_owned();
        // Every check comes before the first write, so a refusal leaves nothing behind.
        self.check_new_message(&new)?;
        if self
            .attachments
            .values()
            .any(|a| a.attachment.storage_key == attachment.storage_key)
        {
            return Err(duplicate(Duplicate::StorageKey));
        }
        if self.pending_uploads.get(&key).is_none_or(|p| p.abandoned) {
            return Err(StoreError::NotFound);
        }
        self.pending_uploads.remove(&key);
        let at = new.created_at;
        let uploader = new.sender_id;
        let message = self.store_message(new, message_audit);
        let id = self.last_id.attachment();
        let file = attachment.file;
        let stored = Attachment {
            id,
            message_id: message.id,
            uploader_id: uploader,
            storage_key: attachment.storage_key,
            file_name: file.name,
            kind: file.kind,
            size: file.size,
            dimensions: file.dimensions,
            scan_status: attachment.scan_status,
            created_at: attachment.created_at,
            scanned_at: None,
        };
        self.attachments.insert(
            id,
            AttachmentRow {
                attachment: stored.clone(),
                failures: 0,
                next_scan_at: None,
            },
        );
        self.audit(AuditRecord {
            object_id: Some(id.0),
            ..attachment_audit
        });
        let events = self.append_events(plan(&message), at);
        Ok(Recorded {
            value: (message, stored),
            events,
        })
    }

    /// Marks up to `limit` uploads begun before `started_before` abandoned, oldest first, and
    /// returns their keys; an abandoned upload is returned again until it is forgotten.
    pub(crate) fn abandon_uploads(
        &mut self,
        started_before: DateTime<Utc>,
        limit: u32,
    ) -> Vec<StorageKey> {
        let mut old: Vec<&mut PendingRow> = self
            .pending_uploads
            .values_mut()
            .filter(|p| p.upload.started_at < started_before)
            .collect();
        old.sort_by(|a, b| {
            a.upload
                .started_at
                .cmp(&b.upload.started_at)
                .then_with(|| a.upload.key.as_str().cmp(b.upload.key.as_str()))
        });
        old.into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|p| {
                p.abandoned = true;
                p.upload.key.clone()
            })
            .collect()
    }

    /// An attachment with its message.
    pub(crate) fn attachment(&self, id: AttachmentId) -> Option<(Attachment, Message)> {
        let row = self.attachments.get(&id)?;
        let message = self.messages.get(&row.attachment.message_id)?;
        Some((row.attachment.clone(), message.clone()))
    }

    /// The attachments of some messages, in id order.
    pub(crate) fn attachments_of(&self, messages: &[MessageId]) -> Vec<Attachment> {
        self.attachments
            .values()
            .filter(|a| messages.contains(&a.attachment.message_id))
            .map(|a| a.attachment.clone())
            .collect()
    }

    /// Attachments waiting for the scanner and due, in id order.
    pub(crate) fn unscanned(&self, now: DateTime<Utc>, limit: u32) -> Vec<QueuedScan> {
        self.attachments
            .values()
            .filter(|a| {
                matches!(
                    a.attachment.scan_status,
                    ScanStatus::Pending | ScanStatus::NotScanned
                )
            })
            .filter(|a| a.next_scan_at.is_none_or(|due| due <= now))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|a| QueuedScan {
                attachment: a.attachment.clone(),
                failures: a.failures,
            })
            .collect()
    }

    /// Puts off an attachment's scan after a failure.
    pub(crate) fn defer_scan(
        &mut self,
        id: AttachmentId,
        failures: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let row = self.attachments.get_mut(&id).ok_or(StoreError::NotFound)?;
        row.failures = failures;
        row.next_scan_at = Some(retry_at);
        Ok(())
    }

    /// Stores the scanner's decision.
    pub(crate) fn set_scan_status(
        &mut self,
        id: AttachmentId,
        status: ScanStatus,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Attachment>,
    ) -> Result<Recorded<Attachment>, StoreError> {
        let row = self.attachments.get_mut(&id).ok_or(StoreError::NotFound)?;
        row.attachment.scan_status = status;
        row.attachment.scanned_at = Some(at);
        let attachment = row.attachment.clone();
        self.audit(audit);
        let events = self.append_events(plan(&attachment), at);
        Ok(Recorded {
            value: attachment,
            events,
        })
    }
}
