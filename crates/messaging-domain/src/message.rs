//! Messages and conversations, and the rules for editing, reading and deleting a message.

use chrono::{DateTime, TimeDelta, Utc};
use thiserror::Error;

use crate::user::{BookingId, UserId, UserSummary};

#[cfg(test)]
mod tests;

/// A message's identifier. Ids grow with time, so they order messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MessageId(pub i64);

/// A conversation's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConversationId(pub i64);

/// A conversation: one per pair of users and booking context (System A threads by other user and
/// booking; a conversation without a booking is the pair's general thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// The conversation's id.
    pub id: ConversationId,
    /// The member with the smaller id.
    pub user_low: UserId,
    /// The member with the larger id.
    pub user_high: UserId,
    /// The booking this conversation is about, if any.
    pub booking_id: Option<BookingId>,
    /// Who sent its first message; a patient may reply in a conversation a clinician started.
    pub started_by: UserId,
    /// When its first message was sent.
    pub created_at: DateTime<Utc>,
}

/// Which side of a message a user is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The user sent it.
    Sender,
    /// The user received it.
    Recipient,
}

/// How far a delete reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DeleteScope {
    /// Hidden from the deleting party only (System B); either party may do it.
    ForMe,
    /// Hidden from both parties (System A); only the sender may do it.
    ForEveryone,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Who sent it.
    pub sender_id: UserId,
    /// Who received it.
    pub recipient_id: UserId,
    /// The booking context, if any.
    pub booking_id: Option<BookingId>,
    /// An optional subject (System B).
    pub subject: Option<String>,
    /// The body as stored: cleaned and, where the rules require it, masked.
    pub body: String,
    /// The message this one replies to (System B).
    pub parent_id: Option<MessageId>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When the recipient first read it.
    pub read_at: Option<DateTime<Utc>>,
    /// When the sender last edited it.
    pub edited_at: Option<DateTime<Utc>>,
    /// The sender deleted it for themselves.
    pub deleted_by_sender: bool,
    /// The recipient deleted it for themselves.
    pub deleted_by_recipient: bool,
    /// When the sender deleted it for everyone.
    pub deleted_for_everyone_at: Option<DateTime<Utc>>,
    /// When it stopped being visible to both parties (both deleted it, or it was deleted for everyone).
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Why an edit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EditRefusal {
    /// Only the sender may edit, and this user is the recipient.
    #[error("only the sender can edit a message")]
    NotSender,
    /// The edit window has passed.
    #[error("messages can only be edited within {minutes} minutes of sending")]
    WindowExpired {
        /// The window's length in minutes.
        minutes: i64,
    },
}

impl Message {
    /// Which side `user` is on, if either.
    #[must_use]
    pub fn party_of(&self, user: UserId) -> Option<Party> {
        if user == self.sender_id {
            Some(Party::Sender)
        } else if user == self.recipient_id {
            Some(Party::Recipient)
        } else {
            None
        }
    }

    /// The other party, seen from `user`; `None` when `user` is not a party.
    #[must_use]
    pub fn other_party(&self, user: UserId) -> Option<UserId> {
        match self.party_of(user)? {
            Party::Sender => Some(self.recipient_id),
            Party::Recipient => Some(self.sender_id),
        }
    }

    /// Whether `user` can see the message: they are a party, it was not deleted for everyone, and
    /// they have not deleted it for themselves.
    #[must_use]
    pub fn is_visible_to(&self, user: UserId) -> bool {
        if self.deleted_for_everyone_at.is_some() {
            return false;
        }
        match self.party_of(user) {
            Some(Party::Sender) => !self.deleted_by_sender,
            Some(Party::Recipient) => !self.deleted_by_recipient,
            None => false,
        }
    }

    /// Whether the recipient has read it.
    #[must_use]
    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }

    /// Whether the sender has edited it.
    #[must_use]
    pub fn is_edited(&self) -> bool {
        self.edited_at.is_some()
    }

    /// Checks that `editor` may edit this message at `now`: only its sender, and only within `window`
    /// of sending. Visibility is checked by the caller first (an invisible message is not found).
    ///
    /// # Errors
    /// [`EditRefusal`] saying which rule stops the edit.
    pub fn check_edit(
        &self,
        editor: UserId,
        now: DateTime<Utc>,
        window: TimeDelta,
    ) -> Result<(), EditRefusal> {
        if editor != self.sender_id {
            return Err(EditRefusal::NotSender);
        }
        if now - self.created_at > window {
            return Err(EditRefusal::WindowExpired {
                minutes: window.num_minutes(),
            });
        }
        Ok(())
    }

    /// The message as it stands after `user` deletes it with `scope` at `now`, or `None` when the
    /// user may not do that (they are not a party, or only the sender may delete for everyone).
    /// Records are kept: deleting sets flags and times, it never removes the message. Once both
    /// parties have deleted it for themselves, `deleted_at` is set.
    #[must_use]
    pub fn after_delete(
        &self,
        user: UserId,
        scope: DeleteScope,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let party = self.party_of(user)?;
        let mut next = self.clone();
        match (scope, party) {
            (DeleteScope::ForEveryone, Party::Sender) => {
                next.deleted_for_everyone_at.get_or_insert(now);
            }
            (DeleteScope::ForEveryone, Party::Recipient) => return None,
            (DeleteScope::ForMe, Party::Sender) => next.deleted_by_sender = true,
            (DeleteScope::ForMe, Party::Recipient) => next.deleted_by_recipient = true,
        }
        let hidden_from_both = next.deleted_for_everyone_at.is_some()
            || (next.deleted_by_sender && next.deleted_by_recipient);
        if hidden_from_both {
            next.deleted_at.get_or_insert(now);
        }
        Some(next)
    }
}

