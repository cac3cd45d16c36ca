//! Reading messages and conversations: single messages, histories, threads, the inbox, sent
//! messages, search and unread counts.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::message::{
    Conversation, HistoryRequest, HistorySlice, Message, MessageId, SearchResults, ThreadSummary,
    UnreadCounts,
};
use crate::text::{Page, PageSize, SearchQuery};
use crate::user::{BookingId, UserId};

/// Reading messages and conversations. Nothing here writes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MessageQueries: Send + Sync + 'static {
    /// Every conversation between two users, whatever its booking context.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn conversations_between(
        &self,
        a: UserId,
        b: UserId,
    ) -> Result<Vec<Conversation>, StoreError>;

    /// One message by id, whoever may see it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError>;

    /// The message `sender` sent with the client id `client_message_id`, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: String,
    ) -> Result<Option<Message>, StoreError>;

    /// A user's threads, most recent activity first; conversations where the user can see no
    /// message are left out.
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
