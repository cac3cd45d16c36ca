//! The stored form of stream entries (`user_events.payload`), the store's own and versioned, so
//! a change to the domain's event types never breaks the replay of streams already stored.
//!
//! A payload is JSON. Version 1 (written today) is an object with `"v": 1` and a snake-case
//! `"type"`, its fields spelled out here and converted to and from [`DomainEvent`] by hand:
//! renaming a domain field changes a conversion below, never what is on disk. Version 0 is what
//! entries were before this module existed, the domain types' own serde form (externally tagged,
//! `{"MessageSent": {...}}`); it is still read, so a device replaying a stream written by an older
//! server gets its events. A payload of a version this code does not know is [`Corrupt`].
//!
//! Adding a field: give it `#[serde(default)]` in version 1, so older version-1 entries still read.
//! Changing what a field means: write version 2 beside version 1, keep reading 1.
//!
//! [`Corrupt`]: crate::error::DbError::Corrupt

use chrono::{DateTime, Utc};
use messaging_domain::attachment::{AttachmentId, ScanStatus};
use messaging_domain::event::DomainEvent;
use messaging_domain::message::{ConversationId, DeleteScope, Message, MessageId, MessageView};
use messaging_domain::user::{BookingId, Role, UserId, UserSummary};
use serde::{Deserialize, Serialize};

use crate::error::DbError;

/// The version [`encode`] writes.
pub(crate) const CURRENT_VERSION: u32 = 1;

/// The stored payload of `event`, in the current version.
pub(crate) fn encode(event: &DomainEvent) -> Result<String, DbError> {
    let record = Envelope {
        v: CURRENT_VERSION,
        event: V1::from(event),
    };
    serde_json::to_string(&record).map_err(|_| DbError::Corrupt("user_events"))
}

/// The event a stored payload holds, whatever version wrote it.
pub(crate) fn decode(payload: &str) -> Result<DomainEvent, DbError> {
    let corrupt = |_| DbError::Corrupt("user_events");
    let value: serde_json::Value = serde_json::from_str(payload).map_err(corrupt)?;
    match value.get("v").map(serde_json::Value::as_u64) {
        None => serde_json::from_value::<v0::Event>(value)
            .map_err(corrupt)?
            .try_into(),
        Some(Some(1)) => serde_json::from_value::<Envelope>(value)
            .map_err(corrupt)?
            .event
            .try_into(),
        Some(_) => Err(DbError::Corrupt("user_events")),
    }
}

/// Version 1: `{"v": 1, "type": "...", ...fields}`.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    v: u32,
    #[serde(flatten)]
    event: V1,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum V1 {
    MessageSent {
        message: StoredMessage,
        sender: StoredUser,
        recipient: StoredUser,
        #[serde(default)]
        client_message_id: Option<String>,
    },
    MessageRead {
        message_id: i64,
        sender_id: i64,
        reader_id: i64,
        read_at: DateTime<Utc>,
    },
    ThreadRead {
        reader_id: i64,
        other_user_id: i64,
        #[serde(default)]
        booking_id: Option<i64>,
        count: u64,
        read_at: DateTime<Utc>,
    },
    MessageEdited {
        message: StoredMessage,
        sender: StoredUser,
        recipient: StoredUser,
    },
    MessageDeleted {
        message_id: i64,
        deleted_by: i64,
        /// `for_me` or `for_everyone`.
        scope: String,
        audience: Vec<i64>,
    },
    MessageDelivered {
        message_id: i64,
        sender_id: i64,
        recipient_id: i64,
        delivered_at: DateTime<Utc>,
    },
    AttachmentScanned {
        attachment_id: i64,
        message_id: i64,
        sender_id: i64,
        /// [`ScanStatus::as_str`].
        status: String,
    },
}

