//! Editing a message: only its sender, only within the edit window (the rule is
//! [`Message::check_edit`]), and the new body is checked and masked like a new one.

use thiserror::Error;

use super::actor::Actor;
use super::{MessageStore, MessagingService, not_found_as};
use crate::audit::AuditAction;
use crate::error::{StoreError, ValidationError};
use crate::event::{Change, DomainEvent, EventPlan};
use crate::message::{EditRefusal, Message, MessageId, MessageView};
use crate::ports::{Clock, EventPublisher};
use crate::text::MessageText;
use crate::user::{User, UserId};

#[cfg(test)]
mod tests;

/// Why an edit failed.
#[derive(Debug, Error)]
pub enum EditError {
    /// No such message visible to the editor.
    #[error("message not found")]
    NotFound,
    /// The edit rules forbid it.
    #[error(transparent)]
    Refused(#[from] EditRefusal),
    /// The new body broke a rule.
    #[error(transparent)]
    Validation(#[from] ValidationError),
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
    /// Edits a message: only its sender, only within the edit window; the new body is validated and
    /// masked like a new one.
    ///
    /// # Errors
    /// [`EditError`] naming the rule that stopped it; the message is unchanged then.
    pub async fn edit(
        &self,
        actor: &Actor,
        id: MessageId,
        body: MessageText,
    ) -> Result<MessageView, EditError> {
        let now = self.clock.now();
        let message = self
            .store
            .message(id)
            .await?
            .filter(|m| m.is_visible_to(actor.user_id))
            .ok_or(EditError::NotFound)?;
        message.check_edit(actor.user_id, now, self.config.edit_window)?;
        let users = self
            .store
            .users(vec![message.sender_id, message.recipient_id])
            .await?;
        let (sender, recipient) = pick_pair(&users, message.sender_id, message.recipient_id)
            .ok_or(EditError::NotFound)?;
        self.config
            .body_policy
            .check(sender.role, &body, "message")?;
        let body = self.mask_if_needed(sender.id, recipient.id, body).await?;
        let audit = self.audit(
            actor,
            AuditAction::MessageEdited,
            "message",
            Some(id.0),
            now,
        );
        let muted = self.muted_party(sender.id, recipient.id).await?;
        let (sender_face, recipient_face) = (sender.summary(), recipient.summary());
        let plan: EventPlan<Message> = Box::new(move |m: &Message| {
            vec![
                DomainEvent::MessageEdited {
                    view: MessageView {
                        message: m.clone(),
                        sender: sender_face,
                        recipient: recipient_face,
                    },
                }
                .addressed(muted),
            ]
        });
        let updated = self
            .store
            .update_body(id, body.into_inner(), now, Change::new(audit, plan))
            .await
            .map_err(not_found_as(EditError::NotFound))?;
        let view = MessageView {
            message: updated.value,
            sender: sender.summary(),
            recipient: recipient.summary(),
        };
        self.events.publish(updated.events);
        Ok(view.seen_by(actor.user_id))
    }
}

fn pick_pair(users: &[User], first: UserId, second: UserId) -> Option<(User, User)> {
    let find = |id| users.iter().find(|u| u.id == id).cloned();
    Some((find(first)?, find(second)?))
}
