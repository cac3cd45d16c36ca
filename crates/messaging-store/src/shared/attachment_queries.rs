// Attachments, shared by both backends. Included after `queries.rs`, whose imports, schema and
// `Db` it uses; a message with an attachment is stored through `insert_message_in` there.

use messaging_domain::attachment::{
    Attachment, AttachmentId, FileKind, FileName, NewAttachment, PendingUpload, QueuedScan,
    ScanStatus, StorageKey,
};
use schema::{attachments, pending_uploads};

/// Scan states the worker still has to decide.
const UNSCANNED: [&str; 2] = ["pending", "not_scanned"];

#[derive(Queryable, Selectable)]
#[diesel(table_name = attachments)]
struct AttachmentRow {
    id: i64,
    message_id: i64,
    uploader_id: i64,
    storage_key: String,
    file_name: String,
    mime_type: String,
    size_bytes: i64,
    width: Option<i32>,
    height: Option<i32>,
    scan_status: String,
    created_at: DateTime<Utc>,
    scanned_at: Option<DateTime<Utc>>,
}

impl AttachmentRow {
    fn into_attachment(self) -> Result<Attachment, DbError> {
        let dimensions = match (self.width, self.height) {
            (Some(w), Some(h)) => Some((
                u32::try_from(w).map_err(|_| DbError::Corrupt("attachments.width"))?,
                u32::try_from(h).map_err(|_| DbError::Corrupt("attachments.height"))?,
            )),
            _ => None,
        };
        let kind = FileKind::from_mime_type(&self.mime_type)
            .ok_or(DbError::Corrupt("attachments.mime_type"))?;
        Ok(Attachment {
            id: AttachmentId(self.id),
            message_id: MessageId(self.message_id),
            uploader_id: UserId(self.uploader_id),
            storage_key: StorageKey::parse(&self.storage_key)
                .ok_or(DbError::Corrupt("attachments.storage_key"))?,
            file_name: FileName::from_stored(self.file_name),
            kind,
            size: u64::try_from(self.size_bytes)
                .map_err(|_| DbError::Corrupt("attachments.size_bytes"))?,
            dimensions,
            scan_status: ScanStatus::parse(&self.scan_status)
                .ok_or(DbError::Corrupt("attachments.scan_status"))?,
            created_at: self.created_at,
            scanned_at: self.scanned_at,
        })
    }
}

fn dimension(value: Option<u32>) -> Result<Option<i32>, DbError> {
    value
        .map(|v| i32::try_from(v).map_err(|_| DbError::Corrupt("attachment dimensions")))
        .transpose()
}

