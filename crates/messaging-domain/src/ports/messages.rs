//! Messages and conversations as stored: every message change, with its audit record and
//! event plan, and every listing of them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::event::{EventPlan, Recorded};
use crate::message::{
    Conversation, DeleteScope, HistoryRequest, HistorySlice, Message, MessageId, NewMessage,
    NewReport, Report, SearchResults, ThreadSummary, UnreadCounts,
};
use crate::text::{Page, PageSize, SearchQuery};
use crate::user::{BookingId, UserId};

/// Messages and conversations.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MessageRepository: Send + Sync + 'static {
    /// Every conversation between two users, whatever its booking context.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn conversations_between(
        &self,
        a: UserId,
        b: UserId,
    ) -> Result<Vec<Conversation>, StoreError>;

    /// Stores a new message in its conversation (created when missing), updates both members'
    /// thread rows, writes the audit record and appends the events `plan` decides to their users'
    /// streams, all in one transaction. The audit record's object id is filled with the new
    /// message's id.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] (`client_message_id`) when the sender already used the message's
    /// client id; [`StoreError::Backend`] when the store fails. Nothing is stored then.
    async fn insert_message(
        &self,
        message: NewMessage,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// The message `sender` sent with the client id `client_message_id`, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: String,
    ) -> Result<Option<Message>, StoreError>;

    /// One message by id, whoever may see it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError>;

    /// Replaces a message's body and marks it edited at `at`, with its audit record and events.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store fails.
    async fn update_body(
        &self,
        id: MessageId,
        body: String,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// Marks a message read at `at` unless it already is (the first `read_at` stays), lowers the
    /// recipient's unread count, and writes the audit record and events (only when it changed).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store fails.
    async fn mark_read(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// Records that a device of the recipient received the message: sets its delivery time unless
    /// it is set already, and then only appends the events `plan` decides. Returns whether it
    /// changed.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store fails.
    async fn mark_delivered(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<bool>, StoreError>;

    /// Marks read every unread message from `other` to `reader` that `reader` can see, optionally
    /// only in one booking's conversation; returns how many changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn mark_thread_read(
        &self,
        reader: UserId,
        other: UserId,
        booking: Option<BookingId>,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<u64>,
    ) -> Result<Recorded<u64>, StoreError>;

    /// Deletes a message for `user` with `scope`, following [`Message::after_delete`]: sets the
    /// deleter's flag (and `deleted_at` once both parties deleted it) or the delete-for-everyone time,
    /// and updates the members' thread rows and unread counts, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store fails.
    async fn delete_message(
        &self,
        id: MessageId,
        user: UserId,
        scope: DeleteScope,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// A user's threads, most recent activity first; conversations where the user can see no message
    /// are left out.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn threads(
        &self,
        user: UserId,
        limit: PageSize,
    ) -> Result<Vec<ThreadSummary>, StoreError>;

    /// A page of a user's threads (System B's inbox), most recent activity first, optionally only
    /// those with unread messages.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn inbox(
        &self,
        user: UserId,
        page: Page,
        unread_only: bool,
    ) -> Result<Vec<ThreadSummary>, StoreError>;

    /// Stores a report with its audit record.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn insert_report(
        &self,
        report: NewReport,
        audit: AuditRecord,
    ) -> Result<Report, StoreError>;

    /// Reports, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn reports(&self, page: Page) -> Result<Vec<Report>, StoreError>;

    /// A page of the messages between `user` and `other` that `user` can see, optionally in one
    /// booking's conversation only. Page 1 is the newest; each page is oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn history(
        &self,
        user: UserId,
        other: UserId,
        booking: Option<BookingId>,
        request: HistoryRequest,
    ) -> Result<HistorySlice<Message>, StoreError>;

    /// The messages `user` sent and can still see, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn sent(&self, user: UserId, page: Page) -> Result<Vec<Message>, StoreError>;

    /// Full-text search over the messages `user` can see, best match first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn search(
        &self,
        user: UserId,
        query: &SearchQuery,
        page: Page,
    ) -> Result<SearchResults<Message>, StoreError>;

    /// Unread messages to `user` that `user` can see, in total and per sender.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn unread_counts(&self, user: UserId) -> Result<UnreadCounts, StoreError>;
}
