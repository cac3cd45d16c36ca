//! A conversation's history with the files of its messages.

use super::AttachmentService;
use crate::attachment::Attachment;
use crate::error::StoreError;
use crate::message::{HistoryRequest, HistorySlice, MessageView};
use crate::ports::{
    AttachmentRepository, AttachmentStorage, AuditLog, Clock, EventPublisher, VirusScanner,
};
use crate::service::actor::Actor;
use crate::service::{MessageStore, MessagingService};
use crate::user::{BookingId, UserId};

#[cfg(test)]
mod tests;

/// A message with the files attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageWithFiles {
    /// The message, as the reader sees it.
    pub view: MessageView,
    /// Its files (none, or the one sent with it).
    pub files: Vec<Attachment>,
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
    /// A page of the actor's conversation with `other` ([`MessagingService::history`]), each
    /// message with its files. Only files of the messages on the page are listed, and the page
    /// holds only messages the actor can see, so no other file is ever named.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn history_with_files<MS, ME, MC>(
        &self,
        messaging: &MessagingService<MS, ME, MC>,
        actor: &Actor,
        other: UserId,
        booking: Option<BookingId>,
        request: HistoryRequest,
    ) -> Result<HistorySlice<MessageWithFiles>, StoreError>
    where
        MS: MessageStore,
        ME: EventPublisher,
        MC: Clock,
    {
        let slice = messaging.history(actor, other, booking, request).await?;
        // The files of the messages on this page, in one query.
        let mut files = self
            .attachments_of(slice.messages.iter().map(|m| m.message.id).collect())
            .await?;
        let messages = slice
            .messages
            .into_iter()
            .map(|view| {
                let id = view.message.id;
                MessageWithFiles {
                    files: files.extract_if(.., |a| a.message_id == id).collect(),
                    view,
                }
            })
            .collect();
        Ok(HistorySlice {
            messages,
            has_more: slice.has_more,
        })
    }
}
