//! Events for real-time delivery. A [`DomainEvent`] is a change some users should learn of; the store
//! appends it to each of their streams ([`StreamEvent`], numbered gap-free per user) in the
//! transaction of the change itself. A [`LiveEvent`] (typing, presence) is fleeting and never
//! stored.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::attachment::{AttachmentId, ScanStatus};
use crate::audit::AuditRecord;
use crate::message::{DeleteScope, MessageId, MessageView};
use crate::user::{BookingId, UserId};

/// Something that happened that some users' devices should learn of.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DomainEvent {
    /// A message was sent: the recipient gets `new_message`, the sender's devices `message_sent`.
    MessageSent {
        /// The message with its parties' public faces.
        view: MessageView,
        /// The sending client's own id for it, echoed to the sender's devices.
        client_message_id: Option<String>,
    },
    /// The recipient read a message; the sender learns of it.
    MessageRead {
        /// The message.
        message_id: MessageId,
        /// Who sent it (the audience).
        sender_id: UserId,
        /// Who read it.
        reader_id: UserId,
        /// When.
        read_at: DateTime<Utc>,
    },
    /// A reader marked a whole thread read; the other member learns of it.
    ThreadRead {
        /// Who read.
        reader_id: UserId,
        /// The other member.
        other_user_id: UserId,
        /// The booking context, if the thread was narrowed to one.
        booking_id: Option<BookingId>,
        /// How many messages became read.
        count: u64,
        /// When.
        read_at: DateTime<Utc>,
    },
    /// A message's body changed; both parties learn of it.
    MessageEdited {
        /// The message after the edit.
        view: MessageView,
    },
    /// A message was deleted: for everyone reaches both parties, for me only the deleter.
    MessageDeleted {
        /// The message.
        message_id: MessageId,
        /// Who deleted it.
        deleted_by: UserId,
        /// How far the delete reaches.
        scope: DeleteScope,
        /// Who should learn of it.
        audience: Vec<UserId>,
    },
    /// A device of the recipient received a message; the sender learns it was delivered.
    MessageDelivered {
        /// The message.
        message_id: MessageId,
        /// Who sent it (the audience).
        sender_id: UserId,
        /// Who received it.
        recipient_id: UserId,
        /// When the first device received it.
        delivered_at: DateTime<Utc>,
    },
    /// The virus scanner decided about an attachment; its uploader's devices learn of it.
    AttachmentScanned {
        /// The attachment.
        attachment_id: AttachmentId,
        /// The message it came with.
        message_id: MessageId,
        /// Who sent the message (the audience).
        sender_id: UserId,
        /// `clean` or `infected`.
        status: ScanStatus,
    },
}

impl DomainEvent {
    /// The users whose devices should receive this event.
    #[must_use]
    pub fn audience(&self) -> Vec<UserId> {
        match self {
            Self::MessageSent { view, .. } | Self::MessageEdited { view } => {
                vec![view.message.recipient_id, view.message.sender_id]
            }
            Self::MessageRead { sender_id, .. } | Self::AttachmentScanned { sender_id, .. } => {
                vec![*sender_id]
            }
            Self::ThreadRead { other_user_id, .. } => vec![*other_user_id],
            Self::MessageDeleted { audience, .. } => audience.clone(),
            Self::MessageDelivered { sender_id, .. } => vec![*sender_id],
        }
    }

    /// The message this event is about, if any.
    #[must_use]
    pub fn message_id(&self) -> Option<MessageId> {
        match self {
            Self::MessageSent { view, .. } | Self::MessageEdited { view } => Some(view.message.id),
            Self::MessageRead { message_id, .. }
            | Self::MessageDeleted { message_id, .. }
            | Self::MessageDelivered { message_id, .. }
            | Self::AttachmentScanned { message_id, .. } => Some(*message_id),
            Self::ThreadRead { .. } => None,
        }
    }

    /// Removes what was said (body and subject) from an event about a message that was deleted
    /// for everyone, so that replaying the stream later does not hand it out again. Returns
    /// whether the event carried any.
    pub fn redact(&mut self) -> bool {
        match self {
            Self::MessageSent { view, .. } | Self::MessageEdited { view } => {
                view.message.body.clear();
                view.message.subject = None;
                true
            }
            _ => false,
        }
    }

