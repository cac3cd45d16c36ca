// Attachments, shared by both backends. Included after `queries.rs`, whose imports, schema and
// `Db` it uses; a message with an attachment is stored through `insert_message_in` there.

use messaging_domain::attachment::{
    Attachment, AttachmentId, FileKind, FileName, NewAttachment, ScanStatus, StorageKey,
};
use messaging_domain::ports::UploadStep;
use schema::attachments;

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
    pub async fn insert_message_with_attachment(
        &self,
        new: NewMessage,
        attachment: NewAttachment,
        message_audit: AuditRecord,
        attachment_audit: AuditRecord,
        upload: UploadStep,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<(Message, Attachment)>, StoreError> {
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let (message, row, events) = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let message = insert_message_in(conn, &new, message_audit).await?;
                // The object goes up inside the transaction, once the message id (part of its
                // key) is known: if it fails, the message is rolled back with it.
                let key = upload(MessageId(message.id)).await.map_err(DbError::Domain)?;
                let file = &attachment.file;
                let size = i64::try_from(file.size)
                    .map_err(|_| DbError::Corrupt("attachment size"))?;
                let row: AttachmentRow = diesel::insert_into(attachments::table)
                    .values((
                        attachments::message_id.eq(message.id),
                        attachments::uploader_id.eq(new.sender_id.0),
                        attachments::storage_key.eq(key.as_str()),
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

    pub async fn unscanned_attachments(&self, limit: u32) -> Result<Vec<Attachment>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<AttachmentRow> = attachments::table
            .filter(attachments::scan_status.eq_any(UNSCANNED))
            .order(attachments::id)
            .limit(i64::from(limit))
            .select(AttachmentRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows
            .into_iter()
            .map(AttachmentRow::into_attachment)
            .collect::<Result<_, _>>()?)
    }

    pub async fn set_scan_status(
        &self,
        id: AttachmentId,
        status: ScanStatus,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Attachment>,
    ) -> Result<Recorded<Attachment>, StoreError> {
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
