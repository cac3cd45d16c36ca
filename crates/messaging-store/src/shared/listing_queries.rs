// Reading messages and conversations (the `MessageQueries` port): single messages, threads, the
// inbox, histories, sent messages, search (its query is the dialect's) and unread counts.

#[derive(Queryable, Selectable)]
#[diesel(table_name = conversations)]
struct ConversationRow {
    id: i64,
    user_low: i64,
    user_high: i64,
    booking_id: Option<i64>,
    started_by: i64,
    created_at: DateTime<Utc>,
}

impl From<ConversationRow> for Conversation {
    fn from(row: ConversationRow) -> Self {
        Conversation {
            id: ConversationId(row.id),
            user_low: UserId(row.user_low),
            user_high: UserId(row.user_high),
            booking_id: row.booking_id.map(BookingId),
            started_by: UserId(row.started_by),
            created_at: row.created_at,
        }
    }
}

/// A search hit with the number of hits in all.
#[derive(QueryableByName)]
struct SearchRow {
    #[diesel(embed)]
    message: MessageRow,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
}

port! {
impl MessageQueries for Db {
    async fn conversations_between(
        &self,
        a: UserId,
        b: UserId,
    ) -> Result<Vec<Conversation>, StoreError> {
        let (low, high) = ordered(a, b);
        let mut conn = self.conn().await?;
        let rows = conversations::table
            .filter(conversations::user_low.eq(low))
            .filter(conversations::user_high.eq(high))
            .select(ConversationRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows.into_iter().map(Conversation::from).collect())
    }

    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        let mut conn = self.conn().await?;
        let row = messages::table
            .find(id.0)
            .select(MessageRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(Message::from))
    }

    async fn message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: String,
    ) -> Result<Option<Message>, StoreError> {
        let mut conn = self.conn().await?;
        let row = messages::table
            .filter(messages::sender_id.eq(sender.0))
            .filter(messages::client_message_id.eq(client_message_id))
            .select(MessageRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(Message::from))
    }

    async fn threads(
        &self,
        user: UserId,
        limit: PageSize,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        self.thread_page(user, i64::from(limit.get()), 0, false).await
    }

    async fn inbox(
        &self,
        user: UserId,
        page: Page,
        unread_only: bool,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        self.thread_page(user, page.limit(), page.offset(), unread_only)
            .await
    }

    async fn search(
        &self,
        user: UserId,
        query: &SearchQuery,
        page: Page,
    ) -> Result<SearchResults<Message>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(Sql::search(&mut conn, user, query, page).await?)
    }

    async fn history(
        &self,
        user: UserId,
        other: UserId,
        booking: Option<BookingId>,
        request: HistoryRequest,
    ) -> Result<HistorySlice<Message>, StoreError> {
        let mut conn = self.conn().await?;
        let conversations = member_conversations(&mut conn, user.0, other.0, booking).await?;
        if conversations.is_empty() {
            return Ok(HistorySlice {
                messages: Vec::new(),
                has_more: false,
            });
        }
        let size = request.page.limit();
        let mut query = messages::table
            .filter(messages::conversation_id.eq_any(conversations))
            .filter(visible_to!(user.0))
            .select(MessageRow::as_select())
            .order(messages::id.desc())
            .limit(size + 1)
            .into_boxed();
        query = match request.before {
            Some(before) => query.filter(messages::id.lt(before.0)),
            None => query.offset(request.page.offset()),
        };
        let mut rows: Vec<MessageRow> = query.load(&mut *conn).await.map_err(DbError::from)?;
        let has_more = rows.len() as i64 > size;
        rows.truncate(usize::try_from(size).unwrap_or(0));
        // Fetched newest first to find the page; shown oldest first.
        rows.reverse();
        Ok(HistorySlice {
            messages: rows.into_iter().map(Message::from).collect(),
            has_more,
        })
    }

    async fn sent(&self, user: UserId, page: Page) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<MessageRow> = messages::table
            .filter(messages::sender_id.eq(user.0))
            .filter(messages::deleted_by_sender.eq(false))
            .filter(messages::deleted_for_everyone_at.is_null())
            .order(messages::id.desc())
            .limit(page.limit())
            .offset(page.offset())
            .select(MessageRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows.into_iter().map(Message::from).collect())
    }

    async fn unread_counts(&self, user: UserId) -> Result<UnreadCounts, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(i64, i32)> = members::table
            .filter(members::user_id.eq(user.0))
            .filter(members::unread_count.gt(0))
            .select((members::other_user_id, members::unread_count))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        let mut by_sender: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
        for (sender, count) in rows {
            *by_sender.entry(sender).or_default() += i64::from(count);
        }
        Ok(UnreadCounts {
            total: by_sender.values().sum(),
            by_sender: by_sender.into_iter().map(|(s, c)| (UserId(s), c)).collect(),
        })
    }
}
}

impl Db {
    /// One range scan of the member's thread rows, newest activity first, joined to the last
    /// message and the other member.
    async fn thread_page(
        &self,
        user: UserId,
        limit: i64,
        offset: i64,
        unread_only: bool,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = members::table
            .inner_join(messages::table.on(messages::id.nullable().eq(members::last_message_id)))
            .inner_join(users::table.on(users::id.eq(members::other_user_id)))
            .filter(members::user_id.eq(user.0))
            .filter(members::last_message_id.is_not_null())
            .order(members::last_message_id.desc())
            .limit(limit)
            .offset(offset)
            .select((
                members::conversation_id,
                members::booking_id,
                members::unread_count,
                MessageRow::as_select(),
                UserRow::as_select(),
            ))
            .into_boxed();
        if unread_only {
            query = query.filter(members::unread_count.gt(0));
        }
        let rows: Vec<(i64, Option<i64>, i32, MessageRow, UserRow)> =
            query.load(&mut *conn).await.map_err(DbError::from)?;
        rows.into_iter()
            .map(|(conversation, booking, unread, message, other)| {
                let (other, _) = other.into_user()?;
                Ok(ThreadSummary {
                    conversation_id: ConversationId(conversation),
                    other_user: other.summary(),
                    booking_id: booking.map(BookingId),
                    last_message_id: MessageId(message.id),
                    last_message: message.body,
                    last_subject: message.subject,
                    last_message_at: message.created_at,
                    last_sender_id: UserId(message.sender_id),
                    unread_count: i64::from(unread),
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(StoreError::from)
    }
}
