//! The use cases, over the ports. Built once in the server's startup; other services may embed it.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use thiserror::Error;

use crate::attachment::FileName;
use crate::audit::{AuditAction, AuditRecord};
use crate::contact::{self, ContactFacts, ContactRefusal};
use crate::error::{StoreError, ValidationError};
use crate::event::{DomainEvent, EventPlan, LiveEvent};
use crate::message::{
    DeleteScope, EditRefusal, HistoryRequest, HistorySlice, Message, MessageId, MessageView,
    NewMessage, NewReport, Report, SearchResults, ThreadSummary, UnreadCounts,
};
use crate::ports::{Clock, Directory, EventPublisher, MessageRepository};
use crate::text::{BodyPolicy, ClientMessageId, MessageText, Page, PageSize, SearchQuery, Subject};
use crate::user::{BookingId, CareAssignment, Role, User, UserId, UserSummary, must_mask_between};

pub mod accounts;

#[cfg(test)]
mod tests;

/// Tunable rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessagingConfig {
    /// How long after sending a message its sender may edit it (15 minutes by default).
    pub edit_window: TimeDelta,
    /// Body length limits per role.
    pub body_policy: BodyPolicy,
    /// How long a typing indicator lasts without a refresh, in seconds.
    pub typing_ttl_seconds: u32,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        Self {
            edit_window: TimeDelta::minutes(15),
            body_policy: BodyPolicy::default(),
            typing_ttl_seconds: 5,
        }
    }
}

/// Who is acting, and from where (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The authenticated user.
    pub user_id: UserId,
    /// The client's address as the server saw it.
    pub client_addr: Option<String>,
}

/// Who a message is for: System A names recipients by id, System B by user name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientRef {
    /// By user id.
    Id(UserId),
    /// By login name.
    Username(String),
}

/// A new message, as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCommand {
    /// Who it is for.
    pub recipient: RecipientRef,
    /// The body, cleaned and within the absolute limit; the sender's role limit is checked here.
    pub body: MessageText,
    /// An optional subject.
    pub subject: Option<Subject>,
    /// An optional booking context; it must be a booking between the two users.
    pub booking_id: Option<BookingId>,
    /// Which route it came through, for the audit log.
    pub via: SendRoute,
    /// The client's own id for the message: a retry with the same id returns the first message.
    pub client_message_id: Option<ClientMessageId>,
}

/// The route a message came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRoute {
    /// The ordinary send routes.
    Direct,
    /// System B's clinician route: only clinicians (and admins) may use it.
    Clinician,
}

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