/// A delete as the use case decided it: who deletes which message, how far, and when. A store
/// applies it with [`Deletion::apply`] to the message as it stands once the store holds it
/// locked, so that two deletes of one message at the same time (each party's own, say) both
/// land, the second on top of the first: the per-party rule ([`Message::after_delete`]) is
/// written here only, and a store writes the flags and times it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    /// The message.
    pub message: MessageId,
    /// Who deletes it.
    pub by: UserId,
    /// How far.
    pub scope: DeleteScope,
    /// When.
    pub at: DateTime<Utc>,
}

impl Deletion {
    /// What the delete does to `current` (the message as stored now), or `None` when `by` may
    /// not delete it that way.
    #[must_use]
    pub fn apply(&self, current: &Message) -> Option<Deleted> {
        let after = current.after_delete(self.by, self.scope, self.at)?;
        Some(Deleted {
            before: current.clone(),
            after,
        })
    }
}

/// A message before and after a delete, and what else a store must bring in line with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The message as it was.
    pub before: Message,
    /// The message as the delete leaves it: the flags and times to store.
    pub after: Message,
}

impl Deleted {
    /// Whether the delete changed anything (deleting what one already deleted changes nothing).
    #[must_use]
    pub fn changed(&self) -> bool {
        self.before != self.after
    }

    /// The parties who could see the message before and cannot now: their threads' newest
    /// message must be looked up again.
    #[must_use]
    pub fn hidden_from(&self) -> Vec<UserId> {
        [self.before.sender_id, self.before.recipient_id]
            .into_iter()
            .filter(|&party| self.before.is_visible_to(party) && !self.after.is_visible_to(party))
            .collect()
    }

    /// Whether the recipient's unread count loses this message: it was unread and theirs to see,
    /// and now they cannot see it.
    #[must_use]
    pub fn unread_lost(&self) -> bool {
        !self.before.is_read() && self.hidden_from().contains(&self.before.recipient_id)
    }

    /// Whether the delete reached everyone just now, so that what was said must also leave the
    /// event streams that carry it.
    #[must_use]
    pub fn redacts(&self) -> bool {
        self.before.deleted_for_everyone_at.is_none()
            && self.after.deleted_for_everyone_at.is_some()
    }
}

/// A message together with the public faces of its two parties, as listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MessageView {
    /// The message.
    pub message: Message,
    /// Who sent it (no email).
    pub sender: UserSummary,
    /// Who received it (no email).
    pub recipient: UserSummary,
}

impl MessageView {
    /// The view as `viewer` may see it: the other party's display name masked (see
    /// [`UserSummary::seen_by`]).
    #[must_use]
    pub fn seen_by(self, viewer: UserId) -> Self {
        Self {
            sender: self.sender.seen_by(viewer),
            recipient: self.recipient.seen_by(viewer),
            message: self.message,
        }
    }
}

/// A message ready to be stored: validated, masked where required, its conversation decided by the
/// pair and the booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Who sends it.
    pub sender_id: UserId,
    /// Who receives it.
    pub recipient_id: UserId,
    /// The booking context, if any (already checked to belong to both).
    pub booking_id: Option<BookingId>,
    /// The subject, if any.
    pub subject: Option<String>,
    /// The body, cleaned and masked where required.
    pub body: String,
    /// The message it replies to, if any.
    pub parent_id: Option<MessageId>,
    /// The client's own id for it, if the client gave one (see `ClientMessageId`).
    pub client_message_id: Option<String>,
    /// When it is sent.
    pub created_at: DateTime<Utc>,
}

/// One entry of a user's thread list: a conversation seen from one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadSummary {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The other member (no email).
    pub other_user: UserSummary,
    /// The booking context, if any.
    pub booking_id: Option<BookingId>,
    /// The newest message this member can still see.
    pub last_message_id: MessageId,
    /// Its body.
    pub last_message: String,
    /// Its subject.
    pub last_subject: Option<String>,
    /// When it was sent.
    pub last_message_at: DateTime<Utc>,
    /// Who sent it.
    pub last_sender_id: UserId,
    /// How many messages to this member are unread (and not deleted by them).
    pub unread_count: i64,
}

impl ThreadSummary {
    /// The thread as its member `viewer` may see it: the other member's display name masked
    /// (see [`UserSummary::seen_by`]).
    #[must_use]
    pub fn seen_by(self, viewer: UserId) -> Self {
        Self {
            other_user: self.other_user.seen_by(viewer),
            ..self
        }
    }
}

/// Which part of a conversation history to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRequest {
    /// Keyset cursor: return messages older than this one. When absent, `page` counts back from the
    /// newest message.
    pub before: Option<MessageId>,
    /// Page size and page number (page 1 is the newest page).
    pub page: crate::text::Page,
}

/// A page of history, oldest message first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySlice<M> {
    /// The page's messages, oldest first.
    pub messages: Vec<M>,
    /// Whether older messages exist before this page.
    pub has_more: bool,
}

/// A page of search results, best match first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResults<M> {
    /// The page's messages.
    pub messages: Vec<M>,
    /// How many messages match in all.
    pub total: i64,
}

/// Unread messages for one user: in total and per sender.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnreadCounts {
    /// All unread messages.
    pub total: i64,
    /// Unread messages per sender, senders with none left out.
    pub by_sender: Vec<(UserId, i64)>,
}

/// A report of a message to the admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The report's id.
    pub id: i64,
    /// Who reported it.
    pub reporter_id: UserId,
    /// The reported message.
    pub message_id: MessageId,
    /// Why, in the reporter's words.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A report ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    /// Who reports.
    pub reporter_id: UserId,
    /// The reported message (visible to the reporter).
    pub message_id: MessageId,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}