/// A message as stream entries keep it (the same fields in versions 0 and 1).
#[derive(Debug, Serialize, Deserialize)]
struct StoredMessage {
    id: i64,
    conversation_id: i64,
    sender_id: i64,
    recipient_id: i64,
    #[serde(default)]
    booking_id: Option<i64>,
    #[serde(default)]
    subject: Option<String>,
    body: String,
    #[serde(default)]
    parent_id: Option<i64>,
    created_at: DateTime<Utc>,
    #[serde(default)]
    read_at: Option<DateTime<Utc>>,
    #[serde(default)]
    edited_at: Option<DateTime<Utc>>,
    #[serde(default)]
    deleted_by_sender: bool,
    #[serde(default)]
    deleted_by_recipient: bool,
    #[serde(default)]
    deleted_for_everyone_at: Option<DateTime<Utc>>,
    #[serde(default)]
    deleted_at: Option<DateTime<Utc>>,
}

/// A party's public face; in version 1 the role is [`Role::as_str`].
#[derive(Debug, Serialize, Deserialize)]
struct StoredUser {
    id: i64,
    username: String,
    first_name: String,
    last_name: String,
    role: String,
}

impl From<&Message> for StoredMessage {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.0,
            conversation_id: m.conversation_id.0,
            sender_id: m.sender_id.0,
            recipient_id: m.recipient_id.0,
            booking_id: m.booking_id.map(|b| b.0),
            subject: m.subject.clone(),
            body: m.body.clone(),
            parent_id: m.parent_id.map(|p| p.0),
            created_at: m.created_at,
            read_at: m.read_at,
            edited_at: m.edited_at,
            deleted_by_sender: m.deleted_by_sender,
            deleted_by_recipient: m.deleted_by_recipient,
            deleted_for_everyone_at: m.deleted_for_everyone_at,
            deleted_at: m.deleted_at,
        }
    }
}

impl From<StoredMessage> for Message {
    fn from(m: StoredMessage) -> Self {
        Self {
            id: MessageId(m.id),
            conversation_id: ConversationId(m.conversation_id),
            sender_id: UserId(m.sender_id),
            recipient_id: UserId(m.recipient_id),
            booking_id: m.booking_id.map(BookingId),
            subject: m.subject,
            body: m.body,
            parent_id: m.parent_id.map(MessageId),
            created_at: m.created_at,
            read_at: m.read_at,
            edited_at: m.edited_at,
            deleted_by_sender: m.deleted_by_sender,
            deleted_by_recipient: m.deleted_by_recipient,
            deleted_for_everyone_at: m.deleted_for_everyone_at,
            deleted_at: m.deleted_at,
        }
    }
}

impl From<&UserSummary> for StoredUser {
    fn from(u: &UserSummary) -> Self {
        Self {
            id: u.id.0,
            username: u.username.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            role: u.role.as_str().to_owned(),
        }
    }
}

impl StoredUser {
    fn into_summary(self, role: Option<Role>) -> Result<UserSummary, DbError> {
        Ok(UserSummary {
            id: UserId(self.id),
            username: self.username,
            first_name: self.first_name,
            last_name: self.last_name,
            role: role.ok_or(DbError::Corrupt("user_events"))?,
        })
    }
}

fn view(
    message: StoredMessage,
    sender: StoredUser,
    recipient: StoredUser,
) -> Result<MessageView, DbError> {
    let (sender_role, recipient_role) = (Role::parse(&sender.role), Role::parse(&recipient.role));
    Ok(MessageView {
        message: message.into(),
        sender: sender.into_summary(sender_role)?,
        recipient: recipient.into_summary(recipient_role)?,
    })
}

fn scope_name(scope: DeleteScope) -> &'static str {
    match scope {
        DeleteScope::ForMe => "for_me",
        DeleteScope::ForEveryone => "for_everyone",
    }
}

fn parse_scope(name: &str) -> Result<DeleteScope, DbError> {
    match name {
        "for_me" => Ok(DeleteScope::ForMe),
        "for_everyone" => Ok(DeleteScope::ForEveryone),
        _ => Err(DbError::Corrupt("user_events")),
    }
}