/// Why marking a message read failed.
#[derive(Debug, Error)]
pub enum ReadError {
    /// No such message addressed to, and visible to, the reader.
    #[error("message not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a fleeting signal (typing, presence) was refused.
#[derive(Debug, Error)]
pub enum LiveError {
    /// The other user is unknown to the actor: no shared conversation, or a block stands.
    #[error("user not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a block, unblock or report failed.
#[derive(Debug, Error)]
pub enum SafetyError {
    /// The user or message is unknown, or not visible to the actor.
    #[error("not found")]
    NotFound,
    /// A user cannot block themselves.
    #[error("you cannot block yourself")]
    SelfBlock,
    /// The report reason broke a rule.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Only admins may read reports.
    #[error("admins only")]
    NotAdmin,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A report with what admins need to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportView {
    /// The report.
    pub report: Report,
    /// Who reported it.
    pub reporter: Option<UserSummary>,
    /// The reported message with its parties, if it still exists.
    pub message: Option<MessageView>,
}

/// A message that passed every send rule and is ready to be stored (see
/// [`MessagingService::prepare_send`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedMessage {
    /// The message to store.
    pub message: NewMessage,
    /// The attachment's display name as the other party will see it: masked like the body.
    pub file_name: FileName,
    /// Its sender's public face.
    pub sender: UserSummary,
    /// Its recipient's public face.
    pub recipient: UserSummary,
}

/// What checking a message with an attachment found (see [`MessagingService::prepare_send`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreparedSend {
    /// A new message, ready to be stored with its file.
    New(PreparedMessage),
    /// The same request (the same client message id) was already stored: this is that message,
    /// and nothing more is to be stored.
    Sent(MessageView),
}

/// The longest report reason, in characters.
pub const MAX_REPORT_REASON_CHARS: usize = 1_000;

/// The messaging use cases over their ports.
#[derive(Debug)]
pub struct MessagingService<R, D, E, C> {
    repo: R,
    directory: D,
    events: E,
    clock: C,
    config: MessagingConfig,
}

impl<R, D, E, C> MessagingService<R, D, E, C>
where
    R: MessageRepository,
    D: Directory,
    E: EventPublisher,
    C: Clock,
{
    /// Builds the service over its ports.
    pub fn new(repo: R, directory: D, events: E, clock: C, config: MessagingConfig) -> Self {
        Self {
            repo,
            directory,
            events,
            clock,
            config,
        }
    }

    /// The rules in force.
    pub fn config(&self) -> &MessagingConfig {
        &self.config
    }

    /// The current time, from the clock port.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Sends a message (System A's and System B's send routes, and the clinician route).
    ///
    /// # Errors
    /// [`SendError`] naming the rule that stopped it; nothing is stored then.
    pub async fn send(
        &self,
        actor: &Actor,
        command: SendCommand,
    ) -> Result<MessageView, SendError> {
        let (sender, recipient) = self.send_parties(actor, &command).await?;
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
        let (sender, recipient) = self.send_parties(actor, &command).await?;
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
    /// against the contact rules that make an unknown recipient and a refused one look alike.
    async fn send_parties(
        &self,
        actor: &Actor,
        command: &SendCommand,
    ) -> Result<(User, User), SendError> {
        // By id, sender and recipient come back from one query: every round trip counts on the
        // busiest path of the service.
        let (sender, recipient) = match &command.recipient {
            RecipientRef::Id(id) => {
                let found = self.directory.users(vec![actor.user_id, *id]).await?;
                let sender = found
                    .iter()
                    .find(|u| u.id == actor.user_id && u.is_active)
                    .cloned()
                    .ok_or(SendError::SenderInactive)?;
                let recipient = found
                    .into_iter()
                    .find(|u| u.id == *id && u.id != actor.user_id);
                (sender, recipient)
            }
            RecipientRef::Username(name) => (
                self.active_sender(actor).await?,
                self.user_named(name).await?,
            ),
        };
        if command.via == SendRoute::Clinician
            && !matches!(
                sender.role,
                crate::user::Role::Clinician | crate::user::Role::Admin
            )
        {
            return Err(SendError::NotClinician);
        }
        let recipient = contact::resolve_recipient(&sender, recipient)?;
        Ok((sender, recipient))
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
            .repo
            .message(parent_id)
            .await?
            .filter(|m| m.is_visible_to(sender.id))
            .ok_or(SendError::ParentNotFound)?;
        let other = parent
            .other_party(sender.id)
            .ok_or(SendError::ParentNotFound)?;
        let recipient = contact::resolve_recipient(&sender, self.directory.user(other).await?)?;
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
            },
            AuditAction::MessageReplied,
        )
        .await
    }

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
            .repo
            .message(id)
            .await?
            .filter(|m| m.is_visible_to(actor.user_id))
            .ok_or(EditError::NotFound)?;
        message.check_edit(actor.user_id, now, self.config.edit_window)?;
        let users = self
            .directory
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
            .repo
            .update_body(id, body.into_inner(), now, audit, plan)
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
            .repo
            .message(id)
            .await?
            .filter(|m| m.is_visible_to(actor.user_id))
            .ok_or(DeleteError::NotFound)?;
        if message.after_delete(actor.user_id, scope, now).is_none() {
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
            .repo
            .delete_message(id, actor.user_id, scope, now, audit, plan)
            .await
            .map_err(not_found_as(DeleteError::NotFound))?;
        self.events.publish(deleted.events);
        Ok(deleted.value)
    }

    /// Marks one message read. Only its recipient may, and `read_at` is set once: marking again
    /// returns the message unchanged.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] for anyone but the recipient, or when the recipient deleted it.
    pub async fn mark_read(&self, actor: &Actor, id: MessageId) -> Result<Message, ReadError> {
        let message = self
            .repo
            .message(id)
            .await?
            .filter(|m| m.recipient_id == actor.user_id && m.is_visible_to(actor.user_id))
            .ok_or(ReadError::NotFound)?;
        if message.is_read() {
            return Ok(message);
        }
        let now = self.clock.now();
        let audit = self.audit(actor, AuditAction::MessageRead, "message", Some(id.0), now);
        let muted = self
            .muted_party(message.recipient_id, message.sender_id)
            .await?;
        let reader = actor.user_id;
        let plan: EventPlan<Message> = Box::new(move |m: &Message| {
            vec![
                DomainEvent::MessageRead {
                    message_id: m.id,
                    sender_id: m.sender_id,
                    reader_id: reader,
                    read_at: m.read_at.unwrap_or(now),
                }
                .addressed(muted),
            ]
        });
        let read = self
            .repo
            .mark_read(id, now, audit, plan)
            .await
            .map_err(not_found_as(ReadError::NotFound))?;
        self.events.publish(read.events);
        Ok(read.value)
    }

