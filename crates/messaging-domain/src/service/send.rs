//! Sending: a new message (by id or by user name, and System B's clinician route), a reply, and
//! the check of a message sent with a file. The contact rules, the sender's body limit, the
//! booking check and masking are applied here, in that order, to every new message.

use thiserror::Error;

use super::actor::Actor;
use super::commands::{PreparedMessage, PreparedSend, RecipientRef, SendCommand, SendRoute};
use super::{MessageStore, MessagingService};
use crate::attachment::FileName;
use crate::audit::AuditAction;
use crate::contact::{self, ContactFacts, ContactRefusal};
use crate::error::{StoreError, Unique, ValidationError};
use crate::event::{Change, DomainEvent, EventPlan};
use crate::message::{Message, MessageId, MessageView, NewMessage};
use crate::ports::{Clock, EventPublisher};
use crate::text::{ClientMessageId, MessageText, Subject};
use crate::user::{BlockState, BookingId, CareAssignment, Role, User, UserId, UserSummary};

#[cfg(test)]
mod tests;

/// Why a message could not be sent (or replied).
#[derive(Debug, Error)]
pub enum SendError {
    /// The sender's account is missing or inactive.
    #[error("sender account is not active")]
    SenderInactive,
    /// The body or subject broke a rule.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The contact rules forbid this message.
    #[error(transparent)]
    Contact(#[from] ContactRefusal),
    /// The booking does not exist or is not between these two users.
    #[error("booking not found")]
    BookingNotFound,
    /// The message being replied to does not exist or is not visible to the sender.
    #[error("message not found")]
    ParentNotFound,
    /// The clinician route was used by someone who is not a clinician.
    #[error("only clinicians can use this route")]
    NotClinician,
    /// The client id was already used by this sender for a message to someone else.
    #[error("this client_message_id was already used for another message")]
    ClientIdReused,
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
    /// Sends a message (System A's and System B's send routes, and the clinician route).
    ///
    /// # Errors
    /// [`SendError`] naming the rule that stopped it; nothing is stored then.
    pub async fn send(
        &self,
        actor: &Actor,
        command: SendCommand,
    ) -> Result<MessageView, SendError> {
        let (sender, recipient, blocks) = self.send_parties(actor, &command).await?;
        if let Some(replayed) = self
            .replay(
                &sender,
                command.client_message_id.as_ref(),
                recipient.id,
                None,
            )
            .await?
        {
            return Ok(replayed);
        }
        let action = match command.via {
            SendRoute::Direct => AuditAction::MessageSent,
            SendRoute::Clinician => AuditAction::ClinicianMessageSent,
        };
        self.deliver(
            actor,
            &sender,
            &recipient,
            Draft {
                body: command.body,
                subject: command.subject,
                booking_id: command.booking_id,
                parent_id: None,
                client_message_id: command.client_message_id,
                file_name: None,
                blocks,
            },
            action,
        )
        .await
    }

    /// Checks a new message with an attachment named `file_name` against every send rule (as
    /// [`MessagingService::send`] does) without storing it, for the use case that stores it
    /// together with its file. The file's name is read by the other party, so it is masked like
    /// the body. A retried request (the same client message id) finds the message it stored.
    ///
    /// # Errors
    /// [`SendError`] naming the rule that stopped it.
    pub async fn prepare_send(
        &self,
        actor: &Actor,
        command: SendCommand,
        file_name: FileName,
    ) -> Result<PreparedSend, SendError> {
        let (sender, recipient, blocks) = self.send_parties(actor, &command).await?;
        if let Some(sent) = self
            .replay(
                &sender,
                command.client_message_id.as_ref(),
                recipient.id,
                None,
            )
            .await?
        {
            return Ok(PreparedSend::Sent(sent));
        }
        let typed_name = file_name.clone();
        let (message, shown_name) = self
            .draft_message(
                &sender,
                &recipient,
                Draft {
                    body: command.body,
                    subject: command.subject,
                    booking_id: command.booking_id,
                    parent_id: None,
                    client_message_id: command.client_message_id,
                    file_name: Some(file_name),
                    blocks,
                },
            )
            .await?;
        Ok(PreparedSend::New(PreparedMessage {
            message,
            file_name: shown_name.unwrap_or(typed_name),
            sender: sender.summary(),
            recipient: recipient.summary(),
        }))
    }

    /// The active sender and the recipient a send command names, checked for the route used and
    /// against the contact rules that make an unknown recipient and a refused one look alike;
    /// with the blocks between the two when they were read together.
    async fn send_parties(
        &self,
        actor: &Actor,
        command: &SendCommand,
    ) -> Result<(User, User, Option<BlockState>), SendError> {
        // By id, sender, recipient and the blocks between them come back from one query (the
        // contact rules need the blocks for every send that gets that far): every statement
        // counts on the busiest path of the service.
        let (sender, recipient, blocks) = match &command.recipient {
            RecipientRef::Id(id) => {
                let (found, blocks) = self.store.users_and_blocks(actor.user_id, *id).await?;
                let sender = found
                    .iter()
                    .find(|u| u.id == actor.user_id && u.is_active)
                    .cloned()
                    .ok_or(SendError::SenderInactive)?;
                let recipient = found
                    .into_iter()
                    .find(|u| u.id == *id && u.id != actor.user_id);
                (sender, recipient, Some(blocks))
            }
            RecipientRef::Username(name) => (
                self.active_sender(actor).await?,
                self.user_named(name).await?,
                None,
            ),
        };
        if command.via == SendRoute::Clinician
            && !matches!(sender.role, Role::Clinician | Role::Admin)
        {
            return Err(SendError::NotClinician);
        }
        let recipient = contact::resolve_recipient(&sender, recipient)?;
        Ok((sender, recipient, blocks))
    }

    /// Replies to a message the actor can see (System B): the reply goes to the other party, in the
    /// same conversation, with the subject `"Re: ..."`.
    ///
    /// # Errors
    /// [`SendError::ParentNotFound`] when the parent is not visible to the actor, or any send error.
    pub async fn reply(
        &self,
        actor: &Actor,
        parent_id: MessageId,
        body: MessageText,
        client_message_id: Option<ClientMessageId>,
    ) -> Result<MessageView, SendError> {
        let sender = self.active_sender(actor).await?;
        let parent = self
            .store
            .message(parent_id)
            .await?
            .filter(|m| m.is_visible_to(sender.id))
            .ok_or(SendError::ParentNotFound)?;
        let other = parent
            .other_party(sender.id)
            .ok_or(SendError::ParentNotFound)?;
        let recipient = contact::resolve_recipient(&sender, self.store.user(other).await?)?;
        if let Some(replayed) = self
            .replay(
                &sender,
                client_message_id.as_ref(),
                recipient.id,
                Some(parent.id),
            )
            .await?
        {
            return Ok(replayed);
        }
        let subject = Subject::reply_to(parent.subject.as_deref());
        self.deliver(
            actor,
            &sender,
            &recipient,
            Draft {
                body,
                subject: Some(subject),
                booking_id: parent.booking_id,
                parent_id: Some(parent.id),
                client_message_id,
                file_name: None,
                blocks: None,
            },
            AuditAction::MessageReplied,
        )
        .await
    }

    async fn active_sender(&self, actor: &Actor) -> Result<User, SendError> {
        self.active_user(actor.user_id)
            .await?
            .ok_or(SendError::SenderInactive)
    }

    async fn deliver(
        &self,
        actor: &Actor,
        sender: &User,
        recipient: &User,
        draft: Draft,
        action: AuditAction,
    ) -> Result<MessageView, SendError> {
        let client_id = draft.client_message_id.clone();
        let parent_id = draft.parent_id;
        let (new_message, _) = self.draft_message(sender, recipient, draft).await?;
        let now = new_message.created_at;
        let plan = sent_plan(
            sender.summary(),
            recipient.summary(),
            client_id.as_ref().map(|c| c.as_str().to_owned()),
        );
        let inserted = self
            .store
            .insert_message(
                new_message,
                Change::new(self.audit(actor, action, "message", None, now), plan),
            )
            .await;
        let recorded = match inserted {
            Ok(recorded) => recorded,
            // Two copies of the same request raced; the other one stored the message.
            Err(StoreError::Duplicate(Unique::ClientMessageId)) => {
                return self
                    .replay(sender, client_id.as_ref(), recipient.id, parent_id)
                    .await?
                    .ok_or(SendError::ClientIdReused);
            }
            Err(other) => return Err(other.into()),
        };
        let view = MessageView {
            message: recorded.value,
            sender: sender.summary(),
            recipient: recipient.summary(),
        };
        self.events.publish(recorded.events);
        Ok(view.seen_by(actor.user_id))
    }

    /// Applies the contact rules, the sender's body limit, the booking check and masking to a
    /// draft, giving the message to store (timed now) and its attachment's name as shown.
    async fn draft_message(
        &self,
        sender: &User,
        recipient: &User,
        draft: Draft,
    ) -> Result<(NewMessage, Option<FileName>), SendError> {
        let field = if draft.parent_id.is_some() {
            "content"
        } else {
            "message"
        };
        // Contact rules first: a recipient who blocked the sender must look like an unknown one,
        // whatever else is wrong with the request.
        let facts = self.contact_facts(sender, recipient, draft.blocks).await?;
        contact::check_contact(sender, recipient, &facts)?;
        self.config
            .body_policy
            .check(sender.role, &draft.body, field)?;
        if let Some(booking_id) = draft.booking_id {
            let booking = self.store.booking(booking_id).await?;
            if !booking.is_some_and(|b| b.is_between(sender.id, recipient.id)) {
                return Err(SendError::BookingNotFound);
            }
        }
        // Everything of the message the other party reads (body, subject, the attachment's name)
        // is masked by one rule and one decision. Most messages hold no contact details; for
        // them the bookings do not matter and are not looked up.
        let masked_body = draft.body.masked_if_changed();
        let masked_subject = draft.subject.as_ref().and_then(Subject::masked_if_changed);
        let masked_file = draft
            .file_name
            .as_ref()
            .and_then(FileName::masked_if_changed);
        let changes = masked_body.is_some() || masked_subject.is_some() || masked_file.is_some();
        let (body, subject, file_name) =
            if changes && self.must_mask(sender.id, recipient.id).await? {
                (
                    masked_body.unwrap_or(draft.body),
                    masked_subject.or(draft.subject),
                    masked_file.or(draft.file_name),
                )
            } else {
                (draft.body, draft.subject, draft.file_name)
            };
        let message = NewMessage {
            sender_id: sender.id,
            recipient_id: recipient.id,
            booking_id: draft.booking_id,
            subject: subject.map(Subject::into_inner),
            body: body.into_inner(),
            parent_id: draft.parent_id,
            client_message_id: draft.client_message_id.map(|c| c.as_str().to_owned()),
            created_at: self.clock.now(),
        };
        Ok((message, file_name))
    }

    /// The message a retried request already created, if `client_id` was used by this sender.
    /// A client id used for a message to someone else (or a reply to another message) is refused
    /// rather than silently answered with an unrelated message.
    async fn replay(
        &self,
        sender: &User,
        client_id: Option<&ClientMessageId>,
        recipient: UserId,
        parent: Option<MessageId>,
    ) -> Result<Option<MessageView>, SendError> {
        let Some(client_id) = client_id else {
            return Ok(None);
        };
        let Some(existing) = self
            .store
            .message_by_client_id(sender.id, client_id.as_str().to_owned())
            .await?
        else {
            return Ok(None);
        };
        if existing.recipient_id != recipient || existing.parent_id != parent {
            return Err(SendError::ClientIdReused);
        }
        Ok(self
            .views_for(sender.id, vec![existing])
            .await?
            .into_iter()
            .next())
    }

    async fn contact_facts(
        &self,
        sender: &User,
        recipient: &User,
        known_blocks: Option<BlockState>,
    ) -> Result<ContactFacts, StoreError> {
        let needed = contact::facts_needed(sender, recipient);
        let blocks = match known_blocks {
            Some(blocks) => blocks,
            None => self.store.blocks_between(sender.id, recipient.id).await?,
        };
        let care = match needed.care {
            Some((clinician, patient)) => self.store.care_assignment(clinician, patient).await?,
            None => CareAssignment::Never,
        };
        let (started_by_clinician, share_a_conversation) =
            if contact::conversations_matter(sender, recipient, care) {
                let conversations = self
                    .store
                    .conversations_between(sender.id, recipient.id)
                    .await?;
                (
                    conversations.iter().any(|c| c.started_by == recipient.id),
                    !conversations.is_empty(),
                )
            } else {
                (false, false)
            };
        Ok(ContactFacts {
            blocks,
            care,
            started_by_clinician,
            share_a_conversation,
        })
    }
}

struct Draft {
    body: MessageText,
    subject: Option<Subject>,
    booking_id: Option<BookingId>,
    parent_id: Option<MessageId>,
    client_message_id: Option<ClientMessageId>,
    file_name: Option<FileName>,
    /// The blocks between sender and recipient, when already read with them.
    blocks: Option<BlockState>,
}

/// The events of a new message: `new_message` for the recipient's devices, `message_sent` (with
/// the client's own id) for the sender's, addressed when the store knows the message.
#[must_use]
pub fn sent_plan(
    sender_face: UserSummary,
    recipient_face: UserSummary,
    echo: Option<String>,
) -> EventPlan<Message> {
    Box::new(move |m: &Message| {
        vec![
            DomainEvent::MessageSent {
                view: MessageView {
                    message: m.clone(),
                    sender: sender_face,
                    recipient: recipient_face,
                },
                client_message_id: echo,
            }
            .addressed(None),
        ]
    })
}
