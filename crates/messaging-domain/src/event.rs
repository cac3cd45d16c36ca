//! Events published after a change is stored, for real-time delivery to the users concerned.

use chrono::{DateTime, Utc};

use crate::attachment::{AttachmentId, ScanStatus};
use crate::message::{DeleteScope, MessageId, MessageView};
use crate::user::{BookingId, UserId};

/// Something that happened that some users' devices should learn of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    /// A message was sent: the recipient gets `new_message`, the sender's devices `message_sent`.
    MessageSent {
        /// The message with its parties' public faces.
        view: MessageView,
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
            Self::MessageSent { view } | Self::MessageEdited { view } => {
                vec![view.message.recipient_id, view.message.sender_id]
            }
            Self::MessageRead { sender_id, .. } | Self::AttachmentScanned { sender_id, .. } => {
                vec![*sender_id]
            }
            Self::ThreadRead { other_user_id, .. } => vec![*other_user_id],
            Self::MessageDeleted { audience, .. } => audience.clone(),
        }
    }
}