    /// A device of the actor received message `id`: its sender learns it was delivered (once, at
    /// the first device's receipt). Only the recipient may say so.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] for anyone but the recipient, or when the recipient deleted it.
    pub async fn mark_delivered(&self, actor: &Actor, id: MessageId) -> Result<(), ReadError> {
        let message = self
            .repo
            .message(id)
            .await?
            .filter(|m| m.recipient_id == actor.user_id && m.is_visible_to(actor.user_id))
            .ok_or(ReadError::NotFound)?;
        let now = self.clock.now();
        let muted = self
            .muted_party(message.recipient_id, message.sender_id)
            .await?;
        let plan: EventPlan<Message> = Box::new(move |m: &Message| {
            vec![
                DomainEvent::MessageDelivered {
                    message_id: m.id,
                    sender_id: m.sender_id,
                    recipient_id: m.recipient_id,
                    delivered_at: now,
                }
                .addressed(muted),
            ]
        });
        let recorded = self
            .repo
            .mark_delivered(id, now, plan)
            .await
            .map_err(not_found_as(ReadError::NotFound))?;
        self.events.publish(recorded.events);
        Ok(())
    }

    /// The actor started or stopped typing to `to`. Only a member of a conversation with `to` may
    /// say so, and nothing passes between users with a block between them; otherwise `to` looks
    /// unknown.
    ///
    /// # Errors
    /// [`LiveError::NotFound`] when the actor shares no conversation with `to`, or a block stands.
    pub async fn typing(
        &self,
        actor: &Actor,
        to: UserId,
        is_typing: bool,
    ) -> Result<(), LiveError> {
        if to == actor.user_id
            || self
                .repo
                .conversations_between(actor.user_id, to)
                .await?
                .is_empty()
            || self.muted_party(actor.user_id, to).await?.is_some()
        {
            return Err(LiveError::NotFound);
        }
        self.events.publish_live(LiveEvent::Typing {
            from: actor.user_id,
            to,
            is_typing,
            expires_in_seconds: self.config.typing_ttl_seconds,
        });
        Ok(())
    }