    /// This event addressed to its audience, less `muted` (a user who blocked, or was blocked
    /// by, the one who caused it: blocked users receive nothing from each other).
    #[must_use]
    pub fn addressed(self, muted: Option<UserId>) -> Outgoing {
        let mut audience = self.audience();
        audience.retain(|u| Some(*u) != muted);
        audience.dedup();
        Outgoing {
            audience,
            event: self,
        }
    }
}

/// An event with the users whose streams it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Whose streams get it.
    pub audience: Vec<UserId>,
    /// The event.
    pub event: DomainEvent,
}

/// Decides, inside the transaction of a change and from what the change stored, which events to
/// append to which streams. Called at most once, and only when the change changed something.
pub type EventPlan<T> = Box<dyn FnOnce(&T) -> Vec<Outgoing> + Send>;

/// What every audited write hands its port besides the data: the audit record written in the
/// change's transaction and the plan of the events it appends there. A port applies both or
/// neither: when the write changes nothing (the message was already read, ...) it writes no audit
/// record and never calls the plan; when it changes something it writes the record and calls the
/// plan exactly once, with what it stored.
pub struct Change<T> {
    /// The audit record of the change; ports that create the audited object fill in its id.
    pub audit: AuditRecord,
    /// The events to append to users' streams, decided from what the change stored.
    pub plan: EventPlan<T>,
}

impl<T> Change<T> {
    /// A change audited by `audit` whose events `plan` decides.
    #[must_use]
    pub fn new(audit: AuditRecord, plan: EventPlan<T>) -> Self {
        Self { audit, plan }
    }
}

impl<T> std::fmt::Debug for Change<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The plan is a closure: only the audit record can be shown.
        f.debug_struct("Change")
            .field("audit", &self.audit)
            .finish_non_exhaustive()
    }
}

/// A change and the stream entries it appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded<T> {
    /// What the change returned.
    pub value: T,
    /// The stream entries, in the order they were appended.
    pub events: Vec<StreamEvent>,
}

impl<T> Recorded<T> {
    /// A change that appended nothing.
    #[must_use]
    pub fn quiet(value: T) -> Self {
        Self {
            value,
            events: Vec::new(),
        }
    }

    /// The same entries with the value changed by `f`.
    #[must_use]
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Recorded<U> {
        Recorded {
            value: f(self.value),
            events: self.events,
        }
    }
}

/// A position in a user's stream: the stream's owner and the entry's number.
pub type StreamSeq = u64;

/// One entry of one user's event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    /// Whose stream.
    pub user_id: UserId,
    /// Its number in that stream: 1, 2, 3, ... with no gap.
    pub seq: StreamSeq,
    /// When it was appended.
    pub at: DateTime<Utc>,
    /// The event (shared by every stream it was appended to).
    pub event: Arc<DomainEvent>,
}

/// What a user's stream holds after a given position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// The entries after the position, oldest first, up to the requested limit.
    Events(Vec<StreamEvent>),
    /// The position is older than what is kept (or is not a position of this stream): the client
    /// must reload its state and continue from `latest`.
    Resync {
        /// The newest entry's number (0 for an empty stream).
        latest: StreamSeq,
    },
}

/// A fleeting event: delivered to whoever is connected now, never stored or replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// `from` is typing (or stopped typing) to `to`. Clients drop the indicator after
    /// `expires_in_seconds` unless it is refreshed.
    Typing {
        /// The typer.
        from: UserId,
        /// The other member of the conversation.
        to: UserId,
        /// Whether typing started or stopped.
        is_typing: bool,
        /// How long the indicator lasts without a refresh.
        expires_in_seconds: u32,
    },
    /// A user came online or went offline; only users who share a conversation with them hear it.
    Presence {
        /// Whose presence.
        user_id: UserId,
        /// Online or not.
        online: bool,
        /// Who hears it.
        audience: Vec<UserId>,
    },
}

impl LiveEvent {
    /// The users whose devices should receive this event.
    #[must_use]
    pub fn audience(&self) -> Vec<UserId> {
        match self {
            Self::Typing { to, .. } => vec![*to],
            Self::Presence { audience, .. } => audience.clone(),
        }
    }
}
