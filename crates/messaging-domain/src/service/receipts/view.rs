//! Marking a message read, answered as the reader sees it.

use super::ReadError;
use crate::message::{MessageId, MessageView};
use crate::ports::{Clock, Directory, EventPublisher, MessageRepository};
use crate::service::MessagingService;
use crate::service::actor::Actor;

#[cfg(test)]
mod tests;

impl<R, D, E, C> MessagingService<R, D, E, C>
where
    R: MessageRepository,
    D: Directory,
    E: EventPublisher,
    C: Clock,
{
    /// Marks one message read, as [`Self::mark_read`] does, and answers it with its parties' faces
    /// as the reader may see them.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] for anyone but the recipient, when the recipient deleted it, or
    /// when a party's account is gone.
    pub async fn mark_read_view(
        &self,
        actor: &Actor,
        id: MessageId,
    ) -> Result<MessageView, ReadError> {
        let message = self.mark_read(actor, id).await?;
        self.views_for(actor.user_id, vec![message])
            .await?
            .pop()
            .ok_or(ReadError::NotFound)
    }
}
