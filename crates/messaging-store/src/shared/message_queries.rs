// Message changes (the `Messages` port), for both backends: sends, edits, receipts and deletes,
// each in one transaction with its thread rows, audit record and stream entries, taking locks in
// the order written at the top of `db.rs`. A delete decides nothing here: the domain's
// `Deletion::apply` decides on the locked row, and this file writes what it returns.

async fn find_conversation(
    conn: &mut Conn,
    low: i64,
    high: i64,
    booking: Option<i64>,
) -> Result<Option<i64>, DbError> {
    let query = conversations::table
        .filter(conversations::user_low.eq(low))
        .filter(conversations::user_high.eq(high))
        .select(conversations::id)
        .into_boxed();
    let query = match booking {
        Some(b) => query.filter(conversations::booking_id.eq(b)),
        None => query.filter(conversations::booking_id.is_null()),
    };
    Ok(query.first::<i64>(conn).await.optional()?)
}

async fn load_message(conn: &mut Conn, id: i64) -> Result<MessageRow, DbError> {
    Ok(messages::table
        .find(id)
        .select(MessageRow::as_select())
        .first(conn)
        .await?)
}

/// Points a member's thread row at the newest message they can still see (or at nothing).
async fn refresh_last_message(
    conn: &mut Conn,
    conversation: i64,
    user: i64,
) -> Result<(), DbError> {
    let last: Option<(i64, DateTime<Utc>)> = messages::table
        .filter(messages::conversation_id.eq(conversation))
        .filter(visible_to!(user))
        .order(messages::id.desc())
        .select((messages::id, messages::created_at))
        .first(conn)
        .await
        .optional()?;
    diesel::update(
        members::table
            .filter(members::conversation_id.eq(conversation))
            .filter(members::user_id.eq(user)),
    )
    .set((
        members::last_message_id.eq(last.map(|l| l.0)),
        members::last_message_at.eq(last.map(|l| l.1)),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

async fn decrement_unread(conn: &mut Conn, conversation: i64, user: i64) -> Result<(), DbError> {
    diesel::update(
        members::table
            .filter(members::conversation_id.eq(conversation))
            .filter(members::user_id.eq(user))
            .filter(members::unread_count.gt(0)),
    )
    .set(members::unread_count.eq(members::unread_count - 1))
    .execute(conn)
    .await?;
    Ok(())
}

async fn member_conversations(
    conn: &mut Conn,
    user: i64,
    other: i64,
    booking: Option<BookingId>,
) -> Result<Vec<i64>, DbError> {
    let query = members::table
        .filter(members::user_id.eq(user))
        .filter(members::other_user_id.eq(other))
        .select(members::conversation_id)
        .into_boxed();
    let query = match booking {
        Some(b) => query.filter(members::booking_id.eq(b.0)),
        None => query,
    };
    Ok(query.load(conn).await?)
}

/// Stores a new message in its conversation (created when missing), updates both members' thread
/// rows and writes the audit record. Must run inside the caller's transaction.
async fn insert_message_in(
    conn: &mut Conn,
    new: &NewMessage,
    audit: AuditRecord,
) -> Result<MessageRow, DbError> {
    let (low, high) = ordered(new.sender_id, new.recipient_id);
    let booking = new.booking_id.map(|b| b.0);
    let conversation = match find_conversation(conn, low, high, booking).await? {
        Some(id) => id,
        None => {
            // A concurrent first message may create the same conversation; the
            // unique index decides, and whoever created it adds its members.
            let created = diesel::insert_into(conversations::table)
                .values((
                    conversations::user_low.eq(low),
                    conversations::user_high.eq(high),
                    conversations::booking_id.eq(booking),
                    conversations::started_by.eq(new.sender_id.0),
                    conversations::created_at.eq(new.created_at),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            let id = find_conversation(conn, low, high, booking)
                .await?
                .ok_or(DbError::Corrupt("conversations"))?;
            if created == 1 {
                for (member, other) in [
                    (new.sender_id.0, new.recipient_id.0),
                    (new.recipient_id.0, new.sender_id.0),
                ] {
                    diesel::insert_into(members::table)
                        .values((
                            members::conversation_id.eq(id),
                            members::user_id.eq(member),
                            members::other_user_id.eq(other),
                            members::booking_id.eq(booking),
                            members::unread_count.eq(0),
                        ))
                        .execute(conn)
                        .await?;
                }
            }
            id
        }
    };
    Sql::lock_members(conn, &[conversation], &[new.sender_id.0, new.recipient_id.0]).await?;
    let id: i64 = diesel::insert_into(message_writes::table)
        .values((
            message_writes::conversation_id.eq(conversation),
            message_writes::sender_id.eq(new.sender_id.0),
            message_writes::recipient_id.eq(new.recipient_id.0),
            message_writes::booking_id.eq(booking),
            message_writes::subject.eq(new.subject.as_deref()),
            message_writes::body.eq(&new.body),
            message_writes::search_words.eq(message_words(new.subject.as_deref(), &new.body)),
            message_writes::parent_id.eq(new.parent_id.map(|p| p.0)),
            message_writes::client_message_id.eq(new.client_message_id.as_deref()),
            message_writes::created_at.eq(new.created_at),
            message_writes::deleted_by_sender.eq(false),
            message_writes::deleted_by_recipient.eq(false),
        ))
        .returning(message_writes::id)
        .get_result(conn)
        .await?;
    let row: MessageRow = messages::table
        .find(id)
        .select(MessageRow::as_select())
        .get_result(conn)
        .await?;
    // Both members' rows in one statement; `lock_members` holds them already.
    diesel::update(
        members::table
            .filter(members::user_id.eq_any([new.sender_id.0, new.recipient_id.0]))
            .filter(members::conversation_id.eq(conversation)),
    )
    .set((
        members::last_message_id.eq(Some(row.id)),
        members::last_message_at.eq(Some(new.created_at)),
        members::unread_count.eq(members::unread_count
            + diesel::dsl::case_when(
                members::user_id.eq(new.recipient_id.0),
                1.into_sql::<diesel::sql_types::Integer>(),
            )
            .otherwise(0.into_sql::<diesel::sql_types::Integer>())),
    ))
    .execute(conn)
    .await?;
    let mut audit = audit;
    audit.object_id = Some(row.id);
    insert_audit(conn, &audit).await?;
    Ok(row)
}

impl Db {
    /// One new message in a transaction of its own: SQLite's way, and PostgreSQL's for what its
    /// group commit does not take (a conversation's first message, a batch that failed).
    async fn insert_one(
        &self,
        new: NewMessage,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let Change { audit, plan } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let row = insert_message_in(conn, &new, audit).await?;
                    let message = Message::from(row);
                    let events = append_events(conn, &origin, plan(&message), new.created_at).await?;
                    Ok(Recorded { value: message, events })
                })
            .await?;
        Ok(row)
    }
}

port! {
impl Messages for Db {
    async fn insert_message(
        &self,
        new: NewMessage,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        // The backend decides: one transaction per message, or several committed together.
        self.store_new_message(new, change).await
    }

    async fn update_body(
        &self,
        id: MessageId,
        body: String,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let Change { audit, plan } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let subject: Option<String> = messages::table
                        .find(id.0)
                        .select(messages::subject)
                        .first(conn)
                        .await?;
                    let words = message_words(subject.as_deref(), &body);
                    diesel::update(message_writes::table.find(id.0))
                        .set((
                            message_writes::body.eq(&body),
                            message_writes::search_words.eq(words),
                            message_writes::edited_at.eq(Some(at)),
                        ))
                        .execute(conn)
                        .await?;
                    let row: MessageRow = messages::table
                        .find(id.0)
                        .select(MessageRow::as_select())
                        .get_result(conn)
                        .await?;
                    insert_audit(conn, &audit).await?;
                    let message = Message::from(row);
                    let events = append_events(conn, &origin, plan(&message), at).await?;
                    Ok(Recorded { value: message, events })
                })
            .await?;
        Ok(recorded)
    }

    async fn mark_read(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let Change { audit, plan } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    // The conversation and recipient never change: read unlocked, then take the
                    // recipient's thread row before the message (the lock order).
                    let before = load_message(conn, id.0).await?;
                    Sql::lock_members(conn, &[before.conversation_id], &[before.recipient_id]).await?;
                    let changed: Option<MessageRow> = diesel::update(
                        messages::table
                            .find(id.0)
                            .filter(messages::read_at.is_null()),
                    )
                    .set(messages::read_at.eq(Some(at)))
                    .returning(MessageRow::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?;
                    match changed {
                        Some(row) => {
                            if !row.deleted_by_recipient && row.deleted_for_everyone_at.is_none() {
                                decrement_unread(conn, row.conversation_id, row.recipient_id)
                                    .await?;
                            }
                            insert_audit(conn, &audit).await?;
                            let message = Message::from(row);
                            let events = append_events(conn, &origin, plan(&message), at).await?;
                            Ok(Recorded { value: message, events })
                        }
                        // Already read: the first read time stays.
                        None => Ok(Recorded::quiet(load_message(conn, id.0).await?.into())),
                    }
                })
            .await?;
        Ok(recorded)
    }

    async fn mark_delivered(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<bool>, StoreError> {
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let message = Message::from(load_message(conn, id.0).await?);
                    let inserted = diesel::insert_into(message_deliveries::table)
                        .values((
                            message_deliveries::message_id.eq(id.0),
                            message_deliveries::delivered_at.eq(at),
                        ))
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?;
                    match inserted {
                        1 => {
                            let events = append_events(conn, &origin, plan(&message), at).await?;
                            Ok(Recorded { value: true, events })
                        }
                        _ => {
                            // Delivered before: only the first receipt counts.
                            Ok(Recorded::quiet(false))
                        }
                    }
                })
            .await?;
        Ok(recorded)
    }

    async fn mark_thread_read(
        &self,
        reader: UserId,
        other: UserId,
        booking: Option<BookingId>,
        at: DateTime<Utc>,
        change: Change<u64>,
    ) -> Result<Recorded<u64>, StoreError> {
        let Change { audit, plan } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let conversations = member_conversations(conn, reader.0, other.0, booking).await?;
                    if conversations.is_empty() {
                        return Ok(Recorded::quiet(0));
                    }
                    // The reader's thread rows first: a message sent to the reader meanwhile is
                    // then either read here or counted after the count is reset, never lost.
                    Sql::lock_members(conn, &conversations, &[reader.0]).await?;
                    let count = diesel::update(
                        messages::table
                            .filter(messages::conversation_id.eq_any(&conversations))
                            .filter(messages::recipient_id.eq(reader.0))
                            .filter(messages::read_at.is_null())
                            .filter(messages::deleted_by_recipient.eq(false))
                            .filter(messages::deleted_for_everyone_at.is_null()),
                    )
                    .set(messages::read_at.eq(Some(at)))
                    .execute(conn)
                    .await?;
                    // Every message the reader could see is now read, so nothing is unread there.
                    diesel::update(
                        members::table
                            .filter(members::user_id.eq(reader.0))
                            .filter(members::conversation_id.eq_any(&conversations)),
                    )
                    .set(members::unread_count.eq(0))
                    .execute(conn)
                    .await?;
                    let count = count as u64;
                    if count == 0 {
                        return Ok(Recorded::quiet(0));
                    }
                    insert_audit(conn, &audit).await?;
                    let events = append_events(conn, &origin, plan(&count), at).await?;
                    Ok(Recorded { value: count, events })
                })
            .await?;
        Ok(recorded)
    }

    async fn delete_message(
        &self,
        deletion: Deletion,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let Change { audit, plan } = change;
        let id = deletion.message.0;
        let at = deletion.at;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    // The conversation and the parties never change: read unlocked, then take both
                    // parties' thread rows before the message (the lock order).
                    let unlocked = load_message(conn, id).await?;
                    let parties = [unlocked.sender_id, unlocked.recipient_id];
                    Sql::lock_members(conn, &[unlocked.conversation_id], &parties).await?;
                    // The domain decides on the message as it stands under the lock, so a delete
                    // by the other party committed meanwhile is built upon, never undone.
                    Sql::lock_message(conn, id).await?;
                    let current = Message::from(load_message(conn, id).await?);
                    let deleted = deletion
                        .apply(&current)
                        .ok_or(DbError::Domain(StoreError::NotFound))?;
                    if !deleted.changed() {
                        return Ok(Recorded::quiet(deleted.after));
                    }
                    let after = &deleted.after;
                    diesel::update(messages::table.find(id))
                        .set((
                            messages::deleted_by_sender.eq(after.deleted_by_sender),
                            messages::deleted_by_recipient.eq(after.deleted_by_recipient),
                            messages::deleted_for_everyone_at.eq(after.deleted_for_everyone_at),
                            messages::deleted_at.eq(after.deleted_at),
                        ))
                        .execute(conn)
                        .await?;
                    let conversation = after.conversation_id.0;
                    // The recipient's unread count only counts what they can see.
                    if deleted.unread_lost() {
                        decrement_unread(conn, conversation, after.recipient_id.0).await?;
                    }
                    for party in deleted.hidden_from() {
                        refresh_last_message(conn, conversation, party.0).await?;
                    }
                    if deleted.redacts() {
                        redact_stream_entries(conn, id).await?;
                    }
                    insert_audit(conn, &audit).await?;
                    let message = deleted.after;
                    let events = append_events(conn, &origin, plan(&message), at).await?;
                    Ok(Recorded { value: message, events })
                })
            .await?;
        Ok(recorded)
    }
}
}