impl Db {
    pub async fn begin_upload(&self, upload: PendingUpload) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(pending_uploads::table)
            .values((
                pending_uploads::storage_key.eq(upload.key.as_str()),
                pending_uploads::uploader_id.eq(upload.uploader.0),
                pending_uploads::started_at.eq(upload.started_at),
                pending_uploads::abandoned.eq(false),
            ))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    /// The object is in the storage already: this transaction only writes rows, so it is short.
    pub async fn insert_message_with_attachment(
        &self,
        new: NewMessage,
        attachment: NewAttachment,
        change: Change<Message>,
        attachment_audit: AuditRecord,
    ) -> Result<Recorded<(Message, Attachment)>, StoreError> {
        let Change {
            audit: message_audit,
            plan,
        } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let (message, row, events) = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let message = insert_message_in(conn, &new, message_audit).await?;
                let file = &attachment.file;
                let key = attachment.storage_key.as_str();
                let size = i64::try_from(file.size)
                    .map_err(|_| DbError::Corrupt("attachment size"))?;
                let row: AttachmentRow = diesel::insert_into(attachments::table)
                    .values((
                        attachments::message_id.eq(message.id),
                        attachments::uploader_id.eq(new.sender_id.0),
                        attachments::storage_key.eq(key),
                        attachments::file_name.eq(file.name.as_str()),
                        attachments::mime_type.eq(file.kind.mime_type()),
                        attachments::size_bytes.eq(size),
                        attachments::width.eq(dimension(file.dimensions.map(|d| d.0))?),
                        attachments::height.eq(dimension(file.dimensions.map(|d| d.1))?),
                        attachments::scan_status.eq(attachment.scan_status.as_str()),
                        attachments::created_at.eq(attachment.created_at),
                    ))
                    .returning(AttachmentRow::as_returning())
                    .get_result(conn)
                    .await?;
                // The upload ends here. A row the sweep marked abandoned (its object is being
                // removed) cannot end this way: the message is refused rather than stored
                // without its object.
                let ended = diesel::delete(
                    pending_uploads::table
                        .find(key)
                        .filter(pending_uploads::abandoned.eq(false)),
                )
                .execute(conn)
                .await?;
                if ended != 1 {
                    return Err(DbError::Domain(StoreError::NotFound));
                }
                let mut audit = attachment_audit;
                audit.object_id = Some(row.id);
                insert_audit(conn, &audit).await?;
                let message = Message::from(message);
                let events = append_events(conn, &origin, plan(&message), new.created_at).await?;
                Ok((message, row, events))
            })
            .await?;
        Ok(Recorded {
            value: (message, row.into_attachment()?),
            events,
        })
    }

    pub async fn abandon_uploads(
        &self,
        started_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StorageKey>, StoreError> {
        let mut conn = self.conn().await?;
        let oldest: Vec<String> = pending_uploads::table
            .filter(pending_uploads::started_at.lt(started_before))
            .order(pending_uploads::started_at)
            .limit(i64::from(limit))
            .select(pending_uploads::storage_key)
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        // Marked and returned by one statement: a message that committed since has removed its
        // row, which is then neither marked nor returned.
        let keys: Vec<String> = diesel::update(
            pending_uploads::table.filter(pending_uploads::storage_key.eq_any(&oldest)),
        )
        .set(pending_uploads::abandoned.eq(true))
        .returning(pending_uploads::storage_key)
        .get_results(&mut *conn)
        .await
        .map_err(DbError::from)?;
        // Oldest first, as selected (RETURNING promises no order).
        Ok(oldest
            .iter()
            .filter(|k| keys.contains(k))
            .map(|k| StorageKey::parse(k).ok_or(DbError::Corrupt("pending_uploads.storage_key")))
            .collect::<Result<_, _>>()?)
    }

    pub async fn forget_upload(&self, key: StorageKey) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::delete(pending_uploads::table.find(key.as_str()))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    pub async fn attachment(
        &self,
        id: AttachmentId,
    ) -> Result<Option<(Attachment, Message)>, StoreError> {
        let mut conn = self.conn().await?;
        let found: Option<(AttachmentRow, MessageRow)> = attachments::table
            .inner_join(messages::table)
            .filter(attachments::id.eq(id.0))
            .select((AttachmentRow::as_select(), MessageRow::as_select()))
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        match found {
            Some((attachment, message)) => {
                Ok(Some((attachment.into_attachment()?, message.into())))
            }
            None => Ok(None),
        }
    }

    pub async fn attachments_of(
        &self,
        messages: Vec<MessageId>,
    ) -> Result<Vec<Attachment>, StoreError> {
        let mut conn = self.conn().await?;
        let ids: Vec<i64> = messages.iter().map(|m| m.0).collect();
        let rows: Vec<AttachmentRow> = attachments::table
            .filter(attachments::message_id.eq_any(ids))
            .order(attachments::id)
            .select(AttachmentRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows
            .into_iter()
            .map(AttachmentRow::into_attachment)
            .collect::<Result<_, _>>()?)
    }

    pub async fn unscanned_attachments(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueuedScan>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(AttachmentRow, i32)> = attachments::table
            .filter(attachments::scan_status.eq_any(UNSCANNED))
            .filter(
                attachments::next_scan_at
                    .is_null()
                    .or(attachments::next_scan_at.le(now)),
            )
            .order(attachments::id)
            .limit(i64::from(limit))
            .select((AttachmentRow::as_select(), attachments::scan_failures))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows
            .into_iter()
            .map(|(row, failures)| {
                Ok(QueuedScan {
                    attachment: row.into_attachment()?,
                    failures: u32::try_from(failures)
                        .map_err(|_| DbError::Corrupt("attachments.scan_failures"))?,
                })
            })
            .collect::<Result<_, DbError>>()?)
    }

    pub async fn defer_scan(
        &self,
        id: AttachmentId,
        failures: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let failures = i32::try_from(failures).unwrap_or(i32::MAX);
        let changed = diesel::update(attachments::table.find(id.0))
            .set((
                attachments::scan_failures.eq(failures),
                attachments::next_scan_at.eq(Some(retry_at)),
            ))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn set_scan_status(
        &self,
        id: AttachmentId,
        status: ScanStatus,
        at: DateTime<Utc>,
        change: Change<Attachment>,
    ) -> Result<Recorded<Attachment>, StoreError> {
        let Change { audit, plan } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let row: AttachmentRow = diesel::update(attachments::table.find(id.0))
                    .set((
                        attachments::scan_status.eq(status.as_str()),
                        attachments::scanned_at.eq(Some(at)),
                    ))
                    .returning(AttachmentRow::as_returning())
                    .get_result(conn)
                    .await?;
                insert_audit(conn, &audit).await?;
                let attachment = row.into_attachment()?;
                let events = append_events(conn, &origin, plan(&attachment), at).await?;
                Ok(Recorded {
                    value: attachment,
                    events,
                })
            })
            .await?;
        Ok(recorded)
    }
}
