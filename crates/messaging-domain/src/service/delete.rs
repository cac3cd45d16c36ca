//! Deleting a message for oneself or, by its sender, for everyone. The per-party rule is
//! [`Message::after_delete`]; the record itself is kept.

use thiserror::Error;

use super::actor::Actor;
use super::{MessageStore, MessagingService, not_found_as};
use crate::audit::AuditAction;
use crate::error::StoreError;
use crate::event::{Change, DomainEvent, EventPlan};
use crate::message::{DeleteScope, Deletion, Message, MessageId};
use crate::ports::{Clock, EventPublisher};

#[cfg(test)]
mod tests;

/// Why a delete failed.
#[derive(Debug, Error)]
pub enum DeleteError {
    /// No such message visible to the deleter.
    #[error("message not found")]
    NotFound,
    /// Only the sender may delete a message for everyone.
    #[error("only the sender can delete a message for everyone")]
    NotSender,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S, E, C> MessagingService<S, E, C>
where
    S: MessageStore,
    E: EventPublisher,
    C: Clock,
{
    /// Deletes a message for the actor only, or for everyone (sender only). The record is kept.
    ///
    /// # Errors
    /// [`DeleteError`] naming the rule that stopped it.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: MessageId,
        scope: DeleteScope,
    ) -> Result<Message, DeleteError> {
        let now = self.clock.now();
        let message = self
            .store
            .message(id)
            .await?
            .filter(|m| m.is_visible_to(actor.user_id))
            .ok_or(DeleteError::NotFound)?;
        let deletion = Deletion {
            message: id,
            by: actor.user_id,
            scope,
            at: now,
        };
        // Decided here on the message as read; the store decides again, with the same rule, on
        // the message as it stands under its lock (see `Deletion`).
        if deletion.apply(&message).is_none() {
            return Err(DeleteError::NotSender);
        }
        let action = match scope {
            DeleteScope::ForMe => AuditAction::MessageDeletedForMe,
            DeleteScope::ForEveryone => AuditAction::MessageDeletedForEveryone,
        };
        let audit = self.audit(actor, action, "message", Some(id.0), now);
        let muted = match scope {
            DeleteScope::ForMe => None,
            DeleteScope::ForEveryone => {
                self.muted_party(message.sender_id, message.recipient_id)
                    .await?
            }
        };
        let deleter = actor.user_id;
        let plan: EventPlan<Message> = Box::new(move |m: &Message| {
            let audience = match scope {
                DeleteScope::ForMe => vec![deleter],
                DeleteScope::ForEveryone => vec![m.sender_id, m.recipient_id],
            };
            vec![
                DomainEvent::MessageDeleted {
                    message_id: m.id,
                    deleted_by: deleter,
                    scope,
                    audience,
                }
                .addressed(muted),
            ]
        });
        let deleted = self
            .store
            .delete_message(deletion, Change::new(audit, plan))
            .await
            .map_err(not_found_as(DeleteError::NotFound))?;
        self.events.publish(deleted.events);
        Ok(deleted.value)
    }
}
