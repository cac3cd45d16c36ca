//! What a user reads: threads, a conversation's history, sent messages, search, unread counts,
//! System B's inbox and conversation view. Every face of another user is shown as the reader may
//! see it (masked), and nothing tells the reader whether an unknown user exists.

use super::actor::Actor;
use super::{MessageStore, MessagingService};
use crate::error::StoreError;
use crate::message::{
    HistoryRequest, HistorySlice, MessageView, SearchResults, ThreadSummary, UnreadCounts,
};
use crate::ports::{Clock, EventPublisher};
use crate::text::{Page, PageNumber, PageSize, SearchQuery};
use crate::user::{BookingId, UserId, UserSummary};

#[cfg(test)]
mod tests;

impl<S, E, C> MessagingService<S, E, C>
where
    S: MessageStore,
    E: EventPublisher,
    C: Clock,
{
    /// The actor's threads, most recent first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn threads(
        &self,
        actor: &Actor,
        limit: PageSize,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        let threads = self.store.threads(actor.user_id, limit).await?;
        Ok(threads
            .into_iter()
            .map(|t| t.seen_by(actor.user_id))
            .collect())
    }

    /// A page of the actor's conversation with `other`. An unknown `other` gives an empty page, so
    /// ids cannot be probed.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn history(
        &self,
        actor: &Actor,
        other: UserId,
        booking: Option<BookingId>,
        request: HistoryRequest,
    ) -> Result<HistorySlice<MessageView>, StoreError> {
        let slice = self
            .store
            .history(actor.user_id, other, booking, request)
            .await?;
        Ok(HistorySlice {
            messages: self.views_for(actor.user_id, slice.messages).await?,
            has_more: slice.has_more,
        })
    }

    /// The messages the actor sent and still sees, newest first, with read status.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn sent(&self, actor: &Actor, page: Page) -> Result<Vec<MessageView>, StoreError> {
        let messages = self.store.sent(actor.user_id, page).await?;
        self.views_for(actor.user_id, messages).await
    }

    /// Full-text search over what the actor can see.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn search(
        &self,
        actor: &Actor,
        query: &SearchQuery,
        page: Page,
    ) -> Result<SearchResults<MessageView>, StoreError> {
        let results = self.store.search(actor.user_id, query, page).await?;
        Ok(SearchResults {
            messages: self.views_for(actor.user_id, results.messages).await?,
            total: results.total,
        })
    }

    /// The actor's unread counts.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn unread_counts(&self, actor: &Actor) -> Result<UnreadCounts, StoreError> {
        self.store.unread_counts(actor.user_id).await
    }

    /// A page of the actor's threads (System B's inbox), optionally only those with unread
    /// messages.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn inbox(
        &self,
        actor: &Actor,
        page: Page,
        unread_only: bool,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        let threads = self.store.inbox(actor.user_id, page, unread_only).await?;
        Ok(threads
            .into_iter()
            .map(|t| t.seen_by(actor.user_id))
            .collect())
    }

    /// System B's conversation view: marks everything `username` sent the actor as read, then
    /// returns the newest `size` messages of the conversation, oldest first, and the other user's
    /// face. The face comes only with messages to show: an unknown user and an existing one the
    /// actor has no conversation with give the same empty answer, so names cannot be probed.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn open_conversation(
        &self,
        actor: &Actor,
        username: &str,
        size: PageSize,
    ) -> Result<(Option<UserSummary>, HistorySlice<MessageView>), StoreError> {
        let Some(other) = self
            .user_named(username)
            .await?
            .filter(|u| u.id != actor.user_id)
        else {
            return Ok((
                None,
                HistorySlice {
                    messages: Vec::new(),
                    has_more: false,
                },
            ));
        };
        self.mark_thread_read(actor, other.id, None).await?;
        let request = HistoryRequest {
            before: None,
            page: Page {
                number: PageNumber::first(),
                size,
            },
        };
        let history = self.history(actor, other.id, None, request).await?;
        let face = (!history.messages.is_empty()).then(|| other.summary().seen_by(actor.user_id));
        Ok((face, history))
    }
}
