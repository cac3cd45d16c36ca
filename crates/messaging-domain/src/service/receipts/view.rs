//! Marking a message read, answered as the reader sees it.

use super::ReadError;
use crate::message::{MessageId, MessageView};
use crate::ports::{Clock, EventPublisher};
use crate::service::actor::Actor;
use crate::service::{MessageStore, MessagingService};

#[cfg(test)]
mod tests;

impl<S, E, C> MessagingService<S, E, C>
where
    S: MessageStore,
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