    /// Who hears about `user` coming online or going offline: the users they share a
    /// conversation with and have no block with; nobody while `user` hides their presence.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn presence_audience(&self, user: UserId) -> Result<Vec<UserId>, StoreError> {
        if self.directory.presence_hidden(user).await? {
            return Ok(Vec::new());
        }
        self.directory.conversation_partners(user).await
    }

    /// Whether the actor may learn `target`'s presence: only a conversation partner with no
    /// block between them, and only while `target` shows it. `Ok(false)` means "shows as
    /// offline" (hidden); anyone else gets [`LiveError::NotFound`].
    ///
    /// # Errors
    /// [`LiveError::NotFound`] when `target` is no conversation partner of the actor.
    pub async fn presence_visible(&self, actor: &Actor, target: UserId) -> Result<bool, LiveError> {
        if target == actor.user_id {
            return Ok(true);
        }
        let partners = self.directory.conversation_partners(actor.user_id).await?;
        if !partners.contains(&target) {
            return Err(LiveError::NotFound);
        }
        Ok(!self.directory.presence_hidden(target).await?)
    }

    /// Hides or shows the actor's presence; returns whether it changed.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn set_presence_hidden(
        &self,
        actor: &Actor,
        hidden: bool,
    ) -> Result<bool, StoreError> {
        self.directory
            .set_presence_hidden(actor.user_id, hidden)
            .await
    }

    /// The party to leave out of events between `a` and `b` (`b`, whom the event would reach)
    /// when either blocked the other: blocked users receive nothing from each other.
    async fn muted_party(&self, a: UserId, b: UserId) -> Result<Option<UserId>, StoreError> {
        let blocks = self.directory.blocks_between(a, b).await?;
        Ok((blocks.first_blocked_second || blocks.second_blocked_first).then_some(b))
    }

    /// Marks read everything `other` sent the actor (optionally in one booking's thread); returns how
    /// many messages changed.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn mark_thread_read(
        &self,
        actor: &Actor,
        other: UserId,
        booking: Option<BookingId>,
    ) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let audit = self.audit(actor, AuditAction::ThreadRead, "user", Some(other.0), now);
        let muted = self.muted_party(actor.user_id, other).await?;
        let reader = actor.user_id;
        let plan: EventPlan<u64> = Box::new(move |count: &u64| {
            vec![
                DomainEvent::ThreadRead {
                    reader_id: reader,
                    other_user_id: other,
                    booking_id: booking,
                    count: *count,
                    read_at: now,
                }
                .addressed(muted),
            ]
        });
        let recorded = self
            .repo
            .mark_thread_read(actor.user_id, other, booking, now, audit, plan)
            .await?;
        let count = recorded.value;
        self.events.publish(recorded.events);
        Ok(count)
    }

    /// The actor's threads, most recent first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn threads(
        &self,
        actor: &Actor,
        limit: PageSize,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        let threads = self.repo.threads(actor.user_id, limit).await?;
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
            .repo
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
        let messages = self.repo.sent(actor.user_id, page).await?;
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
        let results = self.repo.search(actor.user_id, query, page).await?;
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
        self.repo.unread_counts(actor.user_id).await
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
        let threads = self.repo.inbox(actor.user_id, page, unread_only).await?;
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
                number: crate::text::PageNumber::first(),
                size,
            },
        };
        let history = self.history(actor, other.id, None, request).await?;
        let face = (!history.messages.is_empty()).then(|| other.summary().seen_by(actor.user_id));
        Ok((face, history))
    }

    /// Blocks (`on = true`) or unblocks another user. Blocks stop messages both ways.
    ///
    /// # Errors
    /// [`SafetyError::NotFound`] for an unknown user, [`SafetyError::SelfBlock`] for oneself.
    pub async fn set_block(
        &self,
        actor: &Actor,
        other: UserId,
        on: bool,
    ) -> Result<bool, SafetyError> {
        if other == actor.user_id {
            return Err(SafetyError::SelfBlock);
        }
        // Only someone the actor has a conversation with (or already blocked) can be blocked:
        // anyone else looks like nobody, so the route cannot tell who exists.
        let known = !self
            .repo
            .conversations_between(actor.user_id, other)
            .await?
            .is_empty()
            || self
                .directory
                .blocks_between(actor.user_id, other)
                .await?
                .first_blocked_second;
        if !known || self.directory.user(other).await?.is_none() {
            return Err(SafetyError::NotFound);
        }
        let action = if on {
            AuditAction::UserBlocked
        } else {
            AuditAction::UserUnblocked
        };
        let audit = self.audit(actor, action, "user", Some(other.0), self.clock.now());
        Ok(self
            .directory
            .set_block(actor.user_id, other, on, audit)
            .await?)
    }

    /// Reports a message the actor can see to the admins.
    ///
    /// # Errors
    /// [`SafetyError::NotFound`] when the message is not visible to the actor;
    /// [`SafetyError::Validation`] for an empty or overlong reason.
    pub async fn report(
        &self,
        actor: &Actor,
        message: MessageId,
        reason: &str,
    ) -> Result<Report, SafetyError> {
        let reason = crate::text::clean_multiline(reason);
        if reason.is_empty() {
            return Err(ValidationError::Empty { field: "reason" }.into());
        }
        if reason.chars().count() > MAX_REPORT_REASON_CHARS {
            return Err(ValidationError::TooLong {
                field: "reason",
                max: MAX_REPORT_REASON_CHARS,
            }
            .into());
        }
        self.repo
            .message(message)
            .await?
            .filter(|m| m.is_visible_to(actor.user_id))
            .ok_or(SafetyError::NotFound)?;
        let now = self.clock.now();
        let audit = self.audit(
            actor,
            AuditAction::MessageReported,
            "message",
            Some(message.0),
            now,
        );
        Ok(self
            .repo
            .insert_report(
                NewReport {
                    reporter_id: actor.user_id,
                    message_id: message,
                    reason,
                    created_at: now,
                },
                audit,
            )
            .await?)
    }

    /// Reports for admins, newest first, with the reported message and the reporter.
    ///
    /// # Errors
    /// [`SafetyError::NotAdmin`] unless the actor is an active admin.
    pub async fn reports(&self, actor: &Actor, page: Page) -> Result<Vec<ReportView>, SafetyError> {
        let admin = self.active_user(actor.user_id).await?;
        if !admin.is_some_and(|u| u.role == Role::Admin) {
            return Err(SafetyError::NotAdmin);
        }
        let reports = self.repo.reports(page).await?;
        let mut views = Vec::with_capacity(reports.len());
        for report in reports {
            let message = match self.repo.message(report.message_id).await? {
                Some(m) => self.views(vec![m]).await?.into_iter().next(),
                None => None,
            };
            let reporter = self
                .directory
                .user(report.reporter_id)
                .await?
                .map(|u| u.summary());
            views.push(ReportView {
                report,
                reporter,
                message,
            });
        }
        Ok(views)
    }

    /// The actor's own account, if active.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn active_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.directory.user(id).await?.filter(|u| u.is_active))
    }

    /// The user with this name; a string that cannot be a user name names nobody and is not
    /// looked up.
    async fn user_named(&self, name: &str) -> Result<Option<User>, StoreError> {
        match crate::accounts::Username::parse(name) {
            Ok(name) => self.directory.user_by_username(name.as_str()).await,
            Err(_) => Ok(None),
        }
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
            .repo
            .insert_message(
                new_message,
                self.audit(actor, action, "message", None, now),
                plan,
            )
            .await;
        let recorded = match inserted {
            Ok(recorded) => recorded,
            // Two copies of the same request raced; the other one stored the message.
            Err(StoreError::Duplicate("client_message_id")) => {
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
        let facts = self.contact_facts(sender, recipient).await?;
        contact::check_contact(sender, recipient, &facts)?;
        self.config
            .body_policy
            .check(sender.role, &draft.body, field)?;
        if let Some(booking_id) = draft.booking_id {
            let booking = self.directory.booking(booking_id).await?;
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
            .repo
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
    ) -> Result<ContactFacts, StoreError> {
        let needed = contact::facts_needed(sender, recipient);
        let blocks = self
            .directory
            .blocks_between(sender.id, recipient.id)
            .await?;
        let care = match needed.care {
            Some((clinician, patient)) => {
                self.directory.care_assignment(clinician, patient).await?
            }
            None => CareAssignment::Never,
        };
        let (started_by_clinician, share_a_conversation) =
            if contact::conversations_matter(sender, recipient, care) {
                let conversations = self
                    .repo
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

    async fn mask_if_needed(
        &self,
        a: UserId,
        b: UserId,
        body: MessageText,
    ) -> Result<MessageText, StoreError> {
        // Most messages hold no contact details; for them the bookings do not matter, and the
        // lookup is skipped.
        let Some(masked) = body.masked_if_changed() else {
            return Ok(body);
        };
        Ok(if self.must_mask(a, b).await? {
            masked
        } else {
            body
        })
    }

    /// Whether contact details must be masked between `a` and `b` (no booking that reveals them).
    async fn must_mask(&self, a: UserId, b: UserId) -> Result<bool, StoreError> {
        let bookings = self.directory.bookings_between(a, b).await?;
        Ok(must_mask_between(a, b, &bookings))
    }

    /// The messages with their parties' faces as `viewer` (one of the parties) may see them.
    async fn views_for(
        &self,
        viewer: UserId,
        messages: Vec<Message>,
    ) -> Result<Vec<MessageView>, StoreError> {
        let views = self.views(messages).await?;
        Ok(views.into_iter().map(|v| v.seen_by(viewer)).collect())
    }

    /// The messages with their parties' faces as stored (for admins, who moderate names).
    async fn views(&self, messages: Vec<Message>) -> Result<Vec<MessageView>, StoreError> {
        let mut ids: Vec<UserId> = messages
            .iter()
            .flat_map(|m| [m.sender_id, m.recipient_id])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let users: HashMap<UserId, UserSummary> = self
            .directory
            .users(ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.summary()))
            .collect();
        Ok(messages
            .into_iter()
            .filter_map(|message| {
                let sender = users.get(&message.sender_id)?.clone();
                let recipient = users.get(&message.recipient_id)?.clone();
                Some(MessageView {
                    message,
                    sender,
                    recipient,
                })
            })
            .collect())
    }

    fn audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        object_type: &'static str,
        object_id: Option<i64>,
        at: DateTime<Utc>,
    ) -> AuditRecord {
        AuditRecord {
            actor: Some(actor.user_id),
            action,
            object_type,
            object_id,
            at,
            client_addr: actor.client_addr.clone(),
        }
    }
}

struct Draft {
    body: MessageText,
    subject: Option<Subject>,
    booking_id: Option<BookingId>,
    parent_id: Option<MessageId>,
    client_message_id: Option<ClientMessageId>,
    file_name: Option<FileName>,
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

fn pick_pair(users: &[User], first: UserId, second: UserId) -> Option<(User, User)> {
    let find = |id| users.iter().find(|u| u.id == id).cloned();
    Some((find(first)?, find(second)?))
}

/// A message that vanished between the check and the write reads as not found, not as a fault.
fn not_found_as<T>(not_found: T) -> impl FnOnce(StoreError) -> T
where
    T: From<StoreError>,
{
    move |err| match err {
        StoreError::NotFound => not_found,
        other => T::from(other),
    }
}