impl From<&DomainEvent> for V1 {
    fn from(event: &DomainEvent) -> Self {
        match event {
            DomainEvent::MessageSent {
                view,
                client_message_id,
            } => Self::MessageSent {
                message: (&view.message).into(),
                sender: (&view.sender).into(),
                recipient: (&view.recipient).into(),
                client_message_id: client_message_id.clone(),
            },
            DomainEvent::MessageRead {
                message_id,
                sender_id,
                reader_id,
                read_at,
            } => Self::MessageRead {
                message_id: message_id.0,
                sender_id: sender_id.0,
                reader_id: reader_id.0,
                read_at: *read_at,
            },
            DomainEvent::ThreadRead {
                reader_id,
                other_user_id,
                booking_id,
                count,
                read_at,
            } => Self::ThreadRead {
                reader_id: reader_id.0,
                other_user_id: other_user_id.0,
                booking_id: booking_id.map(|b| b.0),
                count: *count,
                read_at: *read_at,
            },
            DomainEvent::MessageEdited { view } => Self::MessageEdited {
                message: (&view.message).into(),
                sender: (&view.sender).into(),
                recipient: (&view.recipient).into(),
            },
            DomainEvent::MessageDeleted {
                message_id,
                deleted_by,
                scope,
                audience,
            } => Self::MessageDeleted {
                message_id: message_id.0,
                deleted_by: deleted_by.0,
                scope: scope_name(*scope).to_owned(),
                audience: audience.iter().map(|u| u.0).collect(),
            },
            DomainEvent::MessageDelivered {
                message_id,
                sender_id,
                recipient_id,
                delivered_at,
            } => Self::MessageDelivered {
                message_id: message_id.0,
                sender_id: sender_id.0,
                recipient_id: recipient_id.0,
                delivered_at: *delivered_at,
            },
            DomainEvent::AttachmentScanned {
                attachment_id,
                message_id,
                sender_id,
                status,
            } => Self::AttachmentScanned {
                attachment_id: attachment_id.0,
                message_id: message_id.0,
                sender_id: sender_id.0,
                status: status.as_str().to_owned(),
            },
        }
    }
}

impl TryFrom<V1> for DomainEvent {
    type Error = DbError;

    fn try_from(record: V1) -> Result<Self, DbError> {
        Ok(match record {
            V1::MessageSent {
                message,
                sender,
                recipient,
                client_message_id,
            } => Self::MessageSent {
                view: view(message, sender, recipient)?,
                client_message_id,
            },
            V1::MessageRead {
                message_id,
                sender_id,
                reader_id,
                read_at,
            } => Self::MessageRead {
                message_id: MessageId(message_id),
                sender_id: UserId(sender_id),
                reader_id: UserId(reader_id),
                read_at,
            },
            V1::ThreadRead {
                reader_id,
                other_user_id,
                booking_id,
                count,
                read_at,
            } => Self::ThreadRead {
                reader_id: UserId(reader_id),
                other_user_id: UserId(other_user_id),
                booking_id: booking_id.map(BookingId),
                count,
                read_at,
            },
            V1::MessageEdited {
                message,
                sender,
                recipient,
            } => Self::MessageEdited {
                view: view(message, sender, recipient)?,
            },
            V1::MessageDeleted {
                message_id,
                deleted_by,
                scope,
                audience,
            } => Self::MessageDeleted {
                message_id: MessageId(message_id),
                deleted_by: UserId(deleted_by),
                scope: parse_scope(&scope)?,
                audience: audience.into_iter().map(UserId).collect(),
            },
            V1::MessageDelivered {
                message_id,
                sender_id,
                recipient_id,
                delivered_at,
            } => Self::MessageDelivered {
                message_id: MessageId(message_id),
                sender_id: UserId(sender_id),
                recipient_id: UserId(recipient_id),
                delivered_at,
            },
            V1::AttachmentScanned {
                attachment_id,
                message_id,
                sender_id,
                status,
            } => Self::AttachmentScanned {
                attachment_id: AttachmentId(attachment_id),
                message_id: MessageId(message_id),
                sender_id: UserId(sender_id),
                status: ScanStatus::parse(&status).ok_or(DbError::Corrupt("user_events"))?,
            },
        })
    }
}

mod v0;

#[cfg(test)]
mod tests;
